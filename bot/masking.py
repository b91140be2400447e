"""Masked contact details, as shown to customers and put in answers."""
from __future__ import annotations


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
