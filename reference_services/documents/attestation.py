"""The attestation d'assurance as a real PDF (reportlab).

The text uses Bitstream Vera, shipped with reportlab, embedded as a TrueType
subset: accents, « », € and – come out right, also when the text is extracted.
"""
from __future__ import annotations

import functools
import io
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Optional, Sequence
from xml.sax.saxutils import escape

import reportlab
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

from core.clock import add_years, french_date

INSURER_NAME = "Oyat Assurance"
INSURER_ADDRESS = "CS 38735 – 79027 Niort Cedex"
INSURER_CONTACT = "0825 07 11 22 – contact@oyat-assurances.fr"

FONT = "OyatVera"
FONT_BOLD = "OyatVera-Bold"

PRODUCT_NAMES = {
    "auto": "assurance automobile",
    "habitation": "assurance habitation",
    "sante": "complémentaire santé",
    "prevoyance": "assurance prévoyance",
    "pro": "assurance professionnelle",
}

TITLES = {
    "auto": "Attestation d'assurance automobile",
    "habitation": "Attestation d'assurance habitation",
    "sante": "Attestation d'adhésion à la complémentaire santé",
    "prevoyance": "Attestation d'assurance prévoyance",
    "pro": "Attestation d'assurance professionnelle",
}


@dataclass(frozen=True)
class AttestationContent:
    """Everything printed on an attestation."""

    reference: str
    kind: str  # standard | scolaire
    product: str
    contract_number: str
    contract_label: str
    holder_name: str
    holder_address: Sequence[str]
    valid_from: date
    valid_to: date
    issued_on: date
    vehicle: Optional[str] = None  # "Peugeot 208, immatriculé AB-123-CD"
    insured_address: Optional[str] = None
    insured_activity: Optional[str] = None
    ten_year_liability: bool = False
    guarantees: Sequence[str] = field(default_factory=tuple)


def validity_period(start_date: date, next_due_date: Optional[date]) -> tuple[date, date]:
    """The current insurance year: from the later of the start date and one year
    before the next due date, to the day before the next due date."""
    if next_due_date is None:
        next_due_date = add_years(start_date, 1)
    valid_from = max(start_date, add_years(next_due_date, -1))
    return valid_from, next_due_date - timedelta(days=1)


def title_for(content: AttestationContent) -> str:
    if content.kind == "scolaire":
        return "Attestation d'assurance scolaire et extrascolaire"
    if content.product == "pro" and content.ten_year_liability:
        return "Attestation d'assurance de responsabilité civile décennale"
    return TITLES.get(content.product, "Attestation d'assurance")


def _statements(content: AttestationContent) -> list[str]:
    """The paragraphs that depend on the product and kind (plain text)."""
    if content.kind == "scolaire":
        return [
            f"{INSURER_NAME} certifie que les enfants de l'assuré(e), vivant à son foyer, "
            "sont couverts par la garantie « Responsabilité civile vie privée » de ce contrat "
            "pour les dommages corporels, matériels et immatériels qu'ils pourraient causer "
            "à autrui au cours de leurs activités scolaires et extrascolaires (trajets, "
            "sorties, cantine, activités sportives et de loisirs), pendant la période de "
            "validité indiquée ci-dessous.",
        ]
    if content.product == "pro" and content.ten_year_liability:
        return [
            f"{INSURER_NAME} atteste que l'entreprise désignée ci-dessus est titulaire d'un "
            "contrat d'assurance de responsabilité civile décennale conforme à l'obligation "
            "d'assurance des articles L. 241-1 et L. 241-2 du Code des assurances.",
            f"Activités déclarées et garanties : {content.insured_activity or 'voir contrat'}.",
            "La garantie s'applique aux chantiers ouverts pendant la période de validité "
            "ci-dessous, réalisés en France métropolitaine.",
        ]
    statements = []
    if content.vehicle:
        statements.append(f"Véhicule assuré : {content.vehicle}.")
        statements.append(
            "Ce contrat satisfait à l'obligation d'assurance de responsabilité civile "
            "automobile (article L. 211-1 du Code des assurances)."
        )
    if content.insured_address:
        statements.append(f"Adresse du logement assuré : {content.insured_address}.")
    return statements


@functools.lru_cache(maxsize=1)
def _register_fonts() -> None:
    fonts_dir = Path(reportlab.__file__).resolve().parent / "fonts"
    pdfmetrics.registerFont(TTFont(FONT, str(fonts_dir / "Vera.ttf")))
    pdfmetrics.registerFont(TTFont(FONT_BOLD, str(fonts_dir / "VeraBd.ttf")))


def _styles() -> dict[str, ParagraphStyle]:
    body = ParagraphStyle("body", fontName=FONT, fontSize=10.5, leading=15, spaceAfter=6)
    return {
        "insurer": ParagraphStyle("insurer", parent=body, fontName=FONT_BOLD, fontSize=16,
                                  leading=20, textColor=colors.HexColor("#0b5d3b")),
        "small": ParagraphStyle("small", parent=body, fontSize=8.5, leading=11,
                                textColor=colors.HexColor("#444444")),
        "title": ParagraphStyle("title", parent=body, fontName=FONT_BOLD, fontSize=14,
                                leading=18, spaceBefore=10, spaceAfter=12),
        "body": body,
    }


def render_attestation(content: AttestationContent) -> bytes:
    """The PDF bytes of one attestation (pure: no I/O besides reading the font once)."""
    _register_fonts()
    styles = _styles()
    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=22 * mm, rightMargin=22 * mm,
        topMargin=20 * mm, bottomMargin=20 * mm,
        title=f"{title_for(content)} – {content.contract_number}",
        author=INSURER_NAME, subject=content.reference,
    )

    def para(text: str, style: str = "body") -> Paragraph:
        return Paragraph(escape(text), styles[style])

    def bold(label: str, value: str) -> Paragraph:
        return Paragraph(f"{escape(label)} <b>{escape(value)}</b>", styles["body"])

    story = [
        Paragraph(escape(INSURER_NAME), styles["insurer"]),
        para(INSURER_ADDRESS, "small"),
        para(INSURER_CONTACT, "small"),
        Spacer(1, 8 * mm),
        para(title_for(content), "title"),
        para(f"{INSURER_NAME} atteste que :"),
        Paragraph(
            "<b>" + escape(content.holder_name) + "</b><br/>"
            + "<br/>".join(escape(line) for line in content.holder_address),
            styles["body"],
        ),
        bold("est titulaire du contrat n°", content.contract_number),
        para(f"Produit : {PRODUCT_NAMES.get(content.product, content.product)} – "
             f"{content.contract_label}."),
    ]
    story += [para(text) for text in _statements(content)]
    story.append(bold(
        "Période de validité :",
        f"du {french_date(content.valid_from)} au {french_date(content.valid_to)} inclus",
    ))
    if content.guarantees:
        story.append(para("Garanties souscrites : " + ", ".join(content.guarantees) + "."))
    story += [
        Spacer(1, 6 * mm),
        para(f"Fait à Niort, le {french_date(content.issued_on)}."),
        bold("Référence de vérification :", content.reference),
        Spacer(1, 8 * mm),
        para(
            "La présente attestation ne peut engager l'assureur au-delà des conditions et "
            "limites du contrat auquel elle se réfère. Elle est délivrée sous réserve du "
            "paiement des cotisations. Pour vérifier son authenticité, appelez le "
            "0825 07 11 22 en indiquant la référence ci-dessus.",
            "small",
        ),
    ]
    document.build(story)
    return buffer.getvalue()
