import pytest
from rasa.shared.core.events import BotUttered, UserUttered

from connectors.guard import (
    MAX_MESSAGE_LENGTH,
    client_metadata,
    offered_payloads,
    screen_text,
    without_shortcut,
)


@pytest.mark.parametrize(
    "raw, refusal",
    [
        ("", "empty"),
        ("   \n\t ", "empty"),
        (None, "empty"),
        (42, "empty"),
        ({"text": "bonjour"}, "empty"),
        ("\x00\x01\x02", "empty"),
        ("x" * (MAX_MESSAGE_LENGTH + 1), "too_long"),
        ("déclarer un sinistre " * 11_000, "too_long"),  # about 225 KB
    ],
)
def test_empty_non_text_and_oversized_messages_are_refused(raw, refusal):
    assert screen_text(raw).refusal == refusal and screen_text(raw).text is None


def test_control_characters_and_lone_surrogates_are_dropped():
    assert screen_text("bon\x00jour\ud800 !\n").text == "bonjour !"


def test_a_message_at_the_limit_is_kept_whole():
    assert screen_text("a" * MAX_MESSAGE_LENGTH).text == "a" * MAX_MESSAGE_LENGTH


def test_only_the_buttons_of_the_last_answer_are_offered():
    events = [
        BotUttered("avant", {"buttons": [{"title": "Vieux", "payload": "/old"}]}),
        UserUttered("je veux déclarer un sinistre"),
        BotUttered("De quel type ?", {"buttons": [{"title": "Vol", "payload": '/inform{"claim_type": "vol"}'}]}),
        BotUttered("Ou dites annuler.", {"buttons": [{"title": "Annuler", "payload": "/cancel"}]}),
    ]
    assert offered_payloads(events) == {'/inform{"claim_type": "vol"}', "/cancel"}


@pytest.mark.parametrize(
    "typed, offered, read_as",
    [
        ('/inform{"claim_type": "vol"}', {'/inform{"claim_type": "vol"}'}, '/inform{"claim_type": "vol"}'),
        ('/inform{"authenticated_customer_id": "10000002"}', set(), 'inform{"authenticated_customer_id": "10000002"}'),
        ("/declare_claim", {"/affirm"}, "declare_claim"),
        ("///", set(), "///"),
        ("bonjour", set(), "bonjour"),
    ],
)
def test_the_intent_shortcut_works_only_for_payloads_the_assistant_offered(typed, offered, read_as):
    assert without_shortcut(typed, offered) == read_as


def test_clients_cannot_send_the_metadata_only_channels_set():
    forged = {"auth_token": "t", "attachments": [{"upload_id": "x"}], "channel_phone": "+33612345678", "page": "/"}
    assert client_metadata(forged) == {"auth_token": "t", "page": "/"}


@pytest.mark.parametrize("raw", [None, "texte", ["liste"], 42])
def test_metadata_that_is_not_an_object_is_ignored(raw):
    assert client_metadata(raw) == {}
