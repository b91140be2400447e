"""The answers of the services' routes. Dates are YYYY-MM-DD, timestamps ISO 8601 with
the Europe/Paris offset; a member that may be null is present (null) all the same."""
from datetime import date, datetime
from typing import Any, Dict, List, Literal, Optional

from pydantic import BaseModel, Extra, Field

from core.service_contract.errors import ErrorCode
from core.service_contract.requests import AttestationKind, ClaimType, RequestKind

Product = Literal["auto", "habitation", "sante", "prevoyance", "pro"]
Phase = Literal["declaration", "ouverture", "expertise", "indemnisation", "cloture"]
UploadContentType = Literal["image/jpeg", "image/png", "image/webp", "image/heic",
                            "application/pdf"]


def nullable(description: Optional[str] = None) -> Any:
    """A member that is always there, maybe null."""
    return Field(..., nullable=True, description=description)


class Answer(BaseModel):
    # A newer service may add members: a client ignores those it does not know.
    class Config:
        extra = Extra.ignore


class ErrorDetail(Answer):
    code: ErrorCode
    message: str = Field(..., description="Une phrase en français")
    fields: Optional[Dict[str, str]] = Field(
        None, description="validation_error : une raison par champ refusé")

    class Config:
        # Some errors add machine-readable members: attempts_left, locked_until, max_bytes,
        # end_date, covered_claim_types, contract_start_date.
        extra = Extra.allow


class Error(Answer):
    error: ErrorDetail


class Health(Answer):
    status: Literal["ok"]
    services: List[Literal["claims", "policy"]]


class Readiness(Answer):
    status: Literal["ready", "not_ready"]
    checks: Dict[str, str] = Field(..., description="Chaque dépendance vérifiée : « ok » ou pourquoi pas")


class Address(Answer):
    street: str
    postcode: str
    city: str


class Customer(Answer):
    customer_id: str
    first_name: str
    last_name: str
    birth_date: date
    email: str
    phone: str = Field(..., description="E.164")
    address: Address


class Vehicle(Answer):
    make: str
    model: str
    plate: str


class Guarantee(Answer):
    code: str
    label: str


class Contract(Answer):
    contract_number: str
    customer_id: str
    product: Product
    label: str
    status: Literal["active", "terminated"]
    start_date: date
    end_date: Optional[date] = nullable("null tant que le contrat est en cours")
    next_due_date: Optional[date] = nullable("null une fois le contrat résilié")
    premium_eur: float
    premium_frequency: Literal["mensuelle", "trimestrielle", "annuelle"]
    payment_method: Literal["prelevement", "carte_bancaire", "cheque"]
    franchise_eur: Optional[float] = nullable()
    bonus_malus: Optional[float] = nullable()
    beneficiary_clause: Optional[str] = nullable()
    insured_vehicle: Optional[Vehicle] = nullable()
    insured_address: Optional[Address] = nullable()
    insured_activity: Optional[str] = nullable("Contrats pro : le métier déclaré")
    guarantees: List[Guarantee]
    covered_claim_types: List[ClaimType] = Field(
        ..., description="Ce qui peut être déclaré sur ce contrat aujourd'hui : rien une fois "
                         "résilié")


class ContractList(Answer):
    contracts: List[Contract] = Field(..., description="En cours et résiliés")


class Attestation(Answer):
    document_id: str
    reference: str = Field(..., description="ATT-AAAA-XXXXXXXX, imprimée sur le PDF")
    contract_number: str
    kind: AttestationKind
    valid_from: date
    valid_to: date
    url: str = Field(..., description="Lien de téléchargement signé, qui expire")
    expires_at: datetime = Field(..., description="Expiration du lien")
    sent_to: Optional[str] = Field(None, description="L'e-mail masqué, s'il a été envoyé")


class SentTo(Answer):
    sent_to: str = Field(..., description="L'adresse e-mail masquée")


class CustomerRequestCreated(Answer):
    reference: str = Field(..., description="DEM-AAAA-NNNNNN")
    kind: RequestKind
    contract_number: Optional[str] = nullable()
    status: Literal["received"]
    expected_by: date
    delay_days: int
    created_at: datetime


class HandoffCreated(Answer):
    reference: str = Field(..., description="TRF-AAAA-NNNNNN")
    status: Literal["waiting"]
    created_at: datetime


class AdvisersAvailable(Answer):
    available: int = Field(..., description="Conseillers dont la console a servi ces 2 dernières minutes")


class IdentityCheckStarted(Answer):
    check_id: str
    expires_at: datetime
    sent_to: Optional[str] = Field(
        None, description="Le numéro donné, masqué (vérification par téléphone seulement)")


class IdentityVerified(Answer):
    customer_id: str
    verified: Literal[True]
    identity_assertion: str = Field(
        ..., description="À joindre (X-Identity-Assertion) à chaque appel qui concerne ce client")
    identity_expires_at: datetime


class PhaseEvent(Answer):
    phase: Phase
    at: datetime


class ClaimDocument(Answer):
    document_id: str
    filename: str
    content_type: UploadContentType
    size: int
    uploaded_at: datetime


class Claim(Answer):
    claim_number: str = Field(..., description="SIN-AAAA-NNNNNN")
    customer_id: str
    contract_number: str
    claim_type: ClaimType
    occurred_on: date
    declared_at: datetime
    place: str
    circumstances: str
    damage: str
    third_party: Optional[str] = nullable()
    witnesses: Optional[str] = nullable()
    channel: Optional[str] = nullable()
    phase: Phase
    phase_history: List[PhaseEvent] = Field(..., description="Du plus ancien au plus récent")
    expert_appointment: Optional[datetime] = nullable()
    amount_paid_eur: float
    documents: List[ClaimDocument]


class ClaimList(Answer):
    claims: List[Claim] = Field(..., description="Du plus récent au plus ancien")


class ClaimDocumentLinked(Answer):
    claim_number: str
    document: ClaimDocument


class Upload(Answer):
    upload_id: str = Field(..., regex=r"^[0-9a-f]{32}$")
    content_type: UploadContentType
    size: int
    filename: str


# --- the advisers' console

HandoffStatus = Literal["waiting", "taken", "closed"]


class Adviser(Answer):
    login: str
    display_name: str = Field(..., description="Le nom que le client voit")
    role: Literal["adviser", "supervisor"]


class AdviserSessionOpened(Answer):
    session: str = Field(..., description="À joindre (X-Adviser-Session) à chaque appel ; "
                                          "donné une seule fois, jamais conservé en clair")
    expires_at: datetime = Field(..., description="Au plus tard ; plus tôt si la session dort")
    adviser: Adviser


class AdviserSessionCurrent(Answer):
    adviser: Adviser
    expires_at: datetime


class AdviserName(Answer):
    login: str
    display_name: str


class HandoffCustomer(Answer):
    customer_id: str
    full_name: str


class HandoffSummary(Answer):
    reference: str = Field(..., description="TRF-AAAA-NNNNNN")
    status: HandoffStatus
    channel: str
    customer: Optional[HandoffCustomer] = nullable("null : visiteur non identifié")
    contact: Optional[str] = nullable("Où rappeler un visiteur anonyme (E.164 ou e-mail)")
    reason: str
    summary: str
    created_at: datetime
    waiting_seconds: int = Field(..., description="Attente jusqu'à la prise en charge (ou jusqu'à "
                                                  "maintenant)")
    taken_by: Optional[AdviserName] = nullable()


class HandoffList(Answer):
    handoffs: List[HandoffSummary] = Field(..., description="Du plus récent au plus ancien, 200 au plus")


class HandoffEvent(Answer):
    kind: Literal["filed", "taken", "message", "closed"]
    adviser: Optional[str] = nullable("Le login du conseiller")
    text: Optional[str] = nullable("Le message du conseiller")
    created_at: datetime


class CustomerFile(Answer):
    contracts: List[Contract]
    claims: List[Claim]


class AdviserGrantAnswer(Answer):
    token: str = Field(..., description="À joindre (X-Adviser-Grant) aux appels du serveur Rasa "
                                        "pour cette conversation")
    scope: Literal["read", "write"]
    expires_at: datetime


class HandoffDetail(HandoffSummary):
    conversation_id: Optional[str] = nullable()
    events: List[HandoffEvent] = Field(..., description="Du plus ancien au plus récent, lectures "
                                                        "exceptées")
    customer_file: Optional[CustomerFile] = nullable("null : visiteur non identifié")
    grant: Optional[AdviserGrantAnswer] = nullable("null sans conversation à lire")


class AdviserMessageRecorded(Answer):
    created_at: datetime


# --- A: quotes and simulations (issue 18). Money in integer cents, deductibles in euros.

QuoteProduct = Literal["auto", "habitation"]


class QuoteFormula(Answer):
    code: str = Field(..., description="auto : tiers, tiers_etendu, tous_risques ; habitation : "
                                       "essentielle, confort, confort_plus")
    label: str = Field(..., description="Le nom de la formule, en français")
    summary: str = Field(..., description="Une phrase : ce que cette formule ajoute")
    guarantees: List[str] = Field(..., description="Les libellés des garanties")
    deductible_eur: int
    annual_premium_cents: int
    monthly_premium_cents: int = Field(..., description="Prime annuelle / 12, arrondie au centime")


class Quote(Answer):
    reference: str = Field(..., description="DEV-AAAA-NNNNNN")
    product: QuoteProduct
    tariff_version: str = Field(..., description="La version des règles du tarif appliquées")
    created_at: datetime
    valid_until: date = Field(..., description="30 jours après la création")
    expired: bool = Field(False, description="Passé valid_until : encore lisible, plus souscriptible")
    risk: Dict[str, Any] = Field(..., description="Les données du risque, normalisées (avec le "
                                                   "groupe du véhicule ou la zone retenus)")
    factors: Dict[str, float] = Field(
        default_factory=dict, description="Chaque facteur du risque appliqué, par nom (docs/tariff.md)")
    formulas: List[QuoteFormula] = Field(..., description="De la moins à la plus couvrante")


class SimulatedCoverage(Answer):
    deductible_eur: int
    guarantees: List[Guarantee]
    annual_premium_cents: int
    monthly_premium_cents: int


class Simulation(Answer):
    contract_number: str
    tariff_version: str
    current: SimulatedCoverage = Field(..., description="Le contrat tel qu'il est (sa prime)")
    simulated: SimulatedCoverage = Field(..., description="Le contrat avec le changement")
    difference_annual_cents: int = Field(..., description="simulated - current : négatif, une baisse")
    difference_monthly_cents: int
    effective_date: date = Field(..., description="Date d'effet si le changement est demandé")
    effective_rule: Literal["next_due_date", "next_month"] = Field(
        ..., description="next_due_date : à l'échéance (une baisse de garantie) ; next_month : le 1er "
                         "du mois suivant (une hausse de garantie)")
    deductible_levels: List[int] = Field(..., description="Les franchises possibles sur ce contrat")
    optional_guarantees: List[Guarantee] = Field(
        ..., description="Les garanties qu'on peut ajouter ou retirer sur ce contrat")


# --- C: alerts the customers set (issue 18)


class AlertAnswer(Answer):
    alert_id: str
    kind: Literal["due_date", "renewal", "unpaid_premium"]
    contract_number: Optional[str] = nullable("Le contrat ; null : chacun des contrats en cours")
    days_before: int
    channel: Literal["email", "sms", "widget", "whatsapp", "telegram", "messenger"]
    status: Literal["active", "cancelled"]
    created_at: datetime
    next_reminder_on: Optional[date] = nullable("Le jour du prochain rappel connu, s'il y en a un")


class AlertList(Answer):
    alerts: List[AlertAnswer] = Field(..., description="Les alertes actives, des plus anciennes aux plus récentes")


# --- D: claim notices (issue 15) ---------------------------------------------------------

class NoticeConsentAnswer(Answer):
    consent_id: int
    channel: str
    given_at: datetime


class NoticeConsentList(Answer):
    consents: List[NoticeConsentAnswer] = Field(..., description="Les consentements en cours")


class NoticeConsentsWithdrawn(Answer):
    withdrawn: int = Field(..., description="Combien de consentements retirés")


class NoticeTemplate(Answer):
    name: str
    language: str
    parameters: List[str]


class LeasedNotice(Answer):
    id: int
    kind: str
    customer_id: str
    claim_number: Optional[str] = nullable()
    event: Optional[str] = nullable()
    channel: str
    address: str
    conversation_id: str
    text: str = Field(..., description="Le message, en français, tel que le client le lit")
    template: NoticeTemplate = Field(..., description="Le modèle WhatsApp hors de la fenêtre de 24 h")
    last_attempt: bool = Field(..., description="La dernière tentative : le notificateur passe sinon par e-mail")


class LeasedNotices(Answer):
    notices: List[LeasedNotice] = Field(..., description="Chacun réservé 60 secondes")


class NoticeStatus(Answer):
    id: int
    status: Literal["queued", "sending", "delivered", "failed", "withdrawn"]
    delivered_by: Optional[str] = nullable("channel, fallback_email ou fallback_sms")


# --- I: the business's figures and the review of misunderstood messages (issue 16).


class DayFigures(Answer):
    day: date
    channel: str
    conversations: int
    contained: int = Field(..., description="Conversations terminées sans transfert à un conseiller")
    containment_rate: float
    customer_messages: int
    fallback_messages: int = Field(..., description="Messages que l'assistant n'a pas compris")
    fallback_rate: float
    handoffs: int
    handoff_rate: float
    claims_declared: int
    attestations_issued: int


class IntentCount(Answer):
    intent: str
    count: int


class Statistics(Answer):
    computed_at: Optional[datetime] = nullable("Quand les chiffres ont été calculés (make stats) ; null : jamais")
    days: List[DayFigures] = Field(..., description="Par jour et par canal, du plus ancien au plus récent")
    top_intents: List[IntentCount] = Field(..., description="Les demandes les plus fréquentes")


class TrainingReview(Answer):
    id: int
    text: str = Field(..., description="Le message du client, masqué")
    predicted_intent: Optional[str] = nullable("Ce que l'assistant a cru comprendre")
    confidence: float
    reason: Literal["nlu_fallback", "low_confidence", "did_you_mean", "core_fallback"]
    channel: str
    first_seen_on: date
    last_seen_on: date
    occurrences: int
    status: Literal["pending", "reviewed"]
    chosen_intent: Optional[str] = nullable("L'intention choisie (out_of_scope : hors sujet)")
    reviewed_by: Optional[str] = nullable("Le login du superviseur")


class TrainingReviewList(Answer):
    reviews: List[TrainingReview] = Field(..., description="Les messages à revoir, les plus fréquents d'abord")
