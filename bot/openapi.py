"""The OpenAPI 3.0 document of the mounted services, written by hand.

tests/bot/test_openapi.py checks that it lists exactly the app's routes.
"""
from __future__ import annotations

from typing import Any, Iterable, Optional

from bot.claims.filing import MAX_ATTACHMENTS
from bot.claims.uploads import ACCEPTED_TYPES
from bot.policy.attestations import KINDS
from bot.policy.coverage import CLAIM_TYPES
from bot.policy.request_kinds import REQUEST_DELAY_DAYS

JSON = "application/json"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(schema: dict) -> dict:
    return {**schema, "nullable": True}


def _object(properties: dict, required: Iterable[str] = (), **extra: Any) -> dict:
    schema = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = list(required)
    return schema


STRING = {"type": "string"}
DATE = {"type": "string", "format": "date"}
DATETIME = {"type": "string", "format": "date-time"}
NUMBER = {"type": "number"}
INTEGER = {"type": "integer"}
BOOLEAN = {"type": "boolean"}
UPLOAD_ID = {"type": "string", "pattern": "^[0-9a-f]{32}$"}
# Where an identification happens: the identity assertion is issued for it.
IDENTIFIED_WHERE = {
    "conversation_id": {"type": "string", "maxLength": 255,
                        "description": "La conversation où le client s'identifie"},
    "channel": {"type": "string", "maxLength": 40, "description": "Son canal"},
}

# Where identification answers come from: wrong answers are counted per conversation and
# per source, never per customer (docs/identification.md).
ASKED_FROM = {
    "source": {"type": "string", "maxLength": 255,
               "description": "L'adresse ou l'utilisateur de la plateforme d'où vient la "
                              "conversation, si le canal le donne"},
}


def _param(name: str, description: str, location: str = "path", **schema: Any) -> dict:
    return {
        "name": name, "in": location, "required": location == "path",
        "description": description, "schema": {"type": "string", **schema},
    }


CUSTOMER_ID = _param("customer_id", "Identifiant espace client (8 chiffres)", pattern=r"^\d{8}$")
CONTRACT_NUMBER = _param("contract_number", "Numéro de contrat, ex. AUT-482913")
CLAIM_NUMBER = _param("claim_number", "Numéro de sinistre, ex. SIN-2026-000731")
CHECK_ID = _param("check_id", "Identifiant de la vérification d'identité")
IDENTITY_ASSERTION = {
    "name": "X-Identity-Assertion", "in": "header", "required": True,
    "description": "Assertion d'identité du client (JWT émis par le service des contrats "
                   "là où son identité a été vérifiée)",
    "schema": {"type": "string"},
}


def _error_response(description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": _ref("Error")}}}


def _ok(description: str, schema: Optional[str], content_type: str = JSON) -> dict:
    response: dict = {"description": description}
    if schema:
        response["content"] = {content_type: {"schema": _ref(schema)}}
    return response


def _operation(
    operation_id: str, summary: str, tag: str, responses: dict,
    parameters: Iterable[dict] = (), body: Optional[str] = None, body_required: bool = True,
    secured: bool = True, identity: bool = False,
) -> dict:
    """One operation; `identity`: it needs the customer's identity assertion."""
    operation: dict = {
        "operationId": operation_id, "summary": summary, "tags": [tag],
        "responses": dict(responses),
    }
    if parameters:
        operation["parameters"] = list(parameters)
    if body:
        operation["requestBody"] = {
            "required": body_required, "content": {JSON: {"schema": _ref(body)}},
        }
        operation["responses"].setdefault("400", _error_response("JSON mal formé (invalid_json)"))
        operation["responses"].setdefault(
            "422", _error_response("Champs manquants ou invalides (validation_error)")
        )
        operation["responses"].setdefault("413", _error_response("Corps trop volumineux"))
    if identity:
        operation["parameters"] = [*operation.get("parameters", []), IDENTITY_ASSERTION]
        operation["responses"]["401"] = _error_response(
            "Jeton de service absent ou invalide (unauthorized), assertion d'identité absente "
            "(identity_required), fausse (identity_invalid) ou expirée (identity_expired)")
        operation["responses"]["403"] = _error_response(
            "Assertion d'identité d'un autre client (identity_forbidden)")
    if secured:
        operation["responses"].setdefault(
            "401", _error_response("Jeton de service absent ou invalide (unauthorized)")
        )
    else:
        operation["security"] = []
    return operation


CUSTOMER_404 = {"404": _error_response("Client inconnu (customer_not_found)")}


def _common_paths() -> dict:
    return {
        "/health": {"get": _operation(
            "health", "Le service répond et joint sa base", "meta",
            {"200": _ok("En service", "Health"), "503": _error_response("Base injoignable")},
            secured=False,
        )},
        "/v1/openapi.json": {"get": _operation(
            "openapi", "Ce document", "meta",
            {"200": {"description": "Document OpenAPI 3.0",
                     "content": {JSON: {"schema": {"type": "object"}}}}},
            secured=False,
        )},
    }


def _policy_paths() -> dict:
    customer = "/v1/customers/{customer_id}"
    return {
        customer: {"get": _operation(
            "getCustomer", "Fiche du client", "policy",
            {"200": _ok("Client", "Customer"), **CUSTOMER_404}, [CUSTOMER_ID], identity=True,
        )},
        f"{customer}/contracts": {"get": _operation(
            "listContracts", "Contrats du client (en cours et résiliés)", "policy",
            {"200": _ok("Contrats", "ContractList"), **CUSTOMER_404}, [CUSTOMER_ID], identity=True,
        )},
        f"{customer}/contracts/{{contract_number}}": {"get": _operation(
            "getContract", "Un contrat du client", "policy",
            {"200": _ok("Contrat", "Contract"),
             "404": _error_response("Client ou contrat inconnu, ou contrat d'un autre client")},
            [CUSTOMER_ID, CONTRACT_NUMBER], identity=True,
        )},
        f"{customer}/contracts/{{contract_number}}/attestations": {"post": _operation(
            "createAttestation", "Génère une attestation d'assurance PDF", "policy",
            {"201": _ok("Attestation générée", "Attestation"),
             "404": _error_response("Client ou contrat inconnu"),
             "409": _error_response("Contrat résilié (contract_terminated, avec end_date)")},
            [CUSTOMER_ID, CONTRACT_NUMBER], body="AttestationRequest", body_required=False,
            identity=True,
        )},
        "/v1/documents/{filename}": {"get": _operation(
            "downloadDocument", "Télécharge un document par son lien signé", "policy",
            {"200": {"description": "Le PDF",
                     "content": {"application/pdf": {"schema": {"type": "string",
                                                                "format": "binary"}}}},
             "403": _error_response("Signature absente ou fausse (invalid_link)"),
             "404": _error_response("Document inconnu (document_not_found)"),
             "410": _error_response("Lien expiré (link_expired)")},
            [
                _param("filename", "{document_id}.pdf", pattern=r"^[0-9a-f]{32}\.pdf$"),
                {**_param("expires", "Expiration du lien (secondes Unix)", "query"),
                 "required": True},
                {**_param("signature", "HMAC-SHA256 hexadécimal", "query"), "required": True},
            ],
            secured=False,
        )},
        f"{customer}/password-reset": {"post": _operation(
            "sendPasswordReset", "Envoie l'e-mail de réinitialisation du mot de passe", "policy",
            {"202": _ok("E-mail envoyé", "SentTo"), **CUSTOMER_404}, [CUSTOMER_ID], identity=True,
        )},
        f"{customer}/identifier-reminder": {"post": _operation(
            "sendIdentifierReminder", "Renvoie l'identifiant par e-mail", "policy",
            {"202": _ok("E-mail envoyé", "SentTo"), **CUSTOMER_404}, [CUSTOMER_ID], identity=True,
        )},
        f"{customer}/requests": {"post": _operation(
            "createCustomerRequest", "Dépose une demande soumise à validation", "policy",
            {"201": _ok("Demande enregistrée", "CustomerRequestCreated"),
             "404": _error_response("Client ou contrat inconnu")},
            [CUSTOMER_ID], body="CustomerRequestInput", identity=True,
        )},
        "/v1/handoffs": {"post": _operation(
            "createHandoff", "Transmet la conversation à un conseiller", "policy",
            {"201": _ok("Transfert en attente", "HandoffCreated"), **CUSTOMER_404,
             "401": _error_response(
                 "Jeton de service absent ou invalide (unauthorized) ; client nommé sans son "
                 "assertion d'identité (identity_required, identity_invalid, identity_expired)"),
             "403": _error_response("Assertion d'identité d'un autre client (identity_forbidden)")},
            [{**IDENTITY_ASSERTION, "required": False,
              "description": "Assertion d'identité du client nommé (customer_id), requise alors"}],
            body="HandoffInput",
        )},
        f"{customer}/identity-checks": {"post": _operation(
            "startIdentityCheck",
            "Démarre une vérification : code SMS envoyé si le client existe et la date de "
            "naissance est la sienne, la même réponse sinon", "policy",
            {"201": _ok("Vérification démarrée (code envoyé ou non, sans distinction)",
                        "IdentityCheckStarted"),
             "423": _error_response("Conversation ou source bloquée (identification_locked, "
                                    "locked_until)")},
            [CUSTOMER_ID], body="IdentityCheckInput",
        )},
        "/v1/phone-identity-checks": {"post": _operation(
            "startPhoneIdentityCheck",
            "Identifie par le téléphone vérifié du canal et la date de naissance", "policy",
            {"200": _ok("Client identifié sans code (send_code false)", "IdentityVerified"),
             "201": _ok("Vérification démarrée, code envoyé ou non sans distinction (send_code "
                        "true)", "IdentityCheckStarted"),
             "401": _error_response("Téléphone ou date de naissance faux, sans distinction "
                                    "(identity_mismatch, attempts_left ; send_code false), ou "
                                    "numéro sans l'assertion du canal (channel_assertion_required)"),
             "403": _error_response("Assertion du canal fausse, expirée, ou d'un autre numéro ou "
                                    "d'une autre conversation (channel_assertion_invalid)"),
             "409": _error_response("Plusieurs clients correspondent (identity_ambiguous)"),
             "423": _error_response("Conversation, source ou numéro bloqués "
                                    "(identification_locked, locked_until)")},
            body="PhoneIdentityCheckInput",
        )},
        "/v1/identity-checks/{check_id}/verify": {"post": _operation(
            "verifyIdentityCheck", "Vérifie le code SMS", "policy",
            {"200": _ok("Client identifié", "IdentityVerified"),
             "401": _error_response("Code faux (wrong_code, attempts_left)"),
             "404": _error_response("Vérification inconnue ou d'une autre conversation "
                                    "(identity_check_not_found)"),
             "410": _error_response("Code expiré, remplacé, déjà utilisé ou essayé trois fois "
                                    "(code_expired)"),
             "423": _error_response("Conversation ou source bloquée (identification_locked, "
                                    "locked_until)")},
            [CHECK_ID], body="CodeInput",
        )},
        "/v1/espace-client-token-checks": {"post": _operation(
            "checkSessionToken",
            "Vérifie un jeton de session de l'espace client et émet l'assertion d'identité",
            "policy",
            {"200": _ok("Client identifié", "IdentityVerified"),
             "401": _error_response("Jeton de service absent ou invalide (unauthorized) ; jeton "
                                    "de session faux, mal formé ou expiré (session_token_invalid)"),
             "404": _error_response("Jeton valide d'un client inconnu (customer_not_found)")},
            body="SessionTokenInput",
        )},
    }


def _claims_paths() -> dict:
    claims = "/v1/customers/{customer_id}/claims"
    idempotency_key = {
        "name": "Idempotency-Key", "in": "header", "required": True,
        "description": "Clé choisie par l'appelant (1 à 100 caractères) : une reprise "
                       "avec la même clé ne crée pas de second sinistre.",
        "schema": {"type": "string", "minLength": 1, "maxLength": 100},
    }
    return {
        claims: {
            "get": _operation(
                "listClaims", "Sinistres du client, du plus récent au plus ancien", "claims",
                {"200": _ok("Sinistres", "ClaimList"), **CUSTOMER_404}, [CUSTOMER_ID], identity=True,
            ),
            "post": _operation(
                "createClaim", "Déclare un sinistre", "claims",
                {"201": _ok("Sinistre enregistré", "Claim"),
                 "200": _ok("Clé déjà utilisée : le sinistre créé alors", "Claim"),
                 "404": _error_response("Client ou contrat inconnu"),
                 "422": _error_response(
                     "validation_error, contract_not_active, claim_type_not_covered, "
                     "date_in_future ou date_before_contract_start")},
                [CUSTOMER_ID, idempotency_key], body="ClaimDeclaration", identity=True,
            ),
        },
        f"{claims}/{{claim_number}}": {"get": _operation(
            "getClaim", "Un sinistre du client", "claims",
            {"200": _ok("Sinistre", "Claim"),
             "404": _error_response("Sinistre inconnu (claim_not_found), y compris celui "
                                    "d'un autre client")},
            [CUSTOMER_ID, CLAIM_NUMBER], identity=True,
        )},
        f"{claims}/{{claim_number}}/documents": {"post": _operation(
            "addClaimDocument", "Joint un fichier déjà reçu à un sinistre du client", "claims",
            {"201": _ok("Fichier joint", "ClaimDocumentLinked"),
             "200": _ok("Fichier déjà joint à ce sinistre", "ClaimDocumentLinked"),
             "404": _error_response("Client, sinistre (claim_not_found, y compris celui d'un "
                                    "autre client) ou fichier (upload_not_found) inconnu"),
             "409": _error_response("Fichier déjà joint à un autre sinistre "
                                    "(upload_already_linked)")},
            [CUSTOMER_ID, CLAIM_NUMBER], body="ClaimDocumentInput", identity=True,
        )},
        "/v1/uploads": {"post": _upload_operation()},
    }


def _upload_operation() -> dict:
    operation = _operation(
        "uploadFile", "Reçoit un fichier (photo ou PDF) à joindre ensuite à un sinistre",
        "claims",
        {"201": _ok("Fichier reçu", "Upload"),
         "400": _error_response("Fichier vide (empty)"),
         "413": _error_response("Fichier trop volumineux (too_large, avec max_bytes)"),
         "415": _error_response("Type refusé ou contenu qui ne correspond pas au type "
                                "annoncé (unsupported_type)")},
        [{"name": "X-Filename", "in": "header", "required": False,
          "description": "Nom d'origine du fichier (UTF-8 encodé en pourcentage)",
          "schema": {"type": "string"}}],
    )
    binary = {"schema": {"type": "string", "format": "binary"}}
    operation["requestBody"] = {
        "required": True,
        "description": "Le fichier brut ; Content-Type annoncé (application/octet-stream "
                       "si inconnu), vérifié d'après le contenu.",
        "content": {content_type: binary for content_type in ACCEPTED_TYPES},
    }
    return operation


def _schemas() -> dict:
    address = _object({"street": STRING, "postcode": STRING, "city": STRING})
    phase = {"type": "string",
             "enum": ["declaration", "ouverture", "expertise", "indemnisation", "cloture"]}
    return {
        "Error": _object({"error": _object(
            {"code": STRING, "message": STRING,
             "fields": {"type": "object", "additionalProperties": STRING}},
            required=["code", "message"], additionalProperties=True,
        )}, required=["error"]),
        "Health": _object({"status": STRING, "services": {"type": "array", "items": STRING}}),
        "Address": address,
        "Customer": _object({
            "customer_id": STRING, "first_name": STRING, "last_name": STRING,
            "birth_date": DATE, "email": STRING, "phone": {**STRING, "description": "E.164"},
            "address": _ref("Address"),
        }),
        "Contract": _object({
            "contract_number": STRING, "customer_id": STRING,
            "product": {"type": "string",
                        "enum": ["auto", "habitation", "sante", "prevoyance", "pro"]},
            "label": STRING, "status": {"type": "string", "enum": ["active", "terminated"]},
            "start_date": DATE, "end_date": _nullable(DATE), "next_due_date": _nullable(DATE),
            "premium_eur": NUMBER,
            "premium_frequency": {"type": "string",
                                  "enum": ["mensuelle", "trimestrielle", "annuelle"]},
            "payment_method": {"type": "string",
                               "enum": ["prelevement", "carte_bancaire", "cheque"]},
            "franchise_eur": _nullable(NUMBER), "bonus_malus": _nullable(NUMBER),
            "beneficiary_clause": _nullable(STRING),
            "insured_vehicle": _nullable(_object(
                {"make": STRING, "model": STRING, "plate": STRING})),
            "insured_address": _nullable(address),
            "insured_activity": _nullable(STRING),
            "guarantees": {"type": "array",
                           "items": _object({"code": STRING, "label": STRING})},
            "covered_claim_types": {"type": "array",
                                    "items": {"type": "string", "enum": list(CLAIM_TYPES)},
                                    "description": "Vide pour un contrat résilié"},
        }),
        "ContractList": _object({"contracts": {"type": "array", "items": _ref("Contract")}}),
        "AttestationRequest": _object({
            "kind": {"type": "string", "enum": list(KINDS), "default": "standard"},
            "send_by_email": {**BOOLEAN, "default": False,
                              "description": "Envoie aussi le lien à l'e-mail du dossier"},
        }, additionalProperties=False),
        "Attestation": _object({
            "document_id": STRING, "reference": STRING, "contract_number": STRING,
            "kind": STRING, "valid_from": DATE, "valid_to": DATE, "url": STRING,
            "expires_at": DATETIME, "sent_to": STRING,
        }),
        "SentTo": _object({"sent_to": STRING}),
        "CustomerRequestInput": _object({
            "kind": {"type": "string", "enum": list(REQUEST_DELAY_DAYS)},
            "details": {"type": "object"},
            "contract_number": STRING,
        }, required=["kind"], additionalProperties=False),
        "CustomerRequestCreated": _object({
            "reference": STRING, "kind": STRING, "contract_number": _nullable(STRING),
            "status": STRING, "expected_by": DATE, "delay_days": INTEGER,
            "created_at": DATETIME,
        }),
        "HandoffInput": _object({
            "customer_id": _nullable(STRING), "channel": {**STRING, "maxLength": 40},
            "reason": {**STRING, "maxLength": 200}, "summary": {**STRING, "maxLength": 4000},
        }, required=["channel", "reason", "summary"], additionalProperties=False),
        "HandoffCreated": _object({"reference": STRING, "status": STRING,
                                   "created_at": DATETIME}),
        "IdentityCheckInput": _object({"birth_date": DATE, **IDENTIFIED_WHERE, **ASKED_FROM},
                                      required=["birth_date", *IDENTIFIED_WHERE],
                                      additionalProperties=False),
        "PhoneIdentityCheckInput": _object({
            "phone_number": {**STRING, "description": "E.164, ou numéro français (06 12 34 56 78)"},
            "birth_date": DATE,
            "send_code": {**BOOLEAN, "default": True},
            "channel_assertion": {**STRING, "description": "Le numéro signé par la ligne "
                                                           "téléphonique pour cette conversation "
                                                           "(JWT, CHANNEL_ASSERTION_SECRET) : requis "
                                                           "sans code (send_code false)"},
            **IDENTIFIED_WHERE,
            **ASKED_FROM,
        }, required=["phone_number", "birth_date", *IDENTIFIED_WHERE], additionalProperties=False),
        "IdentityCheckStarted": _object({
            "check_id": STRING, "expires_at": DATETIME,
            "sent_to": {**STRING, "description": "Le numéro donné, masqué (vérification par "
                                                 "téléphone seulement)"},
        }),
        "CodeInput": _object({"code": {**STRING, "pattern": r"^\d{6}$"}, **IDENTIFIED_WHERE,
                              **ASKED_FROM},
                             required=["code", *IDENTIFIED_WHERE], additionalProperties=False),
        "SessionTokenInput": _object({"token": STRING, **IDENTIFIED_WHERE},
                                     required=["token", *IDENTIFIED_WHERE],
                                     additionalProperties=False),
        "IdentityVerified": _object({
            "customer_id": STRING, "verified": BOOLEAN,
            "identity_assertion": {**STRING, "description": "À joindre (X-Identity-Assertion) à "
                                                            "chaque appel qui concerne ce client"},
            "identity_expires_at": DATETIME,
        }),
        "ClaimDeclaration": _object({
            "contract_number": STRING,
            "claim_type": {"type": "string", "enum": list(CLAIM_TYPES)},
            "occurred_on": DATE,
            "place": {**STRING, "maxLength": 2000},
            "circumstances": {**STRING, "maxLength": 2000},
            "damage": {**STRING, "maxLength": 2000},
            "third_party": _nullable({**STRING, "maxLength": 2000}),
            "witnesses": _nullable({**STRING, "maxLength": 2000}),
            "channel": _nullable({**STRING, "maxLength": 40}),
            "attachments": {"type": "array", "maxItems": MAX_ATTACHMENTS, "uniqueItems": True,
                            "items": UPLOAD_ID,
                            "description": "Fichiers reçus par POST /v1/uploads, joints "
                                           "au sinistre à sa création"},
        }, required=["contract_number", "claim_type", "occurred_on", "place",
                     "circumstances", "damage"], additionalProperties=False),
        "Claim": _object({
            "claim_number": STRING, "customer_id": STRING, "contract_number": STRING,
            "claim_type": STRING, "occurred_on": DATE, "declared_at": DATETIME,
            "place": STRING, "circumstances": STRING, "damage": STRING,
            "third_party": _nullable(STRING), "witnesses": _nullable(STRING),
            "channel": _nullable(STRING), "phase": phase,
            "phase_history": {"type": "array",
                              "items": _object({"phase": phase, "at": DATETIME})},
            "expert_appointment": _nullable(DATETIME), "amount_paid_eur": NUMBER,
            "documents": {"type": "array", "items": _ref("ClaimDocument")},
        }),
        "ClaimDocument": _object({
            "document_id": STRING, "filename": STRING, "content_type": STRING,
            "size": INTEGER, "uploaded_at": DATETIME}),
        "ClaimDocumentInput": _object({"upload_id": UPLOAD_ID}, required=["upload_id"],
                                      additionalProperties=False),
        "ClaimDocumentLinked": _object({"claim_number": STRING,
                                        "document": _ref("ClaimDocument")}),
        "Upload": _object({
            "upload_id": UPLOAD_ID,
            "content_type": {"type": "string", "enum": list(ACCEPTED_TYPES)},
            "size": INTEGER, "filename": STRING}),
        "ClaimList": _object({"claims": {"type": "array", "items": _ref("Claim")}}),
    }


def build_openapi(services: Iterable[str]) -> dict:
    """The document for the mounted services only."""
    services = set(services)
    paths = _common_paths()
    if "policy" in services:
        paths.update(_policy_paths())
    if "claims" in services:
        paths.update(_claims_paths())
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Oyat Assurance – services " + " et ".join(sorted(services)),
            "version": "1",
            "description": "Contrat HTTP des services de contrats et de sinistres "
                           "(voir docs/services-api.md).",
        },
        "paths": paths,
        "components": {
            "schemas": _schemas(),
            "securitySchemes": {"serviceToken": {"type": "http", "scheme": "bearer"}},
        },
        "security": [{"serviceToken": []}],
    }
