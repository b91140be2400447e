"""The OpenAPI 3.0 document of the mounted services, generated from the contract
(core/service_contract: the models' JSON schemas and the route table).

tests/reference_services/test_openapi.py checks that it lists exactly the app's routes.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from pydantic import BaseModel
from pydantic.schema import schema as schemas_of

from core.service_contract import Error, ErrorCode, Route, routes_of
from core.service_contract.routes import PATH_PARAMETERS
from reference_services.errors import MESSAGES

JSON = "application/json"
REF_PREFIX = "#/components/schemas/"
IDENTITY_ASSERTION = {
    "name": "X-Identity-Assertion", "in": "header", "required": True,
    "description": "Assertion d'identité du client (JWT émis par le service des contrats "
                   "là où son identité a été vérifiée)",
    "schema": {"type": "string"},
}
ADVISER_SESSION = {
    "name": "X-Adviser-Session", "in": "header", "required": True,
    "description": "La session du conseiller (POST /v1/adviser-sessions)",
    "schema": {"type": "string"},
}


def _ref(model: type[BaseModel]) -> dict:
    return {"$ref": REF_PREFIX + model.__name__}


def _path_parameters(path: str) -> list[dict]:
    parameters = []
    for name in re.findall(r"{(\w+)}", path):
        description, pattern = PATH_PARAMETERS[name]
        schema = {"type": "string", **({"pattern": pattern} if pattern else {})}
        parameters.append({"name": name, "in": "path", "required": True,
                           "description": description, "schema": schema})
    return parameters


def _error_responses(codes: Iterable[ErrorCode]) -> dict:
    """One response per status, naming its codes (also in `x-error-codes`)."""
    by_status: dict[int, list[ErrorCode]] = {}
    for code in codes:
        by_status.setdefault(code.status, []).append(code)
    return {
        str(status): {
            "description": " ; ".join(f"{code.value} : {MESSAGES[code]}" for code in status_codes),
            "content": {JSON: {"schema": _ref(Error)}},
            "x-error-codes": [code.value for code in status_codes],
        }
        for status, status_codes in by_status.items()
    }


def _operation(route: Route) -> dict:
    responses: dict[str, Any] = {}
    for status, (description, answer) in sorted(route.answers.items()):
        response: dict[str, Any] = {"description": description}
        if isinstance(answer, dict):
            response["content"] = answer
        elif answer is not None:
            response["content"] = {JSON: {"schema": _ref(answer)}}
        responses[str(status)] = response
    responses.update(_error_responses(route.error_codes()))
    operation: dict[str, Any] = {
        "operationId": route.operation_id, "summary": route.summary,
        "tags": [route.service], "responses": responses,
    }
    parameters = _path_parameters(route.path) + list(route.parameters)
    if route.identity:
        parameters.append({**IDENTITY_ASSERTION, "required": route.identity == "required"})
    if route.adviser_session:
        parameters.append(ADVISER_SESSION)
    if parameters:
        operation["parameters"] = parameters
    if route.body is not None:
        operation["requestBody"] = {"required": route.body_required,
                                    "content": {JSON: {"schema": _ref(route.body)}}}
    elif route.raw_body is not None:
        operation["requestBody"] = route.raw_body
    if route.public:
        operation["security"] = []
    elif route.caller == "console":
        operation["security"] = [{"adviserConsoleToken": []}]
    elif route.caller == "notifier":
        operation["security"] = [{"notifierToken": []}]
    return operation


def _models(routes: Iterable[Route]) -> list[type[BaseModel]]:
    models: list[type[BaseModel]] = [Error]
    for route in routes:
        answers = [answer for _description, answer in route.answers.values()]
        for model in (route.body, *answers):
            if isinstance(model, type) and issubclass(model, BaseModel) and model not in models:
                models.append(model)
    return models


def build_openapi(services: Iterable[str]) -> dict:
    """The document for the mounted services only."""
    services = set(services)
    routes = routes_of(services)
    paths: dict[str, dict] = {}
    for route in routes:
        paths.setdefault(route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Oyat Assurance – services " + " et ".join(sorted(services)),
            "version": "1",
            "description": "Contrat HTTP des services de contrats et de sinistres, généré "
                           "depuis core/service_contract (voir docs/services-api.md).",
        },
        "paths": paths,
        "components": {
            "schemas": schemas_of(_models(routes), ref_prefix=REF_PREFIX)["definitions"],
            "securitySchemes": {
                "serviceToken": {"type": "http", "scheme": "bearer"},
                "adviserConsoleToken": {"type": "http", "scheme": "bearer",
                                        "description": "ADVISER_CONSOLE_TOKEN : la console des "
                                                       "conseillers, et elle seule"},
                "notifierToken": {"type": "http", "scheme": "bearer",
                                  "description": "NOTIFIER_TOKEN : le notifieur des avis de "
                                                 "sinistre, et lui seul"},
            },
        },
        "security": [{"serviceToken": []}],
    }
