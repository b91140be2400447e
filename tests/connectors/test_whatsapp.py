"""The WhatsApp Cloud API channel, with payloads in Meta's documented webhook format."""

import hashlib
import hmac
import json
import os
from types import SimpleNamespace
from typing import Any, Dict, List, Optional, Tuple

import pytest

from connectors import rate_limit
from connectors.guard import MAX_MESSAGE_LENGTH
from connectors.messaging import pseudonym
from connectors.pipeline import response_words
from connectors.recipients import recipients
from connectors.whatsapp import WhatsAppInput, interactive_message, verified_phone
from tests.connectors.channel_server import ChannelServer, project_domain
from tests.connectors.channel_server import refusal as refusal_text
from tests.connectors.fake_platform import meta_signed, whatsapp_media_path
from tests.reference_services.helpers import count
from tests.sample_files import jpeg_bytes, pdf_bytes

APP_SECRET = "test-whatsapp-app-secret"
VERIFY_TOKEN = "test-whatsapp-verify-token"
ACCESS_TOKEN = "test-whatsapp-access-token"
PHONE_NUMBER_ID = "106540352242922"
WA_ID = "33612345678"

_message_numbers = iter(range(1, 1_000_000))


def message_id() -> str:
    return f"wamid.HBgLMzM2MTIzNDU2NzgVAgASGBQzQTRBNjU5OUFFRTAzODEw{next(_message_numbers):06d}"


def webhook(messages: Optional[List[Dict[str, Any]]] = None, statuses: Optional[List[Dict[str, Any]]] = None,
            wa_id: str = WA_ID) -> Dict[str, Any]:
    """A `messages` webhook as Meta sends it (WhatsApp Cloud API, webhooks reference)."""
    value: Dict[str, Any] = {
        "messaging_product": "whatsapp",
        "metadata": {"display_phone_number": "15550783881", "phone_number_id": PHONE_NUMBER_ID},
    }
    if messages is not None:
        value["contacts"] = [{"profile": {"name": "Marie Dupont"}, "wa_id": wa_id}]
        value["messages"] = messages
    if statuses is not None:
        value["statuses"] = statuses
    return {"object": "whatsapp_business_account",
            "entry": [{"id": "102290129340398", "changes": [{"value": value, "field": "messages"}]}]}


def text_message(body: str, wa_id: str = WA_ID, id: Optional[str] = None) -> Dict[str, Any]:
    return {"from": wa_id, "id": id or message_id(), "timestamp": "1749416383", "type": "text", "text": {"body": body}}


def reply_message(kind: str, reply_id: str, title: str) -> Dict[str, Any]:
    reply = {"id": reply_id, "title": title}
    if kind == "list_reply":
        reply["description"] = title
    return {"context": {"from": "15550783881", "id": message_id()}, "from": WA_ID, "id": message_id(),
            "timestamp": "1749416383", "type": "interactive", "interactive": {"type": kind, kind: reply}}


def media_message(kind: str, media_id: str, mime_type: str, filename: Optional[str] = None) -> Dict[str, Any]:
    media = {"mime_type": mime_type, "sha256": "Y2hlY2tzdW0=", "id": media_id}
    if filename:
        media["filename"] = filename
    return {"from": WA_ID, "id": message_id(), "timestamp": "1749416383", "type": kind, kind: media}


def signed(body: Any, secret: str = APP_SECRET) -> Tuple[bytes, Dict[str, str]]:
    return meta_signed(body, secret)


@pytest.fixture
def whatsapp(fake_api):
    channel = WhatsAppInput(ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN, PHONE_NUMBER_ID, api_url=f"{fake_api.url}/v21.0")
    server = ChannelServer(channel).start()
    yield server
    server.stop()


def deliver(server: ChannelServer, body: Any) -> Any:
    return server.deliver(*signed(body))


def sent_messages(fake_api) -> List[Dict[str, Any]]:
    """The messages sent to users (not the read receipts with their typing indicator)."""
    return [call.json for call in fake_api.sent(f"/v21.0/{PHONE_NUMBER_ID}/messages") if "status" not in call.json]


def read_receipts(fake_api) -> List[Dict[str, Any]]:
    return [call.json for call in fake_api.sent(f"/v21.0/{PHONE_NUMBER_ID}/messages") if "status" in call.json]


# --- subscription and signatures ---------------------------------------------------


def test_subscription_check_echoes_the_challenge(whatsapp):
    import requests

    answer = requests.get(whatsapp.url, params={"hub.mode": "subscribe", "hub.verify_token": VERIFY_TOKEN,
                                                "hub.challenge": "1158201444"}, timeout=5)
    assert answer.status_code == 200 and answer.text == "1158201444"


@pytest.mark.parametrize("params", [
    {"hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"},
    {"hub.mode": "unsubscribe", "hub.verify_token": VERIFY_TOKEN, "hub.challenge": "1"},
    {"hub.challenge": "1"},
])
def test_subscription_check_with_a_wrong_token_is_refused(whatsapp, params):
    import requests

    answer = requests.get(whatsapp.url, params=params, timeout=5)
    assert answer.status_code == 403 and "1" not in answer.text.split('"')[-1]


@pytest.mark.parametrize("headers", [
    {},
    {"X-Hub-Signature-256": "sha256=" + "0" * 64},
    {"X-Hub-Signature-256": "sha256=not-hex"},
    {"X-Hub-Signature": "sha1=" + "0" * 40},
])
def test_a_missing_or_wrong_signature_is_refused_and_nothing_is_processed(whatsapp, fake_api, headers):
    answer = whatsapp.post(json.dumps(webhook([text_message("bonjour")])).encode(), headers)
    whatsapp.settle()
    assert answer.status_code == 403
    assert whatsapp.agent.received == [] and fake_api.calls == []


def test_a_signature_made_with_another_secret_is_refused(whatsapp):
    answer = whatsapp.post(*signed(webhook([text_message("bonjour")]), secret="another-secret"))
    assert answer.status_code == 403


def test_the_signature_covers_the_raw_body_byte_for_byte(whatsapp):
    raw, headers = signed(webhook([text_message("bonjour")]))
    answer = whatsapp.post(raw.replace(b"bonjour", b"bonsoir"), headers)
    assert answer.status_code == 403


def test_an_unconfigured_channel_refuses_everything(fake_api):
    server = ChannelServer(WhatsAppInput("", "", "", "", api_url=fake_api.url)).start()
    try:
        raw = json.dumps(webhook([text_message("bonjour")])).encode()
        forged = "sha256=" + hmac.new(b"", raw, hashlib.sha256).hexdigest()  # HMAC with an empty key
        assert server.post(raw, {"X-Hub-Signature-256": forged}).status_code == 403
    finally:
        server.stop()


def test_malformed_json_with_a_good_signature_is_a_bad_request(whatsapp):
    answer = whatsapp.post(*signed(b'{"object": "whatsapp_business_account", "entry": ['))
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"
    answer = whatsapp.post(*signed(b"\xff\xfe binary"))
    assert answer.status_code == 400


@pytest.mark.parametrize("depth", [100, 100_000])
def test_a_deeply_nested_body_with_a_good_signature_is_a_bad_request(whatsapp, fake_api, depth):
    """Readable but deeper than any platform's event, or beyond Python's parser: 400, never a 500."""
    raw = b'{"object": "whatsapp_business_account", "entry": ' + b"[" * depth + b"]" * depth + b"}"
    answer = whatsapp.post(*signed(raw))
    whatsapp.settle()
    assert answer.status_code == 400 and answer.json()["error"]["code"] == "bad_request"
    assert whatsapp.agent.received == [] and fake_api.calls == []


def test_an_oversized_body_is_refused(whatsapp):
    answer = whatsapp.post(*signed(b"{" + b" " * (300 * 1024) + b"}"))
    assert answer.status_code == 413


# --- messages ----------------------------------------------------------------------


def test_a_text_reaches_the_assistant_with_the_verified_phone_number(whatsapp, fake_api):
    answer = deliver(whatsapp, webhook([text_message("je veux déclarer un sinistre")]))
    assert answer.status_code == 200
    [message] = whatsapp.agent.received
    assert message.text == "je veux déclarer un sinistre"
    assert message.input_channel == "whatsapp"
    assert message.metadata == {"channel_phone": "+33612345678", "client_source": message.sender_id}
    # The conversation id is a pseudonym, bound to the channel.
    assert message.sender_id.startswith("whatsapp:") and WA_ID not in message.sender_id
    [reply] = sent_messages(fake_api)
    assert reply == {"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID,
                     "type": "text", "text": {"body": "Bien reçu.", "preview_url": False}}
    assert fake_api.sent("/messages")[0].headers["Authorization"] == f"Bearer {ACCESS_TOKEN}"


@pytest.mark.parametrize("wa_id", ["33612345678\n", "٣٣٦١٢٣٤٥٦٧٨"])
def test_a_number_that_is_not_one_whole_is_not_handed_over_as_the_phone_number(wa_id):
    assert verified_phone(wa_id, [{"wa_id": wa_id}]) is None


def test_the_same_user_always_gets_the_same_conversation(whatsapp):
    deliver(whatsapp, webhook([text_message("bonjour")]))
    deliver(whatsapp, webhook([text_message("au revoir")]))
    first, second = whatsapp.agent.received
    assert first.sender_id == second.sender_id


def test_a_message_delivered_twice_is_handled_once(whatsapp, fake_api):
    message = text_message("bonjour")
    deliver(whatsapp, webhook([message]))
    assert deliver(whatsapp, webhook([message])).status_code == 200
    assert len(whatsapp.agent.received) == 1 and len(sent_messages(fake_api)) == 1


def test_statuses_are_acknowledged_and_ignored(whatsapp, fake_api):
    status = {"id": "wamid.HBgLMzM2MTIzNDU2NzgVAgARGBI5QTNDQTVCM0Q0Q0Q2RTY3RTcA", "status": "delivered",
              "timestamp": "1750857384", "recipient_id": WA_ID,
              "conversation": {"id": "a75d17ad06104c51166f948319b03c6a", "origin": {"type": "service"}},
              "pricing": {"billable": True, "pricing_model": "CBP", "category": "service"}}
    answer = deliver(whatsapp, webhook(statuses=[status]))
    assert answer.status_code == 200
    assert whatsapp.agent.received == [] and fake_api.calls == []


@pytest.mark.parametrize("body", [
    {"object": "page", "entry": []},
    {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [
        {"field": "account_update", "value": {"event": "VERIFIED_ACCOUNT"}}]}]},
    {"object": "whatsapp_business_account", "entry": "not a list"},
    {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {
        "messages": [{"id": "wamid.x", "type": "text", "text": {"body": "sans expéditeur"}}]}}]}]},
])
def test_unknown_events_are_acknowledged_and_ignored(whatsapp, fake_api, body):
    assert deliver(whatsapp, body).status_code == 200
    assert whatsapp.agent.received == [] and fake_api.calls == []


def test_json_that_is_not_an_object_is_a_bad_request(whatsapp):
    assert whatsapp.post(*signed([1, 2, 3])).status_code == 400


def test_unsupported_message_types_are_ignored(whatsapp, fake_api):
    sticker = {"from": WA_ID, "id": message_id(), "timestamp": "1749416383", "type": "sticker",
               "sticker": {"mime_type": "image/webp", "sha256": "x", "id": "2938745"}}
    assert deliver(whatsapp, webhook([sticker])).status_code == 200
    assert whatsapp.agent.received == []


@pytest.mark.parametrize("kind", ["button_reply", "list_reply"])
def test_a_button_or_list_choice_sends_the_payload_offered(whatsapp, kind):
    payload = '/inform{"contract_number": "HAB-120034"}'
    deliver(whatsapp, webhook([text_message("bonjour")]))
    sender = whatsapp.agent.received[0].sender_id
    whatsapp.run(whatsapp.agent.offer(sender, [{"title": "Habitation", "payload": payload}]))
    deliver(whatsapp, webhook([reply_message(kind, payload, "Habitation")]))
    assert whatsapp.agent.received[-1].text == payload


def test_an_advisers_message_reaches_the_number_of_the_conversations_last_message(whatsapp, fake_api):
    """The conversation id is a pseudonym: the number it stands for is remembered from the
    customer's message (connectors.recipients), for the console's messages during the window."""
    deliver(whatsapp, webhook([text_message("passez-moi un conseiller")]))
    sender = whatsapp.agent.received[-1].sender_id
    found = whatsapp.run(recipients().find(sender))
    assert (found.platform, found.address) == ("whatsapp", WA_ID)
    whatsapp.run(whatsapp.channel.output_to(found.address).send_text_message(sender, "Bonjour, ici Camille."))
    assert sent_messages(fake_api)[-1]["to"] == WA_ID
    assert sent_messages(fake_api)[-1]["text"]["body"] == "Bonjour, ici Camille."


def test_a_typed_intent_shortcut_is_read_as_text(whatsapp):
    deliver(whatsapp, webhook([text_message('/inform{"identification_customer_id": "10000001"}')]))
    assert not whatsapp.agent.received[-1].text.startswith("/")


@pytest.mark.parametrize("text, refusal", [("x" * (MAX_MESSAGE_LENGTH + 1), "too_long"), ("  \x00 ", "empty")])
def test_an_oversized_or_empty_text_is_refused_without_reaching_the_assistant(whatsapp, fake_api, text, refusal):
    deliver(whatsapp, webhook([text_message(text)]))
    assert whatsapp.agent.received == []
    assert [m["text"]["body"] for m in sent_messages(fake_api)] == [refusal_text(refusal, "whatsapp")]


def test_a_number_that_is_not_a_phone_number_is_not_passed_as_one(whatsapp):
    deliver(whatsapp, webhook([text_message("bonjour", wa_id="12")], wa_id="12"))
    assert "channel_phone" not in whatsapp.agent.received[0].metadata


def test_several_messages_of_one_conversation_are_handled_in_order(whatsapp):
    texts = [f"message {n}" for n in range(8)]
    deliver(whatsapp, webhook([text_message(text) for text in texts]))
    assert [m.text for m in whatsapp.agent.received] == texts


def test_messages_over_the_senders_rate_limit_are_answered_with_a_wait(whatsapp, fake_api, monkeypatch):
    monkeypatch.setattr(rate_limit, "_limiter", rate_limit.RateLimiter(rate_limit.Limit(2, 60),
                                                                       rate_limit.Limit(1000, 60)))
    answer = deliver(whatsapp, webhook([text_message(f"message {n}") for n in range(3)]))
    assert answer.status_code == 200  # a refused webhook would only come back
    assert [m.text for m in whatsapp.agent.received] == ["message 0", "message 1"]
    assert "Patientez" in sent_messages(fake_api)[-1]["text"]["body"]


# --- files -------------------------------------------------------------------------


def declaring(server: ChannelServer) -> None:
    """The test user is declaring a claim: their files are taken (connectors.attachments.not_taken_because)."""
    server.run(server.agent.open_declaration(pseudonym(APP_SECRET, "whatsapp", WA_ID)))


def test_a_photo_is_downloaded_and_attached_to_the_claim(whatsapp, fake_api, claims_service):
    declaring(whatsapp)
    fake_api.files[whatsapp_media_path("1013859600285441")] = (jpeg_bytes(), "image/jpeg")
    deliver(whatsapp, webhook([media_message("image", "1013859600285441", "image/jpeg")]))
    [message] = whatsapp.agent.received
    assert message.text == "/attach_document"
    [attachment] = message.metadata["attachments"]
    assert attachment["content_type"] == "image/jpeg" and attachment["upload_id"]
    assert message.metadata["channel_phone"] == "+33612345678"
    downloads = [c for c in fake_api.calls if c.method == "GET"]
    assert [c.path for c in downloads] == ["/v21.0/1013859600285441", "/media-files/1013859600285441"]
    assert all(c.headers["Authorization"] == f"Bearer {ACCESS_TOKEN}" for c in downloads)


def test_a_pdf_document_keeps_its_name(whatsapp, fake_api, claims_service):
    declaring(whatsapp)
    fake_api.files[whatsapp_media_path("2043859600285442")] = (pdf_bytes(), "application/pdf")
    deliver(whatsapp, webhook([media_message("document", "2043859600285442", "application/pdf", "facture.pdf")]))
    [attachment] = whatsapp.agent.received[0].metadata["attachments"]
    assert attachment["filename"] == "facture.pdf" and attachment["content_type"] == "application/pdf"


def test_a_file_that_is_neither_a_photo_nor_a_pdf_is_refused_with_the_reason(whatsapp, fake_api, claims_service):
    declaring(whatsapp)
    fake_api.files[whatsapp_media_path("3043859600285443")] = (b"PK\x03\x04 not a pdf", "application/pdf")
    deliver(whatsapp, webhook([media_message("document", "3043859600285443", "application/pdf", "x.pdf")]))
    assert whatsapp.agent.received == []
    [refusal] = sent_messages(fake_api)
    assert "photos" in refusal["text"]["body"] and "PDF" in refusal["text"]["body"]


def test_a_photo_from_a_user_not_identified_outside_a_declaration_is_refused_and_not_stored(
        whatsapp, fake_api, claims_service):
    fake_api.files[whatsapp_media_path("5043859600285445")] = (jpeg_bytes(), "image/jpeg")
    before = count(claims_service, "claim_documents")
    deliver(whatsapp, webhook([media_message("image", "5043859600285445", "image/jpeg")]))
    assert whatsapp.agent.received == []
    [refusal] = sent_messages(fake_api)
    assert "déclaration de sinistre" in refusal["text"]["body"]
    assert count(claims_service, "claim_documents") == before


def test_a_media_that_cannot_be_downloaded_is_answered(whatsapp, fake_api, claims_service):
    deliver(whatsapp, webhook([media_message("image", "4043859600285444", "image/jpeg")]))
    assert whatsapp.agent.received == []
    assert [m["text"]["body"] for m in sent_messages(fake_api)] == [refusal_text("file_not_received", "whatsapp")]


# --- replies -----------------------------------------------------------------------


def scripted(server: ChannelServer, *replies: Dict[str, Any]) -> None:
    server.agent.replies = lambda message: list(replies)


def test_up_to_three_short_buttons_are_reply_buttons(whatsapp, fake_api):
    scripted(whatsapp, {"text": "Que souhaitez-vous faire ?", "buttons": [
        {"title": "Déclarer un sinistre", "payload": "/declare_claim"},
        {"title": "Attestation", "payload": "/request_attestation"}]})
    deliver(whatsapp, webhook([text_message("bonjour")]))
    [sent] = sent_messages(fake_api)
    assert sent["type"] == "interactive"
    assert sent["interactive"] == {
        "type": "button", "body": {"text": "Que souhaitez-vous faire ?"},
        "action": {"buttons": [
            {"type": "reply", "reply": {"id": "/declare_claim", "title": "Déclarer un sinistre"}},
            {"type": "reply", "reply": {"id": "/request_attestation", "title": "Attestation"}}]}}


def test_more_buttons_or_longer_titles_become_a_list(whatsapp, fake_api):
    titles = ["Accident de voiture", "Bris de glace", "Vol ou cambriolage", "Dégât des eaux",
              "Catastrophe naturelle (tempête, grêle, inondation)"]
    scripted(whatsapp, {"text": "Quel type de sinistre ?",
                        "buttons": [{"title": t, "payload": f"choix {n}"} for n, t in enumerate(titles)]})
    deliver(whatsapp, webhook([text_message("un sinistre")]))
    interactive = sent_messages(fake_api)[0]["interactive"]
    assert interactive["type"] == "list" and len(interactive["action"]["button"]) <= 20
    rows = interactive["action"]["sections"][0]["rows"]
    assert [r["id"] for r in rows] == [f"choix {n}" for n in range(5)]
    assert all(len(r["title"]) <= 24 for r in rows)
    assert rows[-1]["description"] == "Catastrophe naturelle (tempête, grêle, inondation)"


def test_a_list_shows_ten_rows_at_most():
    interactive = interactive_message("Choisissez", [{"title": f"n°{n}", "payload": f"/p{n}"} for n in range(14)])
    assert len(interactive["action"]["sections"][0]["rows"]) == 10


def test_a_long_text_is_split_at_whatsapps_limit(whatsapp, fake_api):
    long_text = " ".join(["garantie"] * 1200)  # about 10 800 characters
    scripted(whatsapp, {"text": long_text})
    deliver(whatsapp, webhook([text_message("mes garanties")]))
    bodies = [m["text"]["body"] for m in sent_messages(fake_api)]
    assert len(bodies) == 3 and all(len(b) <= 4096 for b in bodies)
    assert " ".join(bodies) == long_text


def test_buttons_under_a_long_text_go_with_its_last_part(whatsapp, fake_api):
    long_text = " ".join(["clause"] * 300)  # about 2 100 characters: over the 1024 of a button message
    scripted(whatsapp, {"text": long_text, "buttons": [{"title": "Oui", "payload": "/affirm"}]})
    deliver(whatsapp, webhook([text_message("la clause")]))
    *texts, buttons = sent_messages(fake_api)
    assert [m["type"] for m in texts] == ["text", "text"] and buttons["type"] == "interactive"
    assert len(buttons["interactive"]["body"]["text"]) <= 1024
    assert " ".join([m["text"]["body"] for m in texts] + [buttons["interactive"]["body"]["text"]]) == long_text


def test_the_attestation_comes_as_a_document_and_images_as_images(whatsapp, fake_api):
    url = "http://localhost:5101/v1/documents/0123456789abcdef0123456789abcdef.pdf?expires=1&signature=ab"
    scripted(whatsapp, {"text": "Votre attestation est prête.",
                        "custom": {"document": {"url": url, "filename": "attestation-AUT-482913.pdf"}}},
             {"text": "Voici la photo.", "image": "https://example.org/photo.jpg"})
    deliver(whatsapp, webhook([text_message("mon attestation")]))
    sent = sent_messages(fake_api)
    assert [m["type"] for m in sent] == ["text", "document", "text", "image"]
    assert sent[1]["document"] == {"link": url, "filename": "attestation-AUT-482913.pdf"}
    assert sent[3]["image"] == {"link": "https://example.org/photo.jpg"}


def test_a_platform_that_fails_does_not_stop_the_channel():
    from harness.servers import free_port

    unreachable = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    server = ChannelServer(WhatsAppInput(ACCESS_TOKEN, APP_SECRET, VERIFY_TOKEN, PHONE_NUMBER_ID, api_url=unreachable))
    server.start()
    try:
        assert deliver(server, webhook([text_message("bonjour")])).status_code == 200
        assert deliver(server, webhook([text_message("toujours là ?")])).status_code == 200
        assert [m.text for m in server.agent.received] == ["bonjour", "toujours là ?"]
    finally:
        server.stop()


# --- every kind of message gets its answer (issue 15) -------------------------------------


def words(response: str) -> str:
    """A response of the project's domain, as the WhatsApp channel says it."""
    return response_words(SimpleNamespace(domain=project_domain()), response, "whatsapp")


def typed_message(kind: str, content: Dict[str, Any], **extra: Any) -> Dict[str, Any]:
    return {"from": WA_ID, "id": message_id(), "timestamp": "1749416383", "type": kind, kind: content, **extra}


@pytest.mark.parametrize("kind, content, response", [
    ("audio", {"mime_type": "audio/ogg; codecs=opus", "sha256": "c2hh", "id": "1003383421387256", "voice": True},
     "utter_channel_voice_message"),
    ("audio", {"mime_type": "audio/mpeg", "sha256": "c2hh", "id": "1003383421387257", "voice": False},
     "utter_channel_voice_message"),
    ("video", {"mime_type": "video/mp4", "sha256": "c2hh", "id": "1166846181421424"}, "utter_channel_video"),
    ("sticker", {"mime_type": "image/webp", "sha256": "c2hh", "id": "1228965655303734", "animated": False},
     "utter_channel_sticker"),
    ("contacts", [{"name": {"formatted_name": "Paul Martin", "first_name": "Paul"},
                   "phones": [{"phone": "+33 6 98 76 54 32", "wa_id": "33698765432", "type": "CELL"}]}],
     "utter_channel_contact_card"),
])
def test_each_kind_of_message_gets_its_answer_after_the_read_receipt(whatsapp, fake_api, kind, content, response):
    message = typed_message(kind, content) if kind != "contacts" else {
        "from": WA_ID, "id": message_id(), "timestamp": "1749416383", "type": "contacts", "contacts": content}
    deliver(whatsapp, webhook([message]))
    assert whatsapp.agent.received == []  # nothing for the assistant to read, nothing stored
    assert sent_messages(fake_api) == [{"messaging_product": "whatsapp", "recipient_type": "individual", "to": WA_ID,
                                        "type": "text", "text": {"body": words(response), "preview_url": False}}]
    assert words(response) and read_receipts(fake_api) == [{
        "messaging_product": "whatsapp", "status": "read", "message_id": message["id"],
        "typing_indicator": {"type": "text"}}]
    assert [c for c in fake_api.calls if c.method == "GET"] == []  # nothing downloaded


def test_an_unsupported_message_is_answered_so(whatsapp, fake_api):
    unsupported = {"from": WA_ID, "id": message_id(), "timestamp": "1749416383", "type": "unsupported",
                   "errors": [{"code": 131051, "title": "Message type unknown", "message": "Message type unknown",
                               "error_data": {"details": "Message type is currently not supported."}}]}
    deliver(whatsapp, webhook([unsupported]))
    assert [m["text"]["body"] for m in sent_messages(fake_api)] == [words("utter_channel_unsupported_message")]


def test_a_voice_note_delivered_twice_is_answered_once(whatsapp, fake_api):
    voice = typed_message("audio", {"mime_type": "audio/ogg; codecs=opus", "id": "1003383421387256", "voice": True})
    deliver(whatsapp, webhook([voice]))
    deliver(whatsapp, webhook([voice]))
    assert len(sent_messages(fake_api)) == 1 and len(read_receipts(fake_api)) == 1


def test_reactions_and_system_messages_are_not_messages_to_answer(whatsapp, fake_api):
    reaction = typed_message("reaction", {"message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI", "emoji": "👍"})
    removed = typed_message("reaction", {"message_id": "wamid.HBgLMTY1MDM4Nzk0MzkVAgARGBI"})
    system = typed_message("system", {"body": "User Marie changed from 33612345678 to 33698765432",
                                      "wa_id": "33698765432", "type": "user_changed_number"})
    deliver(whatsapp, webhook([reaction, removed, system]))
    assert whatsapp.agent.received == [] and fake_api.calls == []


def test_a_user_who_changed_number_keeps_the_conversation(whatsapp):
    deliver(whatsapp, webhook([text_message("bonjour")]))
    system = typed_message("system", {"body": "User Marie changed from 33612345678 to 33698765432",
                                      "wa_id": "33698765432", "type": "user_changed_number"})
    deliver(whatsapp, webhook([system]))
    deliver(whatsapp, webhook([text_message("je veux une attestation", wa_id="33698765432")], wa_id="33698765432"))
    before, after = whatsapp.agent.received
    assert after.sender_id == before.sender_id
    assert after.metadata["channel_phone"] == "+33698765432"  # identification checks the number it has


LOCATION = {"latitude": 46.323716, "longitude": -0.458805, "name": "Parking Leclerc",
            "address": "5 avenue de Paris, 79000 Niort", "url": "https://www.e.leclerc/"}


def test_a_location_outside_a_claim_declaration_says_what_it_is_for(whatsapp, fake_api):
    deliver(whatsapp, webhook([typed_message("location", LOCATION)]))
    assert whatsapp.agent.received == []
    assert [m["text"]["body"] for m in sent_messages(fake_api)] == [words("utter_channel_location_outside_claim")]


def test_a_location_during_a_claim_declaration_is_the_place_of_the_loss(whatsapp, fake_api):
    whatsapp.run(whatsapp.agent.open_declaration(pseudonym(APP_SECRET, "whatsapp", WA_ID)))
    deliver(whatsapp, webhook([typed_message("location", LOCATION)]))
    deliver(whatsapp, webhook([typed_message("location", {"latitude": 46.323716, "longitude": -0.458805})]))
    first, second = whatsapp.agent.received
    assert first.text == "Parking Leclerc, 5 avenue de Paris, 79000 Niort (position GPS 46.32372, -0.45881)"
    assert first.metadata["channel_phone"] == f"+{WA_ID}"
    assert second.text == "Position GPS 46.32372, -0.45881"


def contacts_message(*cards: Dict[str, Any]) -> Dict[str, Any]:
    return {"from": WA_ID, "id": message_id(), "timestamp": "1749416383", "type": "contacts", "contacts": list(cards)}


WITNESS_CARD = {"name": {"formatted_name": "Paul Martin", "first_name": "Paul", "last_name": "Martin"},
                "phones": [{"phone": "+33 6 98 76 54 32", "wa_id": "33698765432", "type": "CELL"}]}


@pytest.mark.parametrize("asking", ["claim_witnesses", "claim_third_party"])
def test_a_contact_card_answers_the_claims_question_on_witnesses_or_the_other_person(whatsapp, fake_api, asking):
    whatsapp.run(whatsapp.agent.open_declaration(pseudonym(APP_SECRET, "whatsapp", WA_ID), asking=asking))
    second = {"name": {"formatted_name": "Lea Roy"}, "phones": [{"phone": "06.12.34.56.78", "type": "HOME"}]}
    deliver(whatsapp, webhook([contacts_message(WITNESS_CARD, second)]))
    [message] = whatsapp.agent.received
    assert message.text == "Paul Martin, +33 6 98 76 54 32 et Lea Roy, 06.12.34.56.78"
    assert message.metadata["channel_phone"] == f"+{WA_ID}"


def test_a_contact_card_at_another_question_of_the_claim_is_not_read(whatsapp, fake_api):
    whatsapp.run(whatsapp.agent.open_declaration(pseudonym(APP_SECRET, "whatsapp", WA_ID), asking="claim_place"))
    deliver(whatsapp, webhook([contacts_message(WITNESS_CARD)]))
    assert whatsapp.agent.received == []
    assert [m["text"]["body"] for m in sent_messages(fake_api)] == [words("utter_channel_contact_card")]


def test_a_card_with_nothing_readable_is_answered_by_the_channel(whatsapp, fake_api):
    whatsapp.run(whatsapp.agent.open_declaration(pseudonym(APP_SECRET, "whatsapp", WA_ID), asking="claim_witnesses"))
    deliver(whatsapp, webhook([contacts_message({"name": {"formatted_name": "  "},
                                                 "phones": [{"phone": "<script>alert(1)</script>"}]})]))
    assert whatsapp.agent.received == []
    assert [m["text"]["body"] for m in sent_messages(fake_api)] == [words("utter_channel_contact_card")]


# --- business-scoped user ids (2026) ---------------------------------------------------------

BSUID = "FR.13491208655302741918"


def bsuid_webhook(text: str, wa_id: Optional[str] = None, user_id: str = BSUID) -> Dict[str, Any]:
    """A message as Meta sends it for a user with a username: `from_user_id` and the contact's
    `user_id`; `from` and `wa_id` only while the number may be shown."""
    contact: Dict[str, Any] = {"profile": {"name": "Marie Dupont", "username": "@marie.d"}, "user_id": user_id}
    message: Dict[str, Any] = {"from_user_id": user_id, "id": message_id(), "timestamp": "1749416383",
                               "type": "text", "text": {"body": text}}
    if wa_id:
        contact["wa_id"], message["from"] = wa_id, wa_id
    body = webhook([message])
    body["entry"][0]["changes"][0]["value"]["contacts"] = [contact]
    return body


def test_a_user_known_by_business_scoped_id_alone_is_answered_by_recipient(whatsapp, fake_api):
    deliver(whatsapp, bsuid_webhook("je veux une attestation"))
    [message] = whatsapp.agent.received
    assert message.text == "je veux une attestation"
    assert BSUID not in message.sender_id and message.sender_id.startswith("whatsapp:")
    # No number: identification asks the customer id, birth date and SMS code.
    assert "channel_phone" not in message.metadata
    [reply] = sent_messages(fake_api)
    assert reply["recipient"] == BSUID and "to" not in reply
    assert read_receipts(fake_api)[0]["message_id"]
    recipient = whatsapp.run(recipients().find(message.sender_id))
    assert recipient.address == BSUID  # where an adviser's or a notice's message goes


def test_a_user_keeps_one_conversation_when_meta_moves_from_number_to_business_scoped_id(whatsapp, fake_api):
    deliver(whatsapp, bsuid_webhook("bonjour", wa_id=WA_ID))  # number and BSUID
    deliver(whatsapp, bsuid_webhook("je veux declarer un sinistre"))  # the number hidden since
    deliver(whatsapp, bsuid_webhook("c'est un degat des eaux", wa_id=WA_ID))  # and shown again
    first, second, third = whatsapp.agent.received
    assert first.sender_id == second.sender_id == third.sender_id == pseudonym(APP_SECRET, "whatsapp", WA_ID)
    assert first.metadata["channel_phone"] == third.metadata["channel_phone"] == f"+{WA_ID}"
    assert "channel_phone" not in second.metadata
    assert [reply.get("to") or reply.get("recipient") for reply in sent_messages(fake_api)] == [WA_ID, BSUID, WA_ID]


def test_a_user_first_known_by_business_scoped_id_keeps_that_conversation_when_the_number_shows(whatsapp):
    deliver(whatsapp, bsuid_webhook("bonjour", user_id="FR.88812345"))
    deliver(whatsapp, bsuid_webhook("mon attestation", wa_id="33700000001", user_id="FR.88812345"))
    first, second = whatsapp.agent.received
    assert first.sender_id == second.sender_id


def test_two_users_known_by_business_scoped_ids_have_two_conversations(whatsapp):
    deliver(whatsapp, bsuid_webhook("bonjour", user_id="FR.111"))
    deliver(whatsapp, bsuid_webhook("bonjour", user_id="FR.222"))
    first, second = whatsapp.agent.received
    assert first.sender_id != second.sender_id


def test_a_message_naming_neither_number_nor_business_scoped_id_is_dropped(whatsapp, fake_api):
    body = bsuid_webhook("bonjour", user_id="not a bsuid")
    deliver(whatsapp, body)
    assert whatsapp.agent.received == [] and fake_api.calls == []


async def test_every_replica_finds_the_conversation_of_a_business_scoped_id(redis_server):
    from connectors.shared_state import SharedRedis
    from connectors.whatsapp import Sender, WhatsAppConversations

    environment = {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_server.port),
                   "REDIS_PASSWORD": redis_server.password}
    first = WhatsAppConversations(APP_SECRET, SharedRedis.from_environment(environment))
    second = WhatsAppConversations(APP_SECRET, SharedRedis.from_environment(environment))
    user_id = f"FR.{os.urandom(8).hex()}"
    by_number = await first.conversation_of(Sender("33611112222", user_id))
    assert await second.conversation_of(Sender(None, user_id)) == by_number
    keys = await second._shared.client.keys("oyat:whatsapp-user:*")
    assert keys and all(user_id.encode() not in key and b"33611112222" not in key for key in keys)
    stored = [await second._shared.client.get(key) for key in keys]
    assert all(b"33611112222" not in value and user_id.encode() not in value for value in stored)
