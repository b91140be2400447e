"""The request a customer comes for when they open the conversation from one of the
insurer's links: Telegram `t.me/<bot>?start=<parameter>`, Messenger `m.me/<page>?ref=<parameter>`
(and the page's « Démarrer » button or menu items, whose payload the page sets). The
parameter's first word names the request (`sinistre-auto_2026`: a claim declaration, the
rest a campaign's tag for the insurer's own statistics); any other parameter, or none,
greets. The opening is a message the channel composes, never typed `/intent` syntax."""
import re
from typing import Optional

GREETING = "/greet"
# A link's first word → the request it opens (the intents of domain/).
REQUESTS = {
    "sinistre": "declare_claim",
    "declarer": "declare_claim",
    "suivi": "claim_status",
    "attestation": "request_attestation",
    "devis": "request_quote",
    "contrat": "contract_info",
    "paiement": "payment_info",
    "connexion": "login_problem",
    "conseiller": "request_human",
}
# What a link may carry (Telegram's own rule for start parameters).
_PARAMETER = re.compile(r"[A-Za-z0-9_-]{1,64}")
_FIRST_WORD = re.compile(r"[A-Za-z]+")


def link_parameter(value: object) -> Optional[str]:
    """The parameter a link carried, None for anything a link of ours cannot carry."""
    return value if isinstance(value, str) and _PARAMETER.fullmatch(value) else None


def opening_message(parameter: Optional[str]) -> str:
    """The message that opens the conversation: the request the link names, else a greeting."""
    word = _FIRST_WORD.match(parameter or "")
    intent = REQUESTS.get(word.group(0).lower()) if word else None
    return f"/{intent}" if intent else GREETING
