"""The claims service's uploads (POST /v1/uploads, reference_services/claims/uploads.py) on any bytes, any
declared type and any file name: 201 only for a photo (JPEG, PNG, WebP, HEIC) or a PDF, read
whole (not only its first bytes), whose declared type agrees, under a safe name; 4xx otherwise,
never a server error, and nothing stored, neither row nor file, for a refused file."""
import io
import re
from pathlib import Path
from urllib.parse import quote

from hypothesis import example, given, settings
from hypothesis import strategies as st
from PIL import Image

from core.settings import DEFAULT_UPLOADS_DIR
from reference_services.claims.uploads import ACCEPTED_TYPES, EXTENSIONS, FILENAME_MAX_LENGTH
from tests.fuzz.strategies import hostile_text
from tests.reference_services.helpers import count
from tests.sample_files import heic_bytes, pdf_bytes

UPLOAD_ID = re.compile(r"[0-9a-f]{32}")
# What the files of each type start with (what a content sniffer reads).
MAGIC = {
    "image/jpeg": b"\xff\xd8\xff",
    "image/png": b"\x89PNG\r\n\x1a\n",
    "application/pdf": b"%PDF-",
    "image/webp": b"RIFF\x00\x00\x00\x00WEBP",
    "image/heic": b"\x00\x00\x00\x18ftypheic",
}
declared_types = (st.sampled_from(sorted(ACCEPTED_TYPES) + [
    "", "application/octet-stream", "image/jpg", "image/pjpeg", "application/x-pdf", "IMAGE/JPEG; charset=x",
    "text/html", "image/svg+xml", "application/x-msdownload", "image/gif",
]) | st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e), max_size=60))
# X-Filename as the action server sends it (percent-encoded), or raw as anyone may.
file_names = (hostile_text.map(lambda name: quote(name.encode("utf-8", "surrogatepass"), safe=""))
              | st.text(st.characters(min_codepoint=0x20, max_codepoint=0xff), max_size=300)
              | st.sampled_from(["../../etc/passwd", "photo.jpg.exe", "C:\\Windows\\x.pdf", "%2e%2e%2fa.png",
                                 ".htaccess", "a" * 500 + ".jpg", "%00.jpg", "..", "%C0%AE%C0%AE/x"]))


def stored_files(services) -> int:
    directory = Path(services.workdir) / DEFAULT_UPLOADS_DIR
    return sum(1 for _ in directory.iterdir()) if directory.exists() else 0


def upload(services, data: bytes, declared_type, filename):
    headers = {"Content-Type": declared_type}
    if filename is not None:
        headers["X-Filename"] = filename
    return services.post("/v1/uploads", data=data, headers=headers)


def assert_refused_and_nothing_stored(services, data: bytes, declared_type, filename) -> dict:
    rows, files = count(services, "claim_documents"), stored_files(services)
    answer = upload(services, data, declared_type, filename)
    assert 400 <= answer.status_code < 500, answer.text
    assert (count(services, "claim_documents"), stored_files(services)) == (rows, files)
    return answer.json()["error"]


def assert_safe_name(name: str, content_type: str) -> None:
    stem, _, extension = name.rpartition(".")
    assert stem and "." + extension in EXTENSIONS.get(content_type, {ACCEPTED_TYPES[content_type]}), name
    assert len(name) <= FILENAME_MAX_LENGTH and name.isprintable() and not re.search(r"[/\\<>:\"|?*]", name), name
    assert not name.startswith("."), name


@settings(max_examples=40, deadline=5000)
@given(data=st.binary(max_size=2_000), declared_type=declared_types, filename=st.none() | file_names)
@example(data=b"", declared_type="image/jpeg", filename="vide.jpg")
@example(data=b"<script>alert(1)</script>", declared_type="image/jpeg", filename="photo.jpg")
@example(data=b"GIF89a" + b"\x00" * 20, declared_type="image/gif", filename="anim.gif")
@example(data=b"MZ\x90\x00" + b"\x00" * 60, declared_type="", filename="facture.pdf.exe")
def test_bytes_that_are_no_photo_nor_pdf_are_refused_and_nothing_is_stored(fuzzed_services, data, declared_type,
                                                                            filename):
    if any(data.startswith(magic[:3]) for magic in MAGIC.values()):
        return  # what a file of an accepted type starts with: the next tests' subject
    error = assert_refused_and_nothing_stored(fuzzed_services, data, declared_type, filename)
    assert error["code"] in ("empty", "unsupported_type", "too_large"), error


def real_image(kind: str, width: int, height: int, colour: tuple) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(buffer, kind)
    return buffer.getvalue()


IMAGE_FORMATS = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
real_files = (
    st.builds(lambda kind, width, height, colour: (real_image(kind, width, height, colour), IMAGE_FORMATS[kind]),
              st.sampled_from(sorted(IMAGE_FORMATS)), st.integers(1, 64), st.integers(1, 64),
              st.tuples(*[st.integers(0, 255)] * 3))
    | st.just((pdf_bytes(), "application/pdf"))
    | st.just((heic_bytes(), "image/heic"))
)
ALIASES = {"image/jpeg": ["image/jpg", "image/pjpeg", "IMAGE/JPEG"], "application/pdf": ["application/x-pdf"]}


@settings(max_examples=30, deadline=5000)
@given(file=real_files, declared=st.sampled_from(["same", "alias", "undeclared", "other"]),
       filename=st.none() | file_names)
def test_a_real_photo_or_pdf_is_stored_under_a_safe_name_unless_its_declared_type_disagrees(
        fuzzed_services, file, declared, filename):
    data, content_type = file
    declared_type = {
        "same": content_type,
        "alias": (ALIASES.get(content_type) or [content_type])[0],
        "undeclared": "application/octet-stream",
        "other": "text/html" if content_type != "text/html" else "image/png",
    }[declared]
    if declared == "other":
        error = assert_refused_and_nothing_stored(fuzzed_services, data, declared_type, filename)
        assert error["code"] == "unsupported_type"
        return
    answer = upload(fuzzed_services, data, declared_type, filename)
    assert answer.status_code == 201, answer.text
    stored = answer.json()
    assert UPLOAD_ID.fullmatch(stored["upload_id"]) and stored["content_type"] == content_type
    assert stored["size"] == len(data)
    assert_safe_name(stored["filename"], content_type)
    assert (Path(fuzzed_services.workdir) / DEFAULT_UPLOADS_DIR / stored["upload_id"]).read_bytes() == data


@settings(max_examples=10, deadline=5000)
@given(content_type=st.sampled_from(sorted(MAGIC)), rest=st.binary(max_size=200))
@example(content_type="image/jpeg", rest=b"\x00")
@example(content_type="application/pdf", rest=b"<script>alert(1)</script>")
def test_bytes_that_only_start_like_a_photo_or_a_pdf_are_refused(fuzzed_services, content_type, rest):
    error = assert_refused_and_nothing_stored(fuzzed_services, MAGIC[content_type] + rest, content_type, "photo")
    assert error["code"] == "unsupported_type"
