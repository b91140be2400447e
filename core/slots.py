"""Slot names shared by several flows and processes (the Rasa server reads some of them),
and which of them a new session carries over."""

from typing import Any, Dict, List, Text

from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet

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

# Where an anonymous visitor asked to be called back after a hand-off (actions/handoff.py):
# their answer, right or wrong, is personal data stored masked whole (bot/tracker_store.py).
HANDOFF_CONTACT = "handoff_contact"
# Where an anonymous visitor asking for a quote's follow-up is reached, and the address a
# quote is e-mailed to (actions/quotes.py): stored masked whole like the hand-off's contact.
QUOTE_CONTACT = "quote_contact"
QUOTE_EMAIL = "quote_email"

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
# (bot/two_requests.py): {"intent", "entities", "text", "announce"}.
NEXT_REQUEST = "next_request"


def session_start_events(slots: Dict[Text, Any]) -> List[EventType]:
    """A new session with the slots carried over (the Rasa server uses it too when the
    action server cannot start the session itself)."""
    carried_over = [
        SlotSet(name, value)
        for name, value in slots.items()
        # A request waiting from the last session is not asked for any more.
        if name not in IDENTITY_SLOTS and name not in ("requested_slot", NEXT_REQUEST) and value is not None
    ]
    # Said explicitly: the conversation store then masks the assertion it kept (held slot).
    dropped = [SlotSet(IDENTITY_ASSERTION, None)] if slots.get(IDENTITY_ASSERTION) is not None else []
    return [SessionStarted(), *carried_over, *dropped, ActionExecuted("action_listen")]
