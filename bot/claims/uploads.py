"""Files sent for claims: checked by their content, stored outside any web root.

A file is accepted when its bytes are a JPEG, PNG, WebP or HEIC image or a PDF,
when the type the sender claims agrees with the content, and when it is neither
empty nor larger than the configured cap. The type is recognised from the first
bytes (`filetype`, never from the name), then the whole file must read as one:
photos are decoded by Pillow (a JPEG at an eighth of its size: every byte of it
is still read), a PDF is parsed by pypdf (header, end marker, cross-reference,
pages; nothing in it is run), and a HEIC photo, which nothing installed decodes,
must have the boxes of one (an `ftyp` with an HEVC image brand, a `meta` box
describing a picture, boxes that tile the file). It is stored under a random name,
readable and writable by the service's user only, never executable and never served.
"""
from __future__ import annotations

import asyncio
import hashlib
import io
import logging
import os
import re
import secrets
import struct
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, List, Optional, Tuple
from urllib.parse import unquote

import filetype
from PIL import Image
from pypdf import PdfReader
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from bot.claims.models import ClaimDocument
from bot.errors import ServiceError

logger = logging.getLogger(__name__)

# Accepted content types and the extension their files get.
ACCEPTED_TYPES = {
    "image/jpeg": ".jpg",
    "image/png": ".png",
    "image/webp": ".webp",
    "image/heic": ".heic",
    "application/pdf": ".pdf",
}
# Other spellings senders use for the same types.
TYPE_ALIASES = {
    "image/jpg": "image/jpeg",
    "image/pjpeg": "image/jpeg",
    "image/heif": "image/heic",
    "application/x-pdf": "application/pdf",
}
EXTENSIONS = {
    "image/jpeg": {".jpg", ".jpeg", ".jpe", ".jfif"},
    "image/heic": {".heic", ".heif"},
}
# A sender that does not know the type (a browser facing a .heic file sends "").
UNDECLARED_TYPES = {"", "application/octet-stream"}
FILENAME_MAX_LENGTH = 120
FILE_MODE = 0o600
DIRECTORY_MODE = 0o700
# How much of an oversized body is still read, so that the refusal reaches a
# client that keeps sending; beyond it the connection is closed.
OVERSIZE_DRAIN_BYTES = 16 * 1024 * 1024
# Unattached uploads deleted per transaction by the purge (it goes on until none is left).
PURGE_BATCH = 500

_UNSAFE_NAME_CHARACTERS = re.compile(r"[^\w .,()'’+-]")

# What Pillow reads each photo type as (a JPEG with several pictures is an MPO).
PILLOW_FORMATS = {"image/jpeg": ("JPEG", "MPO"), "image/png": ("PNG",), "image/webp": ("WEBP",)}
# Pixels bound the memory a check holds. A JPEG is decoded at an eighth of its width and
# height (up to Pillow's own limit, about 89 million pixels: the largest phone photos);
# a PNG whole, 4 bytes a pixel at most (160 MB); a WebP whole through libwebp's animation
# decoder, about 15 bytes a pixel (180 MB).
MAX_PIXELS = {"JPEG": Image.MAX_IMAGE_PIXELS, "MPO": Image.MAX_IMAGE_PIXELS, "PNG": 40_000_000,
              "WEBP": 12_000_000}
# Files checked at once by a process: one, so that a single decoded photo is in memory.
CONCURRENT_CHECKS = 1
# ISO-BMFF brands of HEIF files whose pictures are HEVC-coded (HEIC).
HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
# Boxes a HEIC photo's `meta` box holds: what the picture is, which item is the picture,
# the items, where their data lies, their properties (size, colour...).
HEIC_META_BOXES = frozenset({b"hdlr", b"pitm", b"iinf", b"iloc", b"iprp"})
MAX_BOXES = 64  # a photo has a handful at each level
# A PDF ends with `%%EOF` within its last kilobyte (where readers look for it).
PDF_END_WINDOW = 1024

_BOX_TYPE = re.compile(rb"[A-Za-z0-9 ]{4}")
# Its thread is started at the first file, in the serving process.
_checker = ThreadPoolExecutor(max_workers=CONCURRENT_CHECKS, thread_name_prefix="upload-check")


@dataclass(frozen=True)
class CheckedFile:
    """A file that passed every check, with what is recorded about it."""

    data: bytes
    content_type: str
    filename: str
    sha256: str


def new_upload_id() -> str:
    """128 random bits: the upload's id, its file name and what links it to a claim."""
    return secrets.token_hex(16)


def is_upload_id(value: Any) -> bool:
    return isinstance(value, str) and re.fullmatch(r"[0-9a-f]{32}", value) is not None


async def read_capped_body(request: Any, max_bytes: int) -> bytes:
    """The body of a streamed request; `too_large` beyond `max_bytes`.

    An oversized body is read on (and dropped) up to OVERSIZE_DRAIN_BYTES more,
    so that the client gets the refusal rather than a reset connection.
    """
    chunks, size = [], 0
    while True:
        chunk = await request.stream.read()
        if chunk is None:
            break
        size += len(chunk)
        if size <= max_bytes:
            chunks.append(chunk)
        elif size > max_bytes + OVERSIZE_DRAIN_BYTES:
            break
    if size > max_bytes:
        raise ServiceError("too_large", _too_large_message(max_bytes), max_bytes=max_bytes)
    return b"".join(chunks)


async def check_upload(data: bytes, claimed_type: Optional[str], raw_filename: Optional[str],
                       max_bytes: int) -> CheckedFile:
    """`check_file` off the event loop, one file at a time (files wait their turn in a queue,
    not in threads)."""
    return await asyncio.get_running_loop().run_in_executor(
        _checker, check_file, data, claimed_type, raw_filename, max_bytes)


def check_file(data: bytes, claimed_type: Optional[str], raw_filename: Optional[str],
               max_bytes: int) -> CheckedFile:
    """The file as it will be stored, or the refusal: empty, too_large, unsupported_type.

    Reads the whole file (a photo is decoded): `check_upload` runs it off the event loop."""
    if not data:
        raise ServiceError("empty")
    if len(data) > max_bytes:
        raise ServiceError("too_large", _too_large_message(max_bytes), max_bytes=max_bytes)
    detected = detected_type(data)
    if detected is None:
        raise ServiceError("unsupported_type")
    if not reads_as(detected, data):
        raise ServiceError("unsupported_type")
    claimed = normalised_type(claimed_type)
    if claimed not in UNDECLARED_TYPES and claimed != detected:
        raise ServiceError(
            "unsupported_type",
            "Le contenu du fichier ne correspond pas à son type annoncé. Seules les photos "
            "(JPEG, PNG, WebP, HEIC) et les documents PDF sont acceptés.",
        )
    return CheckedFile(
        data=data, content_type=detected,
        filename=safe_filename(raw_filename, detected),
        sha256=hashlib.sha256(data).hexdigest(),
    )


def detected_type(data: bytes) -> Optional[str]:
    """The accepted content type the bytes really are, else None."""
    kind = filetype.guess(data)
    if kind is None:
        return None
    mime = TYPE_ALIASES.get(kind.mime, kind.mime)
    return mime if mime in ACCEPTED_TYPES else None


def reads_as(content_type: str, data: bytes) -> bool:
    """Whether the whole of `data` reads as a file of `content_type` (an accepted type),
    not only its first bytes. Photos with more pixels than the limits are refused
    (unsupported_type, with the limit) rather than decoded."""
    if content_type == "application/pdf":
        return _reads_as_pdf(data)
    if content_type == "image/heic":
        return _has_heic_boxes(data)
    return _decodes_as_photo(data, PILLOW_FORMATS[content_type])


def _decodes_as_photo(data: bytes, formats: Tuple[str, ...]) -> bool:
    try:
        with Image.open(io.BytesIO(data), formats=list(formats)) as image:
            if image.format not in formats:
                return False
            if getattr(image, "is_animated", False) and image.format != "MPO":
                return False  # an animation is no photo
            width, height = image.size
            _refuse_beyond(width * height, MAX_PIXELS[image.format])
            if image.format in ("JPEG", "MPO"):
                # libjpeg's scaled decoding: every coded block read, an eighth kept.
                image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
            if image.format == "PNG":
                image.verify()  # every chunk's checksum, up to the end chunk
                with Image.open(io.BytesIO(data), formats=["PNG"]) as reopened:  # verify() spends the image
                    reopened.load()
            else:
                image.load()
    except Image.DecompressionBombError:  # twice Pillow's limit: refused before anything is decoded
        _refuse_beyond(Image.MAX_IMAGE_PIXELS + 1, Image.MAX_IMAGE_PIXELS)
    except ServiceError:
        raise
    except Exception as error:  # whatever a damaged or forged file makes the decoders raise
        logger.info("upload refused: not a readable photo (%s)", type(error).__name__)
        return False
    return True


def _refuse_beyond(pixels: int, limit: int) -> None:
    if pixels > limit:
        raise ServiceError(
            "unsupported_type",
            f"La photo est trop grande ({limit // 1_000_000} millions de pixels au plus).",
        )


def _reads_as_pdf(data: bytes) -> bool:
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-PDF_END_WINDOW:]:
        return False
    try:
        # Lenient, as readers are with scanners' PDFs: the cross-reference table may be rebuilt,
        # but a document catalogue and at least one page must be found.
        return len(PdfReader(io.BytesIO(data), strict=False).pages) > 0
    except Exception as error:  # whatever a damaged or forged file makes the parser raise
        logger.info("upload refused: not a readable PDF (%s)", type(error).__name__)
        return False


def _has_heic_boxes(data: bytes) -> bool:
    boxes = _boxes(data, 0, len(data))
    if not boxes or boxes[0][0] != b"ftyp":
        return False
    _, start, end = boxes[0]
    brands = data[start:end]
    if len(brands) < 8 or len(brands) % 4:
        return False
    declared = {brands[0:4]} | {brands[i:i + 4] for i in range(8, len(brands), 4)}
    metas = [box for box in boxes if box[0] == b"meta"]
    if not declared & HEIC_BRANDS or len(metas) != 1:
        return False
    _, start, end = metas[0]
    children = _boxes(data, start + 4, end)  # after the version and flags of a full box
    if not children or not HEIC_META_BOXES <= {kind for kind, _, _ in children}:
        return False
    handler = next(data[content:box_end] for kind, content, box_end in children if kind == b"hdlr")
    has_data = any(kind == b"mdat" for kind, _, _ in boxes) or any(kind == b"idat" for kind, _, _ in children)
    return handler[8:12] == b"pict" and has_data


def _boxes(data: bytes, start: int, end: int) -> Optional[List[Tuple[bytes, int, int]]]:
    """(type, content start, end) of the ISO-BMFF boxes that tile data[start:end] exactly,
    or None when they do not (a size beyond the end, an odd type, too many boxes)."""
    boxes: List[Tuple[bytes, int, int]] = []
    position = start
    while position < end:
        if end - position < 8 or len(boxes) == MAX_BOXES:
            return None
        size, kind = struct.unpack_from(">I4s", data, position)
        header = 8
        if size == 1:  # 64-bit size
            if end - position < 16:
                return None
            (size,) = struct.unpack_from(">Q", data, position + 8)
            header = 16
        elif size == 0:  # up to the end
            size = end - position
        if size < header or size > end - position or not _BOX_TYPE.fullmatch(kind):
            return None
        boxes.append((kind, position + header, position + size))
        position += size
    return boxes


def normalised_type(claimed_type: Optional[str]) -> str:
    """`image/JPEG; charset=x` → `image/jpeg` (aliases resolved)."""
    mime = (claimed_type or "").split(";", 1)[0].strip().lower()
    return TYPE_ALIASES.get(mime, mime)


def safe_filename(raw: Optional[str], content_type: str) -> str:
    """The sender's file name as shown later: no folders, no control or odd characters,
    bounded, with the extension of its real type. X-Filename may be percent-encoded UTF-8."""
    name = unquote(raw or "", errors="replace")
    name = unicodedata.normalize("NFC", name).replace("\\", "/").rsplit("/", 1)[-1]
    name = _UNSAFE_NAME_CHARACTERS.sub("_", "".join(c for c in name if c.isprintable()))
    name = re.sub(r"\s+", " ", name).strip(" ._")
    stem, dot, extension = name.rpartition(".")
    if not dot or not stem:  # "photo", or a name that is only an extension
        stem, extension = name, ""
    extension = "." + extension.lower() if extension else ""
    if extension not in EXTENSIONS.get(content_type, {ACCEPTED_TYPES[content_type]}):
        extension = ACCEPTED_TYPES[content_type]  # "photo.exe" holding a JPEG → "photo.jpg"
    stem = stem.strip(" ._")[: FILENAME_MAX_LENGTH - len(extension)].strip(" ._") or "document"
    return stem + extension


def _too_large_message(max_bytes: int) -> str:
    megabytes = max_bytes / (1024 * 1024)
    shown = f"{megabytes:.0f}" if megabytes >= 1 else f"{megabytes:.2f}".replace(".", ",")
    return f"Le fichier est trop volumineux ({shown} Mo au plus)."


def _write_private_file(directory: Path, name: str, data: bytes) -> None:
    directory.mkdir(parents=True, exist_ok=True, mode=DIRECTORY_MODE)
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
    descriptor = os.open(directory / name, flags, FILE_MODE)
    try:
        os.fchmod(descriptor, FILE_MODE)  # whatever the umask
        with os.fdopen(descriptor, "wb", closefd=False) as file:
            file.write(data)
            file.flush()
            os.fsync(descriptor)
    finally:
        os.close(descriptor)


def stored_path(uploads_dir: str, upload_id: str) -> Path:
    """Where the file of an upload lies (the name carries no extension: never run)."""
    return Path(uploads_dir).resolve() / upload_id


async def store_upload(
    session: AsyncSession, uploads_dir: str, checked: CheckedFile, now: datetime
) -> ClaimDocument:
    """Writes the file, then its metadata row (not linked to any claim yet).

    Nothing stays behind on failure: the file is removed when the row cannot be
    written.
    """
    upload_id = new_upload_id()
    path = stored_path(uploads_dir, upload_id)
    try:
        await asyncio.to_thread(_write_private_file, path.parent, path.name, checked.data)
    except OSError as error:
        logger.error("cannot store an upload: %s", type(error).__name__)
        raise ServiceError("service_unavailable") from None
    document = ClaimDocument(
        document_id=upload_id, claim_id=None, filename=checked.filename,
        content_type=checked.content_type, size=len(checked.data), sha256=checked.sha256,
        uploaded_at=now,
    )
    session.add(document)
    try:
        await session.commit()
    except BaseException:
        await session.rollback()
        path.unlink(missing_ok=True)
        raise
    return document


async def purge_unattached_uploads(session: AsyncSession, uploads_dir: str, uploaded_before: datetime) -> int:
    """Deletes the uploads received before `uploaded_before` and never attached to a
    claim, row then file; the number deleted.

    Each row goes only if it is still unattached when deleted: an upload linked to a
    claim meanwhile (or deleted by another claims service sharing the folder) is left
    alone. The files go once their rows are committed, so that a failed commit leaves
    both in place.
    """
    purged = 0
    while True:
        candidates = (await session.execute(
            select(ClaimDocument.document_id)
            .where(ClaimDocument.claim_id.is_(None), ClaimDocument.uploaded_at < uploaded_before)
            .limit(PURGE_BATCH)
        )).scalars().all()
        deleted: List[str] = []
        for upload_id in candidates:
            result = await session.execute(
                delete(ClaimDocument)
                .where(ClaimDocument.document_id == upload_id, ClaimDocument.claim_id.is_(None))
                .execution_options(synchronize_session=False)
            )
            if result.rowcount:
                deleted.append(upload_id)
        await session.commit()
        await asyncio.to_thread(_unlink_all, [stored_path(uploads_dir, upload_id) for upload_id in deleted])
        purged += len(deleted)
        if len(candidates) < PURGE_BATCH:
            return purged


def _unlink_all(paths: List[Path]) -> None:
    for path in paths:
        path.unlink(missing_ok=True)
