"""The Messenger channel, with events in Meta's documented page webhook format."""

import hashlib
import hmac
import json
from types import SimpleNamespace
from typing import Any, Dict, List, Tuple

import pytest
import requests

from connectors.guard import MAX_MESSAGE_LENGTH
from connectors.messaging import pseudonym
from connectors.messenger import MessengerInput
from connectors.pipeline import response_words
from tests.connectors.channel_server import ChannelServer, project_domain
from tests.connectors.channel_server import refusal as refusal_text
from tests.connectors.fake_platform import meta_signed
from tests.sample_files import jpeg_bytes

APP_SECRET = "test-messenger-app-secret"
VERIFY_TOKEN = "test-messenger-verify-token"
PAGE_TOKEN = "test-messenger-page-token"
PSID = "6938475612398745"
PAGE_ID = "104729384756123"

_mids = iter(range(1, 1_000_000))


def page_webhook(*events: Dict[str, Any]) -> Dict[str, Any]:
    return {"object": "page", "entry": [{"id": PAGE_ID, "time": 1749416383000, "messaging": list(events)}]}


def event(**content: Any) -> Dict[str, Any]:
    return {"sender": {"id": PSID}, "recipient": {"id": PAGE_ID}, "timestamp": 1749416383000 + next(_mids), **content}


def text_event(text: str, **extra: Any) -> Dict[str, Any]:
    return event(message={"mid": f"m_AG5Hz2Uq7tuwNEhXfYYKj8mJEM_QPpz5jdC{next(_mids)}", "text": text, **extra})


def signed(body: Any, secret: str = APP_SECRET) -> Tuple[bytes, Dict[str, str]]:
    return meta_signed(body, secret)


@pytest.fixture
def messenger(fake_api):
    channel = MessengerInput(PAGE_TOKEN, APP_SECRET, VERIFY_TOKEN, api_url=f"{fake_api.url}/v21.0")
    server = ChannelServer(channel).start()
    yield server
    server.stop()


def deliver(server: ChannelServer, body: Any) -> Any:
    return server.deliver(*signed(body))


def sent(fake_api) -> List[Dict[str, Any]]:
    """The messages sent to users (not the sender actions: seen, typing)."""
    return [call.json for call in fake_api.sent("/v21.0/me/messages") if "sender_action" not in call.json]


def sender_actions(fake_api) -> List[str]:
    return [call.json["sender_action"] for call in fake_api.sent("/v21.0/me/messages") if "sender_action" in call.json]


def test_subscription_check_echoes_the_challenge(messenger):
    answer = requests.get(messenger.url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                                 "hub.challenge": "CHALLENGE_ACCEPTED"}, timeout=5)
    assert answer.status_code == 200 and answer.text == "CHALLENGE_ACCEPTED"
    refused = requests.get(messenger.url, params={"hub.mode": "subscribe", "hub.verify_token": "x",
                                                  "hub.challenge": "CHALLENGE_ACCEPTED"}, timeout=5)
    assert refused.status_code == 403


def sha1_signature(raw: bytes) -> str:
    return "sha1=" + hmac.new(APP_SECRET.encode(), raw, hashlib.sha1).hexdigest()


@pytest.mark.parametrize("headers", [
    lambda raw: {},
    lambda raw: {"X-Hub-Signature-256": "sha256=" + "f" * 64},
    lambda raw: {"X-Hub-Signature": sha1_signature(raw)},  # right, but SHA-1 only
    lambda raw: {"X-Hub-Signature-256": sha1_signature(raw)},
])
def test_anything_but_a_right_sha256_signature_is_refused(messenger, fake_api, headers):
    raw = json.dumps(page_webhook(text_event("bonjour"))).encode()
    answer = messenger.post(raw, headers(raw))
    messenger.settle()
    assert answer.status_code == 403
    assert messenger.agent.received == [] and fake_api.calls == []


def test_a_text_reaches_the_assistant_and_is_answered(messenger, fake_api):
    assert deliver(messenger, page_webhook(text_event("bonjour"))).status_code == 200
    [message] = messenger.agent.received
    assert message.text == "bonjour" and message.input_channel == "messenger"
    # The conversation is the user's pseudonym, bound to the channel, and so is the source.
    assert message.sender_id.startswith("messenger:") and PSID not in message.sender_id
    assert message.metadata == {"client_source": message.sender_id}
    seen, typing, call = fake_api.sent("/v21.0/me/messages")  # seen and « typing… » before the answer
    assert seen.json == {"recipient": {"id": PSID}, "sender_action": "mark_seen"}
    assert typing.json == {"recipient": {"id": PSID}, "sender_action": "typing_on"}
    assert call.query == seen.query == {"access_token": PAGE_TOKEN}
    assert call.json == {"recipient": {"id": PSID}, "messaging_type": "RESPONSE", "message": {"text": "Bien reçu."}}


def test_an_event_delivered_twice_is_handled_once(messenger):
    body = page_webhook(text_event("bonjour"))
    deliver(messenger, body)
    deliver(messenger, body)
    assert len(messenger.agent.received) == 1


def test_quick_replies_and_postbacks_send_the_payload_offered(messenger):
    deliver(messenger, page_webhook(text_event("bonjour")))
    sender = messenger.agent.received[0].sender_id
    buttons = [{"title": "Déclarer un sinistre", "payload": "/declare_claim"}]
    messenger.run(messenger.agent.offer(sender, buttons))
    deliver(messenger, page_webhook(text_event("Déclarer un sinistre", quick_reply={"payload": "/declare_claim"})))
    assert messenger.agent.received[-1].text == "/declare_claim"
    messenger.run(messenger.agent.offer(sender, buttons))
    deliver(messenger, page_webhook(event(postback={"mid": "m_postback1", "title": "Déclarer un sinistre",
                                                     "payload": "/declare_claim"})))
    assert messenger.agent.received[-1].text == "/declare_claim"


def test_a_payload_not_offered_is_read_as_text(messenger):
    deliver(messenger, page_webhook(event(postback={"mid": "m_p2", "title": "x", "payload": '/inform{"a": "b"}'})))
    assert not messenger.agent.received[0].text.startswith("/")


# --- « Démarrer », the page's menu and m.me links -----------------------------------------


def test_the_get_started_button_greets(messenger):
    deliver(messenger, page_webhook(event(postback={"mid": "m_start1", "title": "Démarrer",
                                                     "payload": "GET_STARTED"})))
    [message] = messenger.agent.received
    assert message.text == "/greet" and message.metadata["messenger_ref"] == "GET_STARTED"


def test_an_m_me_link_opened_with_get_started_serves_the_request_it_names(messenger):
    deliver(messenger, page_webhook(event(postback={
        "mid": "m_start2", "title": "Démarrer", "payload": "GET_STARTED",
        "referral": {"ref": "sinistre-site_2026", "source": "SHORTLINK", "type": "OPEN_THREAD"}})))
    [message] = messenger.agent.received
    assert message.text == "/declare_claim" and message.metadata["messenger_ref"] == "sinistre-site_2026"


def test_an_m_me_link_opened_in_an_existing_thread_serves_the_request_it_names(messenger):
    deliver(messenger, page_webhook(event(referral={"ref": "attestation", "source": "SHORTLINK",
                                                    "type": "OPEN_THREAD"})))
    [message] = messenger.agent.received
    assert message.text == "/request_attestation"


def test_a_menu_item_of_the_page_opens_its_request(messenger):
    deliver(messenger, page_webhook(event(postback={"mid": "m_menu1", "title": "Obtenir un devis",
                                                     "payload": "devis"})))
    assert messenger.agent.received[0].text == "/request_quote"


def test_a_link_parameter_no_link_of_ours_carries_only_greets(messenger):
    deliver(messenger, page_webhook(event(referral={"ref": "/inform{\"x\": 1} <script>", "source": "SHORTLINK",
                                                    "type": "OPEN_THREAD"})))
    [message] = messenger.agent.received
    assert message.text == "/greet" and "messenger_ref" not in message.metadata


def test_a_button_of_the_assistants_last_answer_is_still_its_payload(messenger):
    deliver(messenger, page_webhook(text_event("devis")))
    sender = messenger.agent.received[0].sender_id
    messenger.run(messenger.agent.offer(sender, [{"title": "Une voiture", "payload": "Une voiture"}]))
    deliver(messenger, page_webhook(event(postback={"mid": "m_p3", "title": "Une voiture", "payload": "Une voiture"})))
    assert messenger.agent.received[-1].text == "Une voiture"


def test_echoes_deliveries_and_reads_are_ignored(messenger, fake_api):
    body = page_webhook(
        text_event("réponse de la page", is_echo=True, app_id=1517776481860111),
        event(delivery={"mids": ["m_x"], "watermark": 1749416383000}),
        event(read={"watermark": 1749416383000}),
        {"recipient": {"id": PAGE_ID}, "timestamp": 1, "optin": {"ref": "x"}},
    )
    assert deliver(messenger, body).status_code == 200
    assert deliver(messenger, {"object": "instagram", "entry": []}).status_code == 200
    assert messenger.agent.received == [] and fake_api.calls == []


def test_malformed_json_is_a_bad_request(messenger):
    assert messenger.post(*signed(b'{"object": "page", ')).status_code == 400


@pytest.mark.parametrize("depth", [100, 50_000])
def test_a_deeply_nested_body_is_a_bad_request(messenger, depth):
    raw = b'{"object": "page", "entry": ' + b"[" * depth + b"]" * depth + b"}"
    assert messenger.post(*signed(raw)).status_code == 400
    assert messenger.agent.received == []


@pytest.mark.parametrize("text, refusal", [("x" * (MAX_MESSAGE_LENGTH + 1), "too_long"), ("\x00", "empty")])
def test_an_oversized_or_empty_text_is_refused_without_reaching_the_assistant(messenger, fake_api, text, refusal):
    deliver(messenger, page_webhook(text_event(text)))
    assert messenger.agent.received == []
    assert [m["message"]["text"] for m in sent(fake_api)] == [refusal_text(refusal, "messenger")]


def test_buttons_become_quick_replies(messenger, fake_api):
    messenger.agent.replies = lambda message: [{"text": "Quel type de sinistre ?", "buttons": [
        {"title": "Dégât des eaux", "payload": '/inform{"claim_type": "degat_des_eaux"}'},
        {"title": "Catastrophe naturelle (tempête, grêle, inondation)", "payload": "/inform"}]}]
    deliver(messenger, page_webhook(text_event("un sinistre")))
    [reply] = sent(fake_api)
    assert reply["message"]["text"] == "Quel type de sinistre ?"
    quick_replies = reply["message"]["quick_replies"]
    assert quick_replies[0] == {"content_type": "text", "title": "Dégât des eaux",
                                "payload": '/inform{"claim_type": "degat_des_eaux"}'}
    assert len(quick_replies[1]["title"]) <= 20


def test_the_attestation_comes_as_a_file(messenger, fake_api):
    url = "http://localhost:5101/v1/documents/0123456789abcdef0123456789abcdef.pdf?expires=1&signature=ab"
    messenger.agent.replies = lambda message: [{"text": "Votre attestation est prête.",
                                                "custom": {"document": {"url": url}}}]
    deliver(messenger, page_webhook(text_event("mon attestation")))
    assert [m["message"] for m in sent(fake_api)] == [
        {"text": "Votre attestation est prête."},
        {"attachment": {"type": "file", "payload": {"url": url, "is_reusable": False}}},
    ]


def test_a_photo_is_attached_to_the_claim(messenger, fake_api, claims_service):
    messenger.run(messenger.agent.open_declaration(pseudonym(APP_SECRET, "messenger", PSID)))
    fake_api.files["/cdn/t39.1997-6/photo-degat.jpg"] = (jpeg_bytes(), "image/jpeg")
    url = f"{fake_api.url}/cdn/t39.1997-6/photo-degat.jpg"
    deliver(messenger, page_webhook(event(message={"mid": "m_photo1", "attachments": [
        {"type": "image", "payload": {"url": url}}]})))
    [message] = messenger.agent.received
    assert message.text == "/attach_document"
    assert message.metadata["attachments"][0]["filename"] == "photo-degat.jpg"


# --- every kind of message gets its answer (issue 15) -------------------------------------


def words(response: str) -> str:
    """A response of the project's domain, as the Messenger channel says it."""
    return response_words(SimpleNamespace(domain=project_domain()), response, "messenger")


def attachment_event(*attachments: Dict[str, Any]) -> Dict[str, Any]:
    return event(message={"mid": f"m_att{next(_mids)}", "attachments": list(attachments)})


CDN = "https://scontent.xx.fbcdn.net/v/t1.15752-9"


@pytest.mark.parametrize("attachment, response", [
    ({"type": "audio", "payload": {"url": f"{CDN}/audioclip-1749416383000-2816.mp4"}}, "utter_channel_voice_message"),
    ({"type": "video", "payload": {"url": f"{CDN}/video-degat.mp4"}}, "utter_channel_video"),
    ({"type": "image", "payload": {"url": f"{CDN}/39178562_1505197616293642_5411344281094848512_n.png",
                                   "sticker_id": 369239263222822}}, "utter_channel_sticker"),  # the « like »
    ({"type": "fallback", "payload": {"url": "https://www.oyat-assurance.fr/"}, "title": "Oyat Assurance",
      "URL": "https://www.oyat-assurance.fr/"}, "utter_channel_unsupported_message"),
    ({"type": "template", "payload": {"template_type": "generic"}}, "utter_channel_unsupported_message"),
])
def test_each_kind_of_attachment_gets_its_answer_after_seen_and_typing(messenger, fake_api, attachment, response):
    deliver(messenger, page_webhook(attachment_event(attachment)))
    assert messenger.agent.received == []  # nothing for the assistant to read, nothing stored
    assert [m["message"] for m in sent(fake_api)] == [{"text": words(response)}]
    assert words(response) and sender_actions(fake_api) == ["mark_seen", "typing_on"]
    assert [c.path for c in fake_api.calls if c.method == "GET"] == []  # nothing downloaded


def location_attachment(title: str = "Pinned Location") -> Dict[str, Any]:
    return {"type": "location", "title": title, "url": "https://l.facebook.com/l.php?u=https%3A%2F%2Fwww.bing.com",
            "payload": {"coordinates": {"lat": 46.323716, "long": -0.458805}}}


def test_a_location_outside_a_claim_declaration_says_what_it_is_for(messenger, fake_api):
    deliver(messenger, page_webhook(attachment_event(location_attachment())))
    assert messenger.agent.received == []
    assert [m["message"]["text"] for m in sent(fake_api)] == [words("utter_channel_location_outside_claim")]


def test_a_location_during_a_claim_declaration_is_the_place_of_the_loss(messenger):
    messenger.run(messenger.agent.open_declaration(pseudonym(APP_SECRET, "messenger", PSID)))
    deliver(messenger, page_webhook(attachment_event(location_attachment())))
    deliver(messenger, page_webhook(attachment_event(location_attachment("Parking Leclerc Niort"))))
    assert [m.text for m in messenger.agent.received] == [
        "Position GPS 46.32372, -0.45881", "Parking Leclerc Niort (position GPS 46.32372, -0.45881)"]


def test_a_reaction_is_not_a_message_to_answer(messenger, fake_api):
    deliver(messenger, page_webhook(event(reaction={"reaction": "love", "emoji": "❤", "action": "react",
                                                    "mid": "m_AG5Hz2Uq7tuwNEhXfYYKj8mJ"})))
    assert messenger.agent.received == [] and fake_api.calls == []


def test_an_edited_message_is_answered_once_with_what_is_done_with_edits(messenger, fake_api):
    edit = event(message_edit={"mid": "m_AG5Hz2Uq7tuwNEhXfYYKj8mJ", "text": "finalement mardi", "num_edit": 1})
    deliver(messenger, page_webhook(edit))
    deliver(messenger, page_webhook(edit))  # redelivered
    assert messenger.agent.received == []
    assert [m["message"]["text"] for m in sent(fake_api)] == [words("utter_channel_message_edited")]
