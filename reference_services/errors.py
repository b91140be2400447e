"""Errors of the services: a stable code, an HTTP status and a French message.

Every error leaves as `{"error": {"code", "message", ...}}`; bodies never carry
stack traces, SQL or personal data.
"""
from __future__ import annotations

import logging
import traceback
from typing import Any, Mapping, Optional

from sanic.exceptions import MethodNotSupported, NotFound, PayloadTooLarge, SanicException
from sanic.handlers import ErrorHandler
from sanic.response import HTTPResponse
from sqlalchemy.exc import OperationalError

from core.service_contract import ErrorCode
from reference_services.responses import json_response

logger = logging.getLogger(__name__)
E = ErrorCode

# The default French message of each code (its status: core/service_contract/errors.py).
MESSAGES: Mapping[ErrorCode, str] = {
    E.bad_request: "La requête est mal formée.",
    E.empty: "Le fichier est vide.",
    E.invalid_json: "Le corps de la requête n'est pas un JSON valide.",
    E.unauthorized: "Jeton de service absent ou invalide.",
    E.identity_mismatch: "Les informations d'identité ne correspondent pas à ce client.",
    E.wrong_code: "Le code saisi est incorrect.",
    E.identity_required: "Cet appel concerne un client : son assertion d'identité est requise.",
    E.identity_invalid: "L'assertion d'identité n'est pas valide.",
    E.identity_expired: "L'assertion d'identité a expiré : le client doit s'identifier à nouveau.",
    E.channel_assertion_required: (
        "Sans code, seul le numéro que le canal a vérifié et signé identifie un client."
    ),
    E.session_token_invalid: "Ce jeton de session de l'espace client n'est pas valide ou a expiré.",
    E.identity_forbidden: "L'assertion d'identité est celle d'un autre client.",
    E.channel_assertion_invalid: (
        "L'assertion du canal n'est pas valide pour ce numéro et cette conversation."
    ),
    E.invalid_link: "Ce lien de téléchargement n'est pas valide.",
    E.not_found: "Cette adresse n'existe pas.",
    E.customer_not_found: "Aucun client ne correspond à cet identifiant.",
    E.contract_not_found: "Aucun contrat de ce client ne porte ce numéro.",
    E.claim_not_found: "Aucun sinistre de ce client ne porte ce numéro.",
    E.document_not_found: "Ce document n'existe pas ou plus.",
    E.identity_check_not_found: "Cette vérification d'identité n'existe pas.",
    E.upload_not_found: "Ce fichier n'existe pas ou plus.",
    E.method_not_allowed: "Cette méthode n'est pas permise sur cette adresse.",
    E.contract_terminated: "Ce contrat est résilié.",
    E.upload_already_linked: "Ce fichier est déjà joint à un autre sinistre.",
    E.identity_ambiguous: (
        "Plusieurs clients correspondent : identifiez-vous avec votre identifiant client."
    ),
    E.link_expired: "Ce lien de téléchargement a expiré.",
    E.code_expired: "Ce code a expiré ou a déjà été utilisé. Demandez-en un nouveau.",
    E.payload_too_large: "Le corps de la requête est trop volumineux.",
    E.too_large: "Le fichier est trop volumineux.",
    E.unsupported_type: (
        "Seules les photos (JPEG, PNG, WebP, HEIC) et les documents PDF sont acceptés."
    ),
    E.validation_error: "Certaines informations sont manquantes ou invalides.",
    E.contract_not_active: "Ce contrat n'est pas en cours.",
    E.claim_type_not_covered: "Ce contrat ne couvre pas ce type de sinistre.",
    E.date_in_future: "La date du sinistre ne peut pas être dans le futur.",
    E.date_before_contract_start: "La date du sinistre est antérieure au début du contrat.",
    E.identification_locked: (
        "Trop d'essais infructueux : l'identification est bloquée pendant 15 minutes. "
        "Appelez le 0825 07 11 22."
    ),
    E.adviser_login_refused: "Identifiant ou mot de passe incorrect.",
    E.adviser_session_invalid: "Votre session a expiré ou n'est pas valide : reconnectez-vous.",
    E.handoff_not_yours: "Un autre conseiller a pris en charge ce transfert.",
    E.handoff_not_found: "Aucun transfert ne porte cette référence.",
    E.handoff_taken: "Ce transfert a déjà été pris en charge ou clos.",
    E.handoff_not_taken: "Prenez d'abord ce transfert en charge.",
    E.adviser_locked: (
        "Trop d'essais infructueux : la connexion est bloquée pendant 15 minutes."
    ),
    E.alert_not_found: "Aucune alerte de ce client ne porte cet identifiant.",
    E.quote_not_found: "Aucun devis ne porte cette référence.",
    E.reply_address_required: "L'adresse de réponse signée par le canal est obligatoire.",
    E.reply_address_invalid: "L'adresse de réponse n'est pas valide ou a expiré.",
    E.notice_not_found: "Aucun avis ne porte cet identifiant.",
    E.notice_not_leased: "Cet avis n'est pas en cours d'envoi.",
    E.supervisor_only: "Cette page est réservée aux superviseurs.",  # I
    E.training_review_not_found: "Ce message à revoir n'existe pas.",
    E.internal_error: "Une erreur interne est survenue. Réessayez dans quelques instants.",
    E.service_unavailable: "Le service est momentanément indisponible. Réessayez plus tard.",
}
# code -> (HTTP status, default French message)
ERRORS: Mapping[str, tuple[int, str]] = {
    code: (code.status, message) for code, message in MESSAGES.items()
}

_CODE_BY_STATUS = {
    400: "bad_request",
    404: "not_found",
    405: "method_not_allowed",
    413: "payload_too_large",
    503: "service_unavailable",
}


class ServiceError(Exception):
    """A refusal the client can act on: status, stable code, French message.

    `extra` adds machine-readable details next to code and message
    (e.g. `fields`, `attempts_left`, `locked_until`).
    """

    def __init__(
        self,
        code: ErrorCode | str,
        message: Optional[str] = None,
        *,
        headers: Optional[Mapping[str, str]] = None,
        **extra: Any,
    ) -> None:
        status, default_message = ERRORS[code]
        super().__init__(code)
        self.code = ErrorCode(code)
        self.status = status
        self.message = message or default_message
        self.headers = dict(headers or {})
        self.extra = extra

    def to_body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


def validation_error(fields: Mapping[str, str]) -> ServiceError:
    """422 with one French reason per field."""
    return ServiceError("validation_error", fields=dict(fields))


def error_response(error: ServiceError) -> HTTPResponse:
    """The JSON response of a ServiceError."""
    return json_response(error.to_body(), status=error.status, headers=error.headers)


def as_service_error(exception: BaseException) -> ServiceError:
    """Translate any exception into the error the client sees."""
    if isinstance(exception, ServiceError):
        return exception
    if isinstance(exception, NotFound):
        return ServiceError("not_found")
    if isinstance(exception, MethodNotSupported):
        return ServiceError("method_not_allowed", headers=getattr(exception, "headers", None))
    if isinstance(exception, PayloadTooLarge):
        return ServiceError("payload_too_large")
    if isinstance(exception, SanicException):
        status = getattr(exception, "status_code", 500) or 500
        if status in _CODE_BY_STATUS:
            return ServiceError(_CODE_BY_STATUS[status])
    if isinstance(exception, (OperationalError, ConnectionError)):
        return ServiceError("service_unavailable")
    return ServiceError("internal_error")


class JsonErrorHandler(ErrorHandler):
    """Every uncaught exception becomes the contract's JSON error."""

    def default(self, request: Any, exception: BaseException) -> HTTPResponse:
        error = as_service_error(exception)
        if error.status >= 500:
            log_server_error(request, exception, error)
        return error_response(error)


def log_server_error(request: Any, exception: BaseException, error: ServiceError) -> None:
    """Exception type, route and where it was raised, but neither the exception's
    text nor source lines: they may quote request data (e-mails, birth dates...)."""
    route = getattr(getattr(request, "route", None), "name", None) or "an unrouted request"
    frames = ""
    if error.code == "internal_error":
        frames = "".join(
            f"\n  {frame.filename}:{frame.lineno} in {frame.name}"
            for frame in traceback.extract_tb(exception.__traceback__)
        )
    logger.error("%s while handling %s: %s%s", error.code, route,
                 type(exception).__name__, frames)
