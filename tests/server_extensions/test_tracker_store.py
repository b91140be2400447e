"""The conversation store keeps no personal data, and the conversation still works
from what it reloads at every turn."""
import json
import sqlite3
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from server_extensions.tracker_store import MaskingSQLTrackerStore

ROOT = Path(__file__).resolve().parents[2]
JWT = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMDAwMDAwMiJ9.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


@pytest.fixture(scope="module")
def domain():
    return Domain.load(str(ROOT / "domain"))


@pytest.fixture
def store(domain, tmp_path):
    return MaskingSQLTrackerStore(domain=domain, dialect="sqlite", db=str(tmp_path / "conversations.db"))


def stored_text(store) -> str:
    """Every stored event, read from the database file itself."""
    with sqlite3.connect(store.engine.url.database) as connection:
        rows = connection.execute("SELECT data FROM events ORDER BY id").fetchall()
    return "\n".join(json.dumps(json.loads(data), ensure_ascii=False) for (data,) in rows)


async def turn(store, sender, *events):
    """One turn as Rasa runs it: reload the tracker, add the turn's events, save."""
    tracker = await store.get_or_create_tracker(sender)
    for event in events:
        tracker.update(event)
    await store.save(tracker)
    return await store.retrieve(sender)


def said(text, intent="inform", entities=(), **metadata):
    return UserUttered(text, {"name": intent, "confidence": 1.0}, list(entities),
                       input_channel="rest", metadata=metadata)


def asked(slot):
    return SlotSet("requested_slot", slot)


async def test_an_identification_is_stored_without_birth_date_code_or_token(store):
    await turn(store, "s", said("je veux une attestation", "request_attestation", auth_token=JWT),
               SlotSet("session_started_metadata", {"auth_token": JWT}),
               asked("identification_birth_date"), ActionExecuted("action_listen"))
    await turn(store, "s", said("30/07/1978", entities=[{"entity": "date", "value": "30/07/1978"}]),
               SlotSet("identification_birth_date", "30/07/1978"),
               SlotSet("identification_birth_date", "vérifié"),
               BotUttered("Je viens d'envoyer un code par SMS au 07 ** ** ** 89."),
               asked("identification_code"), ActionExecuted("action_listen"))
    tracker = await turn(store, "s", said("mon code : 482 913"),
                         SlotSet("identification_code", "482 913"), asked(None),
                         SlotSet("authenticated_customer_id", "10000002"))

    stored = stored_text(store)
    for secret in (JWT, "30/07/1978", "1978", "482 913", "482913"):
        assert secret not in stored
    assert "[date de naissance]" in stored and "[code]" in stored
    assert tracker.get_slot("identification_birth_date") is not None  # the form saw it answered
    assert tracker.get_slot("authenticated_customer_id") == "10000002"


async def test_contact_details_bank_details_and_addresses_are_masked_in_every_message(store):
    await turn(store, "s",
               said("nouvel e-mail karim.benali@example.fr, tél 07 23 45 67 89, "
                    "RIB FR76 3000 6000 0112 3456 7890 189, j'habite 4 rue Victor Hugo 69002 Lyon",
                    "update_personal_info"),
               BotUttered("C'est noté pour karim.benali@example.fr."),
               SlotSet("change_request_details", "RIB FR76 3000 6000 0112 3456 7890 189"))
    stored = stored_text(store)
    for secret in ("karim.benali@example.fr", "07 23 45 67 89", "FR76", "Victor Hugo"):
        assert secret not in stored
    assert "[e-mail]" in stored and "[téléphone]" in stored and "[IBAN]" in stored and "[adresse]" in stored


async def test_the_claim_being_declared_survives_the_turns_and_is_masked_once_filed(store):
    place = "12 rue des Lilas, 79000 Niort"
    witness = "Mme Roux, 06 11 22 33 44"
    await turn(store, "s", said(place), SlotSet("claim_place", place))
    tracker = await turn(store, "s", said(witness), SlotSet("claim_witnesses", witness))
    assert (tracker.get_slot("claim_place"), tracker.get_slot("claim_witnesses")) == (place, witness)
    assert stored_text(store).count("rue des Lilas") == 1  # the slot, not the message

    await turn(store, "s", said("oui", "affirm"), BotUttered("Enregistré sous SIN-2026-000900."),
               SlotSet("claim_place", None), SlotSet("claim_witnesses", None))
    stored = stored_text(store)
    assert "rue des Lilas" not in stored and "06 11 22 33 44" not in stored
    assert "SIN-2026-000900" in stored


async def test_the_buttons_offered_and_the_identifiers_stay_usable(store):
    payload = '/inform{"claim_type": "degat_des_eaux"}'
    tracker = await turn(store, "s", said("sinistre sur AUT-482913, dossier SIN-2026-000731", "declare_claim"),
                         BotUttered("De quel type ?", {"buttons": [{"title": "Dégât des eaux", "payload": payload}]}))
    assert tracker.events[-1].data["buttons"][0]["payload"] == payload
    assert "AUT-482913" in stored_text(store) and "SIN-2026-000731" in stored_text(store)
