import datetime as dt
import uuid

from rasa_sdk.executor import CollectingDispatcher

from actions.claim_follow_up import MAX_CLAIMS_SHOWN, ActionClaimStatus, ActionExpertVisit, ActionIndemnificationInfo
from tests.actions.helpers import KARIM, MARIE, SOPHIE, as_identified, entity, identified, make_tracker, responses


def asking(domain, customer, text="où en est mon dossier", claim_number=None):
    entities = [entity("claim_number", claim_number)] if claim_number else []
    return make_tracker(domain, slots=identified(customer), text=text, entities=entities)


async def test_the_claim_named_is_told_with_its_phase_and_expert_visit(domain, dispatcher, client):
    await ActionClaimStatus().run(dispatcher, asking(domain, MARIE, "où en est le sin 2026 000731"), domain)
    assert responses(dispatcher) == ["utter_claim_phase_expertise", "utter_expert_visit_planned"]
    assert dispatcher.messages[0]["claim_number"] == "SIN-2026-000731"
    assert dispatcher.messages[1]["visit_date_label"] == "3 décembre 2026"
    assert dispatcher.messages[1]["visit_time_label"] == "10 h 00"


async def test_without_a_number_every_claim_of_the_customer_is_told(domain, dispatcher, client):
    # Other tests may have filed claims for Karim: compare with what the service holds.
    claims = await client.list_claims(as_identified(KARIM))
    await ActionClaimStatus().run(dispatcher, asking(domain, KARIM), domain)
    assert sorted(message["claim_number"] for message in dispatcher.messages) == sorted(c.claim_number for c in claims)
    [windscreen] = [message for message in dispatcher.messages if message["claim_number"] == "SIN-2026-000415"]
    assert windscreen["response"] == "utter_claim_phase_cloture"
    assert windscreen["amount_paid"].startswith("412,00")


async def test_a_customer_without_claims_is_told_so(domain, dispatcher, client):
    await ActionClaimStatus().run(dispatcher, asking(domain, SOPHIE), domain)
    assert responses(dispatcher) == ["utter_no_claims"]


async def test_another_customers_claim_is_answered_exactly_like_an_unknown_one(domain, client):
    answers = {}
    for claim_number in ("SIN-2026-000415", "SIN-2026-999999"):  # Karim's, and nobody's
        dispatcher = CollectingDispatcher()
        await ActionClaimStatus().run(dispatcher, asking(domain, MARIE, claim_number=claim_number), domain)
        [message] = dispatcher.messages
        answers[claim_number] = {**message, "claim_number": "…"}
    assert answers["SIN-2026-000415"] == answers["SIN-2026-999999"]
    assert answers["SIN-2026-000415"]["response"] == "utter_claim_not_found"


async def test_the_expert_visit_is_told_for_an_open_claim(domain, dispatcher, client):
    await ActionExpertVisit().run(dispatcher, asking(domain, MARIE, "quand passe l'expert", "SIN-2026-000731"), domain)
    assert responses(dispatcher) == ["utter_expert_visit_planned"]


async def test_the_expert_visit_of_a_closed_claim_is_over(domain, dispatcher, client):
    await ActionExpertVisit().run(dispatcher, asking(domain, KARIM, "l'expert ?", "SIN-2026-000415"), domain)
    assert responses(dispatcher) == ["utter_expert_visit_over"]


async def test_indemnification_tells_the_amount_paid_and_the_rules(domain, dispatcher, client):
    await ActionIndemnificationInfo().run(dispatcher, asking(domain, KARIM, "j'ai été remboursé combien", "SIN-2026-000415"), domain)
    assert responses(dispatcher) == ["utter_indemnification_closed", "utter_indemnification_rules"]


async def test_when_the_claims_service_is_down_the_customer_is_told(domain, dispatcher, unreachable_services):
    await ActionClaimStatus().run(dispatcher, asking(domain, MARIE), domain)
    assert responses(dispatcher) == ["utter_claims_unavailable"]


async def file_claim_for_marie(client, contract_number, claim_type):
    declaration = {
        "contract_number": contract_number, "claim_type": claim_type,
        "occurred_on": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
        "place": "Niort", "circumstances": "Un choc.", "damage": "Des dégâts.",
    }
    return (await client.file_claim(as_identified(MARIE), declaration, uuid.uuid4().hex)).claim_number


async def test_the_expert_visit_question_tells_the_planned_appointment_first(domain, dispatcher, client):
    await file_claim_for_marie(client, "HAB-120034", "degat_des_eaux")  # newer, no appointment yet
    await ActionExpertVisit().run(dispatcher, asking(domain, MARIE, "quand passe l'expert ?"), domain)
    first = dispatcher.messages[0]
    assert first["response"] == "utter_expert_visit_planned" and first["claim_number"] == "SIN-2026-000731"


async def test_the_type_of_loss_named_picks_the_claims_of_that_type(domain, dispatcher, client):
    accident = await file_claim_for_marie(client, "AUT-482913", "accident_auto")
    tracker = make_tracker(
        domain, slots=identified(MARIE), text="où en est mon dossier d'accident",
        entities=[entity("claim_type", "accident_auto")],
    )
    await ActionClaimStatus().run(dispatcher, tracker, domain)
    assert accident in [message["claim_number"] for message in dispatcher.messages]
    assert {message["claim_type_label"] for message in dispatcher.messages} == {"accident de la route"}


async def test_among_more_claims_than_are_told_the_one_being_handled_comes_first(domain, dispatcher, client):
    # More water damages just declared than the answer tells: the one with an expert
    # coming is still told, and first; the others follow, the most recent first.
    for _ in range(MAX_CLAIMS_SHOWN + 1):
        await file_claim_for_marie(client, "HAB-120034", "degat_des_eaux")
    tracker = make_tracker(
        domain, slots=identified(MARIE), text="ou en est mon sinistre degat des eaux",
        entities=[entity("claim_type", "degat_des_eaux")],
    )
    await ActionClaimStatus().run(dispatcher, tracker, domain)
    told = [message for message in dispatcher.messages if message["response"].startswith("utter_claim_phase_")]
    assert len(told) == MAX_CLAIMS_SHOWN
    assert told[0]["claim_number"] == "SIN-2026-000731" and told[0]["response"] == "utter_claim_phase_expertise"
    assert {message["response"] for message in told[1:]} == {"utter_claim_phase_declaration"}


async def test_a_claim_named_by_its_number_alone_is_found_among_the_customer_s_own(domain, dispatcher, client):
    for question in ("et le 731 ?", "dossier 000731", "SIN2026-731"):
        dispatcher = CollectingDispatcher()
        await ActionClaimStatus().run(dispatcher, asking(domain, MARIE, question), domain)
        assert [m["claim_number"] for m in dispatcher.messages] == ["SIN-2026-000731"] * 2, question


async def test_a_partial_number_of_another_customer_s_claim_is_answered_like_one_nobody_has(domain, client):
    answers = {}
    for number in ("415", "416"):  # the end of Karim's claim number, and of nobody's
        dispatcher = CollectingDispatcher()
        await ActionClaimStatus().run(dispatcher, asking(domain, MARIE, f"ou en est le dossier {number}"), domain)
        [message] = dispatcher.messages
        assert message["response"] == "utter_claim_not_found" and message["claim_number"] == number
        answers[number] = {**message, "claim_number": "…"}
    assert answers["415"] == answers["416"]


async def test_the_claim_named_before_identification_is_the_one_told_after_it(domain, dispatcher, client):
    request = {"event": "user", "text": "ou en est mon sinistre sin 2026 731",
               "parse_data": {"intent": {"name": "claim_status"}, "entities": []}}
    events = [request, {"event": "action", "name": "action_remember_request"},
              {"event": "user", "text": "123456", "parse_data": {"intent": {"name": "inform"}, "entities": []}},
              {"event": "action", "name": "action_resume_request"}]
    tracker = make_tracker(domain, slots=identified(MARIE), text="123456", intent="inform", events=events)
    tracker.events = events  # the conversation as it happened, the code last
    await ActionClaimStatus().run(dispatcher, tracker, domain)
    assert [m["claim_number"] for m in dispatcher.messages] == ["SIN-2026-000731"] * 2
