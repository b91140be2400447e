"""Files customers send on a channel (widget, WhatsApp): one path for every connector.

A connector that receives a file calls `receive_file(data, content_type, filename)`:
- accepted, the file is stored by the claims service (which checks it by its
  content) and the connector hands Rasa the message `attach_document_message(...)`:
  text `/attach_document`, metadata `{"attachments": [attachment]}`; the dialogue
  then adds it to the claim being declared or to the claim the customer picks;
- refused (empty, too large, not a photo or a PDF, service down), the connector
  sends the French `refusal` back to the customer and hands Rasa nothing, so that
  the conversation is untouched.

Only connectors may set the `attachments` metadata: the REST channel drops it from
what clients send (connectors.guard.RESERVED_METADATA_KEYS), and typed
`/attach_document` text is read as plain text.
"""

import logging
import os
from dataclasses import dataclass
from typing import Any, Dict, Optional, Sequence

from actions.services import ServiceRefusal, ServiceUnavailable, ServicesClient, services
from bot.settings import DEFAULT_UPLOAD_MAX_BYTES

logger = logging.getLogger(__name__)

ATTACH_DOCUMENT_TEXT = "/attach_document"
ATTACHMENTS_KEY = "attachments"
SECURE_MESSAGING = "votre espace client (rubrique « Mes sinistres »)"

Attachment = Dict[str, Any]


def upload_max_bytes() -> int:
    """The claims service's cap (UPLOAD_MAX_BYTES), checked here first so that an
    oversized file is not sent at all."""
    try:
        return int(os.environ.get("UPLOAD_MAX_BYTES", "")) or DEFAULT_UPLOAD_MAX_BYTES
    except ValueError:
        return DEFAULT_UPLOAD_MAX_BYTES


def refusal_text(code: str, max_bytes: Optional[int] = None) -> str:
    """What the customer is told when a file is refused (code of the claims service)."""
    if code == "empty":
        return "Ce fichier est vide : pouvez-vous l'envoyer à nouveau ?"
    if code == "too_large":
        megabytes = round((max_bytes or upload_max_bytes()) / (1024 * 1024))
        return (
            f"Ce fichier dépasse {megabytes} Mo : envoyez une photo moins lourde, "
            f"ou déposez-le dans {SECURE_MESSAGING}."
        )
    if code == "unsupported_type":
        return (
            "Je ne peux recevoir que des photos (JPEG, PNG, WebP, HEIC) ou des documents PDF : "
            "ce fichier n'a pas été enregistré."
        )
    return (
        "Je ne peux pas recevoir de fichier pour le moment. Réessayez dans quelques minutes, "
        f"ou déposez-le dans {SECURE_MESSAGING}."
    )


@dataclass(frozen=True)
class ReceivedFile:
    """Either the attachment to hand Rasa, or the refusal to send back."""

    attachment: Optional[Attachment] = None
    refusal: Optional[str] = None

    @property
    def accepted(self) -> bool:
        return self.attachment is not None


async def receive_file(
    data: bytes,
    content_type: Optional[str],
    filename: Optional[str],
    client: Optional[ServicesClient] = None,
) -> ReceivedFile:
    """Stores a file a customer sent with the claims service.

    `content_type` is what the platform or the browser claims (None or "" when
    unknown); the service reads the real type from the content and refuses a
    mismatch. Never raises for a bad file or a service that is down.
    """
    max_bytes = upload_max_bytes()
    if not data:
        return ReceivedFile(refusal=refusal_text("empty"))
    if len(data) > max_bytes:
        return ReceivedFile(refusal=refusal_text("too_large", max_bytes))
    try:
        stored = await (client or services()).upload_document(filename or "", content_type or "", data)
    except ServiceRefusal as refusal:
        logger.info("file refused by the claims service: %s", refusal.code)
        return ReceivedFile(refusal=refusal_text(refusal.code, refusal.details.get("max_bytes")))
    except ServiceUnavailable:
        return ReceivedFile(refusal=refusal_text("service_unavailable"))
    attachment = {key: stored[key] for key in ("upload_id", "filename", "content_type", "size")}
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
