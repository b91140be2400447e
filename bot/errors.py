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

from bot.responses import json_response

logger = logging.getLogger(__name__)

# code -> (HTTP status, default French message)
ERRORS: Mapping[str, tuple[int, str]] = {
    "bad_request": (400, "La requête est mal formée."),
    "empty": (400, "Le fichier est vide."),
    "invalid_json": (400, "Le corps de la requête n'est pas un JSON valide."),
    "unauthorized": (401, "Jeton de service absent ou invalide."),
    "identity_mismatch": (401, "Les informations d'identité ne correspondent pas à ce client."),
    "wrong_code": (401, "Le code saisi est incorrect."),
    "identity_required": (401, "Cet appel concerne un client : son assertion d'identité est requise."),
    "identity_invalid": (401, "L'assertion d'identité n'est pas valide."),
    "identity_expired": (401, "L'assertion d'identité a expiré : le client doit s'identifier à nouveau."),
    "channel_assertion_required": (
        401, "Sans code, seul le numéro que le canal a vérifié et signé identifie un client.",
    ),
    "session_token_invalid": (401, "Ce jeton de session de l'espace client n'est pas valide ou a expiré."),
    "identity_forbidden": (403, "L'assertion d'identité est celle d'un autre client."),
    "channel_assertion_invalid": (
        403, "L'assertion du canal n'est pas valide pour ce numéro et cette conversation.",
    ),
    "invalid_link": (403, "Ce lien de téléchargement n'est pas valide."),
    "not_found": (404, "Cette adresse n'existe pas."),
    "customer_not_found": (404, "Aucun client ne correspond à cet identifiant."),
    "contract_not_found": (404, "Aucun contrat de ce client ne porte ce numéro."),
    "claim_not_found": (404, "Aucun sinistre de ce client ne porte ce numéro."),
    "document_not_found": (404, "Ce document n'existe pas ou plus."),
    "identity_check_not_found": (404, "Cette vérification d'identité n'existe pas."),
    "upload_not_found": (404, "Ce fichier n'existe pas ou plus."),
    "method_not_allowed": (405, "Cette méthode n'est pas permise sur cette adresse."),
    "contract_terminated": (409, "Ce contrat est résilié."),
    "upload_already_linked": (409, "Ce fichier est déjà joint à un autre sinistre."),
    "identity_ambiguous": (
        409, "Plusieurs clients correspondent : identifiez-vous avec votre identifiant client.",
    ),
    "link_expired": (410, "Ce lien de téléchargement a expiré."),
    "code_expired": (410, "Ce code a expiré ou a déjà été utilisé. Demandez-en un nouveau."),
    "payload_too_large": (413, "Le corps de la requête est trop volumineux."),
    "too_large": (413, "Le fichier est trop volumineux."),
    "unsupported_type": (
        415, "Seules les photos (JPEG, PNG, WebP, HEIC) et les documents PDF sont acceptés.",
    ),
    "validation_error": (422, "Certaines informations sont manquantes ou invalides."),
    "contract_not_active": (422, "Ce contrat n'est pas en cours."),
    "claim_type_not_covered": (422, "Ce contrat ne couvre pas ce type de sinistre."),
    "date_in_future": (422, "La date du sinistre ne peut pas être dans le futur."),
    "date_before_contract_start": (422, "La date du sinistre est antérieure au début du contrat."),
    "identification_locked": (
        423,
        "Trop d'essais infructueux : l'identification est bloquée pendant 15 minutes. "
        "Appelez le 0825 07 11 22.",
    ),
    "internal_error": (500, "Une erreur interne est survenue. Réessayez dans quelques instants."),
    "service_unavailable": (503, "Le service est momentanément indisponible. Réessayez plus tard."),
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
        code: str,
        message: Optional[str] = None,
        *,
        headers: Optional[Mapping[str, str]] = None,
        **extra: Any,
    ) -> None:
        status, default_message = ERRORS[code]
        super().__init__(code)
        self.code = code
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
