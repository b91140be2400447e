"""Files the customer sends (photos, invoices, constat) on channels that take files.

A connector stores each file with the claims service and hands the dialogue an
`attach_document` message whose metadata lists the files (connectors/attachments.py).
During a declaration they join it (linked when it is filed), also when sent while the
customer identifies to declare; otherwise they are linked to the claim the customer
picks among their open ones, once identified. (A customer not identified can send
files only to a declaration: connectors.attachments.not_taken_because.)
"""

import logging
import re
from typing import Any, Dict, List, Optional, Sequence, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common.identity import identified_customer
from actions.common.messages import latest_intent
from actions.common.refusals import CLAIM_DOCUMENT, refusal_response
from core.labels import NO_ATTACHMENTS, claim_label
from core.parsing.identifiers import find_claim_reference
from core.service_client import ServiceRefusal, ServiceUnavailable, services
from core.service_contract import Claim, ErrorCode
from core.slots import CLAIM_ATTACHMENTS, DOCUMENT_CLAIM, PENDING_DOCUMENTS, PENDING_REQUEST

logger = logging.getLogger(__name__)

Attachment = Dict[str, Any]

ATTACH_DOCUMENT_INTENT = "attach_document"
DECLARE_CLAIM_INTENT = "declare_claim"
DOCUMENT_FORM = "document_form"
# The claims service links at most this many files when a claim is filed.
MAX_CLAIM_ATTACHMENTS = 20
_UPLOAD_ID = re.compile(r"[0-9a-f]{32}")  # matched whole (fullmatch)


def message_attachments(message: Optional[Dict[str, Any]]) -> List[Attachment]:
    """The files listed in a message's metadata (set by connectors only); malformed
    entries are ignored."""
    metadata = (message or {}).get("metadata") or {}
    items = metadata.get("attachments") if isinstance(metadata, dict) else None
    attachments = []
    for item in items if isinstance(items, list) else []:
        if isinstance(item, dict) and isinstance(item.get("upload_id"), str) and _UPLOAD_ID.fullmatch(item["upload_id"]):
            attachments.append(
                {
                    "upload_id": item["upload_id"],
                    "filename": str(item.get("filename") or "document")[:120],
                    "content_type": str(item.get("content_type") or ""),
                    "size": item.get("size") if isinstance(item.get("size"), int) else None,
                }
            )
    return attachments


def received_attachments(tracker: Tracker) -> List[Attachment]:
    """The files of the latest message, when it is a connector's attach_document."""
    if latest_intent(tracker) != ATTACH_DOCUMENT_INTENT:
        return []
    return message_attachments(tracker.latest_message)


def merged(existing: Optional[Sequence[Attachment]], new: Sequence[Attachment]) -> List[Attachment]:
    """`existing` then the files of `new` not already there (a file counts once)."""
    result = list(existing or [])
    known = {a["upload_id"] for a in result}
    for attachment in new:
        if attachment["upload_id"] not in known:
            result.append(attachment)
            known.add(attachment["upload_id"])
    return result


def file_names(attachments: Sequence[Attachment]) -> str:
    return ", ".join(a["filename"] for a in attachments)


def attachments_label(attachments: Optional[Sequence[Attachment]]) -> str:
    """What the summary says about the files of the declaration."""
    return file_names(attachments) if attachments else NO_ATTACHMENTS


def upload_ids(attachments: Optional[Sequence[Attachment]]) -> List[str]:
    return [a["upload_id"] for a in attachments or []]


async def open_claims(customer_id: str) -> List[Claim]:
    """The customer's claims that are not closed (the ones files can still help)."""
    return [c for c in await services().list_claims(customer_id) if c.phase != "cloture"]


class ActionAddClaimAttachments(Action):
    """Adds the files just received to the declaration in progress."""

    def name(self) -> Text:
        return "action_add_claim_attachments"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return add_to_declaration(dispatcher, tracker, received_attachments(tracker))


def add_to_declaration(
    dispatcher: CollectingDispatcher, tracker: Tracker, received: Sequence[Attachment]
) -> List[EventType]:
    """Adds files to the declaration's attachments (MAX_CLAIM_ATTACHMENTS at most) and says so."""
    current = tracker.get_slot(CLAIM_ATTACHMENTS) or []
    new = [a for a in received if a["upload_id"] not in upload_ids(current)]
    if not new:
        return []
    room = MAX_CLAIM_ATTACHMENTS - len(current)
    if room <= 0:
        dispatcher.utter_message(response="utter_claim_attachments_full", max_files=MAX_CLAIM_ATTACHMENTS)
        return []
    kept = new[:room]
    if len(kept) > 1:
        response = "utter_claim_files_received"
    elif kept[0]["content_type"].startswith("image/"):
        response = "utter_claim_photo_received"
    else:
        response = "utter_claim_document_received"
    dispatcher.utter_message(response=response, file_names=file_names(kept))
    if len(kept) < len(new):
        dispatcher.utter_message(response="utter_claim_attachments_full", max_files=MAX_CLAIM_ATTACHMENTS)
    return [SlotSet(CLAIM_ATTACHMENTS, current + kept)]


class ActionReceiveDocuments(Action):
    """Files sent outside a declaration: kept until the customer is identified, then
    linked to the claim they are for, asked (document_form) when several are open."""

    def name(self) -> Text:
        return "action_receive_documents"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        new = received_attachments(tracker)
        customer_id = identified_customer(tracker)
        if customer_id is None and tracker.get_slot(PENDING_REQUEST) == DECLARE_CLAIM_INTENT:
            # Identifying to declare a claim: the files join the declaration resumed after.
            return add_to_declaration(dispatcher, tracker, new)
        pending = merged(tracker.get_slot(PENDING_DOCUMENTS), new)
        if not pending:
            return []
        if customer_id is None:
            dispatcher.utter_message(response="utter_documents_kept_until_identified", file_names=file_names(new or pending))
            return [SlotSet(PENDING_DOCUMENTS, pending)]
        try:
            numbers = [claim.claim_number for claim in await open_claims(customer_id)]
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_documents_unavailable")
            return [SlotSet(PENDING_DOCUMENTS, pending)]
        chosen = tracker.get_slot(DOCUMENT_CLAIM)
        if chosen not in numbers:
            chosen = numbers[0] if len(numbers) == 1 else None
        if chosen:
            return await attach_documents(dispatcher, customer_id, chosen, pending)
        if not numbers:
            dispatcher.utter_message(response="utter_no_open_claim_for_documents", file_names=file_names(pending))
            return [SlotSet(PENDING_DOCUMENTS, None)]
        events: List[EventType] = [SlotSet(PENDING_DOCUMENTS, pending), SlotSet(DOCUMENT_CLAIM, None)]
        if tracker.active_loop_name == DOCUMENT_FORM:
            return events  # already asking: the form asks again
        return events + [FollowupAction(DOCUMENT_FORM)]


async def attach_documents(
    dispatcher: CollectingDispatcher, customer_id: str, claim_number: str, pending: Sequence[Attachment]
) -> List[EventType]:
    """Links the files to the claim (safe to repeat) and says which were attached."""
    linked: List[Attachment] = []
    refused: List[Attachment] = []
    for attachment in pending:
        try:
            await services().add_claim_document(customer_id, claim_number, attachment["upload_id"])
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_documents_unavailable")
            return [SlotSet(PENDING_DOCUMENTS, [a for a in pending if a not in linked])]
        except ServiceRefusal as refusal:
            if refusal.code == ErrorCode.claim_not_found:
                dispatcher.utter_message(response=refusal_response(CLAIM_DOCUMENT, refusal.code))
                return [SlotSet(PENDING_DOCUMENTS, None), SlotSet(DOCUMENT_CLAIM, None)]
            logger.info("document not linked: %s", refusal.code)
            refused.append(attachment)
        else:
            linked.append(attachment)
    if linked:
        response = "utter_document_attached" if len(linked) == 1 else "utter_documents_attached"
        dispatcher.utter_message(response=response, file_names=file_names(linked), claim_number=claim_number)
    if refused:  # whatever the service's reason, per file: they are told together
        dispatcher.utter_message(response=refusal_response(CLAIM_DOCUMENT, None), claim_number=claim_number)
    return [SlotSet(PENDING_DOCUMENTS, None), SlotSet(DOCUMENT_CLAIM, claim_number)]


class ValidateDocumentForm(FormValidationAction):
    """Which open claim the files are for."""

    def name(self) -> Text:
        return "validate_document_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        return domain_slots if tracker.get_slot(PENDING_DOCUMENTS) else []

    async def validate_document_claim(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        # « SIN-2026-000731 », « le 731 », « 000731 »: matched among the customer's own open
        # claims only; one of another customer is not open for them.
        reference = find_claim_reference(value if isinstance(value, str) else "", alone=True)
        try:
            numbers = [claim.claim_number for claim in await open_claims(identified_customer(tracker))]
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_documents_unavailable")
            return {DOCUMENT_CLAIM: None, PENDING_DOCUMENTS: None}  # nothing left to ask: the form ends
        matching = [number for number in numbers if reference and reference.matches(number)]
        if len(matching) != 1:
            dispatcher.utter_message(response="utter_document_claim_not_open")
            return {DOCUMENT_CLAIM: None}
        return {DOCUMENT_CLAIM: matching[0]}


class ActionAskDocumentClaim(Action):
    """Offers the customer's open claims as buttons."""

    def name(self) -> Text:
        return "action_ask_document_claim"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        names = file_names(tracker.get_slot(PENDING_DOCUMENTS) or [])
        try:
            claims = await open_claims(identified_customer(tracker))
        except ServiceUnavailable:
            claims = []
        buttons = [
            {"title": claim_label(claim), "payload": '/inform{"claim_number": "%s"}' % claim.claim_number}
            for claim in claims
        ]
        dispatcher.utter_message(response="utter_ask_document_claim", file_names=names, buttons=buttons)
        return []


class ActionAttachDocuments(Action):
    """Links the waiting files to the claim chosen in document_form."""

    def name(self) -> Text:
        return "action_attach_documents"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        pending = tracker.get_slot(PENDING_DOCUMENTS) or []
        claim_number = tracker.get_slot(DOCUMENT_CLAIM)
        customer_id = identified_customer(tracker)
        if not pending or not claim_number or customer_id is None:
            return [SlotSet(PENDING_DOCUMENTS, None)]
        return await attach_documents(dispatcher, customer_id, claim_number, pending)


class ActionForgetDocuments(Action):
    """The customer chose no claim: the waiting files are not attached."""

    def name(self) -> Text:
        return "action_forget_documents"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return [SlotSet(PENDING_DOCUMENTS, None), SlotSet(DOCUMENT_CLAIM, None)]
