"""The quote (devis) as a real PDF (reportlab), e-mailed as an attachment: the risk as it
was priced, each formula with its guarantees, deductible and premiums, the tariff's version
and how long the prices hold. Fonts as the attestation's (embedded Bitstream Vera)."""
from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import date
from typing import Any, Mapping, Sequence
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from core.clock import french_date
from reference_services.documents.attestation import (
    INSURER_ADDRESS,
    INSURER_CONTACT,
    INSURER_NAME,
    _register_fonts,
    _styles,
)

TITLES = {"auto": "Devis d'assurance automobile", "habitation": "Devis d'assurance habitation"}
USAGES = {"prive": "privé", "trajets": "privé et trajets domicile-travail", "professionnel": "professionnel"}
PARKINGS = {"garage": "garage fermé", "parking": "parking", "rue": "dans la rue"}
OCCUPANTS = {"locataire": "locataire", "proprietaire": "propriétaire"}


def euros(cents: int) -> str:
    """« 1 234,50 € » from cents (plain spaces: every font has them)."""
    sign = "-" if cents < 0 else ""
    whole, rest = divmod(abs(int(cents)), 100)
    return f"{sign}{whole:,}".replace(",", " ") + f",{rest:02d} €"


def risk_lines(product: str, risk: Mapping[str, Any]) -> list[str]:
    """The priced risk, in French, one line per fact."""
    if product == "auto":
        vehicle = risk.get("vehicle_model") or "véhicule"
        group = f"groupe {risk['vehicle_group']}"
        if risk.get("vehicle_group_from") == "default":
            group += ", modèle non répertorié"
        return [
            f"Véhicule : {vehicle} de {risk['vehicle_year']} ({group})",
            f"Coefficient bonus-malus : {risk['bonus_malus']:.2f}".replace(".", ","),
            f"Usage : {USAGES.get(risk['usage'], risk['usage'])}",
            f"Stationnement la nuit : {PARKINGS.get(risk['parking'], risk['parking'])}",
            "Conducteur avec moins de 3 ans de permis : " + ("oui" if risk.get("young_driver") else "non"),
        ]
    rooms = risk["rooms"]
    size = f"{rooms} pièce{'s' if rooms > 1 else ''}"
    if risk.get("rooms_from") == "surface_m2":
        size += f" (d'après {risk['surface_m2']} m²)"
    return [
        f"Logement : {risk['housing']} de {size}",
        f"Code postal : {risk['postcode']} (zone {risk['zone']})",
        f"Vous êtes : {OCCUPANTS.get(risk['occupant'], risk['occupant'])}",
    ]


@dataclass(frozen=True)
class QuoteContent:
    reference: str
    product: str
    tariff_version: str
    created_on: date
    valid_until: date
    risk: Mapping[str, Any]
    formulas: Sequence[Mapping[str, Any]]


def render_quote(content: QuoteContent) -> bytes:
    """The PDF bytes of one quote (pure: no I/O besides reading the font once)."""
    _register_fonts()
    styles = _styles()
    buffer = io.BytesIO()
    title = TITLES.get(content.product, "Devis d'assurance")
    document = SimpleDocTemplate(
        buffer, pagesize=A4, leftMargin=20 * mm, rightMargin=20 * mm,
        topMargin=18 * mm, bottomMargin=18 * mm,
        title=f"{title} – {content.reference}", author=INSURER_NAME, subject=content.reference,
    )

    def para(text: str, style: str = "body") -> Paragraph:
        return Paragraph(escape(text), styles[style])

    story = [
        Paragraph(escape(INSURER_NAME), styles["insurer"]),
        para(INSURER_ADDRESS, "small"),
        para(INSURER_CONTACT, "small"),
        Spacer(1, 6 * mm),
        para(title, "title"),
        para(f"Devis n° {content.reference}, établi le {french_date(content.created_on)}, "
             f"valable jusqu'au {french_date(content.valid_until)} inclus."),
        para("Votre situation :"),
    ]
    story += [para(f"– {line}") for line in risk_lines(content.product, content.risk)]
    story.append(Spacer(1, 4 * mm))
    header = ("Formule", "Garanties", "Franchise", "Par mois", "Par an")
    rows = [[Paragraph(f"<b>{name}</b>", styles["small"]) for name in header]]
    for formula in content.formulas:
        rows.append([
            Paragraph(f"<b>{escape(formula['label'])}</b><br/>{escape(formula['summary'])}", styles["small"]),
            para(", ".join(formula["guarantees"]), "small"),
            para(f"{formula['deductible_eur']} €", "small"),
            para(euros(formula["monthly_premium_cents"]), "small"),
            para(euros(formula["annual_premium_cents"]), "small"),
        ])
    table = Table(rows, colWidths=[42 * mm, 56 * mm, 24 * mm, 24 * mm, 24 * mm], repeatRows=1)
    table.setStyle(TableStyle([
        ("GRID", (0, 0), (-1, -1), 0.5, colors.HexColor("#999999")),
        ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6f2ec")),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
    ]))
    story += [
        table,
        Spacer(1, 6 * mm),
        para("Primes toutes taxes comprises. La prime mensuelle est le douzième de la prime annuelle, "
             "arrondi au centime."),
        para("Pour souscrire, répondez à l'assistant ou appelez le 0825 07 11 22 en rappelant le "
             f"numéro du devis {content.reference} : un conseiller vérifie vos informations avec vous."),
        Spacer(1, 6 * mm),
        para(f"Tarif {content.tariff_version}. Ce devis est établi d'après les informations "
             "déclarées ; il ne vaut pas contrat. Les prix sont garantis jusqu'à la date de "
             "validité ci-dessus.", "small"),
    ]
    document.build(story)
    return buffer.getvalue()
