"""The checks a message goes through before it reaches the NLU, each a pure function
(connectors.pipeline runs them for every channel).

- A bounded, non-empty text: an oversized message is refused politely and never
  processed (the NLU's cost grows with its length).
- Rasa's `/intent{"slot": ...}` shortcut bypasses the NLU and fills slots: typed text
  may use it only to send back a button payload the assistant itself offered in its
  last answer; anything else starting with "/" is read as plain text.
- Bounded structures: a webhook's JSON body is read with a depth limit (read_json), and
  the metadata a client sends (REST `metadata`, the widget's `customData`) is limited in
  size, depth and types (screen_metadata), every check linear and without recursion,
  before anything else reads it: the processing, masking and storing after it are
  recursive and grow with the structure.
- A conversation belongs to its channel: its id is `<channel>:<local id>`
  (conversation_id), so that no client of one channel can name another's conversation.
- The web origins allowed to call the assistant from a browser (allowed_origins).
"""

import json
import math
import re
from dataclasses import dataclass, field
from typing import Any, Dict, Iterable, Optional, Set, Tuple

from core.settings import default, read

MAX_MESSAGE_LENGTH = 2000

# Where a message comes from, set by the channel with every message (never by the client),
# for the actions to count attempts per source as well as per conversation:
# - `ip:<address>` for the REST channel and the widget (the address the rate limit counts,
#   behind the balancer the one it forwards: SANIC_PROXIES_COUNT);
# - `ivr:<caller's number, E.164>` on the phone line, `ivr:hidden` for a hidden number;
# - `whatsapp:<pseudonym>`, `telegram:<pseudonym>`, `messenger:<pseudonym>`: the platform
#   user, by the pseudonym that is also their conversation's local id.
CLIENT_SOURCE = "client_source"
HIDDEN_CALLER = "hidden"

# Metadata only the channels themselves set: the files they stored (`attachments`), the
# caller's number on the phone line (`channel_phone`) and its signature
# (`channel_phone_assertion`, core/channel_assertion.py), the message's source
# (`client_source`), the address notices may be sent to, signed (`channel_reply_address`,
# core/reply_address.py). Sent by a client, they are dropped.
RESERVED_METADATA_KEYS = frozenset({"attachments", "channel_phone", "channel_phone_assertion",
                                    "channel_reply_address", CLIENT_SOURCE})

# What a client's metadata may be: an espace-client session token (`auth_token`, at most
# 4 KB) and little else. Serialized JSON (UTF-8) and nesting (the object itself is level 1).
MAX_METADATA_BYTES = 8 * 1024
MAX_METADATA_DEPTH = 5
# Webhook bodies: the platforms' own go about ten levels deep (WhatsApp's message in its
# entry, change, value...).
MAX_BODY_DEPTH = 32

# The channels whose conversations the assistant holds; a conversation id starts with one.
CHANNELS = ("rest", "widget", "ivr", "whatsapp", "telegram", "messenger")

# The site make run serves the widget on, when WIDGET_ALLOWED_ORIGINS is not set.
DEFAULT_ALLOWED_ORIGINS = (default("WIDGET_ALLOWED_ORIGINS"),)
# A site's origin: scheme, host name and port. Nothing Rasa's CORS extension would read as a
# regular expression (it does so for values with `]`, `?`, `*` or `\`): origins match whole.
_ORIGIN = re.compile(r"https?://[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*(?::[0-9]{1,5})?")

# Control characters (but tab and new line) and lone surrogates: never meaningful text.
_UNPRINTABLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\ud800-\udfff]")


@dataclass(frozen=True)
class Screened:
    text: Optional[str]
    refusal: Optional[str] = None


def screen_text(raw: Any) -> Screened:
    """The text to process, or the reason to refuse it ("empty", "too_long": refusal codes of
    connectors.pipeline)."""
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
    """`text`, with its leading "/" removed unless it is a payload the assistant offered:
    every slash and space before the first other character, so that « / /intent{...} »
    is not an /intent shortcut either once stripped. Text made only of them is kept: it
    names no intent."""
    if not text.startswith("/") or text in offered:
        return text
    plain = text
    while plain.startswith("/"):
        plain = plain.lstrip("/").strip()
    return plain or text


def client_metadata(raw: Any) -> Dict[str, Any]:
    """The metadata a client sent, without the reserved keys; {} when it is not an object.
    Only for metadata screen_metadata accepted."""
    if not isinstance(raw, dict):
        return {}
    return {key: value for key, value in raw.items() if key not in RESERVED_METADATA_KEYS}


# --- bounded client structures ------------------------------------------------------------

METADATA_PROBLEMS = {
    "not_object": "« metadata » doit être un objet JSON.",
    "too_large": f"« metadata » dépasse {MAX_METADATA_BYTES // 1024} Ko en JSON.",
    "too_deep": f"« metadata » dépasse {MAX_METADATA_DEPTH} niveaux d'imbrication.",
    "not_json": "« metadata » ne peut contenir que du texte, des nombres, des booléens, des listes et des objets.",
}


@dataclass(frozen=True)
class ScreenedMetadata:
    """The client's metadata (reserved keys dropped), or the problem (a key of METADATA_PROBLEMS)."""

    metadata: Dict[str, Any] = field(default_factory=dict)
    problem: Optional[str] = None


def screen_metadata(raw: Any) -> ScreenedMetadata:
    """A client's metadata, checked before anything else reads it: a JSON object of at most
    MAX_METADATA_BYTES and MAX_METADATA_DEPTH levels, of JSON values only (finite numbers,
    text that is valid Unicode). None (no metadata) is an empty object."""
    if raw is None:
        return ScreenedMetadata()
    if not isinstance(raw, dict):
        return ScreenedMetadata(problem="not_object")
    problem = _structure_problem(raw, MAX_METADATA_DEPTH, MAX_METADATA_BYTES)
    if problem is None:
        try:  # exact size; small by now
            size = len(json.dumps(raw, ensure_ascii=False, allow_nan=False).encode("utf-8"))
        except (ValueError, UnicodeEncodeError):  # lone surrogates, an int too long to write
            problem = "not_json"
        else:
            problem = "too_large" if size > MAX_METADATA_BYTES else None
    if problem is not None:
        return ScreenedMetadata(problem=problem)
    return ScreenedMetadata(client_metadata(raw))


def _structure_problem(value: Any, max_depth: int, max_bytes: int) -> Optional[str]:
    """"too_deep", "too_large" or "not_json" for the first limit `value` breaks, else None.

    One walk, without recursion, that stops at the first limit broken: its cost is bounded by
    the limits, not by what a client sent. Sizes are counted from below (strings and
    punctuation), so that nothing within the limits is refused here."""
    pending = [(value, 1)]
    size = 0
    while pending:
        item, depth = pending.pop()
        if isinstance(item, (dict, list)):
            if depth > max_depth:
                return "too_deep"
            size += 2 + len(item)  # brackets, and a separator per item
            if size > max_bytes:  # before its items are even looked at
                return "too_large"
            if isinstance(item, dict):
                for key, child in item.items():
                    if not isinstance(key, str):
                        return "not_json"
                    size += len(key) + 3
                    pending.append((child, depth + 1))
            else:
                pending.extend((child, depth + 1) for child in item)
        elif isinstance(item, str):
            size += len(item) + 2
        elif isinstance(item, float):
            if not math.isfinite(item):
                return "not_json"
            size += 1
        elif item is None or isinstance(item, (bool, int)):
            size += 1
        else:  # bytes (socket.io carries binary), tuples, objects...
            return "not_json"
        if size > max_bytes:
            return "too_large"
    return None


def depth_exceeds(value: Any, max_depth: int) -> bool:
    """Whether a decoded JSON value nests objects and arrays deeper than `max_depth` levels
    (without recursion: deep values are exactly what is looked for)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > max_depth:
            return True
        pending.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


class UnreadableJson(ValueError):
    """A body that is not JSON (`reason` "malformed") or nests deeper than allowed ("too_deep")."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_json(raw: Any, max_depth: int = MAX_BODY_DEPTH) -> Any:
    """The JSON value of a body (bytes in UTF-8, or text), at most `max_depth` levels deep.

    Python's parser is recursive: very deep input raises RecursionError in it, which is
    answered like any too deep body; input it can read is then measured without
    recursion, before any other code walks it."""
    try:
        value = json.loads(raw.decode("utf-8") if isinstance(raw, (bytes, bytearray)) else raw)
    except RecursionError:
        raise UnreadableJson("too_deep") from None
    except (ValueError, TypeError):  # not JSON, not UTF-8 (json.loads would guess UTF-16), not bytes nor text
        raise UnreadableJson("malformed") from None
    if depth_exceeds(value, max_depth):
        raise UnreadableJson("too_deep")
    return value


# --- conversations bound to their channel ---------------------------------------------------

def conversation_id(channel: str, local_id: str) -> str:
    """The id of a channel's conversation: `<channel>:<the channel's own id>` (a REST sender,
    a widget session, a call, a messaging-app user's pseudonym). Ids of different channels
    never meet, whatever a client sends: a REST sender `ivr:call-1` is the conversation
    `rest:ivr:call-1`, never the call's `ivr:call-1`."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel!r}")
    return f"{channel}:{local_id}"


# --- the web site's origins -------------------------------------------------------------------

def allowed_origins(setting: Optional[str] = None) -> Tuple[str, ...]:
    """The web origins whose pages may call the assistant (CORS, the widget's socket):
    WIDGET_ALLOWED_ORIGINS, or `setting`, separated by spaces or commas
    (`https://www.example.fr`, scheme, host and port only). "*" is refused: any page on
    the web could then talk to the assistant in its visitors' name."""
    if setting is None:
        setting = read("WIDGET_ALLOWED_ORIGINS")
    origins = []
    for origin in re.split(r"[\s,]+", setting.strip()):
        if not origin:
            continue
        normal = origin.lower().rstrip("/")
        if not _ORIGIN.fullmatch(normal):
            raise ValueError(
                f"{origin!r} is not a web origin (scheme://host[:port], for example "
                "https://www.oyat-assurances.fr): WIDGET_ALLOWED_ORIGINS (rasa run --cors) lists "
                "the sites that embed the widget"
            )
        if normal not in origins:
            origins.append(normal)
    return tuple(origins) or DEFAULT_ALLOWED_ORIGINS
