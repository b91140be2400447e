"""The conversation store keeps no personal data, and the conversation still works
from what it reloads at every turn."""
import asyncio
import threading

from rasa.shared.core.events import ActionExecuted, ActiveLoop, BotUttered, SlotSet, UserUttered

from tests.stored_conversation import stored_events_text

JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMDAwMDAwMiJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


def stored_text(tracker_store) -> str:
    """Every stored event, read from the database file itself."""
    return stored_events_text(tracker_store.engine.url.database)


async def turn(tracker_store, sender, *events):
    """One turn as Rasa runs it: reload the tracker, add the turn's events, save."""
    tracker = await tracker_store.get_or_create_tracker(sender)
    for event in events:
        tracker.update(event)
    await tracker_store.save(tracker)
    return await tracker_store.retrieve(sender)


def said(text, intent="inform", entities=(), **metadata):
    return UserUttered(text, {"name": intent, "confidence": 1.0}, list(entities),
                       input_channel="rest", metadata=metadata)


def asked(slot):
    return SlotSet("requested_slot", slot)


async def test_an_identification_is_stored_without_birth_date_code_or_token(tracker_store):
    await turn(tracker_store, "s", said("je veux une attestation", "request_attestation", auth_token=JWT),
               SlotSet("session_started_metadata", {"auth_token": JWT}),
               asked("identification_birth_date"), ActionExecuted("action_listen"))
    await turn(tracker_store, "s", said("30/07/1978", entities=[{"entity": "date", "value": "30/07/1978"}]),
               SlotSet("identification_birth_date", "30/07/1978"),
               SlotSet("identification_birth_date", "vérifié"),
               BotUttered("Je viens d'envoyer un code par SMS au 07 ** ** ** 89."),
               asked("identification_code"), ActionExecuted("action_listen"))
    tracker = await turn(tracker_store, "s", said("mon code : 482 913"),
                         SlotSet("identification_code", "482 913"), asked(None),
                         SlotSet("authenticated_customer_id", "10000002"))

    stored = stored_text(tracker_store)
    for secret in (JWT, "30/07/1978", "1978", "482 913", "482913"):
        assert secret not in stored
    assert "[date de naissance]" in stored and "[code]" in stored
    assert tracker.get_slot("identification_birth_date") is not None  # the form saw it answered
    assert tracker.get_slot("authenticated_customer_id") == "10000002"


async def test_a_birth_date_or_a_code_given_where_it_was_not_asked_is_masked_in_the_identification(tracker_store):
    await turn(tracker_store, "s", said("je veux une attestation", "request_attestation"),
               ActiveLoop("identification_form"), asked("identification_customer_id"), ActionExecuted("action_listen"))
    # The birth date for the customer id, then the customer id with it.
    await turn(tracker_store, "s", said("30/07/1978"), SlotSet("identification_customer_id", "30/07/1978"),
               SlotSet("identification_customer_id", None), asked("identification_customer_id"))
    await turn(tracker_store, "s", said("10000002 né le 30 juillet 1978"),
               SlotSet("identification_customer_id", "10000002 né le 30 juillet 1978"),
               SlotSet("identification_customer_id", "10000002"), asked("identification_birth_date"))
    # Locked: the form stops; the code that came is typed next, then the conversation goes on.
    await turn(tracker_store, "s", said("482 913"), SlotSet("identification_code", "482 913"),
               SlotSet("requested_slot", None), ActiveLoop(None), ActionExecuted("action_listen"))
    await turn(tracker_store, "s", said("482913"), ActionExecuted("action_listen"))
    tracker = await turn(tracker_store, "s", said("le dégât date du 12/11/2026, montant 150000 euros", "declare_claim"))

    stored = stored_text(tracker_store)
    for secret in ("30/07/1978", "1978", "482913", "482 913"):
        assert secret not in stored
    assert "10000002" in stored  # the customer id stays
    assert "12/11/2026" in stored and "150000" in stored  # outside the identification, as before
    assert tracker.get_slot("identification_customer_id") == "10000002"


async def test_contact_details_bank_details_and_addresses_are_masked_in_every_message(tracker_store):
    await turn(tracker_store, "s",
               said("nouvel e-mail karim.benali@example.fr, tél 07 23 45 67 89, "
                    "RIB FR76 3000 6000 0112 3456 7890 189, j'habite 4 rue Victor Hugo 69002 Lyon",
                    "update_personal_info"),
               BotUttered("C'est noté pour karim.benali@example.fr."),
               SlotSet("change_request_details", "RIB FR76 3000 6000 0112 3456 7890 189"))
    stored = stored_text(tracker_store)
    for secret in ("karim.benali@example.fr", "07 23 45 67 89", "FR76", "Victor Hugo"):
        assert secret not in stored
    assert "[e-mail]" in stored and "[téléphone]" in stored and "[IBAN]" in stored and "[adresse]" in stored


async def test_phone_numbers_followed_by_other_numbers_or_after_brackets_are_masked(tracker_store):
    await turn(tracker_store, "s", said("appelez le 06 12 34 56 78 2 fois, ou (+44 20 7946 0958) 12 h"),
               BotUttered("C'est noté : x( 07 98 76 54 32  01 00 00 00 00"))
    stored = stored_text(tracker_store)
    for number in ("06 12 34 56 78", "7946 0958", "07 98 76 54 32", "01 00 00 00 00"):
        assert number not in stored
    assert "appelez le [téléphone] 2 fois" in stored


async def test_the_claim_being_declared_survives_the_turns_and_is_masked_once_filed(tracker_store):
    place = "12 rue des Lilas, 79000 Niort"
    witness = "Mme Roux, 06 11 22 33 44"
    await turn(tracker_store, "s", said(place), SlotSet("claim_place", place))
    tracker = await turn(tracker_store, "s", said(witness), SlotSet("claim_witnesses", witness))
    assert (tracker.get_slot("claim_place"), tracker.get_slot("claim_witnesses")) == (place, witness)
    assert stored_text(tracker_store).count("rue des Lilas") == 1  # the slot, not the message

    await turn(tracker_store, "s", said("oui", "affirm"), BotUttered("Enregistré sous SIN-2026-000900."),
               SlotSet("claim_place", None), SlotSet("claim_witnesses", None))
    stored = stored_text(tracker_store)
    assert "rue des Lilas" not in stored and "06 11 22 33 44" not in stored
    assert "SIN-2026-000900" in stored


async def test_the_identity_assertion_survives_the_turns_and_is_masked_once_dropped(tracker_store):
    """Every call about the customer carries it: masked at once, the customer would have
    to identify again at every message."""
    assertion = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMDAwMDAwMiIsImV4cCI6NDEwMjQ0NDgwMH0.YXNzZXJ0aW9uLXNpZ25hdHVyZQ"
    tracker = await turn(tracker_store, "s", said("482913"), SlotSet("authenticated_customer_id", "10000002"),
                         SlotSet("identity_assertion", assertion))
    tracker = await turn(tracker_store, "s", said("mes contrats", "contract_info"))
    assert tracker.get_slot("identity_assertion") == assertion

    await turn(tracker_store, "s", said("encore", "contract_info"), SlotSet("authenticated_customer_id", None),
               SlotSet("identity_assertion", None))
    assert assertion not in stored_text(tracker_store)


async def test_the_buttons_offered_and_the_identifiers_stay_usable(tracker_store):
    payload = '/inform{"claim_type": "degat_des_eaux"}'
    tracker = await turn(tracker_store, "s", said("sinistre sur AUT-482913, dossier SIN-2026-000731", "declare_claim"),
                         BotUttered("De quel type ?", {"buttons": [{"title": "Dégât des eaux", "payload": payload}]}))
    assert tracker.events[-1].data["buttons"][0]["payload"] == payload
    assert "AUT-482913" in stored_text(tracker_store) and "SIN-2026-000731" in stored_text(tracker_store)


async def test_a_turn_is_masked_in_a_worker_thread_while_other_conversations_go_on(tracker_store, monkeypatch):
    """The masking of a turn waits here until a coroutine of the event loop lets it go
    on: done on the loop itself, it would wait forever (10 s, then fail)."""
    from bot import tracker_store as module

    other_conversation_served = threading.Event()
    masked_on = []

    def masked_rows_after_the_other_conversation(*args):
        masked_on.append(threading.current_thread())
        assert other_conversation_served.wait(10), "the event loop was blocked by the masking"
        return masked_rows(*args)

    async def other_conversation():
        other_conversation_served.set()

    tracker = await tracker_store.get_or_create_tracker("s")
    tracker.update(said("écrivez à marie.dupont@example.fr"))
    masked_rows = module.masked_rows
    monkeypatch.setattr(module, "masked_rows", masked_rows_after_the_other_conversation)
    await asyncio.gather(tracker_store.save(tracker), other_conversation())

    assert masked_on and masked_on[0] is not threading.main_thread()
    assert "marie.dupont" not in stored_text(tracker_store) and "[e-mail]" in stored_text(tracker_store)
