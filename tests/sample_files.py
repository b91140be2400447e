"""Small real files of the types customers send (a photo, a screenshot, a scanned invoice)."""
import io

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


def pdf_bytes() -> bytes:
    buffer = io.BytesIO()
    page = canvas.Canvas(buffer)
    page.drawString(72, 720, "Facture de plomberie")
    page.save()
    return buffer.getvalue()
