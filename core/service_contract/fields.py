"""The field types of the services' request bodies: what each accepts, the JSON schema
it publishes, and the French reason a refused value gets (the `fields` of a 422
`validation_error`). A type refuses by raising ValueError with that reason."""
import re
from datetime import date
from functools import lru_cache
from typing import Any, Dict, Iterator, List, Optional, Type

import phonenumbers
from pydantic import BaseModel, ValidationError

MISSING = "champ obligatoire"
UNKNOWN = "champ inconnu"
UNREADABLE = "caractères de contrôle ou invalides"
DEFAULT_PHONE_REGION = "FR"
MAX_ATTACHMENTS = 20
UPLOAD_ID_PATTERN = r"^[0-9a-f]{32}$"
# Control characters (but tab and new lines) and lone surrogates (« \ud800 » in JSON):
# never text, and the database would refuse the surrogates.
_UNREADABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


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


def is_upload_id(value: Any) -> bool:
    """An id as POST /v1/uploads gives them: 32 lower-case hexadecimal characters."""
    return isinstance(value, str) and re.fullmatch(UPLOAD_ID_PATTERN[1:-1], value) is not None


class _Field:
    """A field type: pydantic calls `validate`, the OpenAPI document reads `__modify_schema__`."""

    @classmethod
    def __get_validators__(cls) -> Iterator:
        yield cls.validate


class Text(str, _Field):
    """1 to `max_length` characters once stripped, without control characters. An
    optional text left blank counts as absent."""

    max_length = 2000

    @classmethod
    def __modify_schema__(cls, schema: Dict[str, Any]) -> None:
        schema.update(minLength=1, maxLength=cls.max_length)

    @classmethod
    def validate(cls, value: Any, field: Any) -> Optional[str]:
        if field.allow_none and isinstance(value, str) and not value.strip():
            return None
        if not isinstance(value, str):
            raise ValueError("texte attendu")
        if not readable(value):
            raise ValueError(UNREADABLE)
        value = value.strip()
        if not value:
            raise ValueError("ne doit pas être vide")
        if len(value) > cls.max_length:
            raise ValueError(f"{cls.max_length} caractères au plus")
        return value


@lru_cache(maxsize=None)
def text(max_length: int) -> Type[Text]:
    """The Text type of at most `max_length` characters."""
    return type(f"Text{max_length}", (Text,), {"max_length": max_length})


class Day(date, _Field):
    """A calendar date written YYYY-MM-DD (nothing else: no timestamp, no other format)."""

    @classmethod
    def validate(cls, value: Any) -> date:
        try:
            if isinstance(value, str) and len(value) == 10:
                return date.fromisoformat(value)
        except ValueError:
            pass
        raise ValueError("date attendue au format AAAA-MM-JJ")


class Flag(int, _Field):
    """true or false, nothing that would merely read as one (1, "yes"). (An int only
    because bool cannot be subclassed: the value is the JSON boolean itself.)"""

    @classmethod
    def __modify_schema__(cls, schema: Dict[str, Any]) -> None:
        schema.update(type="boolean")

    @classmethod
    def validate(cls, value: Any) -> bool:
        if not isinstance(value, bool):
            raise ValueError("true ou false attendu")
        return value


class JsonObject(dict, _Field):
    """Any JSON object whose texts are all readable."""

    @classmethod
    def validate(cls, value: Any) -> dict:
        if not isinstance(value, dict):
            raise ValueError("objet JSON attendu")
        if not readable(value):
            raise ValueError(UNREADABLE)
        return value


class PhoneNumber(str, _Field):
    """A phone number, French when written without a country code; read as E.164. Of a
    possible length for its country, not necessarily in a range phonenumbers knows: it
    is compared with the numbers on file, which are the insurer's, not the library's."""

    @classmethod
    def __modify_schema__(cls, schema: Dict[str, Any]) -> None:
        schema.update(maxLength=40, description="E.164, ou numéro français (06 12 34 56 78)")

    @classmethod
    def validate(cls, value: Any, field: Any) -> str:
        value = text(40).validate(value, field)
        try:
            number = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_possible_number(number):
            raise ValueError("numéro de téléphone invalide")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class Password(str, _Field):
    """A password as typed: kept whole (spaces count), 1 to 256 characters."""

    max_length = 256

    @classmethod
    def __modify_schema__(cls, schema: Dict[str, Any]) -> None:
        schema.update(minLength=1, maxLength=cls.max_length, format="password")

    @classmethod
    def validate(cls, value: Any) -> str:
        if not isinstance(value, str) or not value:
            raise ValueError("texte attendu")
        if len(value) > cls.max_length:
            raise ValueError(f"{cls.max_length} caractères au plus")
        if not readable(value):
            raise ValueError(UNREADABLE)
        return value


# An e-mail address as people type them: one @, a dotted domain, no spaces. Whether it
# reaches someone only the adviser calling back finds out.
_EMAIL_ADDRESS = re.compile(r"[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+")


class Contact(str, _Field):
    """How to reach an anonymous visitor again: a phone number (French when written without
    a country code; read as E.164) or an e-mail address."""

    max_length = 254

    @classmethod
    def __modify_schema__(cls, schema: Dict[str, Any]) -> None:
        schema.update(maxLength=cls.max_length,
                      description="Numéro de téléphone (E.164, ou français : 06 12 34 56 78) ou e-mail")

    @classmethod
    def validate(cls, value: Any, field: Any) -> Optional[str]:
        value = text(cls.max_length).validate(value, field)
        if value is None:
            return None
        if "@" in value:
            if not _EMAIL_ADDRESS.fullmatch(value):
                raise ValueError("adresse e-mail invalide")
            return value
        try:
            number = phonenumbers.parse(value, DEFAULT_PHONE_REGION)
        except phonenumbers.NumberParseException:
            number = None
        if number is None or not phonenumbers.is_valid_number(number):
            raise ValueError("numéro de téléphone ou adresse e-mail attendu")
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class SmsCode(str, _Field):
    """The six digits of an SMS code; spaces are ignored."""

    @classmethod
    def __modify_schema__(cls, schema: Dict[str, Any]) -> None:
        schema.update(maxLength=20, description="Six chiffres (espaces ignorés)")

    @classmethod
    def validate(cls, value: Any, field: Any) -> str:
        code = text(20).validate(value, field).replace(" ", "")
        if not (len(code) == 6 and code.isascii() and code.isdigit()):
            raise ValueError("six chiffres attendus")
        return code


class UploadId(str, _Field):
    """The id of a file received by POST /v1/uploads."""

    @classmethod
    def __modify_schema__(cls, schema: Dict[str, Any]) -> None:
        schema.update(pattern=UPLOAD_ID_PATTERN)

    @classmethod
    def validate(cls, value: Any, field: Any) -> str:
        value = text(32).validate(value, field)
        if not is_upload_id(value):
            raise ValueError("identifiant de fichier attendu (32 caractères)")
        return value


class UploadIds(list, _Field):
    """Up to MAX_ATTACHMENTS distinct upload ids."""

    @classmethod
    def __modify_schema__(cls, schema: Dict[str, Any]) -> None:
        schema.update(maxItems=MAX_ATTACHMENTS, uniqueItems=True,
                      items={"type": "string", "pattern": UPLOAD_ID_PATTERN})

    @classmethod
    def validate(cls, value: Any) -> List[str]:
        if (not isinstance(value, list) or len(value) > MAX_ATTACHMENTS
                or not all(is_upload_id(item) for item in value)):
            raise ValueError(f"liste de {MAX_ATTACHMENTS} identifiants de fichiers au plus")
        if len(set(value)) != len(value):
            raise ValueError("chaque fichier une seule fois")
        return list(value)


def field_errors(error: ValidationError) -> Dict[str, str]:
    """One French reason per faulty field of a body."""
    reasons: Dict[str, str] = {}
    for problem in error.errors():
        name = str(problem["loc"][0])[:100]
        kind = problem["type"]
        if kind in ("value_error.missing", "type_error.none.not_allowed"):
            reason = MISSING
        elif kind == "value_error.extra":
            reason = UNKNOWN
        elif kind == "type_error.enum":
            choices = sorted(str(member.value) for member in problem["ctx"]["enum_values"])
            reason = "valeur attendue parmi : " + ", ".join(choices)
        else:
            reason = problem["msg"]
        reasons.setdefault(name, reason)
    return reasons


def null_is_default(cls: Type[BaseModel], value: Any, field: Any) -> Any:
    """A pre-validator: an explicit null stands for the field's default."""
    return field.get_default() if value is None else value
