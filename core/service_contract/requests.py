"""The request bodies of the services' routes. Unknown fields are refused: a misspelt
optional field must not be silently ignored."""
from enum import Enum
from typing import Any, List, Optional

from pydantic import BaseModel, Extra, Field, validator

from core.service_contract.fields import (
    Contact,
    Day,
    Flag,
    JsonObject,
    Password,
    PhoneNumber,
    SmsCode,
    UploadId,
    UploadIds,
    null_is_default,
    text,
)


class ClaimType(str, Enum):
    """What a claim is about."""

    accident_auto = "accident_auto"
    bris_de_glace = "bris_de_glace"
    vol = "vol"
    degat_des_eaux = "degat_des_eaux"
    incendie = "incendie"
    catastrophe_naturelle = "catastrophe_naturelle"
    responsabilite_civile = "responsabilite_civile"


class AttestationKind(str, Enum):
    """An attestation of the contract (standard) or a school certificate (scolaire)."""

    standard = "standard"
    scolaire = "scolaire"


class RequestKind(str, Enum):
    """The requests that need the insurer's approval."""

    payment_method_change = "payment_method_change"
    coverage_change = "coverage_change"
    termination = "termination"
    beneficiary_change = "beneficiary_change"
    personal_info_change = "personal_info_change"
    quote = "quote"
    complaint = "complaint"
    data_privacy = "data_privacy"


class RequestBody(BaseModel):
    class Config:
        extra = Extra.forbid
        use_enum_values = True  # handlers and the database get plain strings


class AttestationRequest(RequestBody):
    """Optional: an empty body asks for a standard attestation, not e-mailed."""

    kind: AttestationKind = AttestationKind.standard
    send_by_email: Flag = Field(False, description="Envoie aussi le lien à l'e-mail du dossier")

    _defaults = validator("kind", "send_by_email", pre=True, allow_reuse=True)(null_is_default)


class CustomerRequestInput(RequestBody):
    kind: RequestKind
    details: JsonObject = Field(default_factory=dict)
    contract_number: Optional[text(10)] = None

    _defaults = validator("details", pre=True, allow_reuse=True)(null_is_default)


class HandoffInput(RequestBody):
    customer_id: Optional[text(8)] = Field(
        None, nullable=True,
        description="Le client, s'il est identifié : son assertion d'identité est alors requise")
    channel: text(40)
    reason: text(200)
    summary: text(4000)
    conversation_id: Optional[text(128)] = Field(
        None, nullable=True,
        description="La conversation (son sender_id) : un conseiller peut la lire et y répondre")
    contact: Optional[Contact] = Field(
        None, nullable=True,
        description="Où rappeler un visiteur anonyme : téléphone (lu en E.164) ou e-mail")


# Where an identification happens: the identity assertion is issued for it. Wrong answers
# are counted per conversation and per source, never per customer (docs/identification.md).
class IdentifiedWhere(RequestBody):
    conversation_id: text(255) = Field(..., description="La conversation où le client s'identifie")
    channel: text(40) = Field(..., description="Son canal")


class AskedFrom(RequestBody):
    source: Optional[text(255)] = Field(
        None, description="L'adresse ou l'utilisateur de la plateforme d'où vient la "
                          "conversation, si le canal le donne")


class IdentityCheckInput(AskedFrom, IdentifiedWhere):
    birth_date: Day


class PhoneIdentityCheckInput(AskedFrom, IdentifiedWhere):
    phone_number: PhoneNumber
    birth_date: Day
    send_code: Flag = True
    channel_assertion: Optional[text(4000)] = Field(
        None, description="Le numéro signé par la ligne téléphonique pour cette conversation "
                          "(JWT, CHANNEL_ASSERTION_SECRET) : requis sans code (send_code false)")

    _defaults = validator("send_code", pre=True, allow_reuse=True)(null_is_default)


class CodeInput(AskedFrom, IdentifiedWhere):
    code: SmsCode


class SessionTokenInput(IdentifiedWhere):
    token: text(4000) = Field(..., description="Le jeton de session de l'espace client")


class ClaimDeclaration(RequestBody):
    contract_number: text(10)
    claim_type: ClaimType
    occurred_on: Day
    place: text(2000)
    circumstances: text(2000)
    damage: text(2000)
    third_party: Optional[text(2000)] = Field(None, nullable=True)
    witnesses: Optional[text(2000)] = Field(None, nullable=True)
    channel: Optional[text(40)] = Field(None, nullable=True)
    attachments: UploadIds = Field(
        default_factory=list,
        description="Fichiers reçus par POST /v1/uploads, joints au sinistre à sa création")

    _defaults = validator("attachments", pre=True, allow_reuse=True)(null_is_default)


class ClaimDocumentInput(RequestBody):
    upload_id: UploadId


# --- the advisers' console


class AdviserLoginInput(RequestBody):
    login: text(64)
    password: Password


MessageText = text(2000)  # the member below is named `text` too


class AdviserMessageInput(RequestBody):
    text: MessageText = Field(..., description="Ce que le conseiller écrit au client")


# --- A: quotes and simulations (issue 18). The risk's members are checked by the tariff
# (reference_services/policy/tariff.py): a refused one is named `risk.<member>` in `fields`.


class QuoteProduct(str, Enum):
    """What the tariff prices."""

    auto = "auto"
    habitation = "habitation"


class QuoteInput(RequestBody):
    product: QuoteProduct
    risk: JsonObject = Field(
        ..., description="auto : vehicle_model ou vehicle_group, vehicle_year, bonus_malus, usage, "
                         "parking, young_driver, deductible_eur ; habitation : housing, rooms ou "
                         "surface_m2, postcode, occupant, deductible_eur (docs/tariff.md)")
    customer_id: Optional[text(8)] = Field(
        None, nullable=True,
        description="Le client, s'il est identifié : son assertion d'identité est alors requise")


class QuoteEmailInput(RequestBody):
    email: Contact = Field(..., description="L'adresse où envoyer le devis en PDF")

    @validator("email")
    def _an_email(cls, value: str) -> str:
        if "@" not in value:
            raise ValueError("adresse e-mail invalide")
        return value


class QuoteFollowUpInput(RequestBody):
    formula: text(40) = Field(..., description="Le code de la formule choisie")
    channel: text(40)
    customer_id: Optional[text(8)] = Field(
        None, nullable=True,
        description="Le client, s'il est identifié : son assertion d'identité est alors requise")
    contact: Optional[Contact] = Field(
        None, nullable=True,
        description="Où rappeler un visiteur anonyme : téléphone (lu en E.164) ou e-mail (requis "
                    "sans customer_id)")
    conversation_id: Optional[text(128)] = Field(None, nullable=True)


class SimulationInput(RequestBody):
    deductible_eur: Optional[int] = Field(None, nullable=True,
                                          description="Une des franchises du tarif")
    add_guarantees: List[text(40)] = Field(default_factory=list, description="Codes de garanties")
    remove_guarantees: List[text(40)] = Field(default_factory=list, description="Codes de garanties")

    _defaults = validator("add_guarantees", "remove_guarantees", pre=True,
                          allow_reuse=True)(null_is_default)

    @validator("deductible_eur", pre=True)
    def _whole_euros(cls, value: Any) -> Any:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError("nombre entier d'euros attendu")
        return value


# --- C: alerts the customers set (issue 18)


class AlertKind(str, Enum):
    """What an alert reminds of."""

    due_date = "due_date"
    renewal = "renewal"
    unpaid_premium = "unpaid_premium"


class AlertChannel(str, Enum):
    """Where a reminder goes: by e-mail or SMS to the details on file, or in a conversation's
    channel (through the claim notices' consent there; by e-mail without one)."""

    email = "email"
    sms = "sms"
    widget = "widget"
    whatsapp = "whatsapp"
    telegram = "telegram"
    messenger = "messenger"


MAX_ALERT_DAYS_BEFORE = 180


class AlertInput(RequestBody):
    kind: AlertKind
    contract_number: Optional[text(10)] = Field(
        None, nullable=True, description="Le contrat ; absent : chacun des contrats en cours")
    days_before: int = Field(30, description=f"Combien de jours avant l'échéance (0 à "
                                             f"{MAX_ALERT_DAYS_BEFORE}) ; ignoré pour unpaid_premium")
    channel: AlertChannel = AlertChannel.email

    _defaults = validator("days_before", "channel", pre=True, allow_reuse=True)(null_is_default)

    @validator("days_before", pre=True)
    def _days(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_ALERT_DAYS_BEFORE:
            raise ValueError(f"nombre entier de jours de 0 à {MAX_ALERT_DAYS_BEFORE} attendu")
        return value


# --- D: claim notices (issue 15) ---------------------------------------------------------

class NoticeConsentInput(RequestBody):
    channel: text(40) = Field(..., description="widget, whatsapp, telegram ou messenger")
    conversation_id: text(200)
    reply_address_assertion: Optional[text(4000)] = Field(
        None, nullable=True, description="L'adresse de réponse signée par le canal "
        "(core/reply_address.py) ; absente : 401 reply_address_required")
    claim_number: Optional[text(15)] = Field(
        None, nullable=True, description="Le sinistre mis en file pendant une panne avec lequel "
        "ce consentement a été donné : son avis « enregistré » part alors, et l'adresse signée "
        "est acceptée expirée depuis moins de QUEUED_CLAIM_IDENTITY_GRACE_SECONDS")


class NoticeConsentWithdrawal(RequestBody):
    customer_id: Optional[text(8)] = Field(
        None, nullable=True, description="Retire les consentements de ce client (son assertion "
        "d'identité est alors exigée)")
    reply_address_assertion: Optional[text(4000)] = Field(
        None, nullable=True, description="Retire les consentements de cette adresse")


class NoticeLeaseInput(RequestBody):
    limit: int = Field(10, ge=1, le=50, description="Combien d'avis au plus (1 à 50)")
    _null_limit = validator("limit", pre=True, allow_reuse=True)(null_is_default)


class NoticeFailure(RequestBody):
    retry: Flag = Field(True, description="Réessayer plus tard (sinon : abandonné)")
    reason: Optional[text(200)] = Field(None, nullable=True)


class NoticeFallback(RequestBody):
    medium: Optional[text(5)] = Field(None, nullable=True, description="email (par défaut) ou sms")


# --- I: the review of misunderstood messages (issue 16).


class TrainingReviewInput(RequestBody):
    intent: str = Field(..., regex=r"^[a-z][a-z0-9_]{0,79}$",
                        description="L'intention choisie par le superviseur (out_of_scope : hors sujet)")
