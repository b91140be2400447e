"""Where an anonymous visitor may be called back: a French phone number or an e-mail
address, read from their answer as they write it (« 06 12 34 56 78 », « 0612345678 »,
« +33 6 12 34 56 78 », « c'est jean.dupont@exemple.fr »), and how it is read back to
them masked (« 06 •• •• •• 78 », « j•••@exemple.fr »).
"""

import re
from typing import Optional

import phonenumbers
from phonenumbers import Leniency, PhoneNumberFormat, PhoneNumberMatcher

REGION = "FR"
MAX_EMAIL_LENGTH = 254
MAX_LOCAL_PART_LENGTH = 64
# Longer answers are no call-back detail (and the phone matcher's time grows with the text).
MAX_ANSWER_LENGTH = 500
# Bullets, not asterisks: the messaging apps read « *…* » as bold.
HIDDEN = "••"
# Strict: dot-separated words of ASCII letters, digits and « _%+- » before the « @ »,
# dot-separated host names and a top-level domain of letters after it. Dots delimit the
# repetitions, so the pattern cannot backtrack much; the look-behind lets a match start
# only where a word starts.
_EMAIL = re.compile(
    r"(?<![\w.%+-])[A-Za-z0-9_%+-]+(?:\.[A-Za-z0-9_%+-]+)*"
    r"@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}(?![\w@-])"
)


def read_email(text: str) -> Optional[str]:
    """The first e-mail address in `text`, or None."""
    for match in _EMAIL.finditer(text):
        address = match.group(0)
        local = address.rpartition("@")[0]
        if len(address) <= MAX_EMAIL_LENGTH and len(local) <= MAX_LOCAL_PART_LENGTH:
            return address
    return None


def read_phone(text: str) -> Optional[str]:
    """The first French phone number in `text`, as E.164 (+33612345678), or None."""
    for match in PhoneNumberMatcher(text, REGION, leniency=Leniency.VALID):
        if phonenumbers.is_valid_number_for_region(match.number, REGION):
            return phonenumbers.format_number(match.number, PhoneNumberFormat.E164)
    return None


def read_contact(text: str) -> Optional[str]:
    """An e-mail address or a French phone number (E.164) in the customer's answer, or None."""
    if not isinstance(text, str) or len(text) > MAX_ANSWER_LENGTH:
        return None
    return read_email(text) or read_phone(text)


def is_email(contact: str) -> bool:
    return "@" in contact


def masked_contact(contact: str) -> str:
    """« 06 •• •• •• 78 » for +33612345678, « j•••@exemple.fr » for jean.dupont@exemple.fr:
    enough for the customer to recognise what they gave, nothing for anyone else."""
    if is_email(contact):
        local, _, domain = contact.rpartition("@")
        return f"{local[:1]}{HIDDEN}•@{domain}"
    groups = phonenumbers.format_number(phonenumbers.parse(contact, REGION), PhoneNumberFormat.NATIONAL).split()
    if len(groups) < 3:
        return HIDDEN
    return " ".join([groups[0], *[HIDDEN] * (len(groups) - 2), groups[-1]])
