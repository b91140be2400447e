"""Whether a file is, whole, the photo or PDF its first bytes announce.

The claims service runs this file in a child process for every upload
(`python -I file_content.py TYPE`, the file on standard input, one verdict on
standard output), so that a forged file costs at most CPU_SECONDS of processor and
MEMORY_BYTES of memory, never the service's event loop, and a decoder that fails hard
takes only the child down. It stands alone (Pillow, pypdf and the standard library):
the child gets an empty environment, no settings and no secrets.

- JPEG, PNG, WebP: decoded by Pillow (a JPEG at an eighth of its width and height:
  libjpeg still reads every coded block; a PNG's chunk checksums verified first), one
  picture, not an animation, within MAX_PIXELS.
- PDF: `%PDF-` first, `%%EOF` in the last kilobyte (where readers look for it), then
  parsed by pypdf down to at least one page. Nothing in it is run.
- HEIC: nothing installed decodes HEVC pictures, so its structure is read: ISO-BMFF
  boxes that tile the file, an `ftyp` box naming a HEVC image brand, one `meta` box
  with a `pict` handler, the primary item, the items, their locations and properties,
  and their data (`mdat`, or `idat` inside `meta`).
"""
from __future__ import annotations

import io
import re
import resource
import struct
import sys
from typing import List, Optional, Tuple

READABLE = "readable"
UNREADABLE = "unreadable"
TOO_MANY_PIXELS = "too_many_pixels"  # followed by ":" and the limit

# What Pillow reads each photo type as (a JPEG holding several pictures is an MPO).
PILLOW_FORMATS = {"image/jpeg": ("JPEG", "MPO"), "image/png": ("PNG",), "image/webp": ("WEBP",)}
# Pixels bound the memory a check holds. A JPEG is decoded at an eighth of its width and
# height, up to Pillow's own limit (Image.MAX_IMAGE_PIXELS, about 89 million pixels: the
# largest phone photos); a PNG whole, 4 bytes a pixel at most (160 MB); a WebP whole,
# through libwebp's animation decoder, about 15 bytes a pixel (180 MB).
MAX_PIXELS = {"PNG": 40_000_000, "WEBP": 12_000_000}
# What the child may use: the largest photo allowed above takes about 250 MB to decode.
MEMORY_BYTES = 320 * 1024 * 1024
CPU_SECONDS = 10
# ISO-BMFF brands of HEIF files whose pictures are HEVC-coded (HEIC).
HEIC_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx"})
# Boxes a HEIC photo's `meta` box holds: what the picture is, which item is the picture,
# the items, where their data lies, their properties (size, colour...).
HEIC_META_BOXES = frozenset({b"hdlr", b"pitm", b"iinf", b"iloc", b"iprp"})
MAX_BOXES = 64  # a photo has a handful at each level
PDF_END_WINDOW = 1024

_BOX_TYPE = re.compile(rb"[A-Za-z0-9 ]{4}")


class TooManyPixels(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def verdict(content_type: str, data: bytes) -> str:
    """READABLE, UNREADABLE, or TOO_MANY_PIXELS:<limit>."""
    try:
        return READABLE if reads_as(content_type, data) else UNREADABLE
    except TooManyPixels as refusal:
        return f"{TOO_MANY_PIXELS}:{refusal.limit}"


def reads_as(content_type: str, data: bytes) -> bool:
    """Whether the whole of `data` reads as a file of `content_type` (an accepted type);
    TooManyPixels for a photo too large to be decoded here."""
    if content_type == "application/pdf":
        return _reads_as_pdf(data)
    if content_type == "image/heic":
        return _has_heic_boxes(data)
    return _decodes_as_photo(data, PILLOW_FORMATS[content_type])


def _decodes_as_photo(data: bytes, formats: Tuple[str, ...]) -> bool:
    from PIL import Image  # here: a PDF's check does without it (the child starts faster)

    try:
        with Image.open(io.BytesIO(data), formats=list(formats)) as image:
            if image.format not in formats:
                return False
            if getattr(image, "is_animated", False) and image.format != "MPO":
                return False  # an animation is no photo
            width, height = image.size
            limit = MAX_PIXELS.get(image.format, Image.MAX_IMAGE_PIXELS)
            if width * height > limit:
                raise TooManyPixels(limit)
            if image.format in ("JPEG", "MPO"):
                image.draft(image.mode, (max(1, width // 8), max(1, height // 8)))
            if image.format == "PNG":
                image.verify()
                with Image.open(io.BytesIO(data), formats=["PNG"]) as reopened:  # verify() spends an image
                    reopened.load()
            else:
                image.load()
    except Image.DecompressionBombError:  # twice Pillow's limit: refused before any decoding
        raise TooManyPixels(Image.MAX_IMAGE_PIXELS) from None
    except TooManyPixels:
        raise
    except Exception:  # whatever a damaged or forged file makes the decoders raise
        return False
    return True


def _reads_as_pdf(data: bytes) -> bool:
    if not data.startswith(b"%PDF-") or b"%%EOF" not in data[-PDF_END_WINDOW:]:
        return False
    from pypdf import PdfReader  # here: a photo's check does without it (the child starts faster)

    try:
        # Lenient, as readers are with scanners' PDFs: the cross-reference table may be
        # rebuilt, but a document catalogue and at least one page must be found.
        return len(PdfReader(io.BytesIO(data), strict=False).pages) > 0
    except Exception:  # whatever a damaged or forged file makes the parser raise
        return False


def _has_heic_boxes(data: bytes) -> bool:
    boxes = _boxes(data, 0, len(data))
    if not boxes or boxes[0][0] != b"ftyp":
        return False
    _, start, end = boxes[0]
    brands = data[start:end]  # major brand, minor version, compatible brands
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


def main() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    resource.setrlimit(resource.RLIMIT_CPU, (CPU_SECONDS, CPU_SECONDS))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # it writes no file (its verdict goes to a pipe)
    content_type = sys.argv[1]
    data = sys.stdin.buffer.read()
    sys.stdout.write(verdict(content_type, data) + "\n")


if __name__ == "__main__":
    main()
