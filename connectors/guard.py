"""What every channel checks before a message reaches the NLU.

- A bounded, non-empty text: an oversized message is refused politely and never
  processed (the NLU's cost grows with its length).
- Rasa's `/intent{"slot": ...}` shortcut bypasses the NLU and fills slots: typed text
  may use it only to send back a button payload the assistant itself offered in its
  last answer; anything else starting with "/" is read as plain text.
"""

import re
from dataclasses import dataclass
from typing import Any, Dict, Iterable, Optional, Set

MAX_MESSAGE_LENGTH = 2000

REFUSALS = {
    "empty": "Votre message est vide : écrivez-moi votre question en quelques mots.",
    "too_long": (
        f"Votre message est trop long ({MAX_MESSAGE_LENGTH} caractères au plus) : "
        "pouvez-vous le résumer en quelques phrases ?"
    ),
}

# Metadata only the channels themselves set: the files they stored (`attachments`), the
# caller's number on the phone line (`channel_phone`). Sent by a client, they are dropped.
RESERVED_METADATA_KEYS = frozenset({"attachments", "channel_phone"})

# Control characters (but tab and new line) and lone surrogates: never meaningful text.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


@dataclass(frozen=True)
class Screened:
    text: Optional[str]
    refusal: Optional[str] = None


def screen_text(raw: Any) -> Screened:
    """The text to process, or the reason to refuse it (a key of REFUSALS)."""
    if not isinstance(raw, str):
        return Screened(None, "empty")
    text = _UNPRINTABLE.sub("", raw).strip()
    if not text:
        return Screened(None, "empty")
    if len(text) > MAX_MESSAGE_LENGTH:
        return Screened(None, "too_long")
    return Screened(text)


def offered_payloads(events: Iterable[Any]) -> Set[str]:
    """Payloads of the buttons of the assistant's last answer (after the last user message)."""
    payloads: Set[str] = set()
    for event in reversed(list(events)):
        kind = getattr(event, "type_name", None)
        if kind == "user":
            break
        if kind == "bot":
            payloads.update(b.get("payload", "") for b in (event.data or {}).get("buttons") or [])
    return payloads


def without_shortcut(text: str, offered: Set[str]) -> str:
    """`text`, with a leading "/" removed unless it is a payload the assistant offered."""
    if text.startswith("/") and text not in offered:
        return text.lstrip("/").strip() or text
    return text


def client_metadata(raw: Any) -> Dict[str, Any]:
    """The metadata a client sent, without the reserved keys; {} when it is not an object."""
    if not isinstance(raw, dict):
        return {}
    return {key: value for key, value in raw.items() if key not in RESERVED_METADATA_KEYS}
