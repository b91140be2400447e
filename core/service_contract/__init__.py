"""The HTTP contract of the insurer's policy and claims services, as code: the request
bodies and answers of every route (pydantic models), the one list of error codes, and
the route table the services' OpenAPI document (/v1/openapi.json) is generated from.

The services validate bodies with these models; the client (core/service_client.py)
checks answers against them and compares error codes with ErrorCode.
"""
from core.service_contract.answers import (
    Adviser,
    AdviserGrantAnswer,
    AdviserMessageRecorded,
    AdvisersAvailable,
    AdviserSessionCurrent,
    AdviserSessionOpened,
    Attestation,
    Claim,
    ClaimDocumentLinked,
    ClaimList,
    Contract,
    ContractList,
    Customer,
    CustomerRequestCreated,
    Error,
    HandoffCreated,
    HandoffDetail,
    HandoffList,
    HandoffSummary,
    Health,
    IdentityCheckStarted,
    IdentityVerified,
    Quote,
    QuoteFormula,
    SentTo,
    SimulatedCoverage,
    Simulation,
    Upload,
)
from core.service_contract.errors import IDENTITY_REFUSALS, ErrorCode, error_code
from core.service_contract.fields import MAX_ATTACHMENTS, field_errors, is_upload_id, readable
from core.service_contract.requests import (
    AdviserLoginInput,
    AdviserMessageInput,
    AttestationKind,
    AttestationRequest,
    ClaimDeclaration,
    ClaimDocumentInput,
    ClaimType,
    CodeInput,
    CustomerRequestInput,
    HandoffInput,
    IdentityCheckInput,
    PhoneIdentityCheckInput,
    QuoteEmailInput,
    QuoteFollowUpInput,
    QuoteInput,
    QuoteProduct,
    RequestKind,
    SessionTokenInput,
    SimulationInput,
)
from core.service_contract.routes import ROUTES, Route, routes_of

__all__ = [
    "Adviser", "AdviserGrantAnswer", "AdviserLoginInput", "AdviserMessageInput",
    "AdviserMessageRecorded", "AdviserSessionCurrent", "AdviserSessionOpened", "AdvisersAvailable",
    "HandoffDetail", "HandoffList", "HandoffSummary", "Attestation", "AttestationKind", "AttestationRequest", "Claim", "ClaimDeclaration",
    "ClaimDocumentInput", "ClaimDocumentLinked", "ClaimList", "ClaimType", "CodeInput", "Contract",
    "ContractList", "Customer", "CustomerRequestCreated", "CustomerRequestInput", "Error",
    "ErrorCode", "HandoffCreated", "HandoffInput", "Health", "IDENTITY_REFUSALS",
    "IdentityCheckInput", "IdentityCheckStarted", "IdentityVerified", "MAX_ATTACHMENTS",
    "PhoneIdentityCheckInput", "ROUTES", "RequestKind", "Route", "SentTo", "SessionTokenInput",
    "Upload", "error_code", "field_errors", "is_upload_id", "readable", "routes_of",
    # A: quotes and simulations (issue 18)
    "Quote", "QuoteEmailInput", "QuoteFollowUpInput", "QuoteFormula", "QuoteInput", "QuoteProduct",
    "SimulatedCoverage", "Simulation", "SimulationInput",
]
