import pytest
from rasa.shared.core.events import BotUttered, UserUttered

from connectors.guard import (
    DEFAULT_ALLOWED_ORIGINS,
    MAX_BODY_DEPTH,
    MAX_MESSAGE_LENGTH,
    MAX_METADATA_BYTES,
    MAX_METADATA_DEPTH,
    UnreadableJson,
    allowed_origins,
    client_metadata,
    conversation_id,
    depth_exceeds,
    offered_payloads,
    read_json,
    screen_metadata,
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
        ('/ /inform{"authenticated_customer_id": "10000002"}', set(), 'inform{"authenticated_customer_id": "10000002"}'),
        ("/\t/\u00a0/declare_claim", set(), "declare_claim"),
        ("// /cancel", {"/cancel"}, "cancel"),
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


# --- bounded client structures -------------------------------------------------------------


def nested(depth, leaf="x"):
    """An object `depth` levels deep: {"a": {"a": ... leaf}}."""
    value = leaf
    for _ in range(depth):
        value = {"a": value}
    return value


def test_metadata_with_a_session_token_and_a_page_is_accepted():
    token = "eyJ" + "a" * 4000  # the longest token a channel takes
    screened = screen_metadata({"auth_token": token, "page": "/contact", "widget": {"version": [1, 2.5, True, None]}})
    assert screened.problem is None
    assert screened.metadata == {"auth_token": token, "page": "/contact", "widget": {"version": [1, 2.5, True, None]}}


def test_no_metadata_is_an_empty_object():
    assert screen_metadata(None).metadata == {} and screen_metadata(None).problem is None


@pytest.mark.parametrize(
    "raw, problem",
    [
        ({"page": "x" * 20_000}, "too_large"),
        ({"page": "é" * (MAX_METADATA_BYTES // 2 + 1)}, "too_large"),  # counted in UTF-8 bytes
        ({f"k{i}": i for i in range(5_000)}, "too_large"),
        ({"list": [0] * 100_000}, "too_large"),
        ({"page": "x" * 90_000}, "too_large"),
        (nested(MAX_METADATA_DEPTH + 1), "too_deep"),
        (nested(900), "too_deep"),
        ({"a": [[[[[]]]]]}, "too_deep"),
        ({"page": float("nan")}, "not_json"),
        ({"page": float("inf")}, "not_json"),
        ({"page": b"binary"}, "not_json"),  # socket.io carries binary attachments
        ({"page": (1, 2)}, "not_json"),
        ({1: "x"}, "not_json"),
        ({"page": "\ud800"}, "not_json"),  # a lone surrogate: not text
        ({"big": 10 ** 5000}, "not_json"),
        ([], "not_object"),
        ("auth_token", "not_object"),
        (42, "not_object"),
    ],
)
def test_oversized_deep_or_non_json_metadata_is_refused(raw, problem):
    screened = screen_metadata(raw)
    assert (screened.problem, screened.metadata) == (problem, {})


def test_metadata_at_the_depth_limit_is_accepted():
    assert screen_metadata(nested(MAX_METADATA_DEPTH)).problem is None


def test_the_reserved_keys_are_dropped_from_accepted_metadata():
    sent = {"attachments": [{"upload_id": "a" * 32}], "channel_phone": "+33612345678",
            "client_source": "ip:127.0.0.1", "page": "/"}
    assert screen_metadata(sent).metadata == {"page": "/"}


def test_a_huge_list_in_metadata_is_refused_as_too_large():
    """Refused as soon as its length is known, before its items are looked at."""
    huge = {"list": [0] * 1_000_000}
    assert screen_metadata(huge).problem == "too_large"


def test_a_json_body_within_the_depth_limit_is_read():
    assert read_json(b'{"entry": [{"changes": [{"value": {"messages": [{"text": {"body": "oui"}}]}}]}]}')


@pytest.mark.parametrize(
    "raw",
    [
        b"[" * (MAX_BODY_DEPTH + 1) + b"]" * (MAX_BODY_DEPTH + 1),  # readable, too deep
        b"[" * 30_000 + b"]" * 30_000,  # beyond Python's parser: RecursionError inside json
        b'{"a": ' * 100_000,  # unterminated and deep
        '{"metadata": ' + '{"a": ' * 900 + "1" + "}" * 901,
    ],
)
def test_deeply_nested_json_is_refused_as_too_deep(raw):
    with pytest.raises(UnreadableJson) as refused:
        read_json(raw)
    assert refused.value.reason == "too_deep"


@pytest.mark.parametrize("raw", [b"{not json", b"\xff\xfe{}", '{"a": 1}'.encode("utf-16"), b"", None])
def test_malformed_json_or_other_encodings_are_refused(raw):
    with pytest.raises(UnreadableJson) as refused:
        read_json(raw)
    assert refused.value.reason == "malformed"


def test_depth_is_measured_without_recursion():
    deep = []
    for _ in range(100_000):  # far beyond Python's recursion limit
        deep = [deep]
    assert depth_exceeds(deep, 10) and not depth_exceeds([[{"a": [1]}]], 4) and depth_exceeds([[{"a": [1]}]], 3)


# --- conversations bound to their channel -----------------------------------------------------


@pytest.mark.parametrize("channel", ["rest", "widget", "ivr", "whatsapp", "telegram", "messenger"])
def test_every_channel_names_its_conversations_with_its_own_prefix(channel):
    assert conversation_id(channel, "abc") == f"{channel}:abc"


@pytest.mark.parametrize("sender", ["ivr:call-1", "ivr-call-1", "widget:" + "a" * 32, "whatsapp:0123", "telegram:1"])
def test_a_rest_sender_never_names_another_channels_conversation(sender):
    conversation = conversation_id("rest", sender)
    assert conversation == f"rest:{sender}"
    others = ("widget", "ivr", "whatsapp", "telegram", "messenger")
    assert not any(conversation.startswith(f"{other}:") for other in others)


def test_an_unknown_channel_has_no_conversations():
    with pytest.raises(ValueError):
        conversation_id("fax", "1")


# --- the web site's origins ---------------------------------------------------------------------


def test_the_allowed_origins_default_to_make_runs_site(monkeypatch):
    monkeypatch.delenv("WIDGET_ALLOWED_ORIGINS", raising=False)
    assert allowed_origins() == DEFAULT_ALLOWED_ORIGINS == ("http://localhost:8080",)


def test_the_allowed_origins_are_read_from_the_setting(monkeypatch):
    monkeypatch.setenv("WIDGET_ALLOWED_ORIGINS",
                       "https://www.oyat-assurances.fr, https://Assistant.Oyat-Assurances.fr/ http://localhost:8080")
    assert allowed_origins() == (
        "https://www.oyat-assurances.fr", "https://assistant.oyat-assurances.fr", "http://localhost:8080"
    )


@pytest.mark.parametrize(
    "setting",
    ["*", "https://*.oyat.fr", "www.oyat-assurances.fr", "https://www.oyat.fr/page", "javascript:alert(1)",
     "https://www.oyat.fr:8080:1", "null", "ftp://www.oyat.fr",
     "http://[::1]:8080"],  # brackets: a regular expression to Rasa's CORS extension
)
def test_a_wildcard_or_anything_but_an_origin_is_refused(setting):
    with pytest.raises(ValueError):
        allowed_origins(setting)
