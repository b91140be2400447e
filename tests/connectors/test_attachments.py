"""The one path every connector takes for a received file: stored by the claims service,
or refused with a French answer and nothing handed to the dialogue."""

import io

import pytest
from PIL import Image

from actions.services import ServicesClient
from connectors.attachments import ATTACH_DOCUMENT_TEXT, attach_document_message, receive_file
from tests.bot.helpers import count, query


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


async def test_an_accepted_file_becomes_the_attachment_handed_to_the_dialogue(client, services):
    data = png()
    result = await receive_file(data, "image/png", "Capture d'écran.png", client=client)
    assert result.accepted and result.refusal is None
    assert result.attachment["filename"] == "Capture d'écran.png"
    assert (result.attachment["content_type"], result.attachment["size"]) == ("image/png", len(data))
    assert query(services, "SELECT size FROM claim_documents WHERE document_id = ?",
                 (result.attachment["upload_id"],)) == [(len(data),)]


async def test_a_file_whose_type_is_unknown_to_the_platform_is_read_from_its_content(client):
    result = await receive_file(png(), None, None, client=client)
    assert result.attachment["content_type"] == "image/png"
    assert result.attachment["filename"] == "document.png"


@pytest.mark.parametrize("data, content_type, words", [
    (b"<html><script>alert(1)</script></html>", "image/jpeg", "que des photos"),
    (b"MZ\x90\x00" + bytes(100), "application/octet-stream", "que des photos"),
])
async def test_a_file_that_is_not_a_photo_or_a_pdf_is_refused_in_french(client, services, data, content_type, words):
    before = count(services, "claim_documents")
    result = await receive_file(data, content_type, "photo.jpg", client=client)
    assert not result.accepted and result.attachment is None
    assert words in result.refusal
    assert count(services, "claim_documents") == before


async def test_an_empty_file_is_refused_without_calling_the_service():
    client = CountingClient()
    result = await receive_file(b"", "image/jpeg", "photo.jpg", client=client)
    assert "vide" in result.refusal
    assert client.uploads == 0
    await client.close()


async def test_an_oversized_file_is_refused_without_being_sent(monkeypatch):
    monkeypatch.setenv("UPLOAD_MAX_BYTES", "1000")
    client = CountingClient()
    result = await receive_file(png() + bytes(1000), "image/png", "photo.png", client=client)
    assert "dépasse" in result.refusal
    assert client.uploads == 0
    await client.close()


async def test_the_services_own_size_cap_is_the_one_stated(client, monkeypatch):
    monkeypatch.setenv("UPLOAD_MAX_BYTES", str(20 * 1024 * 1024))  # the connector is more lenient
    result = await receive_file(png() + bytes(10 * 1024 * 1024), "image/png", "photo.png", client=client)
    assert "dépasse 10 Mo" in result.refusal


async def test_a_service_down_gets_an_answer_not_an_exception():
    client = CountingClient()
    result = await receive_file(png(), "image/png", "photo.png", client=client)
    assert "pour le moment" in result.refusal
    assert client.uploads == 1
    await client.close()


def test_the_message_for_the_dialogue_carries_the_files_and_the_channels_metadata():
    attachment = {"upload_id": "a" * 32, "filename": "photo.png", "content_type": "image/png", "size": 12}
    message = attach_document_message([attachment], {"channel_phone": "+33612345678"})
    assert message == {
        "text": ATTACH_DOCUMENT_TEXT,
        "metadata": {"channel_phone": "+33612345678", "attachments": [attachment]},
    }
    assert ATTACH_DOCUMENT_TEXT == "/attach_document"
