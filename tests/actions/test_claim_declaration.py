import datetime as dt

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.claim_declaration import (
    ActionAskClaimContract,
    ActionClaimSummary,
    ActionCorrectClaimField,
    ActionFileClaim,
    ValidateClaimForm,
)
from actions.claim_outbox import ClaimOutbox, use_claim_outbox
from core import clock
from core.service_client import ServicesClient, use_services
from tests.actions.helpers import (
    KARIM,
    MARIE,
    SOPHIE,
    as_identified,
    entity,
    identified,
    make_tracker,
    responses,
    slot_event,
    slot_sets,
)

TODAY = dt.date(2026, 11, 24)
# What the declaration holds, and the claims service receives, for « nobody else » and
# « no witness » (the domain's words).
NO_THIRD_PARTY = "Aucun tiers impliqué"
NO_WITNESS = "Aucun témoin"


@pytest.fixture(autouse=True)
def fixed_today(monkeypatch):
    monkeypatch.setattr(clock, "today", lambda: TODAY)


async def validate(domain, dispatcher, customer, candidates, text="", intent="inform", entities=(), slots=None):
    """Runs validate_claim_form as Rasa does: the candidates are the last SlotSet events."""
    tracker = make_tracker(
        domain,
        slots={**identified(customer), **(slots or {}), **candidates},
        text=text,
        intent=intent,
        entities=entities,
        events=[slot_event(name, value) for name, value in candidates.items()],
        active_loop="claim_form",
    )
    return slot_sets(await ValidateClaimForm().run(dispatcher, tracker, domain))


async def test_the_only_contract_covering_the_loss_is_chosen_without_asking(domain, dispatcher, client):
    slots = await validate(domain, dispatcher, MARIE, {"claim_type": "degat_des_eaux"})
    assert slots["claim_type"] == "degat_des_eaux"
    assert slots["claim_contract"] == "HAB-120034"


async def test_when_several_contracts_fit_they_are_offered_as_buttons(domain, dispatcher, client):
    slots = await validate(domain, dispatcher, MARIE, {"claim_type": "vol"})
    assert slots["claim_type"] == "vol" and "claim_contract" not in slots
    tracker = make_tracker(domain, slots=identified(MARIE, claim_type="vol"), active_loop="claim_form")
    await ActionAskClaimContract().run(dispatcher, tracker, domain)
    payloads = sorted(button["payload"] for button in dispatcher.messages[-1]["buttons"])
    assert payloads == ['/inform{"contract_number": "AUT-482913"}', '/inform{"contract_number": "HAB-120034"}']


async def test_a_loss_no_active_contract_covers_is_refused_with_the_reason(domain, dispatcher, client):
    slots = await validate(domain, dispatcher, SOPHIE, {"claim_type": "vol"})
    assert slots["claim_type"] is None
    assert responses(dispatcher) == ["utter_claim_no_eligible_contract"]


@pytest.mark.parametrize("said", ["hab 120034", "HAB-120034", '/inform{"contract_number": "HAB-120034"}'])
async def test_the_contract_is_taken_from_its_number_in_any_shape(domain, dispatcher, client, said):
    slots = await validate(domain, dispatcher, MARIE, {"claim_contract": said}, text=said, slots={"claim_type": "vol"})
    assert slots["claim_contract"] == "HAB-120034"


async def test_the_contract_is_taken_from_the_product_named(domain, dispatcher, client):
    slots = await validate(
        domain, dispatcher, MARIE, {"claim_contract": "la voiture"}, text="la voiture",
        entities=[entity("product", "auto")], slots={"claim_type": "vol"},
    )
    assert slots["claim_contract"] == "AUT-482913"


async def test_another_customers_contract_is_not_accepted(domain, dispatcher, client):
    slots = await validate(domain, dispatcher, MARIE, {"claim_contract": "AUT-559120"}, text="AUT-559120", slots={"claim_type": "vol"})
    assert slots["claim_contract"] is None
    assert responses(dispatcher) == ["utter_claim_contract_not_eligible"]


@pytest.mark.parametrize(
    "said, stored",
    [("hier vers 18h", "2026-11-23"), ("samedi dernier", "2026-11-21"), ("le 3 novembre", "2026-11-03")],
)
async def test_the_date_is_resolved_and_stored_as_a_calendar_date(domain, dispatcher, client, said, stored):
    slots = await validate(domain, dispatcher, MARIE, {"claim_date": said}, text=said, slots={"claim_contract": "HAB-120034"})
    assert slots["claim_date"] == stored


@pytest.mark.parametrize(
    "said, response",
    [
        ("demain", "utter_claim_date_in_future"),
        ("n'importe quand", "utter_claim_date_not_understood"),
        ("le 31 février", "utter_claim_date_not_understood"),
        ("le 2 janvier 2001", "utter_claim_date_before_contract"),
    ],
)
async def test_impossible_dates_are_refused_with_the_reason(domain, dispatcher, client, said, response):
    slots = await validate(domain, dispatcher, MARIE, {"claim_date": said}, text=said, slots={"claim_contract": "HAB-120034"})
    assert slots["claim_date"] is None
    assert responses(dispatcher) == [response]


@pytest.mark.parametrize(
    "slot, said, stored",
    [
        ("claim_witnesses", "non", NO_WITNESS),
        ("claim_witnesses", "aucun", NO_WITNESS),
        ("claim_witnesses", "Mme Leroy, voisine, 06 11 22 33 44", "Mme Leroy, voisine, 06 11 22 33 44"),
        ("claim_third_party", "non", NO_THIRD_PARTY),
        ("claim_place", "  dans ma cuisine ", "dans ma cuisine"),
    ],
)
async def test_free_text_answers_are_kept_and_no_means_none(domain, dispatcher, client, slot, said, stored):
    slots = await validate(domain, dispatcher, MARIE, {slot: said}, text=said, slots={"claim_type": "accident_auto"})
    assert slots[slot] == stored


async def test_the_words_stored_for_nobody_else_and_no_witness_are_the_domain_s(domain, dispatcher, client):
    reworded = {**domain, "responses": {**domain["responses"],
                                        "utter_claim_no_third_party": [{"text": "Personne d'autre"}],
                                        "utter_claim_no_witness": [{"text": "Pas de témoin"}]}}
    slots = await validate(reworded, dispatcher, MARIE, {"claim_third_party": "non", "claim_witnesses": "aucun"},
                           slots={"claim_type": "accident_auto"})
    assert (slots["claim_third_party"], slots["claim_witnesses"]) == ("Personne d'autre", "Pas de témoin")


@pytest.mark.parametrize("said", ["", "   ", "x" * 2001])
async def test_empty_or_oversized_answers_are_refused(domain, dispatcher, client, said):
    slots = await validate(domain, dispatcher, MARIE, {"claim_damage": said}, text=said)
    assert slots["claim_damage"] is None
    assert responses(dispatcher) == ["utter_claim_text_invalid"]


async def test_the_third_party_is_asked_only_for_losses_that_involve_one(domain, dispatcher):
    form = ValidateClaimForm()
    domain_slots = form.domain_slots(domain)
    for claim_type, asked in [("accident_auto", True), ("bris_de_glace", False), ("vol", False), ("degat_des_eaux", True)]:
        tracker = make_tracker(domain, slots={"claim_type": claim_type})
        required = await form.required_slots(domain_slots, dispatcher, tracker, domain)
        assert ("claim_third_party" in required) is asked, claim_type


MARIE_WATER_LEAK = {
    "claim_type": "degat_des_eaux",
    "claim_contract": "HAB-120034",
    "claim_date": "2026-11-23",
    "claim_place": "Cuisine, 12 rue Ricard, Niort",
    "claim_circumstances": "Le tuyau sous l'évier a cédé pendant la nuit.",
    "claim_damage": "Parquet gonflé, bas de meubles abîmés.",
    "claim_third_party": NO_THIRD_PARTY,
    "claim_witnesses": NO_WITNESS,
}


async def test_the_summary_reads_every_answer_back_in_words(domain, dispatcher, client):
    tracker = make_tracker(domain, slots=identified(MARIE, **MARIE_WATER_LEAK))
    await ActionClaimSummary().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_claim_summary"
    assert message["claim_type_label"] == "dégât des eaux"
    assert message["date_label"] == "23 novembre 2026"
    assert message["contract_label"].startswith("HAB-120034 – assurance habitation")


async def test_a_confirmed_declaration_is_filed_once_and_its_number_given(domain, dispatcher, client: ServicesClient):
    before = await client.list_claims(as_identified(MARIE))
    tracker = make_tracker(domain, slots=identified(MARIE, **MARIE_WATER_LEAK, claim_idempotency_key="key-filed-once"))
    events = slot_sets(await ActionFileClaim().run(dispatcher, tracker, domain))
    assert responses(dispatcher) == ["utter_claim_filed", "utter_claim_next_steps"]
    claim_number = dispatcher.messages[0]["claim_number"]
    assert claim_number.startswith("SIN-2026-")
    assert all(events[slot] is None for slot in MARIE_WATER_LEAK)

    # The same declaration sent again (a retry after a lost answer) is the same claim.
    again = CollectingDispatcher()
    await ActionFileClaim().run(again, tracker, domain)
    assert again.messages[0]["claim_number"] == claim_number
    after = await client.list_claims(as_identified(MARIE))
    assert len(after) == len(before) + 1
    filed = await client.get_claim(as_identified(MARIE), claim_number)
    assert filed.place == MARIE_WATER_LEAK["claim_place"] and filed.occurred_on == dt.date(2026, 11, 23)
    assert (filed.third_party, filed.witnesses) == (NO_THIRD_PARTY, NO_WITNESS)


async def test_when_the_claims_service_is_down_the_declaration_is_queued_whole(
        domain, dispatcher, unreachable_services, claim_outbox):
    tracker = make_tracker(domain, slots=identified(MARIE, **MARIE_WATER_LEAK))
    events = slot_sets(await ActionFileClaim().run(dispatcher, tracker, domain))

    assert responses(dispatcher) == ["utter_claim_filing_queued"]
    assert events["claim_filing_pending"] is True
    assert all(events[slot] is None for slot in MARIE_WATER_LEAK)  # out of the conversation...
    [queued] = await claim_outbox.of_conversation(tracker.sender_id, MARIE)
    assert queued.declaration["place"] == MARIE_WATER_LEAK["claim_place"]  # ...and kept in the outbox
    assert queued.declaration["occurred_on"] == MARIE_WATER_LEAK["claim_date"]


async def test_asked_again_once_the_service_is_back_the_queued_claim_is_filed_and_its_number_given(
        domain, dispatcher, unreachable_services, claim_outbox, services):
    tracker = make_tracker(domain, slots=identified(MARIE, **MARIE_WATER_LEAK))
    await ActionFileClaim().run(CollectingDispatcher(), tracker, domain)
    client = ServicesClient(services.base_url, services.base_url, services.token, timeout_seconds=5)
    use_services(client)
    try:
        retried = make_tracker(domain, slots=identified(MARIE, claim_filing_pending=True), intent="affirm")
        events = slot_sets(await ActionFileClaim().run(dispatcher, retried, domain))
        assert responses(dispatcher) == ["utter_claim_filed", "utter_claim_next_steps"]
        assert events == {"claim_filing_pending": False}
        number = dispatcher.messages[0]["claim_number"]
        assert (await client.get_claim(as_identified(MARIE), number)).place == MARIE_WATER_LEAK["claim_place"]

        again = CollectingDispatcher()  # told once: nothing queued is left to tell
        await ActionFileClaim().run(again, retried, domain)
        assert responses(again) == []
    finally:
        await client.close()


async def test_while_the_service_is_still_down_asking_again_keeps_it_queued(
        domain, dispatcher, unreachable_services, claim_outbox):
    await ActionFileClaim().run(CollectingDispatcher(), make_tracker(domain, slots=identified(MARIE, **MARIE_WATER_LEAK)), domain)
    retried = make_tracker(domain, slots=identified(MARIE, claim_filing_pending=True), intent="affirm")
    events = slot_sets(await ActionFileClaim().run(dispatcher, retried, domain))
    assert responses(dispatcher) == ["utter_claim_filing_still_queued"]
    assert events == {"claim_filing_pending": True}


async def test_when_the_outbox_is_out_of_reach_too_the_declaration_stays_in_the_conversation(
        domain, dispatcher, unreachable_services, tmp_path):
    use_claim_outbox(ClaimOutbox(f"sqlite:///{tmp_path}/no/such/folder/../../{'x' * 300}/outbox.db"))
    tracker = make_tracker(domain, slots=identified(MARIE, **MARIE_WATER_LEAK))
    events = slot_sets(await ActionFileClaim().run(dispatcher, tracker, domain))
    assert responses(dispatcher) == ["utter_claim_filing_failed"]
    assert events["claim_filing_pending"] is True and events["claim_idempotency_key"]
    assert not set(MARIE_WATER_LEAK) & set(events)  # no answer is dropped


async def test_a_refused_declaration_says_why_in_the_domain_s_words_and_keeps_the_answers(domain, dispatcher, client):
    # Karim's only auto contract does not cover water damage: the service refuses it.
    leak_on_karims_car = {**MARIE_WATER_LEAK, "claim_contract": "AUT-559120"}
    tracker = make_tracker(domain, slots=identified(KARIM, **leak_on_karims_car))
    events = slot_sets(await ActionFileClaim().run(dispatcher, tracker, domain))
    # The response alone: nothing of the service's own message is passed on.
    said = CollectingDispatcher()
    said.utter_message(response="utter_claim_filing_refused_not_covered")
    assert dispatcher.messages == said.messages
    assert not set(MARIE_WATER_LEAK) & set(events)


async def test_correcting_a_field_empties_it_so_that_the_form_asks_it_again(domain, dispatcher):
    tracker = make_tracker(
        domain, slots=identified(MARIE, **MARIE_WATER_LEAK), intent="correct_claim",
        entities=[entity("claim_field", "claim_date")],
    )
    events = await ActionCorrectClaimField().run(dispatcher, tracker, domain)
    assert slot_sets(events) == {"claim_date": None}
    assert {"event": "followup", "name": "claim_form", "timestamp": None} in events


async def test_a_correction_that_gives_the_new_date_updates_it_and_reads_the_summary_again(domain, dispatcher, client):
    tracker = make_tracker(
        domain, slots=identified(MARIE, **MARIE_WATER_LEAK), text="non, c'était samedi", intent="deny",
        entities=[entity("date", "samedi")],
    )
    events = await ActionCorrectClaimField().run(dispatcher, tracker, domain)
    assert slot_sets(events) == {"claim_date": "2026-11-21"}
    assert {"event": "followup", "name": "action_claim_summary", "timestamp": None} in events


async def test_a_correction_without_details_asks_which_field(domain, dispatcher):
    tracker = make_tracker(domain, slots=identified(MARIE, **MARIE_WATER_LEAK), text="non", intent="deny")
    await ActionCorrectClaimField().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_ask_claim_correction"]


async def test_correcting_the_type_of_loss_also_asks_the_contract_again(domain, dispatcher):
    tracker = make_tracker(domain, slots=identified(MARIE, **MARIE_WATER_LEAK), entities=[entity("claim_field", "claim_type")])
    assert slot_sets(await ActionCorrectClaimField().run(dispatcher, tracker, domain)) == {
        "claim_type": None,
        "claim_contract": None,
    }



async def test_cancelling_forgets_the_whole_declaration(domain, dispatcher):
    from actions.claim_declaration import ActionResetClaim

    tracker = make_tracker(domain, slots=identified(MARIE, **MARIE_WATER_LEAK, claim_idempotency_key="k"))
    events = slot_sets(await ActionResetClaim().run(dispatcher, tracker, domain))
    assert all(events[slot] is None for slot in (*MARIE_WATER_LEAK, "claim_idempotency_key"))
    assert events["claim_filing_pending"] is False


async def answer(domain, dispatcher, text, requested, slots=None, intent="inform", entities=()):
    """Runs validate_claim_form on the customer's message while `requested` is asked."""
    tracker = make_tracker(
        domain, slots={**identified(MARIE), **(slots or {}), "requested_slot": requested},
        text=text, intent=intent, entities=entities, active_loop="claim_form",
    )
    return slot_sets(await ValidateClaimForm().run(dispatcher, tracker, domain))


WATER_LEAK_UNTIL_DATE = {"claim_type": "degat_des_eaux", "claim_contract": "HAB-120034", "claim_date": "2026-11-23"}


async def test_a_story_that_opens_the_declaration_fills_every_fact_it_tells(domain, dispatcher, client):
    story = "hier soir une voiture m'a percute rue de la Gare a Niort, le pare choc est enfonce"
    tracker = make_tracker(domain, slots=identified(MARIE), text=story, intent="declare_claim",
                           entities=[entity("claim_type", "accident_auto")])
    slots = slot_sets(await ValidateClaimForm().run(dispatcher, tracker, domain))
    assert slots["claim_type"] == "accident_auto" and slots["claim_contract"] == "AUT-482913"
    assert slots["claim_date"] == "2026-11-23" and slots["claim_place"] == "rue de la Gare a Niort"
    assert slots["claim_circumstances"] == story
    assert slots["claim_damage"] == "hier soir une voiture m'a percute rue de la Gare a Niort, le pare choc est enfonce"
    assert slots["claim_third_party"] == "hier soir une voiture m'a percute rue de la Gare a Niort"
    assert slots["claim_told_as_story"] is True


async def test_a_plain_request_to_declare_fills_nothing(domain, dispatcher, client):
    tracker = make_tracker(domain, slots=identified(MARIE), text="je veux declarer un sinistre", intent="declare_claim")
    assert slot_sets(await ValidateClaimForm().run(dispatcher, tracker, domain)) == {}


async def test_a_question_in_the_middle_stores_nothing(domain, dispatcher, client):
    slots = await answer(domain, dispatcher, "au fait, c'est quoi ma franchise ?", "claim_place",
                         WATER_LEAK_UNTIL_DATE, intent="contract_info")
    assert slots == {}


@pytest.mark.parametrize("question", ["attendez c'est combien ma franchise deja pour l'appart ?", "je suis couvert pour ca ?"])
async def test_a_question_at_the_date_question_is_no_date(domain, dispatcher, client, question):
    slots = await answer(domain, dispatcher, question, "claim_date",
                         {"claim_type": "degat_des_eaux", "claim_contract": "HAB-120034"}, intent="contract_info")
    assert slots == {}
    assert not dispatcher.messages


async def test_a_date_corrected_at_the_place_question_corrects_the_date_only(domain, dispatcher, client):
    slots = await answer(domain, dispatcher, "non attendez, c'était samedi", "claim_place", WATER_LEAK_UNTIL_DATE,
                         intent="deny")
    assert slots == {"claim_date": "2026-11-21"}


async def test_an_answer_with_the_date_and_the_place_fills_both(domain, dispatcher, client):
    slots = await answer(domain, dispatcher, "hier soir, dans la buanderie", "claim_date",
                         {"claim_type": "degat_des_eaux", "claim_contract": "HAB-120034"})
    assert slots == {"claim_date": "2026-11-23", "claim_place": "dans la buanderie"}


async def test_damage_given_with_the_other_details_fills_each(domain, dispatcher, client):
    slots = await answer(domain, dispatcher, "le lino est decolle, pas de tiers, pas de temoin", "claim_damage",
                         {**WATER_LEAK_UNTIL_DATE, "claim_place": "cuisine", "claim_circumstances": "fuite"})
    assert slots == {"claim_damage": "le lino est decolle", "claim_third_party": NO_THIRD_PARTY,
                     "claim_witnesses": NO_WITNESS}


async def test_a_bare_day_is_the_latest_past_one(domain, dispatcher, client):
    slots = await answer(domain, dispatcher, "le 28", "claim_date", {"claim_type": "degat_des_eaux",
                                                                    "claim_contract": "HAB-120034"})
    assert slots == {"claim_date": "2026-10-28"}
    assert "utter_claim_date_in_future" not in responses(dispatcher)


async def test_a_long_message_read_as_a_cancel_is_still_an_answer(domain, dispatcher, client):
    story = ("je suis rentree du travail, il y avait de l'eau partout, j'ai tout arrete et coupe le compteur, "
             "le plombier dit que c'est le joint du lave vaisselle")
    slots = await answer(domain, dispatcher, story, "claim_circumstances",
                         {**WATER_LEAK_UNTIL_DATE, "claim_place": "cuisine"}, intent="cancel")
    assert slots["claim_circumstances"] == story


async def test_a_short_cancel_stores_nothing_and_a_confirmed_one_drops_the_declaration(domain, dispatcher, client):
    assert await answer(domain, dispatcher, "laisse tomber", "claim_place", WATER_LEAK_UNTIL_DATE, intent="cancel") == {}
    confirmed = await answer(domain, dispatcher, "oui", "claim_place", {**WATER_LEAK_UNTIL_DATE,
                                                                       "claim_cancel_pending": True}, intent="affirm")
    assert confirmed["requested_slot"] is None and confirmed["claim_cancel_pending"] is False
    assert all(confirmed[slot] is None for slot in WATER_LEAK_UNTIL_DATE)
    assert responses(dispatcher) == ["utter_claim_cancelled"]


async def test_going_on_after_a_cancel_question_keeps_everything(domain, dispatcher, client):
    slots = await answer(domain, dispatcher, "non", "claim_place", {**WATER_LEAK_UNTIL_DATE,
                                                                   "claim_cancel_pending": True}, intent="deny")
    assert slots == {"claim_cancel_pending": False}


async def test_a_place_corrected_in_free_words_at_the_summary_reads_it_back(domain, dispatcher, client):
    tracker = make_tracker(
        domain, slots=identified(MARIE, **{**MARIE_WATER_LEAK, "claim_place": "a Niort, dans la cuisine"}),
        text="ce n'était pas à Niort mais à La Rochelle", intent="inform",
    )
    events = await ActionCorrectClaimField().run(dispatcher, tracker, domain)
    assert slot_sets(events) == {"claim_place": "à La Rochelle"}
    assert {"event": "followup", "name": "action_claim_summary", "timestamp": None} in events


async def test_a_field_typed_in_the_correction_menu_is_asked_again(domain, dispatcher, client):
    tracker = make_tracker(domain, slots=identified(MARIE, **MARIE_WATER_LEAK), text="le lieu", intent="inform")
    events = await ActionCorrectClaimField().run(dispatcher, tracker, domain)
    assert slot_sets(events) == {"claim_place": None}
    assert {"event": "followup", "name": "claim_form", "timestamp": None} in events


async def test_the_contract_is_corrected_by_the_product_named(domain, dispatcher, client):
    tracker = make_tracker(
        domain, slots=identified(MARIE, **{**MARIE_WATER_LEAK, "claim_type": "vol", "claim_contract": "AUT-482913"}),
        text="c'est pour la maison, pas la voiture", intent="inform",
    )
    events = await ActionCorrectClaimField().run(dispatcher, tracker, domain)
    assert slot_sets(events) == {"claim_contract": "HAB-120034"}
