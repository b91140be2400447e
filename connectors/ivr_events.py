"""The voice gateway's side of the telephone channel (docs/ivr-api.md): who may post
events, and what a well-formed event is. Pure: no I/O.

Authentication: `Authorization: Bearer <IVR_GATEWAY_TOKEN>`, or an HMAC-SHA256 of the
raw body with IVR_SIGNING_SECRET in `X-Oyat-Signature: t=<unix time>,v1=<hex>` (signed
text: "<t>.<raw body>", valid 5 minutes). Both compared in constant time.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass
from typing import Any, Dict, Mapping, Optional, Tuple

from connectors.guard import MAX_MESSAGE_LENGTH

SIGNATURE_HEADER = "X-Oyat-Signature"
SIGNATURE_TOLERANCE_SECONDS = 300
EVENT_TYPES = ("start", "utterance", "dtmf", "no_input", "hangup", "transfer_status")
TRANSFER_OUTCOMES = ("completed", "failed", "busy", "no_answer")
MAX_ALTERNATIVES = 10

# Matched whole (fullmatch): `$` would also accept a trailing new line.
_IDENTIFIER = re.compile(r"[A-Za-z0-9._:-]{1,100}")
_DIGITS = re.compile(r"[0-9*#]{1,32}")
_SIGNATURE = re.compile(r"t=([0-9]{1,12}),v1=([0-9a-f]{64})")


class Refused(Exception):
    """The request does not come from the gateway: 401 (no or wrong token) or 403 (bad signature)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(code)
        self.status, self.code, self.message = status, code, message


class InvalidEvent(Exception):
    """A request from the gateway that is not a valid event (400 or 422)."""

    def __init__(self, status: int, code: str, message: str, details: Optional[Dict[str, str]] = None) -> None:
        super().__init__(code)
        self.status, self.code, self.message, self.details = status, code, message, details or {}


@dataclass(frozen=True)
class Alternative:
    transcript: str
    confidence: float


@dataclass(frozen=True)
class CallEvent:
    event_id: str
    call_id: str
    type: str
    caller: Optional[str] = None
    alternatives: Tuple[Alternative, ...] = ()
    final: bool = True
    digits: Optional[str] = None
    transfer_status: Optional[str] = None


def sign(raw_body: bytes, secret: str, timestamp: int) -> str:
    """The X-Oyat-Signature header value of `raw_body` (the gateway's side, and the simulator's)."""
    digest = hmac.new(secret.encode(), f"{timestamp}.".encode() + raw_body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


def authenticate(headers: Mapping[str, str], raw_body: bytes, token: str, signing_secret: str, now: int) -> None:
    """Raises Refused unless the request carries the gateway's token or a valid signature."""
    authorization = headers.get("Authorization") or headers.get("authorization") or ""
    signature = headers.get(SIGNATURE_HEADER) or headers.get(SIGNATURE_HEADER.lower())
    if authorization.startswith("Bearer "):
        offered = authorization[len("Bearer "):].strip()
        if token and hmac.compare_digest(offered.encode(), token.encode()):
            return
        raise Refused(401, "unauthorized", "Jeton d'accès refusé.")
    if signature is not None:
        match = _SIGNATURE.fullmatch(signature.strip())
        if not signing_secret or match is None:
            raise Refused(403, "bad_signature", "Signature refusée.")
        timestamp = int(match[1])
        expected = sign(raw_body, signing_secret, timestamp)
        if not hmac.compare_digest(expected.encode(), signature.strip().encode()):
            raise Refused(403, "bad_signature", "Signature refusée.")
        if abs(now - timestamp) > SIGNATURE_TOLERANCE_SECONDS:
            raise Refused(403, "bad_signature", "Signature périmée.")
        return
    raise Refused(401, "unauthorized", "Authentification requise (jeton ou signature).")


def parse_event(body: Any) -> CallEvent:
    """The event of a decoded JSON body; raises InvalidEvent (nothing processed)."""
    if not isinstance(body, dict):
        raise InvalidEvent(400, "bad_request", "Le corps de la requête doit être un objet JSON.")
    problems: Dict[str, str] = {}
    event_id, call_id = body.get("event_id"), body.get("call_id")
    for name, value in (("event_id", event_id), ("call_id", call_id)):
        if not isinstance(value, str) or not _IDENTIFIER.fullmatch(value):
            problems[name] = "1 à 100 caractères parmi lettres, chiffres et . _ : - attendus"
    kind = body.get("type")
    if kind not in EVENT_TYPES:
        if isinstance(kind, str) and not problems:
            raise InvalidEvent(422, "unknown_event", f"Type d'événement inconnu : {kind[:40]}.",
                               {"type": "un de " + ", ".join(EVENT_TYPES)})
        problems["type"] = "un de " + ", ".join(EVENT_TYPES)
    fields: Dict[str, Any] = {}
    if kind == "start":
        caller = body.get("caller")
        if caller is not None and (not isinstance(caller, str) or len(caller) > 40):
            problems["caller"] = "texte de 40 caractères au plus, ou null pour un numéro masqué"
        fields["caller"] = caller
    elif kind == "utterance":
        fields.update(_utterance(body, problems))
    elif kind == "dtmf":
        digits = body.get("digits")
        if not isinstance(digits, str) or not _DIGITS.fullmatch(digits):
            problems["digits"] = "1 à 32 touches parmi 0-9, * et #"
        fields["digits"] = digits
    elif kind == "transfer_status":
        status = body.get("status")
        if status not in TRANSFER_OUTCOMES:
            problems["status"] = "un de " + ", ".join(TRANSFER_OUTCOMES)
        fields["transfer_status"] = status
    if problems:
        raise InvalidEvent(422, "validation_error", "Événement invalide.", problems)
    return CallEvent(event_id=event_id, call_id=call_id, type=kind, **fields)


def _utterance(body: Dict[str, Any], problems: Dict[str, str]) -> Dict[str, Any]:
    final = body.get("final")
    if not isinstance(final, bool):
        problems["final"] = "booléen attendu"
    raw = body.get("alternatives")
    if not isinstance(raw, list) or not 1 <= len(raw) <= MAX_ALTERNATIVES:
        problems["alternatives"] = f"liste de 1 à {MAX_ALTERNATIVES} transcriptions attendue"
        return {}
    alternatives = []
    for index, item in enumerate(raw):
        transcript = item.get("transcript") if isinstance(item, dict) else None
        confidence = item.get("confidence") if isinstance(item, dict) else None
        if not isinstance(transcript, str) or len(transcript) > MAX_MESSAGE_LENGTH:
            problems[f"alternatives[{index}].transcript"] = f"texte de {MAX_MESSAGE_LENGTH} caractères au plus"
        # Compared, never converted: an integer of 400 digits is valid JSON and no float
        # (NaN and infinities fail the comparison too).
        elif (isinstance(confidence, bool) or not isinstance(confidence, (int, float))
              or not 0 <= confidence <= 1):
            problems[f"alternatives[{index}].confidence"] = "nombre entre 0 et 1 attendu"
        else:
            alternatives.append(Alternative(transcript, float(confidence)))
    return {"alternatives": tuple(alternatives), "final": final is True}


def body_digest(raw_body: bytes) -> str:
    """Tells a replay (same body) from another event reusing an event id."""
    return hashlib.sha256(raw_body).hexdigest()
