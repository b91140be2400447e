"""Files customers send on a channel (widget, WhatsApp...): one path for every connector.

A connector that receives a file calls `receive_file(data, content_type, filename, sender)`,
`sender` saying whose file it is (`await file_sender(agent, conversation_id, channel, ...)`):
- accepted, the file is stored by the claims service (which checks it by its
  content) and the connector hands Rasa the message `attach_document_message(...)`:
  text `/attach_document`, metadata `{"attachments": [attachment]}`; the dialogue
  then adds it to the claim being declared or to the claim the customer picks;
- refused, the connector tells the customer the `refusal` (a connectors.pipeline.Refusal:
  its words are a domain response, `pipeline.words(agent, refusal)`) and hands Rasa nothing, so that the conversation is untouched, and nothing is stored: a file
  empty, too large, not a photo or a PDF, the service down; a file from a customer
  not identified outside a claim declaration (`not_taken_because`); a file beyond what a
  conversation or an address may send (connectors.upload_limits).

Only connectors may set the `attachments` metadata: the REST channel drops it from
what clients send (connectors.guard.RESERVED_METADATA_KEYS), and typed
`/attach_document` text is read as plain text.
"""

import logging
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence

from connectors.pipeline import Refusal
from connectors.upload_limits import upload_allowances, wait_label
from core.service_client import ServiceRefusal, ServicesClient, ServiceUnavailable, services
from core.service_contract import ErrorCode
from core.settings import read
from core.slots import CUSTOMER_IDENTIFIED, PENDING_REQUEST

logger = logging.getLogger(__name__)

ATTACH_DOCUMENT_TEXT = "/attach_document"
ATTACHMENTS_KEY = "attachments"
NOT_TAKEN = "not_taken"
TOO_MANY_FILES = "too_many_files"
# Why a file is refused (the claims service's ErrorCode, or ours) → the channel pipeline's
# refusal telling it (connectors.pipeline.REFUSAL_RESPONSES); any other code, the service
# down among them, is told as files_unavailable. Never the service's own message.
FILE_REFUSALS = {
    ErrorCode.empty: "file_empty",
    ErrorCode.too_large: "file_too_large",
    ErrorCode.payload_too_large: "file_too_large",
    ErrorCode.unsupported_type: "file_unsupported_type",
    NOT_TAKEN: "file_not_taken",
    TOO_MANY_FILES: "too_many_files",
}
# The claim declaration's form, and the request a customer not yet identified made
# (identification first, then the form).
CLAIM_FORM = "claim_form"
IDENTIFICATION_FORM = "identification_form"
DECLARE_CLAIM = "declare_claim"

Attachment = Dict[str, Any]


def upload_max_bytes() -> int:
    """The claims service's cap (UPLOAD_MAX_BYTES), checked here first so that an
    oversized file is not sent at all."""
    return read("UPLOAD_MAX_BYTES")


def file_refusal(code: str, max_bytes: Optional[int] = None, wait_seconds: Optional[float] = None) -> Refusal:
    """The refusal telling why a file is refused, with its figures: the size limit in Mo
    (UPLOAD_MAX_BYTES unless the service said its own), the wait before more files."""
    values: Dict[str, Any] = {"max_megabytes": round((max_bytes or upload_max_bytes()) / (1024 * 1024))}
    if wait_seconds is not None:
        values["wait"] = wait_label(wait_seconds)
    return Refusal(FILE_REFUSALS.get(code, "files_unavailable"), values=values)


@dataclass(frozen=True)
class FileSender:
    """Whose file it is: the conversation as it stands (its tracker; None when not started
    yet) on its channel, the client's network address when the channel has one, and the
    espace-client session token sent with the file, if any."""

    conversation_id: str
    channel: str
    tracker: Optional[Any] = None  # rasa's DialogueStateTracker
    address: Optional[str] = None
    auth_token: Optional[str] = None


async def file_sender(
    agent: Any, conversation_id: str, channel: str, address: Optional[str] = None, auth_token: Optional[str] = None
) -> FileSender:
    """The FileSender of a conversation, its tracker read from the agent's tracker store."""
    store = getattr(agent, "tracker_store", None)
    tracker = await store.retrieve(conversation_id) if store is not None else None
    return FileSender(conversation_id, channel, tracker, address, auth_token)


def conversation_takes_files(tracker: Optional[Any]) -> bool:
    """Whether the conversation's customer is identified, or a claim declaration is open in
    it (the form, or the identification that precedes it)."""
    if tracker is None:
        return False
    if tracker.get_slot(CUSTOMER_IDENTIFIED) is True or tracker.active_loop_name == CLAIM_FORM:
        return True
    return tracker.get_slot(PENDING_REQUEST) == DECLARE_CLAIM and tracker.active_loop_name == IDENTIFICATION_FORM


async def not_taken_because(sender: FileSender, client: ServicesClient) -> Optional[str]:
    """None when the sender may send files, else the refusal's code (not_taken, or
    service_unavailable when their session token could not be checked).

    A customer of the espace client whose first act is to send a file is not identified
    in the conversation yet: the session token sent with the file is checked by the
    policy service, as the dialogue checks it with every message."""
    if conversation_takes_files(sender.tracker):
        return None
    if not sender.auth_token:
        return NOT_TAKEN
    try:
        await client.check_session_token(sender.auth_token, sender.conversation_id, sender.channel)
    except ServiceUnavailable:
        return ErrorCode.service_unavailable
    except ServiceRefusal:  # forged, expired, or a customer the insurer does not know
        return NOT_TAKEN
    return None


@dataclass(frozen=True)
class ReceivedFile:
    """Either the attachment to hand Rasa, or the refusal to tell (with its code: empty,
    too_large, unsupported_type, service_unavailable, not_taken, too_many_files, or another
    ErrorCode of the claims service; `retry_after`, the seconds to wait, for too_many_files)."""

    attachment: Optional[Attachment] = None
    refusal: Optional[Refusal] = None
    code: Optional[str] = None
    retry_after: Optional[float] = None

    @property
    def accepted(self) -> bool:
        return self.attachment is not None


def _refused(code: str, max_bytes: Optional[int] = None) -> ReceivedFile:
    return ReceivedFile(refusal=file_refusal(code, max_bytes), code=code)


async def receive_file(
    data: bytes,
    content_type: Optional[str],
    filename: Optional[str],
    sender: FileSender,
    client: Optional[ServicesClient] = None,
) -> ReceivedFile:
    """Stores a file a customer sent with the claims service, when the conversation may
    send files and has room for this one.

    `content_type` is what the platform or the browser claims (None or "" when
    unknown); the service reads the real type from the content and refuses a
    mismatch. Never raises for a bad file or a service that is down.
    """
    max_bytes = upload_max_bytes()
    if not data:
        return _refused(ErrorCode.empty)
    if len(data) > max_bytes:
        return _refused(ErrorCode.too_large, max_bytes)
    client = client or services()
    why_not = await not_taken_because(sender, client)
    if why_not is not None:
        logger.info("file refused: %s", why_not)
        return _refused(why_not)
    allowances = upload_allowances(max_bytes)
    wait = await allowances.take(sender.conversation_id, sender.address, len(data))
    if wait is not None:
        logger.info("file refused: beyond the files a conversation or an address may send")
        return ReceivedFile(refusal=file_refusal(TOO_MANY_FILES, max_bytes, wait), code=TOO_MANY_FILES,
                            retry_after=wait)
    try:
        stored = await client.upload_document(filename or "", content_type or "", data)
    except ServiceRefusal as refusal:
        logger.info("file refused by the claims service: %s", refusal.code)
        return _refused(refusal.code, refusal.details.get("max_bytes"))
    except ServiceUnavailable:
        await allowances.give_back(sender.conversation_id, sender.address, len(data))
        return _refused(ErrorCode.service_unavailable)
    attachment = {key: getattr(stored, key) for key in ("upload_id", "filename", "content_type", "size")}
    return ReceivedFile(attachment=attachment)


def attach_document_message(
    attachments: Sequence[Attachment], metadata: Optional[Dict[str, Any]] = None
) -> Dict[str, Any]:
    """Text and metadata of the message that hands received files to the dialogue;
    `metadata` is what the connector sends with every message (auth token, phone...)."""
    return {
        "text": ATTACH_DOCUMENT_TEXT,
        "metadata": {**(metadata or {}), ATTACHMENTS_KEY: [dict(a) for a in attachments]},
    }
