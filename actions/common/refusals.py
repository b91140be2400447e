"""What the customer is told when a service refuses a request: one named domain response
per refusal code an action can meet, in one table.

The services' own error messages are written for their API clients and are never shown
to the customer: a code is turned into the response of the request it refused, and a
code not listed gets that request's general answer. The codes are the services'
ErrorCode members (core/service_contract), which compare and hash as their strings.
"""

from typing import Dict, Mapping, Optional

from core.service_contract import ErrorCode as E

# The requests a service may refuse, each with the responses of its refusals.
CLAIM_FILING = "claim_filing"
ATTESTATION = "attestation"
IDENTITY_CHECK = "identity_check"  # birth date given with the customer id: the SMS code is sent
PHONE_IDENTITY_CHECK = "phone_identity_check"  # birth date given on a channel that verified the number
CODE_CHECK = "code_check"  # the SMS code
CLAIM_DOCUMENT = "claim_document"  # a file linked to a claim

IDENTIFICATION_LOCKED = "utter_identification_locked"
IDENTIFICATION_UNAVAILABLE = "utter_identification_unavailable"
# The telephone line's signature of the caller's number is missing or refused: not the
# caller's answer, no retry helps them.
CHANNEL_ASSERTION_REFUSALS = frozenset({E.channel_assertion_required, E.channel_assertion_invalid})

REFUSAL_RESPONSES: Mapping[str, Mapping[E, str]] = {
    CLAIM_FILING: {
        E.contract_not_found: "utter_claim_filing_refused_contract_unknown",
        E.contract_not_active: "utter_claim_filing_refused_contract_not_active",
        E.claim_type_not_covered: "utter_claim_filing_refused_not_covered",
        E.date_in_future: "utter_claim_filing_refused_date_in_future",
        E.date_before_contract_start: "utter_claim_filing_refused_date_before_contract",
        E.validation_error: "utter_claim_filing_refused_invalid",
    },
    ATTESTATION: {
        E.contract_terminated: "utter_attestation_contract_terminated",
        # The only validation the attestation route makes: a school certificate needs a home contract.
        E.validation_error: "utter_school_attestation_needs_home_contract",
        E.contract_not_found: "utter_attestation_contract_unknown",
    },
    IDENTITY_CHECK: {
        E.identification_locked: IDENTIFICATION_LOCKED,
    },
    PHONE_IDENTITY_CHECK: {
        E.identification_locked: IDENTIFICATION_LOCKED,
        E.identity_ambiguous: "utter_identification_phone_ambiguous",
        **dict.fromkeys(CHANNEL_ASSERTION_REFUSALS, IDENTIFICATION_UNAVAILABLE),
        # An unknown number is answered like a wrong birth date.
        E.identity_mismatch: "utter_identification_phone_mismatch",
    },
    CODE_CHECK: {
        E.identification_locked: IDENTIFICATION_LOCKED,
        E.wrong_code: "utter_identification_wrong_code",
        # Expired, replaced or of another conversation: a new code needs the birth date again.
        E.code_expired: "utter_identification_code_expired",
        E.identity_check_not_found: "utter_identification_code_expired",
    },
    CLAIM_DOCUMENT: {
        E.claim_not_found: "utter_document_claim_not_open",
    },
}

# A refusal whose code is not listed above: the request's general answer.
OTHER_REFUSAL: Dict[str, str] = {
    CLAIM_FILING: "utter_claim_filing_refused",
    ATTESTATION: "utter_attestation_contract_unknown",
    IDENTITY_CHECK: IDENTIFICATION_UNAVAILABLE,
    PHONE_IDENTITY_CHECK: "utter_identification_phone_mismatch",
    CODE_CHECK: "utter_identification_code_expired",
    CLAIM_DOCUMENT: "utter_claim_attachments_not_linked",
}


def refusal_response(request: str, code: Optional[str]) -> str:
    """The response that tells the customer the service refused `request` with `code`
    (an ErrorCode, or its string)."""
    return REFUSAL_RESPONSES[request].get(code, OTHER_REFUSAL[request])
