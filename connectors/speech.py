"""The assistant's written answers, rewritten to be spoken by the voice gateway.

A text-to-speech engine reads « SIN-2026-000731 » as one long number, « 412,00 € »
awkwardly and a link as gibberish. Here every answer becomes a plain text and an
SSML document, both meant for the ear: no emoji, markdown or links; identifiers
read in groups (« S I N, 2026, zéro zéro zéro, 731 »), amounts in euros, times in
hours, numeric dates in words, web and e-mail addresses spelled the way they are
said, list items as sentences.
"""

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Callable, Dict, List, Sequence, Tuple
from xml.sax.saxutils import escape

from babel.dates import format_date

Piece = Tuple[str, str]  # (plain text, SSML fragment)

SHORT_PAUSE = '<break time="200ms"/>'
SENTENCE_PAUSE = '<break time="400ms"/>'

_URL = re.compile(r"\b(?:https?://|www\.)\S+", re.IGNORECASE)
# The answers carry what customers wrote (a claim's place, its circumstances): every
# pattern is linear in the text's length. A match starts only where its run of
# characters starts (look-behinds), and what it scans stops at the next delimiter.
_MARKDOWN_LINK = re.compile(r"\[([^\[\]\n]+)\]\([^()\s]*\)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|`)(?=[^\s*])([^*_`\n]+?)(?<=[^\s*])\1")
_LIST_MARKER = re.compile(r"^\s*(?:[-•*]|\d{1,2}[.)])\s+")
_DASH = re.compile(r"(?<!\s)\s*[–—]\s*")
_INVISIBLE = re.compile("[\u200d\ufe0e\ufe0f]")
_SPACES = re.compile(r"[ \t\u00a0\u202f]+")
# What a removed link leaves behind: « Téléchargez-la ici : . »
_DANGLING = re.compile(r"(?<!\s)\s*[:,]\s*(?=[.;!?]|$)")


@dataclass(frozen=True)
class Spoken:
    text: str
    ssml: str


def to_speech(written: str) -> Spoken:
    """The spoken form of one written answer (plain text and SSML)."""
    sentences: List[List[Piece]] = []
    for line in _clean(written).split("\n"):
        line = _LIST_MARKER.sub("", line).strip()
        if not line:
            continue
        if line[-1] not in ".!?;:…»":
            line += "."
        sentences.append(_pieces(line))
    text = " ".join("".join(plain for plain, _ in pieces) for pieces in sentences)
    ssml = SENTENCE_PAUSE.join("".join(fragment for _, fragment in pieces) for pieces in sentences)
    return Spoken(text=_SPACES.sub(" ", text).strip(), ssml=f'<speak xml:lang="fr-FR">{ssml}</speak>')


def _clean(written: str) -> str:
    """Without links, markdown, emoji and other pictograms."""
    text = _MARKDOWN_LINK.sub(r"\1", written or "")
    text = _URL.sub("", text)
    text = _EMPHASIS.sub(r"\2", text)
    text = _INVISIBLE.sub("", text)
    text = "".join(ch for ch in text if unicodedata.category(ch) not in ("So", "Cs", "Co"))
    text = _DASH.sub(", ", text).replace("n°", "numéro")
    lines = [_DANGLING.sub("", _SPACES.sub(" ", line)).strip() for line in text.split("\n")]
    return "\n".join(lines)


# --- what is rewritten, each as plain text and SSML ------------------------------

_REFERENCE = r"\b(?P<ref_letters>[A-Z]{3})-(?P<ref_year>\d{4})-(?P<ref_number>\d{6})\b"
_CONTRACT = r"\b(?P<contract_letters>AUT|HAB|SAN|PRV|PRO)-(?P<contract_number>\d{6})\b"
_PLATE = r"\b(?P<plate_left>[A-Z]{2})-(?P<plate_digits>\d{3})-(?P<plate_right>[A-Z]{2})\b"
_EMAIL = r"(?<![\w.*+-])(?P<email>[\w.*+-]+@[\w-]+(?:\.[\w-]+)+)\b"
_DOMAIN = r"(?<![\w.-])(?P<domain>[a-z][\w-]*(?:\.[\w-]+)*\.(?:fr|com|org|net|eu))\b"
_MASKED_PHONE = r"\b0\d(?: \*\*){3} (?P<masked_end>\d{2})\b"
_PHONE = r"(?<![\d,])(?P<phone>0\d(?:[ .]?\d{2}){4}|0\d{3}(?: \d{2}){3})(?!\d|,\d)"
_CUSTOMER_ID = r"(?<![\d,])(?P<customer_id>\d{8})(?!\d|,\d)"
# Starts at a number's first digit group only (not at each of its groups).
_AMOUNT = r"(?<!\d)(?<!\d[ \u00a0\u202f])(?P<euros>\d{1,3}(?:[ \u00a0\u202f]\d{3})*|\d+)(?:,(?P<cents>\d{2}))?[ \u00a0\u202f]?€"
_HOUR = r"\b(?P<hours>\d{1,2}) ?h(?: ?(?P<minutes>\d{2}))?\b"
_NUMERIC_DATE = r"\b(?P<day>\d{1,2})/(?P<month>\d{1,2})/(?P<year>\d{4})\b"

_SPOKEN = re.compile(
    "|".join((_REFERENCE, _CONTRACT, _PLATE, _EMAIL, _DOMAIN, _MASKED_PHONE, _PHONE, _CUSTOMER_ID,
              _AMOUNT, _HOUR, _NUMERIC_DATE))
)


def _pieces(line: str) -> List[Piece]:
    pieces: List[Piece] = []
    position = 0
    for match in _SPOKEN.finditer(line):
        before = line[position:match.start()]
        pieces.append((before, escape(before)))
        pieces.append(_rewrite(match))
        position = match.end()
    rest = line[position:]
    pieces.append((rest, escape(rest)))
    return pieces


def _rewrite(match: re.Match) -> Piece:
    found = {name: value for name, value in match.groupdict().items() if value is not None}
    for key, rewrite in _REWRITES.items():
        if key in found:
            return rewrite(found)
    return match[0], escape(match[0])  # pragma: no cover - every alternative has a rewrite


def _spelled(letters: str) -> Piece:
    return " ".join(letters), f'<say-as interpret-as="characters">{letters}</say-as>'


def _number_groups(digits: str, size: int) -> List[str]:
    """« 000731 » → « zéro zéro zéro », « 731 »; « 120034 » → « 120 », « zéro 34 »."""
    groups = [digits[i:i + size] for i in range(0, len(digits), size)]
    return [_with_leading_zeros(group) for group in groups]


def _with_leading_zeros(group: str) -> str:
    significant = group.lstrip("0")
    zeros = ["zéro"] * (len(group) - len(significant))
    return " ".join(zeros + ([significant] if significant else []))


def _grouped(first: Piece, groups: Sequence[str]) -> Piece:
    plain = ", ".join([first[0], *groups])
    ssml = SHORT_PAUSE.join([first[1], *map(escape, groups)])
    return plain, ssml


def _reference(found: Dict[str, str]) -> Piece:
    return _grouped(_spelled(found["ref_letters"]), [found["ref_year"], *_number_groups(found["ref_number"], 3)])


def _contract(found: Dict[str, str]) -> Piece:
    return _grouped(_spelled(found["contract_letters"]), _number_groups(found["contract_number"], 3))


def _plate(found: Dict[str, str]) -> Piece:
    right = _spelled(found["plate_right"])
    plain, ssml = _grouped(_spelled(found["plate_left"]), [found["plate_digits"]])
    return f"{plain}, {right[0]}", f"{ssml}{SHORT_PAUSE}{right[1]}"


def _address_words(address: str) -> str:
    """« contact@oyat-assurances.fr » → « contact arobase oyat tiret assurances point fr »."""
    words = address.replace("@", " arobase ").replace(".", " point ").replace("-", " tiret ")
    return _SPACES.sub(" ", words).strip()


def _email(found: Dict[str, str]) -> Piece:
    if "*" in found["email"]:  # masked: the customer knows their own address
        plain = "l'adresse e-mail de votre dossier"
    else:
        plain = _address_words(found["email"])
    return plain, escape(plain)


def _domain(found: Dict[str, str]) -> Piece:
    plain = _address_words(found["domain"])
    return plain, escape(plain)


def _masked_phone(found: Dict[str, str]) -> Piece:
    plain = f"numéro de votre dossier terminant par {found['masked_end']}"
    return plain, escape(plain)


def _phone(found: Dict[str, str]) -> Piece:
    digits = re.sub(r"\D", "", found["phone"])
    groups = _number_groups(digits, 2)
    return ", ".join(groups), SHORT_PAUSE.join(groups)


def _customer_id(found: Dict[str, str]) -> Piece:
    groups = _number_groups(found["customer_id"], 2)
    return ", ".join(groups), SHORT_PAUSE.join(groups)


def _amount(found: Dict[str, str]) -> Piece:
    euros = re.sub(r"\D", "", found["euros"])
    plain = f"{euros} euros"
    cents = found.get("cents")
    if cents and cents != "00":
        plain += f" {int(cents)}"
    return plain, escape(plain)


def _hour(found: Dict[str, str]) -> Piece:
    plain = f"{int(found['hours'])} heures"
    minutes = found.get("minutes")
    if minutes and minutes != "00":
        plain += f" {int(minutes)}"
    return plain, escape(plain)


def _numeric_date(found: Dict[str, str]) -> Piece:
    try:
        date = dt.date(int(found["year"]), int(found["month"]), int(found["day"]))
    except ValueError:
        plain = f"{found['day']}/{found['month']}/{found['year']}"
    else:
        plain = format_date(date, format="d MMMM y", locale="fr_FR")
    return plain, escape(plain)


_REWRITES: Dict[str, Callable[[Dict[str, str]], Piece]] = {
    "ref_letters": _reference,
    "contract_letters": _contract,
    "plate_left": _plate,
    "email": _email,
    "domain": _domain,
    "masked_end": _masked_phone,
    "phone": _phone,
    "customer_id": _customer_id,
    "euros": _amount,
    "hours": _hour,
    "day": _numeric_date,
}
