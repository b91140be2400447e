"""Files the customer sends: joined to the declaration, or linked to the claim they pick,
against the running test services (real uploads, real links)."""

import datetime as dt
import itertools
import re
import uuid

from rasa_sdk.executor import CollectingDispatcher

from actions.claim_declaration import ActionClaimSummary, ActionFileClaim
from actions.claim_documents import (
    ActionAddClaimAttachments,
    ActionAskDocumentClaim,
    ActionAttachDocuments,
    ActionReceiveDocuments,
    ValidateDocumentForm,
    message_attachments,
)
from actions.identification_dialogue import ActionResumeRequest
from tests.actions.helpers import (
    MARIE,
    as_identified,
    identified,
    make_tracker,
    responses,
    slot_event,
    slot_sets,
)
from tests.reference_services.helpers import execute, new_customer, query
from tests.sample_files import jpeg_bytes, pdf_bytes

_contract_numbers = itertools.count(900001)


async def received(client, filename="photo.jpg", data=None, content_type="image/jpeg"):
    """A file as a connector hands it to the dialogue (stored first by the claims service)."""
    stored = await client.upload_document(filename, content_type, jpeg_bytes() if data is None else data)
    return {key: getattr(stored, key) for key in ("upload_id", "filename", "content_type", "size")}


def attach_message(*attachments):
    return {"text": "/attach_document", "intent": "attach_document", "metadata": {"attachments": list(attachments)}}


def linked_claim(services, upload_id):
    rows = query(services, "SELECT c.claim_number FROM claim_documents d LEFT JOIN claims c ON c.id = d.claim_id"
                           " WHERE d.document_id = ?", (upload_id,))
    return rows[0][0]


async def customer_with_open_claims(services, client, count):
    """A customer of our own with one home contract and `count` open claims."""
    customer_id = new_customer(services)["customer_id"]
    contract = f"HAB-{next(_contract_numbers)}"
    columns = [row[1] for row in query(services, "PRAGMA table_info(contracts)")]
    values = ["?" if c in ("contract_number", "customer_id") else c for c in columns]
    execute(services, f"INSERT INTO contracts ({', '.join(columns)}) SELECT {', '.join(values)}"
                      " FROM contracts WHERE contract_number = 'HAB-120034'",
            [contract if c == "contract_number" else customer_id for c in columns if c in ("contract_number", "customer_id")])
    numbers = []
    for day in range(count):
        claim = await client.file_claim(as_identified(customer_id), {
            "contract_number": contract, "claim_type": "degat_des_eaux",
            "occurred_on": (dt.date.today() - dt.timedelta(days=day + 1)).isoformat(),
            "place": "Cuisine", "circumstances": "Fuite sous l'évier.", "damage": "Placard abîmé.",
        }, uuid.uuid4().hex)
        numbers.append(claim.claim_number)
    return customer_id, contract, numbers


def test_only_well_formed_files_of_the_metadata_are_read():
    good = {"upload_id": "a" * 32, "filename": "photo.jpg", "content_type": "image/jpeg", "size": 10}
    message = {"metadata": {"attachments": [good, {"upload_id": "../x"}, "texte", {"filename": "sans id"},
                                            {"upload_id": "a" * 32 + "\n"}]}}
    assert message_attachments(message) == [good]
    assert message_attachments({"metadata": {"attachments": "pas une liste"}}) == []
    assert message_attachments({}) == []


async def test_a_photo_sent_during_the_declaration_is_acknowledged_and_kept(domain, dispatcher, client):
    photo = await received(client, "fuite.jpg")
    tracker = make_tracker(domain, slots=identified(MARIE), active_loop="claim_form", **attach_message(photo))
    events = await ActionAddClaimAttachments().run(dispatcher, tracker, domain)
    assert slot_sets(events) == {"claim_attachments": [photo]}
    assert responses(dispatcher) == ["utter_claim_photo_received"]
    assert dispatcher.messages[0]["file_names"] == "fuite.jpg"


async def test_a_second_file_joins_the_first_and_a_pdf_is_a_document(domain, dispatcher, client):
    photo, invoice = await received(client), await received(client, "devis.pdf", pdf_bytes(), "application/pdf")
    tracker = make_tracker(domain, slots=identified(MARIE, claim_attachments=[photo]), active_loop="claim_form",
                           **attach_message(invoice, photo))
    events = await ActionAddClaimAttachments().run(dispatcher, tracker, domain)
    assert slot_sets(events) == {"claim_attachments": [photo, invoice]}
    assert responses(dispatcher) == ["utter_claim_document_received"]


async def test_the_summary_reads_the_files_back(domain, dispatcher, client):
    photo = await received(client, "plafond.jpg")
    slots = identified(MARIE, claim_type="degat_des_eaux", claim_contract="HAB-120034", claim_date="2026-11-20",
                       claim_attachments=[photo])
    await ActionClaimSummary().run(dispatcher, make_tracker(domain, slots=slots), domain)
    assert dispatcher.messages[0]["attachments_label"] == "plafond.jpg"


async def test_the_summary_says_when_there_is_no_file(domain, dispatcher, client):
    slots = identified(MARIE, claim_type="degat_des_eaux", claim_contract="HAB-120034", claim_date="2026-11-20")
    await ActionClaimSummary().run(dispatcher, make_tracker(domain, slots=slots), domain)
    assert dispatcher.messages[0]["attachments_label"] == "aucune"


def declaration_slots(customer_id, contract="HAB-120034", **slots):
    return identified(
        customer_id, claim_type="degat_des_eaux", claim_contract=contract,
        claim_date=(dt.date.today() - dt.timedelta(days=1)).isoformat(), claim_place="Salle de bains",
        claim_circumstances="Le flexible de douche a cédé.", claim_damage="Carrelage décollé.",
        claim_third_party="Aucun tiers impliqué", claim_witnesses="Aucun témoin", **slots,
    )


async def test_the_files_of_the_declaration_are_linked_when_it_is_filed(domain, dispatcher, client, services):
    photo, invoice = await received(client), await received(client, "devis.pdf", pdf_bytes(), "application/pdf")
    tracker = make_tracker(domain, slots=declaration_slots(MARIE, claim_attachments=[photo, invoice]), intent="affirm")
    events = await ActionFileClaim().run(dispatcher, tracker, domain)
    filed = dispatcher.messages[0]["claim_number"]
    assert responses(dispatcher) == ["utter_claim_filed", "utter_claim_attachments_linked", "utter_claim_next_steps"]
    assert linked_claim(services, photo["upload_id"]) == linked_claim(services, invoice["upload_id"]) == filed
    assert slot_sets(events)["claim_attachments"] is None


async def test_files_refused_at_filing_never_keep_the_claim_from_being_filed(domain, dispatcher, client, services):
    photo = await received(client)
    await client.add_claim_document(as_identified(MARIE), "SIN-2026-000731", photo["upload_id"])  # already on another claim
    tracker = make_tracker(domain, slots=declaration_slots(MARIE, claim_attachments=[photo]), intent="affirm")
    await ActionFileClaim().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_claim_filed", "utter_claim_attachments_not_linked", "utter_claim_next_steps"]
    assert dispatcher.messages[0]["claim_number"].startswith("SIN-")
    assert linked_claim(services, photo["upload_id"]) == "SIN-2026-000731"


async def test_with_one_open_claim_files_are_attached_at_once(domain, dispatcher, client, services):
    customer_id, _, (number,) = await customer_with_open_claims(services, client, 1)
    photo = await received(client, "degats.jpg")
    tracker = make_tracker(domain, slots=identified(customer_id), **attach_message(photo))
    events = await ActionReceiveDocuments().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_document_attached"]
    assert dispatcher.messages[0]["claim_number"] == number
    assert linked_claim(services, photo["upload_id"]) == number
    assert slot_sets(events) == {"pending_documents": None, "document_claim": number}


async def test_with_several_open_claims_the_customer_is_asked_which_one(domain, dispatcher, client, services):
    customer_id, _, numbers = await customer_with_open_claims(services, client, 2)
    photo = await received(client)
    tracker = make_tracker(domain, slots=identified(customer_id), **attach_message(photo))
    events = await ActionReceiveDocuments().run(dispatcher, tracker, domain)
    assert slot_sets(events) == {"pending_documents": [photo], "document_claim": None}
    assert events[-1] == {"event": "followup", "timestamp": None, "name": "document_form"}
    assert linked_claim(services, photo["upload_id"]) is None

    ask = CollectingDispatcher()
    asking = make_tracker(domain, slots=identified(customer_id, pending_documents=[photo]), active_loop="document_form")
    await ActionAskDocumentClaim().run(ask, asking, domain)
    assert [b["payload"] for b in ask.messages[0]["buttons"]] == [
        '/inform{"claim_number": "%s"}' % number for number in sorted(numbers, reverse=True)
    ]
    # Each claim told by its number, its kind and its date (« SIN-2026-… – dégât des eaux du 3 mars 2026 »).
    for button, number in zip(ask.messages[0]["buttons"], sorted(numbers, reverse=True), strict=True):
        assert re.fullmatch(rf"{number} – [^–]+ du \d{{1,2}} \w+ \d{{4}}", button["title"]), button["title"]


async def test_the_claim_chosen_is_checked_then_the_files_attached(domain, dispatcher, client, services):
    customer_id, _, numbers = await customer_with_open_claims(services, client, 2)
    photo = await received(client)
    form_slots = identified(customer_id, pending_documents=[photo])
    for answer, expected in [("SIN-2026-000731", None), ("le dossier " + numbers[1].lower(), numbers[1])]:
        tracker = make_tracker(domain, slots={**form_slots, "document_claim": answer}, text=answer,
                               events=[slot_event("document_claim", answer)], active_loop="document_form")
        assert slot_sets(await ValidateDocumentForm().run(dispatcher, tracker, domain))["document_claim"] == expected
    assert responses(dispatcher)[0] == "utter_document_claim_not_open"  # Marie's claim is no one else's

    tracker = make_tracker(domain, slots={**form_slots, "document_claim": numbers[1]})
    attach = CollectingDispatcher()
    events = await ActionAttachDocuments().run(attach, tracker, domain)
    assert responses(attach) == ["utter_document_attached"]
    assert linked_claim(services, photo["upload_id"]) == numbers[1]
    assert slot_sets(events) == {"pending_documents": None, "document_claim": numbers[1]}


async def test_later_files_go_to_the_claim_chosen_before(domain, dispatcher, client, services):
    customer_id, _, numbers = await customer_with_open_claims(services, client, 2)
    photo = await received(client)
    tracker = make_tracker(domain, slots=identified(customer_id, document_claim=numbers[0]), **attach_message(photo))
    await ActionReceiveDocuments().run(dispatcher, tracker, domain)
    assert linked_claim(services, photo["upload_id"]) == numbers[0]


async def test_files_without_an_open_claim_are_not_attached(domain, dispatcher, client, services):
    photo = await received(client)
    customer_id = new_customer(services)["customer_id"]  # no claim at all, so none open
    tracker = make_tracker(domain, slots=identified(customer_id), **attach_message(photo))
    events = await ActionReceiveDocuments().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_no_open_claim_for_documents"]
    assert slot_sets(events) == {"pending_documents": None}
    assert linked_claim(services, photo["upload_id"]) is None


async def test_files_from_an_anonymous_customer_wait_for_the_identification(domain, dispatcher, client, services):
    customer_id, _, (number,) = await customer_with_open_claims(services, client, 1)
    photo = await received(client)
    anonymous = make_tracker(domain, **attach_message(photo))
    events = await ActionReceiveDocuments().run(dispatcher, anonymous, domain)
    assert responses(dispatcher) == ["utter_documents_kept_until_identified"]
    assert slot_sets(events) == {"pending_documents": [photo]}
    assert linked_claim(services, photo["upload_id"]) is None

    resumed = make_tracker(domain, slots={**identified(customer_id), "pending_request": "attach_document"})
    assert (await ActionResumeRequest().run(dispatcher, resumed, domain))[-1]["name"] == "action_receive_documents"
    after = make_tracker(domain, slots=identified(customer_id, pending_documents=[photo]), text="123456", intent="inform")
    await ActionReceiveDocuments().run(dispatcher, after, domain)
    assert linked_claim(services, photo["upload_id"]) == number


async def test_files_are_kept_when_the_claims_service_is_down(domain, dispatcher, unreachable_services):
    photo = {"upload_id": "b" * 32, "filename": "photo.jpg", "content_type": "image/jpeg", "size": 10}
    tracker = make_tracker(domain, slots=identified(MARIE), **attach_message(photo))
    events = await ActionReceiveDocuments().run(dispatcher, tracker, domain)
    assert responses(dispatcher) == ["utter_documents_unavailable"]
    assert slot_sets(events) == {"pending_documents": [photo]}
