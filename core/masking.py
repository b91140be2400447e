"""Personal data masking, in one place for every process.

- What customers are shown keeps a hint: `mask_email`, `mask_phone`.
- What is stored (conversation events) or logged loses it entirely:
  `mask_personal_data` (e-mails, phone numbers, IBANs, tokens and signed-link
  secrets, street addresses, birth dates and one-time codes named as such) and,
  stricter, `mask_for_logs` (also every date and every six-digit number: a log
  line has no context telling a birth date or a code from anything else).
- `mask_value` applies `mask_personal_data` inside JSON-like values, and hides
  whole the values of secret keys (`auth_token`...).
- `MaskingLogFilter` masks log records; `mask_every_log_handler` puts it on the
  handlers of a process.
"""
from __future__ import annotations

import logging
import re
from typing import Any, Callable, Dict, Iterable, Optional, Tuple

import phonenumbers
from phonenumbers import Leniency, PhoneMetadata, PhoneNumberMatcher, ValidationResult

MARKERS = {
    "email": "[e-mail]",
    "phone": "[téléphone]",
    "iban": "[IBAN]",
    "token": "[jeton]",
    "address": "[adresse]",
    "birth_date": "[date de naissance]",
    "code": "[code]",
    "date": "[date]",
    # Where an anonymous visitor asked to be called back (a phone number or an e-mail).
    "contact": "[coordonnées]",
}

# Keys whose values are secrets whatever they look like (`channel_phone_assertion`: the
# caller's number signed by the phone line, core/channel_assertion.py; `channel_reply_address`:
# the address notices go to, signed by the channel, core/reply_address.py).
SECRET_KEYS = frozenset({
    "auth_token", "access_token", "token", "password", "secret", "authorization", "jeton",
    "channel_phone_assertion", "channel_reply_address",
})

# Keys whose values point at a person whatever they look like: the address a message came
# from (set by the channels for the identification lock-out) is personal data once stored.
PERSONAL_KEYS = {"client_source": "[source]"}

# The insurer's own numbers are no one's personal data.
PUBLIC_PHONE_NUMBERS = frozenset({"0825071122"})

_MONTHS = (r"janvier|f[ée]vrier|mars|avril|mai|juin|juillet|ao[uû]t|septembre|octobre"
           r"|novembre|d[ée]cembre")
_DATE = (rf"\d{{4}}-\d{{1,2}}-\d{{1,2}}|\d{{1,2}}[/.-]\d{{1,2}}[/.-]\d{{2,4}}"
         rf"|\d{{1,2}}(?:er)?\s+(?:{_MONTHS})\s+\d{{4}}|\d{{1,2}} \d{{1,2}} \d{{4}}")
_STREET_TYPES = (r"rue|avenue|av\.?|boulevard|bd|chemin|all[ée]e|impasse|place|route|quai"
                 r"|cours|square|r[ée]sidence|lotissement|lieu-dit|voie|passage|hameau|sentier")

# Every pattern here runs on customer text, in the Rasa server's turn: each is linear
# in the text's length (tests/core/test_masking.py times them on adversarial text).
# A pattern that may start at many positions of one run of characters and scan it to
# its end is quadratic: hence the look-behinds that let a match start only where its
# run starts, and no two adjacent quantifiers over the same characters (`\s*,?\s+`).
_TOKEN_PATTERNS = (
    re.compile(r"(?<![\w-])eyJ[\w-]{4,}\.[\w-]{4,}\.[\w-]*"),  # JWT
    re.compile(r"\bBearer\s+[\w.~+/=-]+", re.IGNORECASE),
)
# Query parameters that carry a secret: the name stays, the value goes.
_SECRET_PARAMETER = re.compile(
    r"((?:[?&]|\b)(?:signature|jeton|token|auth_token|access_token)=)[^&\s\"'<>]+",
    re.IGNORECASE)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# Length of the IBANs of the countries customers bank in: an IBAN is masked when
# it has about its country's length (so that hex identifiers never are).
IBAN_LENGTHS = {
    "FR": 27, "MC": 27, "DE": 22, "BE": 16, "LU": 20, "CH": 21, "IT": 27, "ES": 24,
    "PT": 25, "NL": 18, "GB": 22, "IE": 22, "AT": 20, "AD": 24, "PL": 28, "RO": 24,
}
IBAN_LENGTH_TOLERANCE = 2  # a mistyped IBAN is still one
_IBAN_START = re.compile(r"(?<![A-Za-z0-9])([A-Za-z]{2})\d{2}")
_ADDRESS = re.compile(
    rf"\b\d{{1,4}}(?:\s*(?:bis|ter)\b)?(?:\s*,)?\s+(?:{_STREET_TYPES})\b(?:\s+[\w'’-]+){{1,5}}"
    r"(?:(?:\s*,)?\s*\d{5}(?-i:(?:\s+[A-ZÀ-Ý][\w'’-]*)*))?",
    re.IGNORECASE,
)
# « née le 12/03/1985 », « date de naissance : 12 mars 1985 » (not a question's example).
_NAMED_BIRTH_DATE = re.compile(
    rf"(\b(?:n[ée]e?s?\s+le\b|naissance(?:\s*(?::|est\b))?(?:\s*le\b)?)\s*)({_DATE})", re.IGNORECASE)
_NAMED_CODE = re.compile(r"(\bcode\b[^\d\n]{0,30})(\d(?: ?\d){5})(?!\d)", re.IGNORECASE)
_ANY_DATE = re.compile(rf"(?<![\w-])(?:{_DATE})(?![\w-])", re.IGNORECASE)
_SIX_DIGITS = re.compile(r"(?<![\w.-])\d{3} ?\d{3}(?![\w-])")
_DIGIT = re.compile(r"\d")
# French phone numbers in their usual spellings (« 06 12 34 56 78 », « 06.12.34.56.78 »,
# « 0612345678 », « +33 6 12 34 56 78 », « +33 (0)6… », « 0033 6… »), found whatever
# follows or precedes them: the phone matcher reads « 06 12 34 56 78 2 fois » as one
# eleven-digit number and finds none. The last four pairs share one separator, so that a
# date and an hour (« 01.02.2026 12:30 ») are no phone number.
_FRENCH_PHONE = re.compile(
    r"(?<![\w-])(?:0|(?:\+|00)33[ .-]?(?:\(0\)[ .-]?)?)[1-9][ .-]?\d\d([ .-]?)\d\d(?:\1\d\d){2}(?![\w-])")
# Where an international number may start (« +44 20 7946 0958 », « 0044 20… »), and the
# digits that may follow: one digit per step, so that the pattern cannot backtrack. Up to
# 15 digits (the longest international number) and its national prefix written « (0) ».
# A « + » may follow a digit (« …0958+44 20… » is two numbers), not a letter.
_INTERNATIONAL_PHONE = re.compile(r"(?<![^\W\d]|[+-])\+[1-9](?:[ .-]?\(?\d\)?){5,15}"
                                  r"|(?<![\w+-])00[1-9](?:[ .-]?\(?\d\)?){5,15}")
_DIGIT_GROUP_END = re.compile(r"\d(?!\d)")
# One word of hex digits and dashes with a letter in it (message and model ids): every
# number the phone matcher could find in it is inside the word, so none is masked.
_HEX_WORD = re.compile(r"(?<![0-9a-f-])(?=[0-9a-f-]*[a-f])[0-9a-f-]+", re.IGNORECASE)


def mask_email(email: str) -> str:
    """marie.dupont@example.fr -> m***@example.fr"""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_phone(phone: str) -> str:
    """+33612345678 -> 06 ** ** ** 78 (French numbers); +4420... -> +44 *** 34 otherwise."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    if phone.startswith("+33") and len(digits) == 11:
        national = "0" + digits[2:]
        return f"{national[:2]} ** ** ** {national[-2:]}"
    if len(digits) >= 4:
        return f"+{digits[:2]} *** {digits[-2:]}"
    return "***"


def mask_personal_data(text: str) -> str:
    """`text` without e-mails, phone numbers, IBANs, tokens, street addresses, and
    birth dates or codes introduced as such (« né le 12/03/1985 », « code 123456 »)."""
    if not text:
        return text
    for pattern in _TOKEN_PATTERNS:
        text = pattern.sub(MARKERS["token"], text)
    text = _SECRET_PARAMETER.sub(lambda m: m.group(1) + MARKERS["token"], text)
    text = _EMAIL.sub(MARKERS["email"], text)
    text = _mask_ibans(text)
    text = _ADDRESS.sub(MARKERS["address"], text)
    text = _NAMED_BIRTH_DATE.sub(lambda m: m.group(1) + MARKERS["birth_date"], text)
    text = _NAMED_CODE.sub(lambda m: m.group(1) + MARKERS["code"], text)
    return _mask_phone_numbers(text)


def mask_for_logs(text: str) -> str:
    """`mask_personal_data`, and every date and six-digit number as well."""
    text = mask_personal_data(text)
    text = _ANY_DATE.sub(MARKERS["date"], text)
    return _SIX_DIGITS.sub(MARKERS["code"], text)


def mask_value(value: Any, mask: Callable[[str], str] = mask_personal_data) -> Any:
    """A copy of a JSON-like value with every string masked and secret keys hidden."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, dict):
        return {key: _masked_item(str(key).lower(), item, mask) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [mask_value(item, mask) for item in value]
    return value


def _masked_item(key: str, item: Any, mask: Callable[[str], str]) -> Any:
    if key in SECRET_KEYS and item:
        return MARKERS["token"]
    if key in PERSONAL_KEYS and item:
        return PERSONAL_KEYS[key]
    return mask_value(item, mask)


class MaskingLogFilter(logging.Filter):
    """Masks personal data in log records (message, arguments and traceback)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_for_logs(message)
        if masked != message:
            record.msg, record.args = masked, ()
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_for_logs(record.exc_text)
        # sanic's access log puts the request line (query string included) aside.
        if isinstance(getattr(record, "request", None), str):
            record.request = mask_for_logs(record.request)
        return True


def mask_every_log_handler(loggers: Iterable[str] = ()) -> None:
    """Put a MaskingLogFilter on every handler of the root logger and of `loggers`
    (e.g. sanic's, which have their own handlers)."""
    for logger in [logging.getLogger(), *(logging.getLogger(name) for name in loggers)]:
        for handler in logger.handlers:
            if not any(isinstance(f, MaskingLogFilter) for f in handler.filters):
                handler.addFilter(MaskingLogFilter())


def _mask_phone_numbers(text: str) -> str:
    if _digits(text) < 8 or _HEX_WORD.fullmatch(text):  # no phone number, spare the matcher
        return text
    text = _FRENCH_PHONE.sub(_phone_marker, text)
    text = _mask_international_numbers(text)
    if _digits(text) < 8:
        return text
    pieces, end = [], 0
    for match in PhoneNumberMatcher(text, "FR", leniency=Leniency.POSSIBLE):
        # A match may start or end on a bracket, which parts it from a word: « x(06 12 34 56 78 ».
        inside_a_word = (match.start > 0 and _word_char(text[match.start - 1]) and text[match.start] not in "([") or (
            match.end < len(text) and _word_char(text[match.end]) and text[match.end - 1] not in ")]")
        if inside_a_word or _is_public(match.raw_string):
            continue
        pieces += [text[end:match.start], MARKERS["phone"]]
        end = match.end
    return "".join(pieces) + text[end:]


def _phone_marker(match: "re.Match[str]") -> str:
    return match.group(0) if _is_public(match.group(0)) else MARKERS["phone"]


def _is_public(number: str) -> bool:
    """Whether a French number, national or international (« +33 825 07 11 22 »), is the insurer's."""
    digits = _only_digits(number)
    if number.lstrip("([ ").startswith(("+33", "0033")):
        digits = digits[2:] if digits.startswith("33") else digits[4:]
        digits = digits if digits.startswith("0") else "0" + digits  # « +33 (0)8… » or « +33 8… »
    return digits in PUBLIC_PHONE_NUMBERS


def _mask_international_numbers(text: str) -> str:
    """International numbers, followed by other digits or not (« +44 20 7946 0958 2 fois »):
    the longest run of their digit groups that is a possible number."""
    pieces, end = [], 0
    candidate = _INTERNATIONAL_PHONE.search(text)
    while candidate:
        stop = _international_number_end(text, candidate)
        if stop is not None and not _is_public(text[candidate.start():stop]):
            pieces += [text[end:candidate.start()], MARKERS["phone"]]
            end = stop
        # The next number may start inside this candidate's digits (« +44 20 7946 0958 0044 20… »).
        candidate = _INTERNATIONAL_PHONE.search(text, stop or candidate.start() + 1)
    return "".join(pieces) + text[end:]


def _international_number_end(text: str, candidate: "re.Match[str]") -> Optional[int]:
    """Where the possible number starting `candidate` ends, if any: tried from its longest
    run of whole digit groups down, parsed only when its length may be one of its country's."""
    dialled_from_france = candidate.group(0).startswith("00")  # « 0044 » is « +44 »
    digits = _only_digits(candidate.group(0))[2 if dialled_from_france else 0:]
    country_code = next((int(digits[:size]) for size in (1, 2, 3)
                         if int(digits[:size]) in phonenumbers.COUNTRY_CODE_TO_REGION_CODE), None)
    if country_code is None:
        return None
    shortest, longest = _national_lengths(country_code)
    ends = [candidate.start() + group.end() for group in _DIGIT_GROUP_END.finditer(candidate.group(0))]
    if ends and ends[-1] < len(text) and text[ends[-1]].isdigit():
        ends.pop()  # the run goes on beyond the longest number: its last group is cut
    for stop in reversed(ends):
        written = text[candidate.start():stop]
        national_length = len(_only_digits(written)) - len(str(country_code)) - (2 if dialled_from_france else 0)
        if national_length < shortest:
            return None
        # One digit more than the longest: a national prefix written after the country code.
        if national_length > longest + 1 or (stop < len(text) and _word_char(text[stop])):
            continue
        if dialled_from_france:
            written = "+" + written[2:]
        try:
            number = phonenumbers.parse(written, None)
        except phonenumbers.NumberParseException:
            return None
        reason = phonenumbers.is_possible_number_with_reason(number)
        if reason in (ValidationResult.IS_POSSIBLE, ValidationResult.IS_POSSIBLE_LOCAL_ONLY):
            return stop
        if reason not in (ValidationResult.TOO_LONG, ValidationResult.INVALID_LENGTH):
            return None  # shorter is no better: too short, or no such country code
    return None


_NATIONAL_LENGTHS: Dict[int, Tuple[int, int]] = {}


def _national_lengths(country_code: int) -> Tuple[int, int]:
    """The shortest and longest national numbers of a country code (its regions' metadata,
    read once)."""
    if country_code not in _NATIONAL_LENGTHS:
        lengths = [length for region in phonenumbers.COUNTRY_CODE_TO_REGION_CODE[country_code]
                   for metadata in [PhoneMetadata.metadata_for_region_or_calling_code(country_code, region)] if metadata
                   for length in (*metadata.general_desc.possible_length,
                                  *metadata.general_desc.possible_length_local_only) if length > 0]
        _NATIONAL_LENGTHS[country_code] = (min(lengths), max(lengths)) if lengths else (1, 17)
    return _NATIONAL_LENGTHS[country_code]


def _mask_ibans(text: str) -> str:
    """IBANs written whole or in groups separated by single spaces."""
    pieces, end = [], 0
    for start in _IBAN_START.finditer(text):
        length = IBAN_LENGTHS.get(start.group(1).upper())
        if length is None or start.start() < end:
            continue
        stop = _iban_end(text, start.start(), length)
        if stop is not None:
            pieces += [text[end:start.start()], MARKERS["iban"]]
            end = stop
    return "".join(pieces) + text[end:]


def _iban_end(text: str, position: int, length: int) -> Optional[int]:
    """Where an IBAN of about `length` characters starting at `position` ends, if any."""
    start, count, end = position, 0, None
    while position < len(text) and count < length + IBAN_LENGTH_TOLERANCE:
        char = text[position]
        if char.isascii() and char.isalnum():
            count += 1
        elif not (char == " " and position + 1 < len(text) and text[position + 1].isalnum()):
            break
        position += 1
        at_boundary = position == len(text) or not text[position].isalnum()
        if at_boundary and count >= length - IBAN_LENGTH_TOLERANCE:
            end = position
    if end is None or _digits(text[start:end]) < 10:
        return None
    return end


def _word_char(char: str) -> bool:
    return char.isalnum() or char in "-_"


def _digits(text: str) -> int:
    return len(_DIGIT.findall(text))


def _only_digits(text: str) -> str:
    return "".join(_DIGIT.findall(text))
