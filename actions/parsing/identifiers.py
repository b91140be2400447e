"""Canonical forms of the insurer's identifiers (spec §3).

Customers type them in lower case, without the dash or with spaces
(« aut 482913 », « sin2026000731 »); the services only know the canonical form.
"""

import re
from typing import Optional

PRODUCT_CODES = {"AUT": "auto", "HAB": "habitation", "SAN": "sante", "PRV": "prevoyance", "PRO": "pro"}

_CONTRACT_NUMBER = re.compile(r"\b(aut|hab|san|prv|pro)[\s.-]*(\d{6})\b", re.IGNORECASE)
_CLAIM_NUMBER = re.compile(r"\bsin[\s.-]*(\d{4})[\s.-]*(\d{6})\b", re.IGNORECASE)
_CUSTOMER_ID = re.compile(r"(?<!\d)(\d{8})(?!\d)")


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
    match = _CUSTOMER_ID.search(re.sub(r"(?<=\d)[\s.](?=\d)", "", text or ""))
    return match.group(1) if match else None
