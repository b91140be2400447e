"""French labels of the services' codes and values, for the customer's eyes (or ears)."""

import datetime as dt
from typing import Any, Dict, Optional

from babel.dates import format_date
from babel.numbers import format_currency

CLAIM_TYPE_LABELS = {
    "accident_auto": "accident de la route",
    "bris_de_glace": "bris de glace",
    "vol": "vol ou cambriolage",
    "degat_des_eaux": "dégât des eaux",
    "incendie": "incendie",
    "catastrophe_naturelle": "catastrophe naturelle",
    "responsabilite_civile": "dommage causé à autrui (responsabilité civile)",
}

PRODUCT_LABELS = {
    "auto": "assurance auto",
    "habitation": "assurance habitation",
    "sante": "complémentaire santé",
    "prevoyance": "prévoyance",
    "pro": "assurance professionnelle",
}

# What a request is called on the buttons of « Vouliez-vous dire … ? ».
REQUEST_TITLES = {
    "login_problem": "Connexion impossible",
    "forgot_password": "Mot de passe oublié",
    "lost_identifier": "Identifiant perdu",
    "account_locked": "Compte bloqué",
    "sms_code_issue": "Code SMS non reçu",
    "declare_claim": "Déclarer un sinistre",
    "claim_status": "Suivre un sinistre",
    "send_documents": "Envoyer un document",
    "expert_visit": "Visite de l'expert",
    "indemnification_info": "Mon indemnisation",
    "request_attestation": "Une attestation",
    "contract_info": "Mes contrats",
    "payment_info": "Mes paiements",
    "change_payment_method": "Changer de RIB",
    "modify_coverage": "Changer de garanties",
    "terminate_contract": "Résilier un contrat",
    "update_personal_info": "Mes coordonnées",
    "beneficiary_clause": "Clause bénéficiaire",
    "bonus_malus": "Mon bonus-malus",
    "request_quote": "Demander un devis",
    "contact_info": "Nous contacter",
    "complaint": "Une réclamation",
    "document_retention": "Garder mes papiers",
    "data_privacy": "Mes données",
    "request_human": "Un conseiller",
    "ask_capabilities": "Ce que je sais faire",
}


def date_label(value: Optional[dt.date]) -> str:
    """« 3 décembre 2026 »."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return format_date(value, format="d MMMM y", locale="fr_FR")


def time_label(moment: str) -> str:
    """« 10 h 00 » from an ISO timestamp in the insurer's time zone."""
    parsed = dt.datetime.fromisoformat(moment)
    return f"{parsed.hour} h {parsed.minute:02d}"


def euros(amount: Any) -> str:
    """« 1 234,50 € » (French number format)."""
    return format_currency(float(amount or 0), "EUR", locale="fr_FR")


def contract_label(contract: Dict[str, Any]) -> str:
    """« HAB-120034 – assurance habitation, 12 rue Ricard, Niort »."""
    label = f"{contract['contract_number']} – {PRODUCT_LABELS.get(contract['product'], contract['product'])}"
    vehicle = contract.get("insured_vehicle")
    address = contract.get("insured_address")
    if vehicle:
        label += f", {vehicle['make']} {vehicle['model']} {vehicle['plate']}"
    elif address:
        label += f", {address['street']}, {address['city']}"
    return label
