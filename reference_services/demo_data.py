"""The demo customers of spec §6, loaded into an empty database.

The spec fixes names, identifiers, contracts and claims; the rest (addresses,
dates, premiums, guarantees, history) is invented, plausible and consistent.
"""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.clock import now_utc, paris_time
from reference_services.claims.models import Claim, ClaimDocument, ClaimPhaseEvent
from reference_services.policy.adviser_accounts import hash_password
from reference_services.policy.models import Adviser, Contract, Customer

AUTO_GUARANTEES_FULL = [
    {"code": "responsabilite_civile_auto", "label": "Responsabilité civile"},
    {"code": "dommages_tous_accidents", "label": "Dommages tous accidents"},
    {"code": "bris_de_glace", "label": "Bris de glace"},
    {"code": "vol_incendie", "label": "Vol et incendie"},
    {"code": "catastrophes_naturelles", "label": "Catastrophes naturelles et technologiques"},
    {"code": "garantie_conducteur", "label": "Garantie du conducteur"},
    {"code": "assistance", "label": "Assistance 0 km"},
]
AUTO_GUARANTEES_THIRD_PARTY_PLUS = [
    {"code": "responsabilite_civile_auto", "label": "Responsabilité civile"},
    {"code": "bris_de_glace", "label": "Bris de glace"},
    {"code": "vol_incendie", "label": "Vol et incendie"},
    {"code": "catastrophes_naturelles", "label": "Catastrophes naturelles et technologiques"},
    {"code": "assistance", "label": "Assistance 50 km"},
]
HOME_GUARANTEES = [
    {"code": "incendie", "label": "Incendie et événements assimilés"},
    {"code": "degats_des_eaux", "label": "Dégâts des eaux"},
    {"code": "vol_vandalisme", "label": "Vol et vandalisme"},
    {"code": "bris_de_glace_habitation", "label": "Bris de glace (vitres et miroirs)"},
    {"code": "tempete_grele_neige", "label": "Tempête, grêle et poids de la neige"},
    {"code": "catastrophes_naturelles", "label": "Catastrophes naturelles et technologiques"},
    {"code": "responsabilite_civile_vie_privee", "label": "Responsabilité civile vie privée"},
    {"code": "assistance", "label": "Assistance au domicile"},
]
PROVIDENT_GUARANTEES = [
    {"code": "capital_deces", "label": "Capital décès : 150 000 €"},
    {"code": "invalidite", "label": "Invalidité absolue et définitive"},
    {"code": "incapacite_de_travail", "label": "Indemnités journalières en cas d'arrêt de travail"},
]
TEN_YEAR_GUARANTEES = [
    {"code": "responsabilite_civile_decennale", "label": "Responsabilité civile décennale"},
    {
        "code": "responsabilite_civile_professionnelle",
        "label": "Responsabilité civile professionnelle (exploitation et après travaux)",
    },
    {"code": "protection_juridique", "label": "Protection juridique professionnelle"},
]


def demo_customers(created_at) -> list[Customer]:
    common = {"created_at": created_at}
    return [
        Customer(
            customer_id="10000001", first_name="Marie", last_name="Dupont",
            birth_date=date(1985, 3, 12), email="marie.dupont@example.fr",
            phone="+33612345678", street="14 rue Ricard", postcode="79000", city="Niort",
            **common,
        ),
        Customer(
            customer_id="10000002", first_name="Karim", last_name="Benali",
            birth_date=date(1978, 7, 30), email="karim.benali@example.fr",
            phone="+33723456789", street="27 rue Paul Bert", postcode="69003", city="Lyon",
            **common,
        ),
        Customer(
            customer_id="10000003", first_name="Sophie", last_name="Martin",
            birth_date=date(1990, 11, 5), email="s.martin@example.fr",
            phone="+33698765432", street="8 rue de la Cathédrale", postcode="86000",
            city="Poitiers", **common,
        ),
    ]


def demo_contracts() -> list[Contract]:
    return [
        Contract(
            contract_number="AUT-482913", customer_id="10000001", product="auto",
            label="Auto Confort – Peugeot 208", status="active",
            start_date=date(2021, 3, 1), next_due_date=date(2027, 3, 1),
            premium_cents=4890, premium_frequency="mensuelle", payment_method="prelevement",
            franchise_cents=30000, bonus_malus=0.68,
            vehicle_make="Peugeot", vehicle_model="208", vehicle_plate="AB-123-CD",
            guarantees=AUTO_GUARANTEES_FULL,
            risk={"vehicle_year": 2019, "usage": "trajets", "parking": "garage", "young_driver": False},
        ),
        Contract(
            contract_number="HAB-120034", customer_id="10000001", product="habitation",
            label="Habitation Confort – appartement 3 pièces", status="active",
            start_date=date(2019, 1, 15), next_due_date=date(2027, 1, 15),
            premium_cents=2340, premium_frequency="mensuelle", payment_method="prelevement",
            franchise_cents=15000,
            insured_street="14 rue Ricard", insured_postcode="79000", insured_city="Niort",
            guarantees=HOME_GUARANTEES,
            risk={"housing": "appartement", "rooms": 3, "occupant": "locataire"},
        ),
        Contract(
            contract_number="AUT-559120", customer_id="10000002", product="auto",
            label="Auto Tiers Plus – Renault Clio", status="active",
            start_date=date(2022, 9, 10), next_due_date=date(2027, 9, 10),
            premium_cents=3950, premium_frequency="mensuelle", payment_method="prelevement",
            franchise_cents=25000, bonus_malus=0.85,
            vehicle_make="Renault", vehicle_model="Clio", vehicle_plate="EF-456-GH",
            guarantees=AUTO_GUARANTEES_THIRD_PARTY_PLUS,
            risk={"vehicle_year": 2017, "usage": "prive", "parking": "rue", "young_driver": False},
        ),
        Contract(
            contract_number="PRV-300871", customer_id="10000002", product="prevoyance",
            label="Prévoyance Famille", status="active",
            start_date=date(2020, 2, 1), next_due_date=date(2027, 2, 1),
            premium_cents=3200, premium_frequency="mensuelle", payment_method="prelevement",
            beneficiary_clause=(
                "Mon conjoint, à défaut mes enfants nés ou à naître, par parts égales, "
                "à défaut mes héritiers."
            ),
            guarantees=PROVIDENT_GUARANTEES,
        ),
        Contract(
            contract_number="PRO-700215", customer_id="10000003", product="pro",
            label="RC Décennale Artisan du bâtiment – plomberie", status="active",
            start_date=date(2021, 4, 1), next_due_date=date(2027, 4, 1),
            premium_cents=124000, premium_frequency="annuelle", payment_method="prelevement",
            franchise_cents=50000,
            insured_street="8 rue de la Cathédrale", insured_postcode="86000",
            insured_city="Poitiers",
            insured_activity="Plomberie, chauffage et installations sanitaires",
            guarantees=TEN_YEAR_GUARANTEES,
        ),
        Contract(
            contract_number="HAB-099812", customer_id="10000003", product="habitation",
            label="Habitation Essentielle – studio", status="terminated",
            start_date=date(2018, 7, 1), end_date=date(2025, 6, 30), next_due_date=None,
            premium_cents=1490, premium_frequency="mensuelle", payment_method="prelevement",
            franchise_cents=15000,
            insured_street="3 rue Carnot", insured_postcode="86000", insured_city="Poitiers",
            guarantees=HOME_GUARANTEES,
            risk={"housing": "appartement", "rooms": 1, "occupant": "locataire"},
        ),
    ]


def demo_claims() -> list[Claim]:
    water_damage = Claim(
        claim_number="SIN-2026-000731", customer_id="10000001",
        contract_number="HAB-120034", claim_type="degat_des_eaux",
        occurred_on=date(2026, 11, 9), declared_at=paris_time(2026, 11, 9, 20, 14),
        place="Appartement, 14 rue Ricard, 79000 Niort (salle de bains et couloir)",
        circumstances=(
            "Fuite sur le raccord d'alimentation de la baignoire, découverte au retour "
            "du travail ; l'eau s'est infiltrée sous le carrelage jusqu'au couloir."
        ),
        damage=(
            "Parquet du couloir gondolé sur environ 6 m², plinthes à remplacer, "
            "plafond du voisin du dessous taché."
        ),
        third_party="Voisin du dessous, appartement 2B : constat amiable dégâts des eaux rempli.",
        witnesses=None, channel="widget", phase="expertise",
        expert_appointment=paris_time(2026, 12, 3, 10, 0), amount_paid_cents=0,
        events=[
            ClaimPhaseEvent(phase="declaration", at=paris_time(2026, 11, 9, 20, 14)),
            ClaimPhaseEvent(phase="ouverture", at=paris_time(2026, 11, 10, 9, 30)),
            ClaimPhaseEvent(phase="expertise", at=paris_time(2026, 11, 16, 14, 5)),
        ],
        documents=[
            ClaimDocument(
                document_id="5d2c0e0a9b1f4c7e8a3d6b2f1e0c9a71", filename="photos-couloir.jpg",
                content_type="image/jpeg", size=2_348_112,
                uploaded_at=paris_time(2026, 11, 9, 20, 20),
            ),
            ClaimDocument(
                document_id="8f4e2a1c7b3d4e5f9a0b1c2d3e4f5a61",
                filename="constat-amiable-degats-des-eaux.pdf",
                content_type="application/pdf", size=412_530,
                uploaded_at=paris_time(2026, 11, 10, 18, 2),
            ),
        ],
    )
    windscreen = Claim(
        claim_number="SIN-2026-000415", customer_id="10000002",
        contract_number="AUT-559120", claim_type="bris_de_glace",
        occurred_on=date(2026, 5, 18), declared_at=paris_time(2026, 5, 18, 19, 2),
        place="Autoroute A7, entre Lyon et Vienne",
        circumstances=(
            "Projection d'un gravillon par un poids lourd : impact puis fissure du pare-brise."
        ),
        damage="Pare-brise fissuré sur 30 cm, remplacé chez un réparateur agréé.",
        third_party=None, witnesses=None, channel="telephone", phase="cloture",
        expert_appointment=None, amount_paid_cents=41200,
        events=[
            ClaimPhaseEvent(phase="declaration", at=paris_time(2026, 5, 18, 19, 2)),
            ClaimPhaseEvent(phase="ouverture", at=paris_time(2026, 5, 19, 10, 15)),
            ClaimPhaseEvent(phase="indemnisation", at=paris_time(2026, 5, 27, 11, 0)),
            ClaimPhaseEvent(phase="cloture", at=paris_time(2026, 6, 3, 16, 30)),
        ],
        documents=[
            ClaimDocument(
                document_id="b7c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5",
                filename="facture-remplacement-pare-brise.pdf",
                content_type="application/pdf", size=186_204,
                uploaded_at=paris_time(2026, 5, 21, 9, 12),
            ),
        ],
    )
    return [water_damage, windscreen]


def load_demo_data(session: Session) -> None:
    """Add the demo customers, contracts and claims (the caller commits)."""
    session.add_all(demo_customers(now_utc()))
    session.flush()
    session.add_all(demo_contracts())
    session.flush()
    session.add_all(demo_claims())


# The advisers' console's demo accounts: (login, name the customer sees, role).
DEMO_ADVISERS = (
    ("conseiller", "Camille Martin", "adviser"),
    ("superviseur", "Julien Roche", "supervisor"),
)


def load_demo_advisers(session: Session, password: str) -> None:
    """Create the demo advisers, or give them `password` again (and unlock them): the
    current ADVISER_DEMO_PASSWORD always opens them. None without a password."""
    if not password:
        return
    for login, display_name, role in DEMO_ADVISERS:
        adviser = session.execute(select(Adviser).where(Adviser.login == login)).scalar_one_or_none()
        if adviser is None:
            adviser = Adviser(login=login, display_name=display_name, role=role, created_at=now_utc())
            session.add(adviser)
        adviser.password_hash = hash_password(password)
        adviser.failed_logins = 0
        adviser.locked_until = None
