import io

import aiohttp
from pypdf import PdfReader

from actions.attestation import ActionAskAttestationContract, ActionGenerateAttestation, ValidateAttestationForm
from tests.actions.helpers import (
    KARIM,
    MARIE,
    SOPHIE,
    entity,
    identified,
    make_tracker,
    responses,
    slot_event,
    slot_sets,
)
from tests.reference_services.helpers import sent_messages


async def run_form_validation(domain, dispatcher, customer, candidates=None, text="", entities=()):
    candidates = candidates or {}
    tracker = make_tracker(
        domain,
        slots={**identified(customer), **candidates},
        text=text,
        intent="request_attestation",
        entities=entities,
        events=[slot_event(name, value) for name, value in candidates.items()],
        active_loop="attestation_form",
    )
    return slot_sets(await ValidateAttestationForm().run(dispatcher, tracker, domain))


async def test_the_product_named_picks_the_contract(domain, dispatcher, client):
    slots = await run_form_validation(
        domain, dispatcher, MARIE, text="une attestation pour ma voiture", entities=[entity("product", "auto")]
    )
    assert slots["attestation_contract"] == "AUT-482913"


async def test_a_customer_with_one_active_contract_is_not_asked(domain, dispatcher, client):
    slots = await run_form_validation(domain, dispatcher, SOPHIE, text="il me faut une attestation")
    assert slots["attestation_contract"] == "PRO-700215"


async def test_a_customer_with_several_contracts_chooses_among_the_active_ones(domain, dispatcher, client):
    assert "attestation_contract" not in await run_form_validation(domain, dispatcher, MARIE, text="une attestation")
    tracker = make_tracker(domain, slots=identified(MARIE), active_loop="attestation_form")
    await ActionAskAttestationContract().run(dispatcher, tracker, domain)
    titles = [button["title"] for button in dispatcher.messages[-1]["buttons"]]
    assert len(titles) == 2 and any("AUT-482913" in t for t in titles) and any("HAB-120034" in t for t in titles)


async def test_another_customers_contract_is_unknown(domain, dispatcher, client):
    slots = await run_form_validation(domain, dispatcher, MARIE, {"attestation_contract": "PRV-300871"}, text="PRV-300871")
    assert slots["attestation_contract"] is None
    assert responses(dispatcher) == ["utter_attestation_contract_unknown"]


async def test_the_attestation_is_a_real_pdf_naming_the_contract_and_vehicle(domain, dispatcher, client):
    tracker = make_tracker(domain, slots=identified(MARIE, attestation_contract="AUT-482913"))
    events = slot_sets(await ActionGenerateAttestation().run(dispatcher, tracker, domain))
    assert events == {"attestation_contract": None}
    message = dispatcher.messages[0]
    assert message["response"] == "utter_attestation_ready"
    async with aiohttp.ClientSession() as session:
        async with session.get(message["url"]) as response:
            assert response.status == 200
            assert response.headers["Content-Type"].startswith("application/pdf")
            pdf = await response.read()
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("AUT-482913", "Marie Dupont", "AB-123-CD", message["reference"]):
        assert expected in text


async def test_a_terminated_contract_gets_no_attestation_and_the_reason(domain, dispatcher, client):
    tracker = make_tracker(domain, slots=identified(SOPHIE, attestation_contract="HAB-099812"))
    await ActionGenerateAttestation().run(dispatcher, tracker, domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_attestation_contract_terminated"
    assert message["end_label"] == "30 juin 2025"


async def test_when_the_policy_service_is_down_the_customer_is_told(domain, dispatcher, unreachable_services):
    tracker = make_tracker(domain, slots=identified(KARIM, attestation_contract="AUT-559120"))
    await ActionGenerateAttestation().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_attestation_failed"]


async def test_the_product_named_before_identification_still_picks_the_contract(domain, dispatcher, client):
    request = {
        "event": "user",
        "text": "une attestation pour ma voiture",
        "parse_data": {"intent": {"name": "request_attestation"}, "entities": [entity("product", "auto")]},
    }
    tracker = make_tracker(
        domain, slots=identified(KARIM), text="482913", intent="inform", events=[request], active_loop="attestation_form"
    )
    slots = slot_sets(await ValidateAttestationForm().run(dispatcher, tracker, domain))
    assert slots["attestation_contract"] == "AUT-559120"


async def test_asking_for_the_green_card_means_the_car_attestation(domain, dispatcher, client):
    slots = await run_form_validation(domain, dispatcher, MARIE, text="je n'ai pas reçu ma carte verte")
    assert slots["attestation_contract"] == "AUT-482913"


async def test_a_school_certificate_comes_from_the_home_contract(domain, dispatcher, client):
    slots = await run_form_validation(domain, dispatcher, MARIE, text="il me faut une attestation scolaire pour mon fils")
    assert slots["attestation_contract"] == "HAB-120034"
    tracker = make_tracker(
        domain, slots=identified(MARIE, attestation_contract="HAB-120034"),
        text="il me faut une attestation scolaire pour mon fils", intent="request_attestation",
    )
    await ActionGenerateAttestation().run(dispatcher, tracker, domain)
    # The school certificate says it is the school certificate, on every channel.
    assert responses(dispatcher)[-1] == "utter_school_attestation_ready"
    assert all("attestation scolaire" in variant["text"]
               for variant in domain["responses"]["utter_school_attestation_ready"])


async def test_a_car_attestation_comes_with_the_rule_that_replaced_the_green_card(domain, dispatcher, client):
    tracker = make_tracker(domain, slots=identified(KARIM, attestation_contract="AUT-559120"), text="ma carte verte")
    await ActionGenerateAttestation().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_attestation_ready", "utter_memo_vehicule_assure"]


async def test_on_the_phone_the_attestation_is_emailed_to_the_address_on_file(domain, dispatcher, client, services):
    def outbox():
        return sent_messages(services, "marie.dupont@example.fr")

    tracker = make_tracker(domain, slots=identified(MARIE, attestation_contract="HAB-120034"))
    tracker.events[0]["input_channel"] = "ivr"
    before = outbox()
    await ActionGenerateAttestation().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_attestation_ready"]  # its `ivr` variant says it was e-mailed
    sent = outbox()
    assert len(sent) == len(before) + 1
    assert "HAB-120034" in sent[-1]["subject"] and dispatcher.messages[0]["url"] in sent[-1]["body"]


async def test_the_former_studio_described_is_the_terminated_contract_never_the_active_one(domain, dispatcher, client):
    slots = await run_form_validation(domain, dispatcher, SOPHIE, text="l'attestation de mon ancien studio rue Carnot",
                                      entities=[entity("product", "habitation")])
    assert slots["attestation_contract"] == "HAB-099812"


async def test_a_car_the_customer_does_not_have_is_said_so_and_nothing_is_chosen(domain, dispatcher, client):
    slots = await run_form_validation(domain, dispatcher, KARIM, text="attestation pour la peugeot")
    assert "attestation_contract" not in slots
    assert responses(dispatcher) == ["utter_attestation_contract_not_described"]


async def test_a_plate_without_dashes_picks_its_car(domain, dispatcher, client):
    slots = await run_form_validation(domain, dispatcher, MARIE, text="attestation ab123cd")
    assert slots["attestation_contract"] == "AUT-482913"


async def test_an_ambiguous_description_is_asked_among_the_contracts_it_fits(domain, dispatcher, client):
    text = "l'attestation pour poitiers"
    assert "attestation_contract" not in await run_form_validation(domain, dispatcher, SOPHIE, text=text)
    tracker = make_tracker(domain, slots=identified(SOPHIE), text=text, intent="request_attestation",
                           active_loop="attestation_form")
    await ActionAskAttestationContract().run(dispatcher, tracker, domain)
    payloads = sorted(button["payload"] for button in dispatcher.messages[-1]["buttons"])
    assert len(payloads) == 2 and "HAB-099812" in payloads[0] and "PRO-700215" in payloads[1]
