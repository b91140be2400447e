"""Every error code the policy and claims services answer, with its HTTP status."""
from enum import Enum


class ErrorCode(str, Enum):
    """A stable error code (`{"error": {"code": ...}}`).

    Members are named as their codes: a member then hashes and compares like the plain
    string, so `"wrong_code" in {ErrorCode.wrong_code}` holds, and it prints as its code.
    """

    bad_request = "bad_request"
    empty = "empty"
    invalid_json = "invalid_json"
    unauthorized = "unauthorized"
    identity_mismatch = "identity_mismatch"
    wrong_code = "wrong_code"
    identity_required = "identity_required"
    identity_invalid = "identity_invalid"
    identity_expired = "identity_expired"
    channel_assertion_required = "channel_assertion_required"
    session_token_invalid = "session_token_invalid"
    identity_forbidden = "identity_forbidden"
    channel_assertion_invalid = "channel_assertion_invalid"
    invalid_link = "invalid_link"
    not_found = "not_found"
    customer_not_found = "customer_not_found"
    contract_not_found = "contract_not_found"
    claim_not_found = "claim_not_found"
    document_not_found = "document_not_found"
    identity_check_not_found = "identity_check_not_found"
    upload_not_found = "upload_not_found"
    method_not_allowed = "method_not_allowed"
    contract_terminated = "contract_terminated"
    upload_already_linked = "upload_already_linked"
    identity_ambiguous = "identity_ambiguous"
    link_expired = "link_expired"
    code_expired = "code_expired"
    payload_too_large = "payload_too_large"
    too_large = "too_large"
    unsupported_type = "unsupported_type"
    validation_error = "validation_error"
    contract_not_active = "contract_not_active"
    claim_type_not_covered = "claim_type_not_covered"
    date_in_future = "date_in_future"
    date_before_contract_start = "date_before_contract_start"
    identification_locked = "identification_locked"
    # The advisers' console.
    adviser_login_refused = "adviser_login_refused"
    adviser_session_invalid = "adviser_session_invalid"
    handoff_not_yours = "handoff_not_yours"
    handoff_not_found = "handoff_not_found"
    handoff_taken = "handoff_taken"
    handoff_not_taken = "handoff_not_taken"
    adviser_locked = "adviser_locked"
    # C: alerts (issue 18).
    alert_not_found = "alert_not_found"
    # Quotes (A, issue 18).
    quote_not_found = "quote_not_found"
    # D: claim notices (issue 15).
    reply_address_required = "reply_address_required"
    reply_address_invalid = "reply_address_invalid"
    notice_not_found = "notice_not_found"
    notice_not_leased = "notice_not_leased"
    # I: the review of misunderstood messages (issue 16).
    supervisor_only = "supervisor_only"
    training_review_not_found = "training_review_not_found"
    internal_error = "internal_error"
    service_unavailable = "service_unavailable"

    def __str__(self) -> str:
        return self.value

    @property
    def status(self) -> int:
        """The HTTP status the services answer this code with."""
        return STATUS[self]


STATUS = {
    ErrorCode.bad_request: 400, ErrorCode.empty: 400, ErrorCode.invalid_json: 400,
    ErrorCode.unauthorized: 401, ErrorCode.identity_mismatch: 401, ErrorCode.wrong_code: 401,
    ErrorCode.identity_required: 401, ErrorCode.identity_invalid: 401,
    ErrorCode.identity_expired: 401, ErrorCode.channel_assertion_required: 401,
    ErrorCode.session_token_invalid: 401,
    ErrorCode.identity_forbidden: 403, ErrorCode.channel_assertion_invalid: 403,
    ErrorCode.invalid_link: 403,
    ErrorCode.not_found: 404, ErrorCode.customer_not_found: 404,
    ErrorCode.contract_not_found: 404, ErrorCode.claim_not_found: 404,
    ErrorCode.document_not_found: 404, ErrorCode.identity_check_not_found: 404,
    ErrorCode.upload_not_found: 404,
    ErrorCode.method_not_allowed: 405,
    ErrorCode.contract_terminated: 409, ErrorCode.upload_already_linked: 409,
    ErrorCode.identity_ambiguous: 409,
    ErrorCode.link_expired: 410, ErrorCode.code_expired: 410,
    ErrorCode.payload_too_large: 413, ErrorCode.too_large: 413,
    ErrorCode.unsupported_type: 415,
    ErrorCode.validation_error: 422, ErrorCode.contract_not_active: 422,
    ErrorCode.claim_type_not_covered: 422, ErrorCode.date_in_future: 422,
    ErrorCode.date_before_contract_start: 422,
    ErrorCode.identification_locked: 423,
    ErrorCode.adviser_login_refused: 401, ErrorCode.adviser_session_invalid: 401,
    ErrorCode.handoff_not_yours: 403, ErrorCode.handoff_not_found: 404,
    ErrorCode.handoff_taken: 409, ErrorCode.handoff_not_taken: 409,
    ErrorCode.adviser_locked: 423,
    ErrorCode.alert_not_found: 404,
    ErrorCode.quote_not_found: 404,
    ErrorCode.reply_address_required: 401, ErrorCode.reply_address_invalid: 403,
    ErrorCode.notice_not_found: 404, ErrorCode.notice_not_leased: 409,
    ErrorCode.supervisor_only: 403, ErrorCode.training_review_not_found: 404,  # I
    ErrorCode.internal_error: 500,
    ErrorCode.service_unavailable: 503,
}

# The refusals of the customer's identity assertion itself: the customer identifies again.
IDENTITY_REFUSALS = frozenset({
    ErrorCode.identity_required, ErrorCode.identity_invalid, ErrorCode.identity_expired,
    ErrorCode.identity_forbidden,
})


def error_code(code: object) -> object:
    """`code` as an ErrorCode when it is one, else as it came (a newer service's code)."""
    try:
        return ErrorCode(code)
    except ValueError:
        return code
