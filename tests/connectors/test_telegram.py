"""The Telegram channel, with updates in the Bot API's documented format (Update object)."""

import json
import os
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Dict, List, Optional

import pytest

from connectors.guard import MAX_MESSAGE_LENGTH
from connectors.messaging import pseudonym
from connectors.pipeline import response_words
from connectors.telegram import TelegramInput, callback_data
from tests.connectors.channel_server import ChannelServer, project_domain
from tests.connectors.channel_server import refusal as refusal_text
from tests.connectors.fake_platform import telegram_file_path
from tests.sample_files import jpeg_bytes, pdf_bytes

BOT_TOKEN = "123456789:AAE-test-bot-token"
SECRET_TOKEN = "test-telegram-secret_token-0123"
CHAT_ID = 111222333
SECRET_HEADER = {"X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN}

_update_ids = iter(range(10_000, 1_000_000))


def user() -> Dict[str, Any]:
    return {"id": CHAT_ID, "is_bot": False, "first_name": "Marie", "language_code": "fr"}


def private_chat() -> Dict[str, Any]:
    return {"id": CHAT_ID, "first_name": "Marie", "type": "private"}


def message_update(text: Optional[str] = None, chat: Optional[Dict[str, Any]] = None, **content: Any) -> Dict[str, Any]:
    message = {"message_id": 52, "from": user(), "chat": chat or private_chat(), "date": 1749416383, **content}
    if text is not None:
        message["text"] = text
    return {"update_id": next(_update_ids), "message": message}


def callback_update(data: str) -> Dict[str, Any]:
    return {"update_id": next(_update_ids), "callback_query": {
        "id": "4382bfdwdsb323b2d9", "from": user(), "chat_instance": "-8213748329847",
        "message": {"message_id": 53, "from": {"id": 123456789, "is_bot": True, "first_name": "Oyat"},
                    "chat": private_chat(), "date": 1749416390, "text": "Choisissez :"},
        "data": data}}


@pytest.fixture
def telegram(fake_api):
    server = ChannelServer(TelegramInput(BOT_TOKEN, SECRET_TOKEN, api_url=fake_api.url)).start()
    yield server
    server.stop()


def deliver(server: ChannelServer, update: Any, headers: Optional[Dict[str, str]] = None) -> Any:
    raw = update if isinstance(update, bytes) else json.dumps(update).encode()
    return server.deliver(raw, SECRET_HEADER if headers is None else headers)


def sent(fake_api, method: str = "sendMessage") -> List[Dict[str, Any]]:
    return [call.json for call in fake_api.sent(f"/bot{BOT_TOKEN}/{method}")]


@pytest.mark.parametrize("headers", [{}, {"X-Telegram-Bot-Api-Secret-Token": "wrong"},
                                     {"X-Telegram-Bot-Api-Secret-Token": SECRET_TOKEN[:-1]}])
def test_a_missing_or_wrong_secret_token_is_refused_and_nothing_is_processed(telegram, fake_api, headers):
    assert deliver(telegram, message_update("bonjour"), headers).status_code == 403
    assert telegram.agent.received == [] and fake_api.calls == []


def test_an_unconfigured_channel_refuses_everything(fake_api):
    server = ChannelServer(TelegramInput("", "", api_url=fake_api.url)).start()
    try:
        assert deliver(server, message_update("bonjour"), {"X-Telegram-Bot-Api-Secret-Token": ""}).status_code == 403
    finally:
        server.stop()


def test_a_text_reaches_the_assistant_without_any_call_to_telegram(telegram, fake_api):
    answer = deliver(telegram, message_update("je veux déclarer un sinistre"))
    assert answer.status_code == 200
    [message] = telegram.agent.received
    assert message.text == "je veux déclarer un sinistre" and message.input_channel == "telegram"
    # Telegram verifies no phone number; the source is the chat, by its pseudonym.
    assert message.metadata == {"client_source": message.sender_id}
    assert message.sender_id.startswith("telegram:") and str(CHAT_ID) not in message.sender_id
    # « typing… », then the reply: nothing asked of Telegram to trust the update.
    assert [(c.method, c.path) for c in fake_api.calls] == [("POST", f"/bot{BOT_TOKEN}/sendChatAction"),
                                                            ("POST", f"/bot{BOT_TOKEN}/sendMessage")]
    assert sent(fake_api, "sendChatAction") == [{"chat_id": CHAT_ID, "action": "typing"}]
    assert sent(fake_api) == [{"chat_id": CHAT_ID, "text": "Bien reçu."}]


def test_an_update_delivered_twice_is_handled_once(telegram):
    update = message_update("bonjour")
    deliver(telegram, update)
    assert deliver(telegram, update).status_code == 200
    assert len(telegram.agent.received) == 1


def test_a_pressed_button_is_answered_and_sends_the_payload_offered(telegram, fake_api):
    deliver(telegram, message_update("bonjour"))
    sender = telegram.agent.received[0].sender_id
    telegram.run(telegram.agent.offer(sender, [{"title": "Déclarer un sinistre", "payload": "/declare_claim"}]))
    deliver(telegram, callback_update("/declare_claim"))
    assert telegram.agent.received[-1].text == "/declare_claim"
    assert sent(fake_api, "answerCallbackQuery") == [{"callback_query_id": "4382bfdwdsb323b2d9"}]


def test_a_payload_too_long_for_telegram_travels_as_a_digest(telegram, fake_api):
    payload = '/correct_claim{"claim_field": "claim_circumstances", "reason": "a payload over 64 bytes"}'
    telegram.agent.replies = lambda message: [{"text": "Que corriger ?", "buttons": [
        {"title": "Les circonstances", "payload": payload}]}]
    deliver(telegram, message_update("je veux corriger"))
    [keyboard_message] = sent(fake_api)
    [[button]] = keyboard_message["reply_markup"]["inline_keyboard"]
    assert button["text"] == "Les circonstances" and len(button["callback_data"].encode()) <= 64
    deliver(telegram, callback_update(button["callback_data"]))
    assert telegram.agent.received[-1].text == payload


def test_a_digest_of_nothing_offered_is_ignored(telegram):
    deliver(telegram, callback_update(callback_data("x" * 100)))
    assert telegram.agent.received == []


def test_a_typed_intent_shortcut_is_read_as_text(telegram):
    deliver(telegram, message_update('/inform{"identification_customer_id": "10000001"}'))
    assert not telegram.agent.received[0].text.startswith("/")


@pytest.mark.parametrize("text, refusal", [("x" * (MAX_MESSAGE_LENGTH + 1), "too_long"), ("   ", "empty")])
def test_an_oversized_or_empty_text_is_refused_without_reaching_the_assistant(telegram, fake_api, text, refusal):
    deliver(telegram, message_update(text))
    assert telegram.agent.received == []
    assert [m["text"] for m in sent(fake_api)] == [refusal_text(refusal, "telegram")]


def test_group_chats_and_other_updates_are_acknowledged_and_ignored(telegram, fake_api):
    group = {"id": -100123, "title": "Famille", "type": "group"}
    for update in (message_update("bonjour", chat=group),
                   {"update_id": next(_update_ids), "my_chat_member": {"chat": private_chat()}},
                   message_update(sticker={"file_id": "CAACAgIAAxk", "type": "regular"}, chat=group)):
        assert deliver(telegram, update).status_code == 200
    assert telegram.agent.received == []
    assert fake_api.calls == []


def test_malformed_json_is_a_bad_request(telegram):
    assert deliver(telegram, b'{"update_id": 1, "message": ').status_code == 400
    assert deliver(telegram, b"[]").status_code == 400


@pytest.mark.parametrize("depth", [100, 50_000])
def test_a_deeply_nested_update_is_a_bad_request(telegram, depth):
    assert deliver(telegram, b'{"update_id": 1, "message": ' + b"[" * depth + b"]" * depth + b"}").status_code == 400
    assert telegram.agent.received == []


def test_buttons_become_an_inline_keyboard(telegram, fake_api):
    telegram.agent.replies = lambda message: [{"text": "Que souhaitez-vous faire ?", "buttons": [
        {"title": "Déclarer un sinistre", "payload": "/declare_claim"},
        {"title": "Obtenir une attestation", "payload": "/request_attestation"}]}]
    deliver(telegram, message_update("bonjour"))
    assert sent(fake_api) == [{"chat_id": CHAT_ID, "text": "Que souhaitez-vous faire ?", "reply_markup": {
        "inline_keyboard": [[{"text": "Déclarer un sinistre", "callback_data": "/declare_claim"}],
                            [{"text": "Obtenir une attestation", "callback_data": "/request_attestation"}]]}}]


def test_the_attestation_comes_as_a_document(telegram, fake_api):
    url = "http://localhost:5101/v1/documents/0123456789abcdef0123456789abcdef.pdf?expires=1&signature=ab"
    telegram.agent.replies = lambda message: [{"text": "Votre attestation est prête.", "custom": {
        "document": {"url": url, "filename": "attestation-AUT-482913.pdf"}}}]
    deliver(telegram, message_update("mon attestation"))
    assert sent(fake_api, "sendDocument") == [{"chat_id": CHAT_ID, "document": url}]


def test_a_long_text_is_split_at_telegrams_limit(telegram, fake_api):
    long_text = " ".join(["franchise"] * 1000)
    telegram.agent.replies = lambda message: [{"text": long_text}]
    deliver(telegram, message_update("ma franchise"))
    texts = [m["text"] for m in sent(fake_api)]
    assert len(texts) == 3 and all(len(t) <= 4096 for t in texts) and " ".join(texts) == long_text


def declaring(server: ChannelServer) -> None:
    """The test chat is declaring a claim: its files are taken (connectors.attachments.not_taken_because)."""
    server.run(server.agent.open_declaration(pseudonym(SECRET_TOKEN, "telegram", str(CHAT_ID))))


def test_a_photo_is_downloaded_and_attached_to_the_claim(telegram, fake_api, claims_service):
    declaring(telegram)
    fake_api.files[telegram_file_path(BOT_TOKEN, "AgACAgQAAxkBAAIBbig")] = (jpeg_bytes(), "image/jpeg")
    sizes = [{"file_id": "AgACAgQAAxkBAAIBbim", "file_unique_id": "s", "width": 90, "height": 67, "file_size": 1101},
             {"file_id": "AgACAgQAAxkBAAIBbig", "file_unique_id": "l", "width": 800, "height": 600, "file_size": 633}]
    deliver(telegram, message_update(photo=sizes, caption="le plafond"))
    [message] = telegram.agent.received
    assert message.text == "/attach_document"
    assert message.metadata["attachments"][0]["content_type"] == "image/jpeg"
    assert sent(fake_api, "getFile") == [{"file_id": "AgACAgQAAxkBAAIBbig"}]


def test_a_pdf_document_is_attached_with_its_name(telegram, fake_api, claims_service):
    declaring(telegram)
    fake_api.files[telegram_file_path(BOT_TOKEN, "BQACAgQAAxkBAAIBcW")] = (pdf_bytes(), "application/octet-stream")
    document = {"file_name": "devis-plombier.pdf", "mime_type": "application/pdf",
                "file_id": "BQACAgQAAxkBAAIBcW", "file_unique_id": "AgADcW", "file_size": 1200}
    deliver(telegram, message_update(document=document))
    [attachment] = telegram.agent.received[0].metadata["attachments"]
    assert attachment["filename"] == "devis-plombier.pdf" and attachment["content_type"] == "application/pdf"


# --- every kind of message gets its answer (issue 15) -------------------------------------


def words(response: str) -> str:
    """A response of the project's domain, as the Telegram channel says it."""
    return response_words(SimpleNamespace(domain=project_domain()), response, "telegram")


VOICE = {"duration": 4, "mime_type": "audio/ogg", "file_id": "AwACAgQAAxkBAAIBd2", "file_unique_id": "AgADd2",
         "file_size": 7634}


@pytest.mark.parametrize("content, response", [
    ({"voice": VOICE}, "utter_channel_voice_message"),
    ({"audio": {"duration": 180, "mime_type": "audio/mpeg", "file_id": "CQACAgQ", "file_unique_id": "AgADaQ",
                "title": "Appel"}}, "utter_channel_voice_message"),
    ({"video": {"duration": 12, "width": 720, "height": 1280, "file_id": "BAACAgQ", "file_unique_id": "AgADvQ"}},
     "utter_channel_video"),
    ({"video_note": {"duration": 5, "length": 240, "file_id": "DQACAgQ", "file_unique_id": "AgADnQ"}},
     "utter_channel_video"),
    ({"sticker": {"file_id": "CAACAgIAAxk", "file_unique_id": "AgADsQ", "type": "regular", "width": 512,
                  "height": 512, "is_animated": False, "is_video": False, "emoji": "👍"}}, "utter_channel_sticker"),
    ({"contact": {"phone_number": "+33698765432", "first_name": "Paul", "user_id": 999888777}},
     "utter_channel_contact_card"),
    ({"dice": {"emoji": "🎲", "value": 4}}, "utter_channel_unsupported_message"),
    ({"poll": {"id": "5", "question": "?", "options": [], "total_voter_count": 0, "is_closed": False,
               "is_anonymous": True, "type": "regular", "allows_multiple_answers": False}},
     "utter_channel_unsupported_message"),
])
def test_each_kind_of_message_gets_its_answer_while_typing_shows(telegram, fake_api, content, response):
    deliver(telegram, message_update(**content))
    assert telegram.agent.received == []  # nothing for the assistant to read, nothing stored
    assert sent(fake_api) == [{"chat_id": CHAT_ID, "text": words(response)}]
    assert words(response) and sent(fake_api, "sendChatAction") == [{"chat_id": CHAT_ID, "action": "typing"}]


def test_a_voice_note_delivered_twice_is_answered_once(telegram, fake_api):
    update = message_update(voice=VOICE)
    deliver(telegram, update)
    deliver(telegram, update)
    assert len(sent(fake_api)) == 1


def test_a_location_outside_a_claim_declaration_says_what_it_is_for(telegram, fake_api):
    deliver(telegram, message_update(location={"latitude": 46.323716, "longitude": -0.458805}))
    assert telegram.agent.received == []
    assert sent(fake_api) == [{"chat_id": CHAT_ID, "text": words("utter_channel_location_outside_claim")}]


def test_a_venue_during_a_claim_declaration_is_the_place_of_the_loss(telegram, fake_api):
    declaring(telegram)
    location = {"latitude": 46.323716, "longitude": -0.458805}
    deliver(telegram, message_update(location=location, venue={
        "location": location, "title": "Parking Leclerc", "address": "5 avenue de Paris, 79000 Niort"}))
    [message] = telegram.agent.received
    assert message.text == "Parking Leclerc, 5 avenue de Paris, 79000 Niort (position GPS 46.32372, -0.45881)"


def test_a_location_alone_during_a_claim_declaration_is_its_gps_position(telegram):
    declaring(telegram)
    deliver(telegram, message_update(location={"latitude": 46.323716, "longitude": -0.458805,
                                               "horizontal_accuracy": 12.5}))
    assert telegram.agent.received[0].text == "Position GPS 46.32372, -0.45881"


def test_an_edited_message_is_answered_with_what_is_done_with_edits(telegram, fake_api):
    edited = message_update("finalement c'etait mardi")["message"]
    deliver(telegram, {"update_id": next(_update_ids), "edited_message": {**edited, "edit_date": 1749416400}})
    assert telegram.agent.received == []
    assert sent(fake_api) == [{"chat_id": CHAT_ID, "text": words("utter_channel_message_edited")}]


def test_a_live_location_moving_is_no_edit_to_answer(telegram, fake_api):
    live = message_update(location={"latitude": 46.3237, "longitude": -0.4588, "live_period": 900})["message"]
    deliver(telegram, {"update_id": next(_update_ids), "edited_message": {**live, "edit_date": 1749416400}})
    assert telegram.agent.received == [] and sent(fake_api) == []


def test_a_reaction_is_not_a_message_to_answer(telegram, fake_api):
    reaction = {"chat": private_chat(), "message_id": 53, "user": user(), "date": 1749416400,
                "old_reaction": [], "new_reaction": [{"type": "emoji", "emoji": "👍"}]}
    assert deliver(telegram, {"update_id": next(_update_ids), "message_reaction": reaction}).status_code == 200
    assert telegram.agent.received == [] and fake_api.calls == []


# --- /start and the phone number shared from the account -------------------------------


def test_start_greets_and_offers_to_share_the_phone_number(telegram, fake_api):
    deliver(telegram, message_update("/start"))
    [message] = telegram.agent.received
    assert message.text == "/greet"  # the assistant greets: /start is no question to misunderstand
    assert "telegram_start" not in message.metadata
    greeting, offer = sent(fake_api)
    assert greeting == {"chat_id": CHAT_ID, "text": "Bien reçu."}
    assert offer == {"chat_id": CHAT_ID, "text": words("utter_channel_share_phone"), "reply_markup": {
        "keyboard": [[{"text": "Partager mon numéro", "request_contact": True}]],
        "resize_keyboard": True, "one_time_keyboard": True}}


@pytest.mark.parametrize("parameter, opening", [
    ("sinistre-auto_2026", "/declare_claim"),
    ("attestation", "/request_attestation"),
    ("devis_habitation", "/request_quote"),
    ("Suivi", "/claim_status"),
    ("promo-noel", "/greet"),
])
def test_start_with_a_deep_link_parameter_serves_the_request_it_names(telegram, fake_api, parameter, opening):
    deliver(telegram, message_update(f"/start {parameter}"))
    [message] = telegram.agent.received
    assert message.text == opening and message.metadata["telegram_start"] == parameter
    assert sent(fake_api)[-1]["text"] == words("utter_channel_share_phone")


def test_the_shared_own_number_is_verified_and_goes_with_the_next_messages(telegram, fake_api):
    own = {"phone_number": "33612345678", "first_name": "Marie", "user_id": CHAT_ID}
    deliver(telegram, message_update(contact=own))
    assert telegram.agent.received == []
    assert sent(fake_api) == [{"chat_id": CHAT_ID, "text": words("utter_channel_phone_shared"),
                               "reply_markup": {"remove_keyboard": True}}]
    deliver(telegram, message_update("je veux declarer un sinistre"))
    assert telegram.agent.received[0].metadata["channel_phone"] == "+33612345678"
    fake_api.clear()
    deliver(telegram, message_update("/start"))  # already shared: not offered again
    assert [m["text"] for m in sent(fake_api)] == ["Bien reçu."]


def test_someone_elses_contact_is_no_verified_number(telegram, fake_api):
    other = {"phone_number": "+33698765432", "first_name": "Paul", "user_id": 999888777}
    deliver(telegram, message_update(contact=other))
    deliver(telegram, message_update(contact={"phone_number": "+33698765432", "first_name": "Paul"}))
    deliver(telegram, message_update("bonjour"))
    assert "channel_phone" not in telegram.agent.received[0].metadata
    assert [m["text"] for m in sent(fake_api)][:2] == [words("utter_channel_contact_card")] * 2


def test_someone_elses_contact_answers_the_claims_question_on_witnesses(telegram, fake_api):
    telegram.run(telegram.agent.open_declaration(pseudonym(SECRET_TOKEN, "telegram", str(CHAT_ID)),
                                                 asking="claim_witnesses"))
    deliver(telegram, message_update(contact={"phone_number": "33698765432", "first_name": "Paul",
                                              "last_name": "Martin", "user_id": 999888777}))
    [message] = telegram.agent.received
    assert message.text == "Paul Martin, +33698765432" and "channel_phone" not in message.metadata


# --- the webhook registered with Telegram --------------------------------------------------


def run_cli(fake_api, *arguments: str, secret: str = SECRET_TOKEN) -> subprocess.CompletedProcess:
    environment = {**os.environ, "TELEGRAM_BOT_TOKEN": BOT_TOKEN, "TELEGRAM_SECRET_TOKEN": secret,
                   "TELEGRAM_API_URL": fake_api.url}
    return subprocess.run([sys.executable, "-m", "connectors.telegram_webhook", *arguments], env=environment,
                          cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True, timeout=60)


def test_the_cli_sets_the_webhook_with_the_secret_token(fake_api):
    url = "https://assistant.oyat-assurance.fr/webhooks/telegram/webhook"
    done = run_cli(fake_api, "set", "--url", url)
    assert done.returncode == 0, done.stderr
    [call] = sent(fake_api, "setWebhook")
    assert call == {"url": url, "secret_token": SECRET_TOKEN, "drop_pending_updates": False,
                    "allowed_updates": ["message", "edited_message", "callback_query"]}
    assert SECRET_TOKEN not in done.stdout and BOT_TOKEN not in done.stdout
    info = run_cli(fake_api, "info")
    assert info.returncode == 0 and json.loads(info.stdout)["url"] == url


@pytest.mark.parametrize("url, secret", [("http://assistant.oyat-assurance.fr/webhooks/telegram/webhook", SECRET_TOKEN),
                                         ("https://assistant.oyat-assurance.fr/webhooks/telegram/webhook", ""),
                                         ("https://assistant.oyat-assurance.fr/w", "secret with spaces")])
def test_the_cli_refuses_a_url_or_a_secret_telegram_would_not_take(fake_api, url, secret):
    done = run_cli(fake_api, "set", "--url", url, secret=secret)
    assert done.returncode == 2 and sent(fake_api, "setWebhook") == []
