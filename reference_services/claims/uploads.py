"""Files sent for claims: checked by their content, stored outside any web root.

A file is accepted when its bytes are a JPEG, PNG, WebP or HEIC image or a PDF,
when the type the sender claims agrees with the content, and when it is neither
empty nor larger than the configured cap. The type is recognised from the first
bytes (`filetype`, never from the name), then the whole file must read as one
(reference_services/claims/file_content.py: photos decoded, PDFs parsed, HEIC boxes read), in a
child process bounded in time and memory, one file at a time. It is stored under a
random name, readable and writable by the service's user only, never executable
and never served.
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import secrets
import sys
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, List, Optional
from urllib.parse import unquote

import filetype
from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from reference_services.claims import file_content
from reference_services.claims.models import ClaimDocument
from reference_services.errors import ServiceError

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

# The child process that reads a whole file (it bounds its own processor time and memory);
# the service waits CHECK_SECONDS at most, then kills it. One at a time per service process:
# one decoded photo at most in memory.
FILE_CONTENT_SCRIPT = Path(__file__).with_name("file_content.py")
CHECK_SECONDS = 20
_checks = asyncio.Semaphore(1)


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
    """The file as it will be stored, or the refusal: `check_file`, then the whole file read
    as its type in a child process (unsupported_type when it does not, with the limit when
    a photo has too many pixels to be decoded)."""
    checked = check_file(data, claimed_type, raw_filename, max_bytes)
    async with _checks:
        verdict = await _verdict_of_child(checked.content_type, data)
    if verdict.startswith(file_content.TOO_MANY_PIXELS + ":"):
        limit = int(verdict.partition(":")[2])
        raise ServiceError("unsupported_type",
                           f"La photo est trop grande ({limit // 1_000_000} millions de pixels au plus).")
    if verdict != file_content.READABLE:
        raise ServiceError("unsupported_type")
    return checked


async def _verdict_of_child(content_type: str, data: bytes) -> str:
    try:
        child = await asyncio.create_subprocess_exec(
            sys.executable, "-I", str(FILE_CONTENT_SCRIPT), content_type,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL,
            env={}, cwd="/",  # nothing of the service's settings or secrets
        )
    except OSError as error:
        logger.error("cannot start the check of an upload: %s", type(error).__name__)
        raise ServiceError("service_unavailable") from None
    try:
        output, _ = await asyncio.wait_for(child.communicate(data), CHECK_SECONDS)
    except asyncio.TimeoutError:
        logger.warning("upload refused: not read within %d s", CHECK_SECONDS)
        return file_content.UNREADABLE
    finally:
        if child.returncode is None:  # timed out, or the request was cancelled
            child.kill()
            await child.wait()
    if child.returncode != 0:  # its processor time or memory ran out, or a decoder failed hard
        logger.warning("upload refused: its check ended with status %s", child.returncode)
        return file_content.UNREADABLE
    verdict = output.decode("ascii", "replace").strip()
    if verdict != file_content.READABLE:
        logger.info("upload refused: %s", verdict)
    return verdict


def check_file(data: bytes, claimed_type: Optional[str], raw_filename: Optional[str],
               max_bytes: int) -> CheckedFile:
    """The file as it will be stored if its whole content reads as its type (`check_upload`),
    or the refusal: empty, too_large, unsupported_type (first bytes and declared type)."""
    if not data:
        raise ServiceError("empty")
    if len(data) > max_bytes:
        raise ServiceError("too_large", _too_large_message(max_bytes), max_bytes=max_bytes)
    detected = detected_type(data)
    if detected is None:
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
