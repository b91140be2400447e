from actions.conversation import ActionRepeatLastAnswer, ActionSessionStart
from tests.actions.helpers import MARIE, identified, make_tracker, slot_sets


async def test_a_new_session_keeps_the_declaration_but_not_the_identity(domain, dispatcher):
    tracker = make_tracker(domain, slots=identified(MARIE, claim_place="dans ma cuisine"))
    events = await ActionSessionStart().run(dispatcher, tracker, domain)
    assert events[0]["event"] == "session_started" and events[-1]["name"] == "action_listen"
    carried = slot_sets(events)
    assert carried["claim_place"] == "dans ma cuisine" and carried["procedure_owner"] == MARIE
    assert "authenticated_customer_id" not in carried and "customer_identified" not in carried
    assert carried["identity_assertion"] is None  # dropped, so that the conversation store masks it


async def test_repeat_says_the_last_answer_again_with_its_buttons(domain, dispatcher):
    buttons = [{"title": "Oui", "payload": "/affirm"}]
    events = [
        {"event": "user", "text": "bonjour"},
        {"event": "bot", "text": "Bonjour !", "data": {}},
        {"event": "user", "text": "je veux une attestation"},
        {"event": "bot", "text": "Pour quel contrat ?", "data": {"buttons": buttons}},
        {"event": "bot", "text": "Voici la liste.", "data": {}},
        {"event": "user", "text": "vous pouvez répéter ?"},
    ]
    tracker = make_tracker(domain, events=events)
    tracker.events = events
    await ActionRepeatLastAnswer().run(dispatcher, tracker, domain)
    assert [(m["text"], m["buttons"]) for m in dispatcher.messages] == [
        ("Pour quel contrat ?", buttons),
        ("Voici la liste.", []),
    ]


async def test_repeat_never_gives_a_stored_download_link_whose_secret_was_masked(domain, dispatcher):
    events = [
        {"event": "user", "text": "une attestation pour ma voiture"},
        {"event": "bot", "text": "Votre attestation : https://oyat.example/v1/documents/ATT-1.pdf?expires=1&signature=[jeton]"},
        {"event": "bot", "text": "Bon à savoir : gardez-la sur votre téléphone."},
        {"event": "user", "text": "vous pouvez répéter ?"},
    ]
    tracker = make_tracker(domain, events=events)
    tracker.events = events
    await ActionRepeatLastAnswer().run(dispatcher, tracker, domain)
    assert [m.get("response") or m["text"] for m in dispatcher.messages] == [
        "utter_link_not_repeated",
        "Bon à savoir : gardez-la sur votre téléphone.",
    ]


async def test_a_question_in_a_procedure_gets_its_answer(domain, dispatcher):
    from actions.conversation import ActionAnswerQuestion

    tracker = make_tracker(domain, text="quel est votre numéro", intent="contact_info", active_loop="claim_form")
    await ActionAnswerQuestion().run(dispatcher, tracker, domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_contact_info"]
