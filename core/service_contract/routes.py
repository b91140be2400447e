"""Every route of the services: method, path, what it takes, what it answers, and the
errors it may answer besides those every route of its kind shares (`Route.error_codes`)."""
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple, Type, Union

from pydantic import BaseModel

from core.service_contract import answers, requests
from core.service_contract.errors import ErrorCode as E

# An answer: its model, or the raw OpenAPI content of a non-JSON answer (a PDF).
AnswerSpec = Tuple[str, Union[Type[BaseModel], Dict[str, Any], None]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    operation_id: str
    summary: str
    service: str  # "policy", "claims", or "meta" (every process)
    answers: Mapping[int, AnswerSpec]
    errors: Tuple[E, ...] = ()
    body: Optional[Type[BaseModel]] = None
    body_required: bool = True
    # "required": a call about the customer of the path; "if_customer": about the
    # customer the body names, if any; None: no customer's data.
    identity: Optional[str] = None
    public: bool = False  # no service token (the signature in a link is the credential)
    parameters: Tuple[Dict[str, Any], ...] = field(default=())
    raw_body: Optional[Dict[str, Any]] = None  # an uploaded file
    # Whose bearer token opens it: "services" (SERVICES_API_TOKEN), "console"
    # (ADVISER_CONSOLE_TOKEN) or "notifier" (NOTIFIER_TOKEN); no token opens another's routes.
    caller: str = "services"
    adviser_session: bool = False  # also X-Adviser-Session, an adviser's open session

    def error_codes(self) -> Tuple[E, ...]:
        """Every error code the route may answer (but 5xx), by status."""
        codes = list(self.errors)
        if not self.public:
            codes.append(E.unauthorized)
        if self.adviser_session:
            codes.append(E.adviser_session_invalid)
        if self.identity:
            codes += [E.identity_required, E.identity_invalid, E.identity_expired,
                      E.identity_forbidden]
        if self.body is not None:
            codes += [E.invalid_json, E.validation_error, E.payload_too_large]
        return tuple(sorted(set(codes), key=lambda code: (code.status, code.value)))


CUSTOMER = "/v1/customers/{customer_id}"
CLAIMS = f"{CUSTOMER}/claims"
IDENTIFICATION_LOCKED = (E.identification_locked,)


def _header(name: str, description: str, required: bool = True, **schema: Any) -> Dict[str, Any]:
    return {"name": name, "in": "header", "required": required, "description": description,
            "schema": {"type": "string", **schema}}


def _query(name: str, description: str) -> Dict[str, Any]:
    return {"name": name, "in": "query", "required": True, "description": description,
            "schema": {"type": "string"}}


IDEMPOTENCY_KEY_MAX_LENGTH = 100
IDEMPOTENCY_KEY = _header(
    "Idempotency-Key", f"Clé choisie par l'appelant (1 à {IDEMPOTENCY_KEY_MAX_LENGTH} caractères "
    "imprimables) : une reprise avec la même clé ne crée pas de second sinistre.",
    minLength=1, maxLength=IDEMPOTENCY_KEY_MAX_LENGTH)
PDF = {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}
UPLOADED_FILE = {
    "required": True,
    "description": "Le fichier brut ; Content-Type annoncé (application/octet-stream si "
                   "inconnu), vérifié d'après le contenu.",
    "content": {content_type: {"schema": {"type": "string", "format": "binary"}}
                for content_type in answers.UploadContentType.__args__},
}

# Descriptions of the path parameters, by name.
PATH_PARAMETERS = {
    "customer_id": ("Identifiant espace client (8 chiffres)", r"^\d{8}$"),
    "contract_number": ("Numéro de contrat, ex. AUT-482913", None),
    "claim_number": ("Numéro de sinistre, ex. SIN-2026-000731", None),
    "check_id": ("Identifiant de la vérification d'identité", None),
    "alert_id": ("Identifiant de l'alerte", r"^[0-9a-f]{32}$"),
    "filename": ("{document_id}.pdf", r"^[0-9a-f]{32}\.pdf$"),
    "reference": ("Référence du transfert, ex. TRF-2026-000042", r"^TRF-\d{4}-\d{6}$"),
    "quote_reference": ("Référence du devis, ex. DEV-2026-000001", r"^DEV-\d{4}-\d{6}$"),  # A
    "notice_id": ("Identifiant de l'avis", r"^\d{1,12}$"),
    "review_id": ("Identifiant du message à revoir", r"^\d{1,12}$"),  # I
}
HANDOFF = "/v1/handoffs/{reference}"
NOTICE = "/v1/notices/{notice_id}"  # D: claim notices
HANDOFF_STATUS = {"name": "status", "in": "query", "required": False,
                  "description": "Seulement les transferts dans cet état",
                  "schema": {"type": "string", "enum": ["waiting", "taken", "closed"]}}


def _console(*args: Any, **kwargs: Any) -> "Route":
    """A route of the advisers' console: its token, and an adviser's session but to log in."""
    return Route(*args, caller="console", adviser_session=kwargs.pop("adviser_session", True),
                 **kwargs)

ROUTES: Tuple[Route, ...] = (
    Route("GET", "/health", "health", "Le service répond et joint sa base", "meta",
          {200: ("En service", answers.Health)}, (E.service_unavailable,), public=True),
    Route("GET", "/v1/openapi.json", "openapi", "Ce document", "meta",
          {200: ("Document OpenAPI 3.0", {"application/json": {"schema": {"type": "object"}}})},
          public=True),
    # H: operations (core/observability.py); never answered to a request that came through a proxy.
    Route("GET", "/metrics", "metrics", "Mesures Prometheus du processus (rien de personnel)", "meta",
          {200: ("Format texte de Prometheus", {"text/plain": {"schema": {"type": "string"}}})},
          public=True),
    Route("GET", "/ready", "ready", "Prêt à servir : base migrée et joignable", "meta",
          {200: ("Prêt", answers.Readiness), 503: ("Pas prêt : la vérification en échec", answers.Readiness)},
          public=True),
    # --- policy service
    Route("GET", CUSTOMER, "getCustomer", "Fiche du client", "policy",
          {200: ("Client", answers.Customer)}, (E.customer_not_found,), identity="required"),
    Route("GET", f"{CUSTOMER}/contracts", "listContracts",
          "Contrats du client (en cours et résiliés)", "policy",
          {200: ("Contrats", answers.ContractList)}, (E.customer_not_found,),
          identity="required"),
    Route("GET", f"{CUSTOMER}/contracts/{{contract_number}}", "getContract",
          "Un contrat du client", "policy", {200: ("Contrat", answers.Contract)},
          (E.customer_not_found, E.contract_not_found), identity="required"),
    Route("POST", f"{CUSTOMER}/contracts/{{contract_number}}/attestations", "createAttestation",
          "Génère une attestation d'assurance PDF (409 contract_terminated avec end_date ; "
          "422 validation_error sur kind : scolaire sans contrat habitation avec la "
          "responsabilité civile vie privée)", "policy",
          {201: ("Attestation générée", answers.Attestation)},
          (E.customer_not_found, E.contract_not_found, E.contract_terminated),
          body=requests.AttestationRequest, body_required=False, identity="required"),
    Route("GET", "/v1/documents/{filename}", "downloadDocument",
          "Télécharge un document par son lien signé", "policy", {200: ("Le PDF", PDF)},
          (E.invalid_link, E.document_not_found, E.link_expired), public=True,
          parameters=(_query("expires", "Expiration du lien (secondes Unix)"),
                      _query("signature", "HMAC-SHA256 hexadécimal"))),
    Route("POST", f"{CUSTOMER}/password-reset", "sendPasswordReset",
          "Envoie l'e-mail de réinitialisation du mot de passe", "policy",
          {202: ("E-mail envoyé", answers.SentTo)}, (E.customer_not_found,), identity="required"),
    Route("POST", f"{CUSTOMER}/identifier-reminder", "sendIdentifierReminder",
          "Renvoie l'identifiant par e-mail", "policy",
          {202: ("E-mail envoyé", answers.SentTo)}, (E.customer_not_found,), identity="required"),
    Route("POST", f"{CUSTOMER}/requests", "createCustomerRequest",
          "Dépose une demande soumise à validation", "policy",
          {201: ("Demande enregistrée", answers.CustomerRequestCreated)},
          (E.customer_not_found, E.contract_not_found), body=requests.CustomerRequestInput,
          identity="required"),
    Route("POST", "/v1/handoffs", "createHandoff",
          "Transmet la conversation à un conseiller (nommer un client demande son assertion "
          "d'identité)", "policy",
          {201: ("Transfert en attente", answers.HandoffCreated)}, (E.customer_not_found,),
          body=requests.HandoffInput, identity="if_customer"),
    Route("GET", "/v1/advisers/available", "countAvailableAdvisers",
          "Conseillers présents à leur console (pour proposer la conversation en direct)",
          "policy", {200: ("Conseillers disponibles", answers.AdvisersAvailable)}),
    Route("POST", f"{CUSTOMER}/identity-checks", "startIdentityCheck",
          "Démarre une vérification : code SMS envoyé si le client existe et la date de "
          "naissance est la sienne, la même réponse sinon", "policy",
          {201: ("Vérification démarrée (code envoyé ou non, sans distinction)",
                 answers.IdentityCheckStarted)},
          IDENTIFICATION_LOCKED, body=requests.IdentityCheckInput),
    Route("POST", "/v1/phone-identity-checks", "startPhoneIdentityCheck",
          "Identifie par le téléphone vérifié du canal et la date de naissance", "policy",
          {200: ("Client identifié sans code (send_code false)", answers.IdentityVerified),
           201: ("Vérification démarrée, code envoyé ou non sans distinction (send_code true)",
                 answers.IdentityCheckStarted)},
          (E.identity_mismatch, E.channel_assertion_required, E.channel_assertion_invalid,
           E.identity_ambiguous, *IDENTIFICATION_LOCKED),
          body=requests.PhoneIdentityCheckInput),
    Route("POST", "/v1/identity-checks/{check_id}/verify", "verifyIdentityCheck",
          "Vérifie le code SMS", "policy", {200: ("Client identifié", answers.IdentityVerified)},
          (E.wrong_code, E.identity_check_not_found, E.code_expired, *IDENTIFICATION_LOCKED),
          body=requests.CodeInput),
    Route("POST", "/v1/espace-client-token-checks", "checkSessionToken",
          "Vérifie un jeton de session de l'espace client et émet l'assertion d'identité",
          "policy", {200: ("Client identifié", answers.IdentityVerified)},
          (E.session_token_invalid, E.customer_not_found), body=requests.SessionTokenInput),
    # --- policy service: alerts the customers set (C, issue 18)
    Route("POST", f"{CUSTOMER}/alerts", "createAlert",
          "Enregistre une alerte : échéance, renouvellement (avec le préavis et le dernier jour "
          "pour résilier) ou prime impayée, sur un contrat ou chacun des contrats en cours",
          "policy", {201: ("Alerte enregistrée", answers.AlertAnswer)},
          (E.customer_not_found, E.contract_not_found, E.contract_terminated),
          body=requests.AlertInput, identity="required"),
    Route("GET", f"{CUSTOMER}/alerts", "listAlerts", "Les alertes actives du client", "policy",
          {200: ("Alertes", answers.AlertList)}, (E.customer_not_found,), identity="required"),
    Route("DELETE", f"{CUSTOMER}/alerts/{{alert_id}}", "cancelAlert",
          "Annule une alerte du client (celle d'un autre client est inconnue)", "policy",
          {200: ("Alerte annulée", answers.AlertAnswer)},
          (E.customer_not_found, E.alert_not_found), identity="required"),
    # --- policy service: quotes and simulations (A, issue 18; docs/tariff.md)
    Route("POST", "/v1/quotes", "createQuote",
          "Calcule un devis (2 ou 3 formules) avec le tarif en vigueur et le garde 30 jours ; "
          "422 validation_error nomme chaque donnée du risque refusée (risk.<donnée>)", "policy",
          {201: ("Devis calculé", answers.Quote)}, (E.customer_not_found,),
          body=requests.QuoteInput, identity="if_customer"),
    Route("GET", "/v1/quotes/{quote_reference}", "getQuote",
          "Un devis (expired : true passé sa date de validité)", "policy",
          {200: ("Devis", answers.Quote)}, (E.quote_not_found,)),
    Route("POST", "/v1/quotes/{quote_reference}/email", "emailQuote",
          "Envoie le devis en PDF à l'adresse donnée", "policy",
          {202: ("E-mail en file d'envoi", answers.SentTo)}, (E.quote_not_found,),
          body=requests.QuoteEmailInput),
    Route("POST", "/v1/quotes/{quote_reference}/follow-up", "followUpQuote",
          "Transmet à un conseiller la souscription d'une formule du devis (un visiteur "
          "anonyme donne un contact)", "policy",
          {201: ("Transfert en attente", answers.HandoffCreated)},
          (E.quote_not_found, E.customer_not_found), body=requests.QuoteFollowUpInput,
          identity="if_customer"),
    Route("POST", f"{CUSTOMER}/contracts/{{contract_number}}/simulations", "simulateContractChange",
          "Ce que coûterait un changement de franchise ou de garanties sur un contrat (rien "
          "n'est changé) ; 409 contract_terminated", "policy",
          {200: ("Simulation", answers.Simulation)},
          (E.customer_not_found, E.contract_not_found, E.contract_terminated),
          body=requests.SimulationInput, identity="required"),
    # --- policy service: the advisers' console
    _console("POST", "/v1/adviser-sessions", "openAdviserSession",
             "Connecte un conseiller (5 échecs de suite : bloqué 15 minutes)", "policy",
             {201: ("Session ouverte", answers.AdviserSessionOpened)},
             (E.adviser_login_refused, E.adviser_locked), body=requests.AdviserLoginInput,
             adviser_session=False),
    _console("GET", "/v1/adviser-sessions/current", "getAdviserSession",
             "La session du conseiller (et la prolonge)", "policy",
             {200: ("Session en cours", answers.AdviserSessionCurrent)}),
    _console("DELETE", "/v1/adviser-sessions/current", "closeAdviserSession",
             "Déconnecte le conseiller", "policy", {204: ("Session close", None)}),
    _console("GET", "/v1/handoffs", "listHandoffs",
             "Les transferts : en attente et les siens pour un conseiller, tous pour un "
             "superviseur", "policy", {200: ("Transferts", answers.HandoffList)},
             parameters=(HANDOFF_STATUS,)),
    _console("GET", HANDOFF, "getHandoff",
             "Un transfert, le dossier du client et l'accès à la conversation (lecture "
             "enregistrée)", "policy", {200: ("Transfert", answers.HandoffDetail)},
             (E.handoff_not_yours, E.handoff_not_found)),
    _console("POST", f"{HANDOFF}/take", "takeHandoff", "Prend un transfert en charge", "policy",
             {200: ("Pris en charge par ce conseiller", answers.HandoffDetail)},
             (E.handoff_not_yours, E.handoff_not_found, E.handoff_taken)),
    _console("POST", f"{HANDOFF}/messages", "recordHandoffMessage",
             "Enregistre un message du conseiller qui a pris le transfert", "policy",
             {201: ("Message enregistré", answers.AdviserMessageRecorded)},
             (E.handoff_not_yours, E.handoff_not_found, E.handoff_not_taken),
             body=requests.AdviserMessageInput),
    _console("POST", f"{HANDOFF}/close", "closeHandoff",
             "Clôt un transfert (le conseiller qui l'a pris, ou un superviseur)", "policy",
             {200: ("Clos", answers.HandoffDetail)},
             (E.handoff_not_yours, E.handoff_not_found, E.handoff_not_taken)),
    # --- I: the business's figures and the review of misunderstood messages (issue 16)
    _console("GET", "/v1/statistics", "getStatistics",
             "Les chiffres calculés des conversations (make stats) : par jour et canal, demandes "
             "les plus fréquentes", "policy", {200: ("Chiffres", answers.Statistics)}),
    _console("GET", "/v1/training-reviews", "listTrainingReviews",
             "Les messages où l'assistant a hésité, à revoir (superviseurs)", "policy",
             {200: ("À revoir", answers.TrainingReviewList)}, (E.supervisor_only,)),
    _console("POST", "/v1/training-reviews/{review_id}", "reviewTrainingMessage",
             "Enregistre l'intention choisie pour un message (superviseurs)", "policy",
             {200: ("Revu", answers.TrainingReview)}, (E.supervisor_only, E.training_review_not_found),
             body=requests.TrainingReviewInput),
    # --- claims service
    Route("GET", CLAIMS, "listClaims", "Sinistres du client, du plus récent au plus ancien",
          "claims", {200: ("Sinistres", answers.ClaimList)}, (E.customer_not_found,),
          identity="required"),
    Route("POST", CLAIMS, "createClaim", "Déclare un sinistre", "claims",
          {201: ("Sinistre enregistré", answers.Claim),
           200: ("Clé déjà utilisée : le sinistre créé alors", answers.Claim)},
          (E.customer_not_found, E.contract_not_found, E.upload_not_found,
           E.upload_already_linked, E.contract_not_active, E.claim_type_not_covered,
           E.date_in_future, E.date_before_contract_start),
          body=requests.ClaimDeclaration, identity="required", parameters=(IDEMPOTENCY_KEY,)),
    Route("GET", f"{CLAIMS}/{{claim_number}}", "getClaim",
          "Un sinistre du client (celui d'un autre client est inconnu)", "claims",
          {200: ("Sinistre", answers.Claim)}, (E.customer_not_found, E.claim_not_found),
          identity="required"),
    Route("POST", f"{CLAIMS}/{{claim_number}}/documents", "addClaimDocument",
          "Joint un fichier déjà reçu à un sinistre du client", "claims",
          {201: ("Fichier joint", answers.ClaimDocumentLinked),
           200: ("Fichier déjà joint à ce sinistre", answers.ClaimDocumentLinked)},
          (E.customer_not_found, E.claim_not_found, E.upload_not_found,
           E.upload_already_linked),
          body=requests.ClaimDocumentInput, identity="required"),
    Route("POST", "/v1/uploads", "uploadFile",
          "Reçoit un fichier (photo ou PDF) à joindre ensuite à un sinistre", "claims",
          {201: ("Fichier reçu", answers.Upload)},
          (E.empty, E.too_large, E.unsupported_type), raw_body=UPLOADED_FILE,
          parameters=(_header("X-Filename", "Nom d'origine du fichier (UTF-8 encodé en "
                              "pourcentage)", required=False),)),
    # --- D: claim notices (issue 15), policy service: consents (caller "services") and the
    # notifier's routes (caller "notifier", NOTIFIER_TOKEN).
    Route("POST", f"{CUSTOMER}/notice-consents", "giveNoticeConsent",
          "Enregistre l'accord du client pour être prévenu sur ce canal (adresse signée par le "
          "canal) ; 200 s'il était déjà donné pour cette adresse", "policy",
          {201: ("Consentement enregistré", answers.NoticeConsentAnswer),
           200: ("Déjà donné", answers.NoticeConsentAnswer)},
          (E.customer_not_found, E.claim_not_found, E.reply_address_required,
           E.reply_address_invalid),
          body=requests.NoticeConsentInput, identity="required"),
    Route("GET", f"{CUSTOMER}/notice-consents", "listNoticeConsents",
          "Les consentements en cours du client", "policy",
          {200: ("Consentements", answers.NoticeConsentList)}, (E.customer_not_found,),
          identity="required"),
    Route("POST", "/v1/notice-consents/withdraw", "withdrawNoticeConsents",
          "Retire les consentements d'un client (son assertion) et/ou d'une adresse signée "
          "(« STOP ») ; les avis pas encore remis sont abandonnés", "policy",
          {200: ("Retirés", answers.NoticeConsentsWithdrawn)},
          (E.reply_address_required, E.reply_address_invalid),
          body=requests.NoticeConsentWithdrawal, identity="if_customer"),
    Route("POST", "/v1/notices/lease", "leaseNotices",
          "Les avis à remettre, chacun réservé 60 secondes (puis de nouveau disponible)",
          "policy", {200: ("Avis réservés", answers.LeasedNotices)},
          body=requests.NoticeLeaseInput, body_required=False, caller="notifier"),
    Route("POST", f"{NOTICE}/delivered", "noticeDelivered",
          "L'avis est remis : plus jamais réservé", "policy",
          {200: ("Remis", answers.NoticeStatus)}, (E.notice_not_found,), caller="notifier"),
    Route("POST", f"{NOTICE}/failed", "noticeFailed",
          "La remise a échoué : réessayée plus tard (attentes doublées) ou abandonnée", "policy",
          {200: ("Noté", answers.NoticeStatus)}, (E.notice_not_found, E.notice_not_leased),
          body=requests.NoticeFailure, body_required=False, caller="notifier"),
    Route("POST", f"{NOTICE}/fallback", "noticeFallback",
          "Envoie l'avis par e-mail (ou SMS) à l'adresse du dossier, et le note remis ainsi",
          "policy", {200: ("Envoyé autrement", answers.NoticeStatus)},
          (E.notice_not_found, E.notice_not_leased),
          body=requests.NoticeFallback, body_required=False, caller="notifier"),
)


def routes_of(services: Any) -> Tuple[Route, ...]:
    """The routes a process serving `services` ("policy", "claims") answers."""
    services = set(services)
    return tuple(route for route in ROUTES if route.service == "meta" or route.service in services)
