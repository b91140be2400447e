"""Small real files of the types customers send (a photo, a screenshot, a scanned invoice),
and the structure of an iPhone photo (HEIC)."""
import io
import struct

from PIL import Image
from reportlab.pdfgen import canvas


def jpeg_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 120, 40)).save(buffer, "JPEG")
    return buffer.getvalue()


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGBA", (32, 32), (0, 90, 200, 255)).save(buffer, "PNG")
    return buffer.getvalue()


def webp_bytes() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (48, 32), (30, 160, 90)).save(buffer, "WEBP")
    return buffer.getvalue()


def pdf_bytes() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Facture de plomberie")
    page.save()
    return buffer.getvalue()


def box(kind: bytes, payload: bytes) -> bytes:
    """An ISO-BMFF box (the building block of HEIC files)."""
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def full_box(kind: bytes, payload: bytes, version: int = 0) -> bytes:
    return box(kind, bytes([version, 0, 0, 0]) + payload)


def heic_bytes(brand: bytes = b"heic", handler: bytes = b"pict") -> bytes:
    """The boxes of a one-picture HEIC photo as an iPhone writes them (file type, the `meta`
    box describing the picture, its data); the data is no real HEVC picture: nothing
    installed encodes one, and the claims service reads a HEIC file's structure only."""
    picture = bytes(32)
    properties = box(b"ipco", full_box(b"ispe", struct.pack(">II", 64, 48)))
    properties += full_box(b"ipma", struct.pack(">IHBB", 1, 1, 1, 0x81))

    def meta(data_offset: int) -> bytes:
        return full_box(b"meta", b"".join([
            full_box(b"hdlr", bytes(4) + handler + bytes(13)),
            full_box(b"pitm", struct.pack(">H", 1)),
            full_box(b"iinf", struct.pack(">H", 1) + full_box(b"infe", struct.pack(">HH", 1, 0) + b"hvc1\x00", 2)),
            box(b"iprp", properties),
            full_box(b"iloc", bytes([0x44, 0x00]) + struct.pack(">HHHHII", 1, 1, 0, 1, data_offset, len(picture))),
        ]))

    file_type = box(b"ftyp", brand + bytes(4) + b"mif1heic")
    data_offset = len(file_type) + len(meta(0)) + 8
    return file_type + meta(data_offset) + box(b"mdat", picture)
