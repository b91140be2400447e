"""Reading and checking JSON bodies: one French reason per faulty field."""
from __future__ import annotations

import json
import re
from datetime import date
from typing import Any, Collection, Iterable, Optional

import phonenumbers

from bot.errors import ServiceError, validation_error

MISSING = "champ obligatoire"
DEFAULT_PHONE_REGION = "FR"
UNREADABLE = "caractères de contrôle ou invalides"
# Control characters (but tab and new lines) and lone surrogates (« \ud800 » in JSON):
# never text, and the database would refuse the surrogates.
_UNREADABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


# The routes' bodies are records a few levels deep (a request's `details`); deeper JSON is
# refused as unreadable before any code walks it: the parser, the checks here, the database
# driver's encoder are recursive, and a few hundred levels exhaust Python's stack.
MAX_BODY_DEPTH = 32


def readable(value: Any) -> bool:
    """Whether every string in `value` (nested in lists and objects too) is text."""
    pending = [value]
    while pending:  # no recursion: the depth of `value` is the client's
        item = pending.pop()
        if isinstance(item, str):
            if _UNREADABLE.search(item):
                return False
        elif isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return True


def nested_deeper_than(value: Any, max_depth: int) -> bool:
    """Whether objects and arrays nest more than `max_depth` levels in `value`."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > max_depth:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def read_json_object(request: Any) -> dict:
    """The request body as a JSON object; an empty body counts as `{}`.

    Malformed JSON (or binary garbage, or nested deeper than MAX_BODY_DEPTH) ->
    400 invalid_json; any other JSON value than an object -> 422 validation_error.
    """
    raw = request.body or b""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError
        raise ServiceError("invalid_json") from None
    if nested_deeper_than(value, MAX_BODY_DEPTH):
        raise ServiceError("invalid_json")
    if not isinstance(value, dict):
        raise validation_error({"body": "un objet JSON est attendu"})
    return value


class BodyChecker:
    """Collects the problems of a body, then raises them all at once.

    Unknown fields are refused too: a misspelt optional field must not be
    silently ignored.
    """

    def __init__(self, body: dict, allowed: Iterable[str]) -> None:
        self.body = body
        self.errors: dict[str, str] = {}
        allowed = set(allowed)
        for name in body:
            if name not in allowed:
                self.errors[str(name)[:100]] = "champ inconnu"

    def fail(self, name: str, reason: str) -> None:
        self.errors.setdefault(name, reason)

    def text(self, name: str, *, required: bool = True, max_length: int = 2000) -> Optional[str]:
        """A string of 1..max_length characters once stripped (None when absent and optional)."""
        value = self.body.get(name)
        if value is None or (isinstance(value, str) and not value.strip() and not required):
            if required:
                self.fail(name, MISSING)
            return None
        if not isinstance(value, str):
            self.fail(name, "texte attendu")
            return None
        if not readable(value):
            self.fail(name, UNREADABLE)
            return None
        value = value.strip()
        if not value:
            self.fail(name, "ne doit pas être vide")
            return None
        if len(value) > max_length:
            self.fail(name, f"{max_length} caractères au plus")
            return None
        return value

    def date(self, name: str, *, required: bool = True) -> Optional[date]:
        """A calendar date written YYYY-MM-DD."""
        value = self.body.get(name)
        if value is None:
            if required:
                self.fail(name, MISSING)
            return None
        if not isinstance(value, str) or len(value) != 10:
            self.fail(name, "date attendue au format AAAA-MM-JJ")
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            self.fail(name, "date attendue au format AAAA-MM-JJ")
            return None

    def phone_number(self, name: str) -> Optional[str]:
        """A phone number, French when written without a country code; answered in E.164.
        Of a possible length for its country, not necessarily in a range phonenumbers knows:
        it is compared with the numbers on file, which are the insurer's, not the library's."""
        value = self.text(name, max_length=40)
        if value is None:
            return None
        try:
            number = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_possible_number(number):
            self.fail(name, "numéro de téléphone invalide")
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    def choice(
        self, name: str, choices: Collection[str], *, required: bool = True,
        default: Optional[str] = None,
    ) -> Optional[str]:
        """One of `choices`."""
        value = self.body.get(name)
        if value is None:
            if required:
                self.fail(name, MISSING)
            return default
        if not isinstance(value, str) or value not in choices:
            self.fail(name, "valeur attendue parmi : " + ", ".join(sorted(choices)))
            return None
        return value

    def boolean(self, name: str, *, default: bool = False) -> bool:
        value = self.body.get(name, default)
        if value is None:
            return default
        if not isinstance(value, bool):
            self.fail(name, "true ou false attendu")
            return default
        return value

    def json_object(self, name: str, *, required: bool = False) -> dict:
        value = self.body.get(name)
        if value is None:
            if required:
                self.fail(name, MISSING)
            return {}
        if not isinstance(value, dict):
            self.fail(name, "objet JSON attendu")
            return {}
        if not readable(value):
            self.fail(name, UNREADABLE)
            return {}
        return value

    def raise_if_invalid(self) -> None:
        if self.errors:
            raise validation_error(self.errors)
