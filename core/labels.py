"""French labels of the services' codes and values, for the customer's eyes (or ears)."""

import datetime as dt
from typing import Any, Optional

from babel.dates import format_date
from babel.numbers import format_currency

from core.service_contract import Claim, Contract

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

FREQUENCY_LABELS = {"mensuelle": "par mois", "trimestrielle": "par trimestre", "annuelle": "par an"}

PAYMENT_METHOD_LABELS = {
    "prelevement": "par prélèvement",
    "carte_bancaire": "par carte bancaire",
    "cheque": "par chèque",
}

# A line of the claim's read-back with nothing to tell.
NOT_APPLICABLE = "sans objet"
NO_ATTACHMENTS = "aucune"

# The intents that are requests of their own: offered on the buttons of « Vouliez-vous
# dire … ? » and named in « Passons à votre deuxième demande : … ». What each is called
# is a domain response in its flow's domain file (request_title_response).
REQUESTS = (
    "login_problem", "forgot_password", "lost_identifier", "account_locked", "sms_code_issue",
    "declare_claim", "claim_status", "send_documents", "expert_visit", "indemnification_info",
    "request_attestation", "contract_info", "payment_info", "change_payment_method", "modify_coverage",
    "terminate_contract", "update_personal_info", "beneficiary_clause", "bonus_malus", "request_quote",
    "contact_info", "complaint", "document_retention", "data_privacy", "request_human", "ask_capabilities",
    "simulate_contract_change", "set_alert", "list_alerts",
)
REQUEST_TITLE_PREFIX = "utter_request_title_"


def request_title_response(intent: str) -> str:
    """The domain response that says what the request `intent` is called."""
    return REQUEST_TITLE_PREFIX + intent


def date_label(value: Optional[dt.date]) -> str:
    """« 3 décembre 2026 »."""
    if value is None:
        return ""
    if isinstance(value, str):
        value = dt.date.fromisoformat(value[:10])
    return format_date(value, format="d MMMM y", locale="fr_FR")


def time_label(moment: dt.datetime) -> str:
    """« 10 h 00 » from a timestamp in the insurer's time zone (as the services give it)."""
    return f"{moment.hour} h {moment.minute:02d}"


def euros(amount: Any) -> str:
    """« 1 234,50 € » (French number format)."""
    return format_currency(float(amount or 0), "EUR", locale="fr_FR")


def contract_label(contract: Contract) -> str:
    """« HAB-120034 – assurance habitation, 12 rue Ricard, Niort »."""
    label = f"{contract.contract_number} – {PRODUCT_LABELS.get(contract.product, contract.product)}"
    vehicle = contract.insured_vehicle
    address = contract.insured_address
    if vehicle:
        label += f", {vehicle.make} {vehicle.model} {vehicle.plate}"
    elif address:
        label += f", {address.street}, {address.city}"
    return label


def claim_label(claim: Claim) -> str:
    """« SIN-2026-000731 – dégât des eaux du 3 décembre 2026 »."""
    kind = CLAIM_TYPE_LABELS.get(claim.claim_type, claim.claim_type.value)
    return f"{claim.claim_number} – {kind} du {date_label(claim.occurred_on)}"
