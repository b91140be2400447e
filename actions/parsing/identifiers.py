"""Canonical forms of the insurer's identifiers (spec §3).

Customers type them in lower case, without the dash or with spaces
(« aut 482913 », « sin2026000731 »); the services only know the canonical form.
"""

import re
from typing import Optional

PRODUCT_CODES = {"AUT": "auto", "HAB": "habitation", "SAN": "sante", "PRV": "prevoyance", "PRO": "pro"}

# [0-9], not \d: \d also matches the digits of other scripts (« ١٢٣٤٥٦٧٨ »), which no
# identifier is made of and the services would not know.
_CONTRACT_NUMBER = re.compile(r"\b(aut|hab|san|prv|pro)[\s.-]*([0-9]{6})\b", re.IGNORECASE)
_CLAIM_NUMBER = re.compile(r"\bsin[\s.-]*([0-9]{4})[\s.-]*([0-9]{6})\b", re.IGNORECASE)
_CUSTOMER_ID = re.compile(r"(?<![0-9])([0-9]{8})(?![0-9])")


def find_contract_number(text: str) -> Optional[str]:
    """The first contract number in `text`, canonical (``AUT-482913``), or None."""
    match = _CONTRACT_NUMBER.search(text or "")
    return f"{match.group(1).upper()}-{match.group(2)}" if match else None


def find_claim_number(text: str) -> Optional[str]:
    """The first claim number in `text`, canonical (``SIN-2026-000731``), or None."""
    match = _CLAIM_NUMBER.search(text or "")
    return f"SIN-{match.group(1)}-{match.group(2)}" if match else None


def find_customer_id(text: str) -> Optional[str]:
    """The first eight-digit espace-client identifier in `text`, or None."""
    match = _CUSTOMER_ID.search(re.sub(r"(?<=[0-9])[\s.](?=[0-9])", "", text or ""))
    return match.group(1) if match else None
