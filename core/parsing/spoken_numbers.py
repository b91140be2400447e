"""Numbers and identifiers as a speech recogniser writes them down, made readable for the NLU.

On the phone, callers spell their numbers out: « zéro six douze trente-quatre ... »,
« s i n deux mille vingt-six sept cent trente et un ». text2num turns the words into
digits (« 06 12 34 ... », « s i n 2026 731 »); this module then joins what belongs
together: the spelled letters of an identifier with its digits (SIN-2026-000731,
AUT-482913, plates AB-123-CD), and digit groups that form a phone number or a customer
id (0612345678, 10000001). Digit groups that read as a date become « 12/03/1985 ».
"""

import re

from text_to_num import alpha2digit

# Letters of the identifiers' prefixes, spelled one by one (« s i n », « a.u.t ») or said as a word.
_PREFIXES = ("SIN", "AUT", "HAB", "SAN", "PRV", "PRO")
_SPELLED_PREFIX = "|".join(r"[\s.]*".join(prefix.lower()) for prefix in _PREFIXES)
# « tiret » is how callers say the dash.
_GROUP_SEPARATOR = r"(?:[\s.-]|\btirets?\b)*"
# Digit groups separated by at least one separator: `(?:separator* digits)+` would let a
# long number split into groups in exponentially many ways when the match fails.
_IDENTIFIER = re.compile(
    rf"\b({_SPELLED_PREFIX})\b({_GROUP_SEPARATOR}\d+(?:(?:[\s.-]|\btirets?\b)+\d+)*)(?![\d/])",
    re.IGNORECASE,
)
_PLATE = re.compile(
    rf"\b([a-z])\s+([a-z]){_GROUP_SEPARATOR}(\d{{3}}){_GROUP_SEPARATOR}([a-z])\s+([a-z])\b", re.IGNORECASE
)
# A claim's number said digit by digit after the word that names it (« dossier sept trois
# un »): one number of at most six digits.
_CLAIM_DIGITS = re.compile(r"\b(dossier|sinistre|num[ée]ro)\s+((?:[0-9]\s+){1,5}[0-9])(?![0-9]|\s+[0-9])", re.IGNORECASE)
# Two or more groups of digits separated by spaces only, not part of a larger token.
_DIGIT_RUN = re.compile(r"(?<![\w/.,-])\d+(?:[ \t]+\d+)+(?![\w/,-]|\.\d)")

# Lengths of the numbers callers dictate in groups: 6 (a one-time code), 8 (customer id),
# 10 (a French phone number).
_JOINED_LENGTHS = (6, 8, 10)


def normalise_spoken_numbers(text: str) -> str:
    """`text` with spelled-out numbers as digits and dictated identifiers joined."""
    if not text:
        return text
    digits = alpha2digit(text, "fr")
    digits = _IDENTIFIER.sub(_identifier, digits)
    digits = _PLATE.sub(lambda m: f"{m[1]}{m[2]}-{m[3]}-{m[4]}{m[5]}".upper(), digits)
    digits = _CLAIM_DIGITS.sub(lambda m: f"{m[1]} {re.sub(r'[^0-9]', '', m[2])}", digits)
    return _DIGIT_RUN.sub(_digit_run, digits)


def _identifier(match: re.Match) -> str:
    prefix = re.sub(r"[\s.]", "", match[1]).upper()
    groups = re.findall(r"\d+", match[2])
    joined = "".join(groups)
    if prefix == "SIN":
        # The year first (« deux mille vingt-six »), then the number, whose leading
        # zeros callers usually leave out (« sept cent trente et un » is 000731).
        if len(groups[0]) == 4 and len(groups) > 1:
            year, number = groups[0], "".join(groups[1:])
        else:
            year, number = joined[:4], joined[4:]
        if len(year) == 4 and 1 <= len(number) <= 6:
            return f"SIN-{year}-{number.zfill(6)}"
        return match[0]
    if len(joined) == 6:
        return f"{prefix}-{joined}"
    return match[0]


def _digit_run(match: re.Match) -> str:
    groups = match[0].split()
    as_date = _as_date(groups)
    if as_date:
        return as_date
    joined = "".join(groups)
    return joined if len(joined) in _JOINED_LENGTHS else match[0]


def _as_date(groups: list) -> str:
    """« 12/03/1985 » for day, month, year groups (« douze zéro trois mille neuf cent ... »).

    A year of four digits is one of the last two centuries: « trente zéro cinq zéro zéro
    zéro zéro » is the id 30050000 (the zeros said in pairs come out as one « 0000 »), not
    a date in year 0."""
    if len(groups) != 3 or len(groups[0]) > 2 or len(groups[1]) != 2 or len(groups[2]) not in (2, 4):
        return ""
    if len(groups[2]) == 4 and groups[2][:2] not in ("19", "20"):
        return ""
    day, month = int(groups[0]), int(groups[1])
    if 1 <= day <= 31 and 1 <= month <= 12:
        return f"{day:02d}/{month:02d}/{groups[2]}"
    return ""
