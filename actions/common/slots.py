"""Slot names shared by several flows."""

AUTHENTICATED_CUSTOMER_ID = "authenticated_customer_id"
CUSTOMER_IDENTIFIED = "customer_identified"
# The identity assertion of the identified customer, issued by the policy service for
# this conversation; sent with every call about that customer.
IDENTITY_ASSERTION = "identity_assertion"
# True when the latest espace-client token was refused (forged, expired...).
SESSION_TOKEN_REFUSED = "session_token_refused"
# True when the latest espace-client token is valid but no customer of the insurer has its id.
SESSION_CUSTOMER_UNKNOWN = "session_customer_unknown"
IDENTITY_SLOTS = (AUTHENTICATED_CUSTOMER_ID, CUSTOMER_IDENTIFIED, IDENTITY_ASSERTION, SESSION_TOKEN_REFUSED,
                  SESSION_CUSTOMER_UNKNOWN)
# Whose procedure slots these are: kept across sessions with them, so that a
# different customer identifying later never sees them.
PROCEDURE_OWNER = "procedure_owner"

CLAIM_FORM_SLOTS = (
    "claim_type",
    "claim_contract",
    "claim_date",
    "claim_place",
    "claim_circumstances",
    "claim_damage",
    "claim_third_party",
    "claim_witnesses",
)
CLAIM_IDEMPOTENCY_KEY = "claim_idempotency_key"
CLAIM_FILING_PENDING = "claim_filing_pending"
# True when the declaration opened with the customer's story: the details still
# missing are then asked together.
CLAIM_TOLD_AS_STORY = "claim_told_as_story"
# True while the customer is asked whether to drop the declaration in progress.
CLAIM_CANCEL_PENDING = "claim_cancel_pending"

# Files received: during a declaration, outside one (waiting for their claim),
# and the claim chosen for them.
CLAIM_ATTACHMENTS = "claim_attachments"
PENDING_DOCUMENTS = "pending_documents"
DOCUMENT_CLAIM = "document_claim"

ATTESTATION_CONTRACT = "attestation_contract"

# Everything that belongs to one customer's procedures: dropped when the
# customer changes, so that nothing of one customer reaches another.
CUSTOMER_PROCEDURE_SLOTS = CLAIM_FORM_SLOTS + (
    CLAIM_IDEMPOTENCY_KEY, CLAIM_FILING_PENDING, CLAIM_ATTACHMENTS, PENDING_DOCUMENTS, DOCUMENT_CLAIM,
    ATTESTATION_CONTRACT, CLAIM_TOLD_AS_STORY, CLAIM_CANCEL_PENDING,
)

# Identification in the dialogue (customer id, birth date, then an SMS code; or,
# when the channel verified the phone number, birth date then SMS code).
IDENTIFICATION_CUSTOMER_ID = "identification_customer_id"
IDENTIFICATION_BIRTH_DATE = "identification_birth_date"
IDENTIFICATION_CODE = "identification_code"
# True when the customer identifies with the customer id although the channel
# verified a phone number (another number on file, or a number shared by several).
IDENTIFICATION_BY_CUSTOMER_ID = "identification_by_customer_id"
IDENTIFICATION_SLOTS = (
    IDENTIFICATION_CUSTOMER_ID,
    IDENTIFICATION_BIRTH_DATE,
    IDENTIFICATION_CODE,
    "identification_check_id",
    IDENTIFICATION_BY_CUSTOMER_ID,
)
# The request that needed identification, resumed once the customer is identified.
PENDING_REQUEST = "pending_request"
# A message's second request, or a request set aside, served once nothing else waits
# (server_extensions/two_requests.py): {"intent", "entities", "text", "announce"}.
NEXT_REQUEST = "next_request"
