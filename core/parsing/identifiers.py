"""Canonical forms of the insurer's identifiers (spec §3).

Customers type them in lower case, without the dash or with spaces
(« aut 482913 », « sin2026000731 », « SIN2026-731 »); the services only know the
canonical form. A claim is also named by its number alone (« dossier 000731 »,
« le 731 »): such a partial reference is matched against the customer's own claims
by the actions, never resolved here.
"""

import re
from dataclasses import dataclass
from typing import List, Optional, Tuple

# An identifier found in a text: its canonical value, where it starts and ends.
Span = Tuple[str, int, int]

PRODUCT_CODES = {"AUT": "auto", "HAB": "habitation", "SAN": "sante", "PRV": "prevoyance", "PRO": "pro"}

# [0-9], not \d: \d also matches the digits of other scripts (« ١٢٣٤٥٦٧٨ »), which no
# identifier is made of and the services would not know.
_SEPARATOR = r"[ .\-_/]*"
_CONTRACT_NUMBER = re.compile(
    rf"(?<![a-z0-9])(aut|hab|san|prv|pro){_SEPARATOR}([0-9]{{3}}){_SEPARATOR}([0-9]{{3}})(?![0-9])", re.IGNORECASE
)
# The year, then the number with or without its leading zeros: SIN-2026-000731,
# sin 2026 731, SIN2026-731, sin2026000731 (ten digits in a row: year and six digits).
_CLAIM_NUMBER = re.compile(
    rf"(?<![a-z0-9])sin(?:istre)?{_SEPARATOR}(?:n[°o]{_SEPARATOR})?((?:19|20)[0-9]{{2}})"
    rf"(?:{_SEPARATOR}([0-9]{{1,6}})|([0-9]{{6}}))(?![0-9])",
    re.IGNORECASE,
)
# A claim named by its number alone, after a word that says it is one: « dossier 000731 »,
# « sinistre n° 731 », « sin 731 », « le 731 », « réf 731 ». « le » and « du » introduce
# dates too (« le 28 »): three digits at least after them.
_STRONG_CLAIM_CUE = r"sin|sinistres?|dossiers?|num[ée]ro|n[°o]|no\.|r[ée]f(?:[ée]rence)?\.?"
_PARTIAL_CLAIM = re.compile(
    rf"(?<![a-z0-9])(?:(?:{_STRONG_CLAIM_CUE}){_SEPARATOR}(?:n[°o]{_SEPARATOR})?([0-9]{{1,6}})"
    rf"|(?:le|du){_SEPARATOR}([0-9]{{3,6}}))(?![0-9]|[ .,]?[0-9]|\s*(?:h\b|€|euros?|km|ans?\b|/))",
    re.IGNORECASE,
)
# A message that is nothing but a number (the answer to « quel dossier ? »).
_BARE_NUMBER = re.compile(r"(?:n[°o] ?)?0{0,6}([0-9]{1,6})[.!]?")  # matched whole, on the stripped text
_CUSTOMER_ID = re.compile(r"(?<![0-9])([0-9]{8})(?![0-9])")
# French registration (SIV): two letters, three digits, two letters; I, O and U are never
# used. Spaces between the groups only when the letters are no French word
# (« de 123 km » is a distance, not a plate).
_PLATE_LETTERS = "a-hj-npr-tv-z"
_PLATE = re.compile(
    rf"(?<![a-z0-9])([{_PLATE_LETTERS}]{{2}})([ .\-]?)([0-9]{{3}})([ .\-]?)([{_PLATE_LETTERS}]{{2}})(?![a-z0-9])",
    re.IGNORECASE,
)
_WORDS_NOT_PLATE_LETTERS = {"de", "le", "la", "en", "et", "me", "te", "se", "ne", "ce", "ma", "ta", "sa", "ca", "ça",
                            "vs", "es", "el", "an", "pm", "am", "km", "kg", "mn", "ms", "mm", "cm", "ht", "tt"}


@dataclass(frozen=True)
class ClaimReference:
    """A claim as the customer named it: `number` (six digits, zero-padded) and, when
    given, `year`. `text` is how the customer wrote it, for the « not found » answer."""

    number: str
    year: Optional[str]
    text: str

    @property
    def canonical(self) -> Optional[str]:
        """SIN-YYYY-NNNNNN when the year was given, else None."""
        return f"SIN-{self.year}-{self.number}" if self.year else None

    def matches(self, claim_number: str) -> bool:
        match = re.fullmatch(r"SIN-([0-9]{4})-([0-9]{6})", claim_number or "")
        if match is None:
            return False
        return match[2] == self.number and (self.year is None or match[1] == self.year)


def find_contract_number(text: str) -> Optional[str]:
    """The first contract number in `text`, canonical (``AUT-482913``), or None."""
    match = _CONTRACT_NUMBER.search(text or "")
    return f"{match.group(1).upper()}-{match.group(2)}{match.group(3)}" if match else None


def find_claim_number(text: str) -> Optional[str]:
    """The first full claim number (with its year) in `text`, canonical
    (``SIN-2026-000731``), or None."""
    match = _CLAIM_NUMBER.search(text or "")
    if match is None:
        return None
    return f"SIN-{match.group(1)}-{(match.group(2) or match.group(3)).zfill(6)}"


def find_claim_reference(text: str, alone: bool = False) -> Optional[ClaimReference]:
    """The claim named in `text`: a full number, else a number after « dossier »,
    « sinistre », « le »...; with `alone` (the answer to « which claim? »), also a
    message that is only a number."""
    text = text or ""
    full = _CLAIM_NUMBER.search(text)
    if full:
        number = (full.group(2) or full.group(3)).zfill(6)
        return ClaimReference(number=number, year=full.group(1), text=f"SIN-{full.group(1)}-{number}")
    # A contract number or a customer id is no claim number (« dossier AUT-482913 »).
    text = _CONTRACT_NUMBER.sub(" ", text)
    partial = _PARTIAL_CLAIM.search(text) or (_BARE_NUMBER.fullmatch(text.strip()) if alone else None)
    if partial is None:
        return None
    digits = next(group for group in partial.groups() if group)
    if int(digits) == 0:
        return None
    return ClaimReference(number=digits.zfill(6), year=None, text=digits.lstrip("0"))


def contract_number_spans(text: str) -> List[Span]:
    """Every contract number of `text`, canonical, with its place in the text."""
    return [(f"{m.group(1).upper()}-{m.group(2)}{m.group(3)}", m.start(), m.end())
            for m in _CONTRACT_NUMBER.finditer(text or "")]


def claim_number_spans(text: str) -> List[Span]:
    """Every full claim number (with its year) of `text`, canonical, with its place."""
    return [(f"SIN-{m.group(1)}-{(m.group(2) or m.group(3)).zfill(6)}", m.start(), m.end())
            for m in _CLAIM_NUMBER.finditer(text or "")]


def plate_spans(text: str) -> List[Span]:
    """Every French registration of `text`, canonical, with its place."""
    spans = []
    for match in _PLATE.finditer(text or ""):
        left, first_gap, digits, second_gap, right = match.groups()
        spaced = " " in (first_gap + second_gap)
        if spaced and (left.lower() in _WORDS_NOT_PLATE_LETTERS or right.lower() in _WORDS_NOT_PLATE_LETTERS):
            continue
        spans.append((f"{left}-{digits}-{right}".upper(), match.start(), match.end()))
    return spans


def find_customer_id(text: str) -> Optional[str]:
    """The first eight-digit espace-client identifier in `text`, or None."""
    match = _CUSTOMER_ID.search(re.sub(r"(?<=[0-9])[\s.](?=[0-9])", "", text or ""))
    return match.group(1) if match else None


def find_plates(text: str) -> List[str]:
    """The French registrations in `text`, canonical (``AB-123-CD``): « ab123cd »,
    « AB 123 CD », « ab-123-cd »."""
    plates: List[str] = []
    for plate, _, _ in plate_spans(text):
        if plate not in plates:
            plates.append(plate)
    return plates


def canonical_plate(text: str) -> Optional[str]:
    """`text` as one canonical registration, or None when it is none."""
    plates = find_plates(text)
    return plates[0] if len(plates) == 1 else None
