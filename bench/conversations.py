"""The conversations the benchmark drives: the self-service flows customers use most,
each a list of turns with what the answer must say. An answer that misses it counts
as an error, as a failed request does: under load, a wrong answer is a failure.
"""
import re
from dataclasses import dataclass
from typing import List, Optional, Pattern, Tuple

MARIE = "10000001"
CLAIM_NUMBER = re.compile(r"SIN-\d{4}-\d{6}")
DOCUMENT_LINK = re.compile(r"https?://\S+")


@dataclass(frozen=True)
class Turn:
    text: str
    expect: Pattern[str]
    # What to fetch from the answer once it is checked (the attestation's PDF).
    fetch: Optional[Pattern[str]] = None


@dataclass(frozen=True)
class Conversation:
    name: str
    turns: Tuple[Turn, ...]
    customer: Optional[str] = None  # logged in to the espace client (session token)


def turn(text: str, expect: str, fetch: Optional[Pattern[str]] = None) -> Turn:
    return Turn(text, re.compile(expect), fetch)


LOGIN_HELP = Conversation("login_help", (
    turn("bonjour", "Bonjour"),
    turn("j'ai oublié mon mot de passe", "connexion.oyat-assurances.fr"),
    turn("mon compte est bloqué", "0825 07 11 22"),
    turn("merci", "."),
))

CLAIM_DECLARATION = Conversation("claim_declaration", (
    turn("bonjour", "Bonjour"),
    turn("je veux déclarer un sinistre", "type de sinistre"),
    # A button payload of the answer before: the only one typed text may send.
    turn('/inform{"claim_type": "degat_des_eaux"}', "Quand"),
    turn("hier vers 18h", "Où"),
    turn("dans la cuisine de mon appartement", "ce qui s'est passé"),
    turn("le tuyau sous l'évier a lâché pendant que j'étais au travail", "dégâts"),
    turn("le parquet de la cuisine est gonflé", "autre personne"),
    turn("Aucun tiers impliqué", "témoins"),
    turn("Aucun témoin", "Je l'enregistre"),
    turn("oui", CLAIM_NUMBER.pattern),
), customer=MARIE)

ATTESTATION = Conversation("attestation", (
    turn("il me faut une attestation d'assurance pour ma voiture", "AUT-482913", fetch=DOCUMENT_LINK),
    turn("merci", "."),
), customer=MARIE)

CLAIM_STATUS = Conversation("claim_status", (
    turn("où en est mon dossier SIN-2026-000731", "expertise"),
    turn("et quand passe l'expert pour le dossier SIN-2026-000731 ?", "3 décembre 2026"),
), customer=MARIE)

CONVERSATIONS: Tuple[Conversation, ...] = (LOGIN_HELP, CLAIM_DECLARATION, ATTESTATION, CLAIM_STATUS)


def parse_texts() -> List[str]:
    """The typed texts of the conversations (what the NLU parses; no button payloads)."""
    return [t.text for c in CONVERSATIONS for t in c.turns if not t.text.startswith("/")]
