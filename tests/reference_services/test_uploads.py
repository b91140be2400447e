"""Claims service: files checked by their content, stored privately, linked to one claim."""
import hashlib
import stat
import struct
import subprocess
import sys
import uuid
import zlib
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import sessionmaker

from core.db import create_app_engine
from core.settings import Settings, SettingsError
from harness.servers import free_port, start, stop, wait_for, wait_until_up
from reference_services.claims import file_content
from reference_services.claims import uploads as uploads_module
from reference_services.claims.models import ClaimDocument
from reference_services.claims.uploads import purge_unattached_uploads
from reference_services.cli import init_database
from reference_services.errors import ServiceError
from tests.reference_services.helpers import KARIM, MARIE, count, db_time, execute, query, today_paris
from tests.reference_services.test_claims import declaration, file
from tests.sample_files import heic_bytes, jpeg_bytes, pdf_bytes, png_bytes, webp_bytes

MAX_BYTES = 10 * 1024 * 1024


def upload(services, data, content_type="image/jpeg", filename="photo.jpg", **kwargs):
    headers = {"Content-Type": content_type}
    if filename is not None:
        headers["X-Filename"] = filename
    return services.post("/v1/uploads", data=data, headers=headers, **kwargs)


def uploaded(services, data=None, **kwargs) -> dict:
    response = upload(services, jpeg_bytes() if data is None else data, **kwargs)
    assert response.status_code == 201, response.text
    return response.json()


def stored_file(services, upload_id) -> Path:
    return services.workdir / "var" / "uploads" / upload_id




def documents_url(customer_id, claim_number):
    return f"/v1/customers/{customer_id}/claims/{claim_number}/documents"


def file_claim(services, customer_id=MARIE, **changes):
    body = {
        "contract_number": "HAB-120034", "claim_type": "degat_des_eaux",
        "occurred_on": (today_paris() - timedelta(days=2)).isoformat(),
        "place": "Salle de bains", "circumstances": "Joint de douche percé.",
        "damage": "Plafond du voisin taché.", **changes,
    }
    return services.post(f"/v1/customers/{customer_id}/claims", json=body,
                         headers={"Idempotency-Key": uuid.uuid4().hex})


@pytest.mark.parametrize("make, content_type, filename", [
    (jpeg_bytes, "image/jpeg", "photo-cuisine.jpg"),
    (png_bytes, "image/png", "capture.png"),
    (pdf_bytes, "application/pdf", "facture.pdf"),
])
def test_a_photo_or_a_pdf_is_stored_with_its_metadata(services, make, content_type, filename):
    data = make()
    answer = uploaded(services, data, content_type=content_type, filename=filename)
    assert answer["content_type"] == content_type
    assert answer["size"] == len(data)
    assert answer["filename"] == filename
    assert len(answer["upload_id"]) == 32
    row = query(services, "SELECT claim_id, sha256, size, content_type, filename FROM claim_documents"
                          " WHERE document_id = ?", (answer["upload_id"],))
    assert row == [(None, hashlib.sha256(data).hexdigest(), len(data), content_type, filename)]
    assert stored_file(services, answer["upload_id"]).read_bytes() == data


def test_stored_file_is_private_not_executable_and_outside_the_code(services):
    answer = uploaded(services)
    path = stored_file(services, answer["upload_id"])
    mode = stat.S_IMODE(path.stat().st_mode)
    assert mode == 0o600
    assert not mode & (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH)
    assert path.suffix == ""  # the name is the random id: nothing to interpret
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert Path(__file__).resolve().parents[2] not in path.resolve().parents


def test_upload_ids_are_random(services):
    first, second = uploaded(services), uploaded(services)
    assert first["upload_id"] != second["upload_id"]


def test_the_type_is_found_from_the_content_when_the_sender_does_not_know_it(services):
    answer = uploaded(services, pdf_bytes(), content_type="application/octet-stream",
                      filename="scan")
    assert answer["content_type"] == "application/pdf"
    assert answer["filename"] == "scan.pdf"


def test_file_names_lose_folders_and_odd_characters_and_get_their_real_extension(services):
    answer = uploaded(services, filename="..%2F..%2Fetc%2Fphoto%20d%C3%A9g%C3%A2t%3Cb%3E.exe")
    assert answer["filename"] == "photo dégât_b.jpg"


HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"
WINDOWS_EXE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(200)
SHELL_SCRIPT = b"#!/bin/sh\nrm -rf /\n"


@pytest.mark.parametrize("data, content_type, filename", [
    (WINDOWS_EXE, "image/jpeg", "photo.jpg"),
    (HTML, "image/jpeg", "photo.jpg"),
    (SHELL_SCRIPT, "image/jpeg", "photo.jpg"),
    (b"just some text, no picture", "image/png", "image.png"),
    (WINDOWS_EXE, "application/octet-stream", "setup.exe"),
    (HTML, "text/html", "page.html"),
], ids=["exe-as-jpeg", "html-as-jpeg", "script-as-jpeg", "text-as-png", "exe", "html"])
def test_anything_but_a_photo_or_a_pdf_is_refused_whatever_its_name(services, data, content_type,
                                                                     filename):
    before = count(services, "claim_documents")
    response = upload(services, data, content_type=content_type, filename=filename)
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_type"
    assert count(services, "claim_documents") == before


def test_a_real_photo_announced_as_a_pdf_is_refused(services):
    response = upload(services, jpeg_bytes(), content_type="application/pdf", filename="x.pdf")
    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_type"


def stored_files(services) -> set:
    return set(stored_file(services, "x").parent.glob("*"))


def png_chunk(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload))


def png_of_size(width: int, height: int) -> bytes:
    """A tiny PNG announcing `width` × `height` pixels (what a decompression bomb looks like)."""
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", zlib.compress(bytes(64)))
            + png_chunk(b"IEND", b""))


def with_byte_flipped(data: bytes, position: int) -> bytes:
    return data[:position] + bytes([data[position] ^ 0xFF]) + data[position + 1:]


@pytest.mark.parametrize("data, content_type", [
    (b"\xff\xd8\xff\x00", "image/jpeg"),
    (b"\xff\xd8\xff\xe0" + HTML, "image/jpeg"),
    (jpeg_bytes()[: len(jpeg_bytes()) // 2], "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n" + HTML, "image/png"),
    (with_byte_flipped(png_bytes(), len(png_bytes()) - 20), "image/png"),  # inside the picture's data
    (b"RIFF\x00\x00\x00\x00WEBP" + HTML, "image/webp"),
    (webp_bytes()[:-8], "image/webp"),
    (b"%PDF-<script>alert(1)</script>", "application/pdf"),
    (b"%PDF-1.7\n" + HTML + b"\n%%EOF\n", "application/pdf"),
    (pdf_bytes()[:-200], "application/pdf"),
    (b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + HTML, "image/heic"),
    (heic_bytes(handler=b"vide"), "image/heic"),
    (heic_bytes() + HTML, "image/heic"),
], ids=["jpeg-start-only", "jpeg-start-then-html", "jpeg-cut-in-half", "png-start-then-html", "png-damaged",
        "webp-start-then-html", "webp-cut", "pdf-header-then-script", "pdf-header-and-end-around-html", "pdf-cut",
        "heic-file-type-then-html", "heic-without-picture", "heic-then-html"])
def test_bytes_that_only_start_like_a_photo_or_a_pdf_are_refused_and_nothing_is_kept(services, data, content_type):
    rows, files = count(services, "claim_documents"), stored_files(services)
    for declared in (content_type, "application/octet-stream"):
        response = upload(services, data, content_type=declared, filename="photo")
        assert response.status_code == 415, response.text
        assert response.json()["error"]["code"] == "unsupported_type"
    assert (count(services, "claim_documents"), stored_files(services)) == (rows, files)


def test_a_webp_or_a_heic_photo_is_stored(services):
    assert uploaded(services, webp_bytes(), content_type="image/webp", filename="capture.webp")[
        "content_type"] == "image/webp"
    heic = uploaded(services, heic_bytes(), content_type="application/octet-stream", filename="IMG_0042.HEIC")
    assert (heic["content_type"], heic["filename"]) == ("image/heic", "IMG_0042.heic")


@pytest.mark.parametrize("width, height, limit", [
    (30_000, 30_000, "89 millions"),  # beyond twice Pillow's limit: its DecompressionBombError
    (7_000, 7_000, "40 millions"),  # a PNG decoded whole
], ids=["pillow-bomb-limit", "png-limit"])
def test_a_photo_of_too_many_pixels_is_refused_before_it_is_decoded(services, width, height, limit):
    rows, files = count(services, "claim_documents"), stored_files(services)
    response = upload(services, png_of_size(width, height), content_type="image/png", filename="bombe.png")
    assert response.status_code == 415, response.text
    error = response.json()["error"]
    assert error["code"] == "unsupported_type" and limit in error["message"]
    assert (count(services, "claim_documents"), stored_files(services)) == (rows, files)


def test_heic_boxes_must_describe_one_picture_and_tile_the_file():
    assert file_content.reads_as("image/heic", heic_bytes())
    assert file_content.reads_as("image/heic", heic_bytes(brand=b"mif1"))  # HEIC among the compatible brands
    whole = heic_bytes()
    file_type_size = struct.unpack(">I", whole[:4])[0]
    for forged in (
        heic_bytes()[:-1],  # the data box ends beyond the file
        heic_bytes() + b"\x00" * 3,  # bytes after the last box
        whole[:8] + b"avif" + bytes(4) + b"mif1avif" + whole[24:],  # no HEVC brand: another format's
        whole[:file_type_size] + struct.pack(">I", 8) + b"mdat",  # no meta box
        whole[:file_type_size] + whole[file_type_size:-40] * 2 + whole[-40:],  # two meta boxes
        heic_bytes(handler=b"vide"),
        heic_bytes()[:-40] + struct.pack(">I", 2) + b"mdat" + bytes(32),  # a box smaller than its header
    ):
        assert not file_content.reads_as("image/heic", forged)


def fake_file_reader(tmp_path, monkeypatch, code: str) -> None:
    """The child process that reads uploads replaced by `code`."""
    script = tmp_path / "reader.py"
    script.write_text(code)
    monkeypatch.setattr(uploads_module, "FILE_CONTENT_SCRIPT", script)


async def test_the_file_is_read_in_a_child_process_that_gets_none_of_the_services_secrets(tmp_path, monkeypatch):
    monkeypatch.setenv("SERVICES_API_TOKEN", "secret-of-the-services")
    fake_file_reader(tmp_path, monkeypatch,
                     "import os, sys; sys.stdin.buffer.read();"  # LC_CTYPE: Python's own locale coercion
                     "print('readable' if set(os.environ) <= {'LC_CTYPE'} else 'unreadable')")
    checked = await uploads_module.check_upload(jpeg_bytes(), "image/jpeg", "photo.jpg", MAX_BYTES)
    assert checked.content_type == "image/jpeg"


async def test_a_reader_that_fails_hard_is_a_refusal_not_a_server_error(tmp_path, monkeypatch):
    fake_file_reader(tmp_path, monkeypatch, "import os, signal; os.kill(os.getpid(), signal.SIGSEGV)")
    with pytest.raises(ServiceError) as refusal:
        await uploads_module.check_upload(jpeg_bytes(), "image/jpeg", "photo.jpg", MAX_BYTES)
    assert refusal.value.code == "unsupported_type"


def test_the_child_that_reads_a_file_bounds_its_own_memory_and_processor_time():
    child = subprocess.run(
        [sys.executable, "-I", "-c",
         "import resource, runpy, sys; sys.argv = ['reader', 'image/png'];"
         "runpy.run_path(%r, run_name='__main__');"
         "print(resource.getrlimit(resource.RLIMIT_AS)[0], resource.getrlimit(resource.RLIMIT_CPU)[0])"
         % str(uploads_module.FILE_CONTENT_SCRIPT)],
        input=png_bytes(), capture_output=True, env={}, check=True)
    assert child.stdout.decode().split() == [
        file_content.READABLE, str(file_content.MEMORY_BYTES), str(file_content.CPU_SECONDS)]


def test_an_empty_file_is_refused(services):
    before = count(services, "claim_documents")
    response = upload(services, b"")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "empty"
    assert count(services, "claim_documents") == before


def test_a_file_over_the_size_cap_is_refused_and_nothing_is_kept(services):
    before = count(services, "claim_documents")
    files_before = set(stored_file(services, "x").parent.glob("*"))
    oversized = jpeg_bytes() + bytes(MAX_BYTES)
    response = upload(services, oversized)
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
    assert response.json()["error"]["max_bytes"] == MAX_BYTES
    assert count(services, "claim_documents") == before
    assert set(stored_file(services, "x").parent.glob("*")) == files_before


def test_a_file_at_the_size_cap_is_accepted(services):
    data = jpeg_bytes()
    data += bytes(MAX_BYTES - len(data))
    assert uploaded(services, data)["size"] == MAX_BYTES


def test_uploading_needs_the_service_token(services):
    response = upload(services, jpeg_bytes(), authorized=False)
    assert response.status_code == 401


def test_a_claim_filed_with_attachments_lists_them(services):
    photo = uploaded(services, filename="fuite.jpg")
    invoice = uploaded(services, pdf_bytes(), content_type="application/pdf",
                       filename="devis.pdf")
    response = file_claim(services, attachments=[photo["upload_id"], invoice["upload_id"]])
    assert response.status_code == 201, response.text
    documents = response.json()["documents"]
    assert [(d["document_id"], d["filename"], d["content_type"], d["size"]) for d in documents] == [
        (photo["upload_id"], "fuite.jpg", "image/jpeg", photo["size"]),
        (invoice["upload_id"], "devis.pdf", "application/pdf", invoice["size"]),
    ]
    assert all(d["uploaded_at"] for d in documents)
    claim = services.get(f"/v1/customers/{MARIE}/claims/{response.json()['claim_number']}").json()
    assert claim["documents"] == documents


@pytest.mark.parametrize("attachments, status, code", [
    (["0" * 32], 404, "upload_not_found"),
    (["not-an-upload-id"], 422, "validation_error"),
    ("0" * 32, 422, "validation_error"),
])
def test_a_claim_with_unknown_attachments_is_not_filed(services, attachments, status, code):
    before = count(services, "claims")
    response = file_claim(services, attachments=attachments)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert count(services, "claims") == before


def test_a_claim_with_an_attachment_of_another_claim_is_not_filed(services):
    photo = uploaded(services)
    assert file_claim(services, attachments=[photo["upload_id"]]).status_code == 201
    before = count(services, "claims")
    response = file_claim(services, attachments=[photo["upload_id"]])
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "upload_already_linked"
    assert count(services, "claims") == before


def test_a_document_is_added_to_an_existing_claim(services):
    photo = uploaded(services, filename="tache-plafond.jpg")
    response = services.post(documents_url(MARIE, "sin-2026-000731"),
                             json={"upload_id": photo["upload_id"]})
    assert response.status_code == 201, response.text
    assert response.json()["claim_number"] == "SIN-2026-000731"
    assert response.json()["document"]["filename"] == "tache-plafond.jpg"
    claim = services.get(f"/v1/customers/{MARIE}/claims/SIN-2026-000731").json()
    assert photo["upload_id"] in [d["document_id"] for d in claim["documents"]]


def test_adding_the_same_document_again_changes_nothing(services):
    photo = uploaded(services)
    url = documents_url(MARIE, "SIN-2026-000731")
    assert services.post(url, json={"upload_id": photo["upload_id"]}).status_code == 201
    again = services.post(url, json={"upload_id": photo["upload_id"]})
    assert again.status_code == 200
    assert again.json()["document"]["document_id"] == photo["upload_id"]


def test_a_foreign_claim_is_answered_like_an_unknown_one_and_the_upload_stays_free(services):
    photo = uploaded(services)
    foreign = services.post(documents_url(MARIE, "SIN-2026-000415"),
                            json={"upload_id": photo["upload_id"]})
    unknown = services.post(documents_url(MARIE, "SIN-2026-999999"),
                            json={"upload_id": photo["upload_id"]})
    assert foreign.status_code == unknown.status_code == 404
    assert foreign.json() == unknown.json()
    assert foreign.json()["error"]["code"] == "claim_not_found"
    assert query(services, "SELECT claim_id FROM claim_documents WHERE document_id = ?",
                 (photo["upload_id"],)) == [(None,)]


def test_a_document_of_one_claim_cannot_be_moved_to_another_of_the_same_customer(services):
    photo = uploaded(services)
    assert services.post(documents_url(MARIE, "SIN-2026-000731"),
                         json={"upload_id": photo["upload_id"]}).status_code == 201
    other_claim = file(services, declaration()).json()["claim_number"]
    moved = services.post(documents_url(MARIE, other_claim), json={"upload_id": photo["upload_id"]})
    assert moved.status_code == 409
    assert moved.json()["error"]["code"] == "upload_already_linked"
    claim = query(services, "SELECT c.claim_number FROM claim_documents d JOIN claims c"
                            " ON c.id = d.claim_id WHERE d.document_id = ?", (photo["upload_id"],))
    assert claim == [("SIN-2026-000731",)]


def test_a_document_on_another_customers_claim_is_answered_like_an_unknown_one(services):
    photo = uploaded(services)
    assert services.post(documents_url(MARIE, "SIN-2026-000731"),
                         json={"upload_id": photo["upload_id"]}).status_code == 201
    foreign = services.post(documents_url(KARIM, "SIN-2026-000415"), json={"upload_id": photo["upload_id"]})
    unknown = services.post(documents_url(KARIM, "SIN-2026-000415"), json={"upload_id": "f" * 32})
    assert (foreign.status_code, foreign.json()) == (unknown.status_code, unknown.json())
    assert foreign.json()["error"]["code"] == "upload_not_found"
    claim = query(services, "SELECT c.claim_number FROM claim_documents d JOIN claims c"
                            " ON c.id = d.claim_id WHERE d.document_id = ?", (photo["upload_id"],))
    assert claim == [("SIN-2026-000731",)]


@pytest.mark.parametrize("body, status, code", [
    ({"upload_id": "f" * 32}, 404, "upload_not_found"),
    ({"upload_id": "../../etc/passwd"}, 422, "validation_error"),
    ({}, 422, "validation_error"),
    ({"upload_id": "f" * 32, "claim": "x"}, 422, "validation_error"),
])
def test_a_bad_document_link_is_refused(services, body, status, code):
    before = count(services, "claim_documents", "claim_id IS NOT NULL")
    response = services.post(documents_url(MARIE, "SIN-2026-000731"), json=body)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert count(services, "claim_documents", "claim_id IS NOT NULL") == before


def test_two_claims_racing_for_one_upload_get_it_once(services):
    other = file_claim(services).json()["claim_number"]
    for _ in range(5):
        photo = uploaded(services)
        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(
                lambda number, photo=photo: services.post(documents_url(MARIE, number),
                                                          json={"upload_id": photo["upload_id"]}),
                ["SIN-2026-000731", other],
            ))
        assert sorted(answer.status_code for answer in answers) == [201, 409]


@pytest.mark.parametrize("value", ["0", "-5", "dix mégas"])
def test_an_invalid_size_cap_keeps_the_services_from_starting(value):
    environ = {"SERVICES_API_TOKEN": "t", "DOCUMENT_LINK_SECRET": "s", "IDENTITY_ASSERTION_SECRET": "a",
               "UPLOAD_MAX_BYTES": value}
    with pytest.raises(SettingsError, match="UPLOAD_MAX_BYTES"):
        Settings.from_env(environ)


def test_uploads_folder_and_size_cap_come_from_the_environment():
    secrets = {"SERVICES_API_TOKEN": "t", "DOCUMENT_LINK_SECRET": "s", "IDENTITY_ASSERTION_SECRET": "a"}
    settings = Settings.from_env({**secrets, "UPLOADS_DIR": "/srv/oyat/uploads", "UPLOAD_MAX_BYTES": "2048"})
    assert (settings.uploads_dir, settings.upload_max_bytes) == ("/srv/oyat/uploads", 2048)
    defaults = Settings.from_env(secrets)
    assert (defaults.uploads_dir, defaults.upload_max_bytes) == ("var/uploads", MAX_BYTES)


# --- files never attached to a claim -------------------------------------------------

def backdate(services, upload_id, hours):
    execute(services, "UPDATE claim_documents SET uploaded_at = ? WHERE document_id = ?",
            (db_time(datetime.now(timezone.utc) - timedelta(hours=hours)), upload_id))


def attach_behind_the_services_back(services, upload_id, claim_number="SIN-2026-000731"):
    execute(services, "UPDATE claim_documents SET claim_id = (SELECT id FROM claims WHERE claim_number = ?),"
                      " linked_at = uploaded_at WHERE document_id = ?", (claim_number, upload_id))


def document_ids(services, *upload_ids):
    marks = ", ".join("?" for _ in upload_ids)
    return {row[0] for row in query(services, f"SELECT document_id FROM claim_documents WHERE document_id IN ({marks})",
                                    upload_ids)}


def test_the_claims_service_deletes_a_day_old_file_never_attached_and_keeps_the_others(services, tmp_path):
    abandoned, attached, recent = (uploaded(services)["upload_id"] for _ in range(3))
    backdate(services, abandoned, 25)
    backdate(services, attached, 25)
    attach_behind_the_services_back(services, attached)
    backdate(services, recent, 23)

    # A claims service starting on this database purges at once (then every quarter of an hour).
    port = free_port()
    log_path = tmp_path / "claims.log"
    process = start([sys.executable, "-m", "reference_services.cli", "serve", "--service", "claims", "--host", "127.0.0.1",
                     "--port", str(port)], cwd=services.workdir, env=services.env, log_path=log_path)
    try:
        wait_until_up(f"http://127.0.0.1:{port}/health", process, 30, log_path)
        # The row goes first, then the file (once the deletion is committed).
        wait_for(lambda: abandoned not in document_ids(services, abandoned)
                 and not stored_file(services, abandoned).exists(), 30, "the abandoned file and its row deleted")
    finally:
        stop(process)
    assert document_ids(services, abandoned, attached, recent) == {attached, recent}
    assert stored_file(services, attached).exists() and stored_file(services, recent).exists()
    assert "files never attached to a claim deleted" in log_path.read_text()


async def test_the_purge_goes_through_every_batch_and_spares_a_file_linked_meanwhile(tmp_path, monkeypatch):
    settings = Settings.from_env({"DATABASE_URL": f"sqlite:///{tmp_path / 'oyat.db'}", "SERVICES_API_TOKEN": "t",
                                  "DOCUMENT_LINK_SECRET": "s", "IDENTITY_ASSERTION_SECRET": "a"})
    init_database(settings)
    engine = create_app_engine(settings)
    sessions = sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, future=True)
    uploads, long_ago = tmp_path / "uploads", datetime.now(timezone.utc) - timedelta(days=2)
    uploads.mkdir()
    ids = [f"{n:032x}" for n in range(5)]
    async with sessions() as session:
        for upload_id in ids:
            (uploads / upload_id).write_bytes(b"\xff\xd8\xff photo")
            session.add(ClaimDocument(document_id=upload_id, filename="photo.jpg", content_type="image/jpeg",
                                      size=10, uploaded_at=long_ago))
        await session.commit()
    linked = ids[3]

    real_execute = AsyncSession.execute

    async def linked_meanwhile(session, statement, *args, **kwargs):
        """Between the purge's look-up and its delete, the customer attaches one file."""
        if getattr(statement, "is_delete", False) and not getattr(linked_meanwhile, "done", False):
            linked_meanwhile.done = True
            await real_execute(session, update(ClaimDocument).where(ClaimDocument.document_id == linked)
                               .values(claim_id=1, linked_at=long_ago))
        return await real_execute(session, statement, *args, **kwargs)

    monkeypatch.setattr(uploads_module, "PURGE_BATCH", 2)
    monkeypatch.setattr(AsyncSession, "execute", linked_meanwhile)
    async with sessions() as session:
        purged = await purge_unattached_uploads(session, str(uploads), datetime.now(timezone.utc) - timedelta(days=1))
    await engine.dispose()
    assert purged == 4
    assert sorted(path.name for path in uploads.iterdir()) == [linked]


@pytest.mark.parametrize("value", ["0", "-1", "un jour"])
def test_an_invalid_unattached_file_retention_keeps_the_services_from_starting(value):
    environ = {"SERVICES_API_TOKEN": "t", "DOCUMENT_LINK_SECRET": "s", "IDENTITY_ASSERTION_SECRET": "a",
               "UNATTACHED_UPLOAD_RETENTION_HOURS": value}
    with pytest.raises(SettingsError, match="UNATTACHED_UPLOAD_RETENTION_HOURS"):
        Settings.from_env(environ)


def test_files_never_attached_are_kept_a_day_unless_configured():
    environ = {"SERVICES_API_TOKEN": "t", "DOCUMENT_LINK_SECRET": "s", "IDENTITY_ASSERTION_SECRET": "a"}
    assert Settings.from_env(environ).unattached_upload_retention_hours == 24
    environ["UNATTACHED_UPLOAD_RETENTION_HOURS"] = "6"
    assert Settings.from_env(environ).unattached_upload_retention_hours == 6
