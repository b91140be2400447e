"""The one path every connector takes for a received file: stored by the claims service,
or refused with a French answer, nothing stored and nothing handed to the dialogue."""

import io
from pathlib import Path
from types import SimpleNamespace

import pytest
from PIL import Image
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, SlotSet
from rasa.shared.core.trackers import DialogueStateTracker

from connectors import upload_limits
from connectors.attachments import (
    ATTACH_DOCUMENT_TEXT,
    FILE_REFUSALS,
    FileSender,
    ReceivedFile,
    attach_document_message,
    conversation_takes_files,
    file_refusal,
    receive_file,
)
from connectors.pipeline import REFUSAL_RESPONSES, refusal_words
from core.service_client import ServiceRefusal, ServicesClient
from core.service_contract import ErrorCode
from devtools.espace_client import issue_session_token
from tests.conftest import TEST_ESPACE_CLIENT_JWT_SECRET
from tests.reference_services.helpers import MARIE, count, query

DOMAIN = Domain.load(str(Path(__file__).resolve().parents[2] / "domain"))


def told(result: ReceivedFile, channel: str = "widget") -> str:
    """What the customer reads for a refused file: its response in the project's domain."""
    return refusal_words(SimpleNamespace(domain=DOMAIN), result.refusal, channel)


def conversation(*events, sender="widget:" + "c" * 32) -> DialogueStateTracker:
    return DialogueStateTracker.from_events(sender, list(events), slots=DOMAIN.slots)


IDENTIFIED = (SlotSet("customer_identified", True), SlotSet("authenticated_customer_id", MARIE))
DECLARING = (SlotSet("customer_identified", True), ActiveLoop("claim_form"))
IDENTIFYING_TO_DECLARE = (SlotSet("pending_request", "declare_claim"), ActiveLoop("identification_form"))
IDENTIFYING_FOR_CONTRACTS = (SlotSet("pending_request", "contract_info"), ActiveLoop("identification_form"))


def sender(*events, address="192.0.2.10", auth_token=None) -> FileSender:
    tracker = conversation(*events)
    return FileSender(tracker.sender_id, "widget", tracker, address, auth_token)


def declaring() -> FileSender:
    return sender(*DECLARING)


def png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (20, 20), (250, 200, 0)).save(buffer, "PNG")
    return buffer.getvalue()


@pytest.fixture
async def client(services):
    client = ServicesClient(services.base_url, services.base_url, services.token, timeout_seconds=10, retries=0)
    yield client
    await client.close()


class CountingClient(ServicesClient):
    """Counts the uploads that reach the claims service."""

    def __init__(self) -> None:
        super().__init__("http://127.0.0.1:9", "http://127.0.0.1:9", "token", timeout_seconds=1, retries=0)
        self.uploads = 0

    async def upload_document(self, filename, content_type, data):
        self.uploads += 1
        return await super().upload_document(filename, content_type, data)


@pytest.fixture(autouse=True)
def allowances_of_the_environment(monkeypatch):
    """Each test starts with the allowances its environment sets, none counted yet."""
    monkeypatch.setattr(upload_limits, "_allowances", None)


async def test_an_accepted_file_becomes_the_attachment_handed_to_the_dialogue(client, services):
    data = png()
    result = await receive_file(data, "image/png", "Capture d'écran.png", declaring(), client=client)
    assert result.accepted and result.refusal is None
    assert result.attachment["filename"] == "Capture d'écran.png"
    assert (result.attachment["content_type"], result.attachment["size"]) == ("image/png", len(data))
    assert query(services, "SELECT size FROM claim_documents WHERE document_id = ?",
                 (result.attachment["upload_id"],)) == [(len(data),)]


async def test_a_file_whose_type_is_unknown_to_the_platform_is_read_from_its_content(client):
    result = await receive_file(png(), None, None, declaring(), client=client)
    assert result.attachment["content_type"] == "image/png"
    assert result.attachment["filename"] == "document.png"


@pytest.mark.parametrize("data, content_type, words", [
    (b"<html><script>alert(1)</script></html>", "image/jpeg", "que des photos"),
    (b"MZ\x90\x00" + bytes(100), "application/octet-stream", "que des photos"),
])
async def test_a_file_that_is_not_a_photo_or_a_pdf_is_refused_in_french(client, services, data, content_type, words):
    before = count(services, "claim_documents")
    result = await receive_file(data, content_type, "photo.jpg", declaring(), client=client)
    assert not result.accepted and result.attachment is None
    assert words in told(result)
    assert count(services, "claim_documents") == before


async def test_an_empty_file_is_refused_without_calling_the_service():
    client = CountingClient()
    result = await receive_file(b"", "image/jpeg", "photo.jpg", declaring(), client=client)
    assert "vide" in told(result)
    assert client.uploads == 0
    await client.close()


async def test_an_oversized_file_is_refused_without_being_sent(monkeypatch):
    monkeypatch.setenv("UPLOAD_MAX_BYTES", "1000")
    client = CountingClient()
    result = await receive_file(png() + bytes(1000), "image/png", "photo.png", declaring(), client=client)
    assert "dépasse" in told(result)
    assert client.uploads == 0
    await client.close()


async def test_the_services_own_size_cap_is_the_one_stated(client, monkeypatch):
    monkeypatch.setenv("UPLOAD_MAX_BYTES", str(20 * 1024 * 1024))  # the connector is more lenient
    result = await receive_file(png() + bytes(10 * 1024 * 1024), "image/png", "photo.png", declaring(),
                                client=client)
    assert "dépasse 10 Mo" in told(result)


async def test_a_service_down_gets_an_answer_not_an_exception():
    client = CountingClient()
    result = await receive_file(png(), "image/png", "photo.png", declaring(), client=client)
    assert "pour le moment" in told(result)
    assert client.uploads == 1
    await client.close()


# --- whose files are taken ------------------------------------------------------------

@pytest.mark.parametrize("events", [IDENTIFIED, DECLARING, IDENTIFYING_TO_DECLARE], ids=[
    "identified", "declaring", "identifying to declare"])
def test_files_are_taken_from_an_identified_customer_or_during_a_declaration(events):
    assert conversation_takes_files(conversation(*events))


@pytest.mark.parametrize("events", [(), IDENTIFYING_FOR_CONTRACTS, (SlotSet("customer_identified", False),),
                                    (SlotSet("pending_request", "declare_claim"),)],
                         ids=["new", "identifying for contracts", "not identified", "declaration cancelled"])
def test_files_are_not_taken_from_a_visitor_outside_a_declaration(events):
    assert not conversation_takes_files(conversation(*events))


def test_a_conversation_not_started_yet_is_not_a_declaration():
    assert not conversation_takes_files(None)


async def test_a_customer_of_the_espace_client_may_send_a_file_first(client):
    token = issue_session_token(MARIE, TEST_ESPACE_CLIENT_JWT_SECRET)
    first_act = FileSender("widget:" + "d" * 32, "widget", None, "192.0.2.10", token)
    assert (await receive_file(png(), "image/png", "photo.png", first_act, client=client)).accepted


@pytest.mark.parametrize("token", [
    issue_session_token(MARIE, "not-the-espace-client-secret-at-all-0123456789"),
    issue_session_token(MARIE, TEST_ESPACE_CLIENT_JWT_SECRET, minutes=-1),
    issue_session_token("99999999", TEST_ESPACE_CLIENT_JWT_SECRET),
    "pas.un.jeton",
], ids=["forged", "expired", "unknown customer", "garbage"])
async def test_a_session_token_the_policy_service_refuses_takes_no_file(client, services, token):
    rows = count(services, "claim_documents")
    result = await receive_file(png(), "image/png", "photo.png", sender(auth_token=token), client=client)
    assert result.code == "not_taken"
    assert count(services, "claim_documents") == rows


async def test_a_session_token_that_cannot_be_checked_is_a_service_unavailable():
    client = CountingClient()
    token = issue_session_token(MARIE, TEST_ESPACE_CLIENT_JWT_SECRET)
    result = await receive_file(png(), "image/png", "photo.png", sender(auth_token=token), client=client)
    assert result.code == "service_unavailable" and client.uploads == 0
    await client.close()


async def test_a_visitor_outside_a_declaration_is_told_and_nothing_reaches_the_service():
    client = CountingClient()
    result = await receive_file(png(), "image/png", "photo.png", sender(), client=client)
    assert not result.accepted and result.code == "not_taken"
    assert "déclaration de sinistre" in told(result) and "n'a pas été enregistré" in told(result)
    assert client.uploads == 0
    await client.close()


async def test_files_beyond_the_conversations_allowance_are_refused_before_the_service(client, services, monkeypatch):
    monkeypatch.setenv("UPLOAD_FILES_PER_CONVERSATION", "2/86400")
    the_sender = declaring()
    for _ in range(2):
        assert (await receive_file(png(), "image/png", "photo.png", the_sender, client=client)).accepted
    before = count(services, "claim_documents")
    result = await receive_file(png(), "image/png", "photo.png", the_sender, client=client)
    assert result.code == "too_many_files" and result.retry_after == pytest.approx(43200, rel=0.01)
    assert "Réessayez dans 12 heures" in told(result)
    assert count(services, "claim_documents") == before
    other = FileSender("widget:" + "e" * 32, "widget", conversation(*DECLARING, sender="widget:" + "e" * 32),
                       "192.0.2.10")
    assert (await receive_file(png(), "image/png", "photo.png", other, client=client)).accepted


async def test_files_beyond_the_addresss_allowance_are_refused_whatever_the_conversation(client, monkeypatch):
    monkeypatch.setenv("UPLOAD_FILES_PER_ADDRESS", "2/3600")
    results = []
    for n in range(3):
        tracker = conversation(*DECLARING, sender=f"widget:{n:032x}")
        results.append(await receive_file(png(), "image/png", "photo.png",
                                          FileSender(tracker.sender_id, "widget", tracker, "2001:db8::1:0:0:7"),
                                          client=client))
    assert [r.accepted for r in results] == [True, True, False]
    assert results[2].code == "too_many_files" and "30 minutes" in told(results[2])


async def test_a_file_the_service_could_not_store_does_not_count():
    client = CountingClient()
    the_sender = declaring()
    for _ in range(12):  # more than the ten a conversation may send
        result = await receive_file(png(), "image/png", "photo.png", the_sender, client=client)
        assert result.code == "service_unavailable"
    assert client.uploads == 12
    await client.close()


async def test_a_file_the_service_refused_counts(client, monkeypatch):
    monkeypatch.setenv("UPLOAD_FILES_PER_CONVERSATION", "1/86400")
    the_sender = declaring()
    refused = await receive_file(b"MZ\x90\x00" + bytes(100), "", "x.exe", the_sender, client=client)
    assert refused.code == "unsupported_type"
    assert (await receive_file(png(), "image/png", "photo.png", the_sender, client=client)).code == "too_many_files"


# --- what a refused file is told ----------------------------------------------------------

SECURE = "votre espace client (rubrique « Mes sinistres »)"


@pytest.mark.parametrize("code, words", [
    (ErrorCode.empty, "Ce fichier est vide : pouvez-vous l'envoyer à nouveau ?"),
    (ErrorCode.too_large, f"Ce fichier dépasse 10 Mo : envoyez une photo moins lourde, ou déposez-le dans {SECURE}."),
    (ErrorCode.unsupported_type, "Je ne peux recevoir que des photos (JPEG, PNG, WebP, HEIC) ou des documents PDF : "
                                 "ce fichier n'a pas été enregistré."),
    ("not_taken", "Je reçois vos photos et documents pendant une déclaration de sinistre, ou une fois votre identité "
                  "vérifiée : dites par exemple « je veux déclarer un sinistre » ou « où en est mon dossier », puis "
                  f"envoyez à nouveau votre fichier. Vous pouvez aussi le déposer dans {SECURE}. "
                  "Ce fichier n'a pas été enregistré."),
    (ErrorCode.service_unavailable, "Je ne peux pas recevoir de fichier pour le moment. Réessayez dans quelques "
                                    f"minutes, ou déposez-le dans {SECURE}."),
    ("too_many_files", "Vous m'avez envoyé beaucoup de fichiers : je ne peux pas en recevoir davantage pour le "
                       f"moment. Réessayez dans 2 heures, ou déposez-le dans {SECURE}. Ce fichier n'a pas été enregistré."),
])
@pytest.mark.parametrize("channel", ["widget", "whatsapp", "telegram", "messenger"])
def test_each_file_refusal_is_told_by_its_domain_response_with_its_figures(code, words, channel):
    result = ReceivedFile(refusal=file_refusal(code, 10 * 1024 * 1024, wait_seconds=5400), code=code)
    assert told(result, channel) == words


def test_every_file_refusal_has_a_response_of_the_domain():
    assert set(FILE_REFUSALS.values()) | {"files_unavailable"} <= set(REFUSAL_RESPONSES)
    assert {REFUSAL_RESPONSES[code] for code in FILE_REFUSALS.values()} <= set(DOMAIN.responses)


class RefusingClient(CountingClient):
    """A claims service refusing every file with `code` and words of its own."""

    def __init__(self, code: str) -> None:
        super().__init__()
        self.code = code

    async def upload_document(self, filename, content_type, data):
        raise ServiceRefusal(422, self.code, "Message du service, pas pour le client.", {"max_bytes": 5 * 1024 * 1024})


@pytest.mark.parametrize("code, words", [
    (ErrorCode.payload_too_large, "dépasse 5 Mo"),
    (ErrorCode.validation_error, "pour le moment"),
    ("a_code_not_in_the_contract", "pour le moment"),
])
async def test_a_refusal_of_the_claims_service_is_told_by_its_code_never_by_its_message(code, words):
    client = RefusingClient(code)
    result = await receive_file(png(), "image/png", "photo.png", declaring(), client=client)
    assert result.code == code and words in told(result)
    assert "Message du service" not in told(result)
    await client.close()


def test_the_message_for_the_dialogue_carries_the_files_and_the_channels_metadata():
    attachment = {"upload_id": "a" * 32, "filename": "photo.png", "content_type": "image/png", "size": 12}
    message = attach_document_message([attachment], {"channel_phone": "+33612345678"})
    assert message == {
        "text": ATTACH_DOCUMENT_TEXT,
        "metadata": {"channel_phone": "+33612345678", "attachments": [attachment]},
    }
    assert ATTACH_DOCUMENT_TEXT == "/attach_document"
