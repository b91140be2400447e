"""What the widget channel replays after a page reload, and which session ids it accepts."""

import pytest
from rasa.shared.core.events import ActionExecuted, BotUttered, SlotSet, UserUttered

from connectors.widget import _session_id, conversation_history

CLAIM_TYPES = [
    {"title": "Vol ou cambriolage", "payload": '/inform{"claim_type": "vol"}'},
    {"title": "Dégât des eaux", "payload": '/inform{"claim_type": "degat_des_eaux"}'},
]
PHOTO = {"upload_id": "a" * 32, "filename": "cuisine.jpg", "content_type": "image/jpeg", "size": 2048}


async def test_the_history_shows_what_each_side_said_in_order():
    events = [
        ActionExecuted("action_session_start"),
        UserUttered("bonjour"),
        BotUttered("Bonjour !\n\nQue puis-je faire pour vous ?"),
        SlotSet("customer_identified", True),
        UserUttered("je veux déclarer un sinistre"),
        BotUttered("De quel type ?", {"buttons": CLAIM_TYPES}),
    ]
    assert await conversation_history(events) == [
        {"sender": "user", "text": "bonjour"},
        # split into bubbles at blank lines, as the live channel sends them
        {"sender": "bot", "text": "Bonjour !"},
        {"sender": "bot", "text": "Que puis-je faire pour vous ?"},
        {"sender": "user", "text": "je veux déclarer un sinistre"},
        {
            "sender": "bot",
            "text": "De quel type ?",
            "quick_replies": [{"content_type": "text", **button} for button in CLAIM_TYPES],
        },
    ]


async def test_a_pressed_button_shows_its_title_not_its_payload():
    events = [
        BotUttered("De quel type ?", {"buttons": CLAIM_TYPES}),
        UserUttered('/inform{"claim_type": "degat_des_eaux"}'),
        UserUttered('/inform{"claim_type": "vol"}'),  # no longer offered: shown as sent
    ]
    users = [m["text"] for m in await conversation_history(events) if m["sender"] == "user"]
    assert users == ["Dégât des eaux", '/inform{"claim_type": "vol"}']


async def test_attached_files_show_their_names():
    events = [UserUttered("/attach_document", metadata={"attachments": [PHOTO], "auth_token": "x"})]
    assert await conversation_history(events) == [
        {"sender": "user", "files": [{"filename": "cuisine.jpg", "content_type": "image/jpeg"}]}
    ]


async def test_images_files_and_custom_payloads_are_replayed():
    document = {"type": "file", "payload": {"src": "https://docs.example/a.pdf", "name": "Attestation.pdf"}}
    events = [
        BotUttered(None, {"image": "https://img.example/plan.png"}),
        BotUttered("Votre attestation :", {"attachment": document}),
        BotUttered(None, {"custom": {"text": "personnalisé"}}),
    ]
    assert await conversation_history(events) == [
        {"sender": "bot", "attachment": {"type": "image", "payload": {"src": "https://img.example/plan.png"}}},
        {"sender": "bot", "text": "Votre attestation :"},
        {"sender": "bot", "attachment": document},
        {"sender": "bot", "custom": {"text": "personnalisé"}},
    ]


def test_a_well_formed_session_id_is_kept():
    assert _session_id("0123456789abcdef0123456789abcdef") == "0123456789abcdef0123456789abcdef"


@pytest.mark.parametrize(
    "requested",
    [None, "", "33612345678", "test-sender", "../../etc", "0123456789ABCDEF0123456789ABCDEF", 42, {"id": 1},
     "0123456789abcdef0123456789abcdef\n"],
)
def test_any_other_session_id_gets_a_new_one(requested):
    new = _session_id(requested)
    assert new != requested and len(new) == 32 and int(new, 16) >= 0
