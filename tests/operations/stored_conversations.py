"""Conversations stored as Rasa stores them (bot.tracker_store.MaskingSQLTrackerStore, the
store endpoints.yml configures): customers' messages with the NLU's parse, the assistant's
answers with the response that made them, on two days and three channels."""
from datetime import datetime
from pathlib import Path
from typing import List, Tuple

from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered

from bot.tracker_store import MaskingSQLTrackerStore
from core.clock import PARIS

ROOT = Path(__file__).resolve().parents[2]
MONDAY = datetime(2026, 11, 30, 10, 0, tzinfo=PARIS).timestamp()
TUESDAY = datetime(2026, 12, 1, 15, 0, tzinfo=PARIS).timestamp()
# A sentence of the held-out set (tests/nlu/heldout.yml): never exported for training.
HELDOUT_SENTENCE = "bonjour, je m'appelle Karim"


def said(text: str, intent: str, confidence: float, channel: str, at: float,
         ranking: Tuple[Tuple[str, float], ...] = ()) -> UserUttered:
    ranked = [{"name": name, "confidence": value} for name, value in ranking] or [
        {"name": intent, "confidence": confidence}]
    parse_data = {"text": text, "intent": {"name": intent, "confidence": confidence},
                  "intent_ranking": ranked, "entities": []}
    return UserUttered(text, {"name": intent, "confidence": confidence}, [], parse_data,
                       timestamp=at, input_channel=channel)


def answered(text: str, response: str, at: float, **metadata: str) -> BotUttered:
    return BotUttered(text, {}, {"utter_action": response, **metadata}, timestamp=at)


CONVERSATIONS: List[Tuple[str, list]] = [
    # Monday, REST: an attestation, no hand-off.
    ("conv-attestation", [
        said("bonjour", "greet", 0.99, "rest", MONDAY),
        answered("Bonjour, que puis-je faire pour vous ?", "utter_greet", MONDAY + 1),
        said("il me faut une attestation auto", "request_attestation", 0.97, "rest", MONDAY + 10),
        answered("Votre attestation est prête.", "utter_attestation_ready", MONDAY + 11),
    ]),
    # Monday, WhatsApp: a claim declared, then a hand-off.
    ("conv-claim", [
        said("jai eu un accrochage hier sur le parking", "declare_claim", 0.91, "whatsapp", MONDAY + 60),
        answered("Votre sinistre SIN-2026-000800 est enregistré.", "utter_claim_filed", MONDAY + 61),
        said("je veux parler a un conseiller", "request_human", 0.95, "whatsapp", MONDAY + 70),
        answered("C'est transmis : référence TRF-2026-000123.", "utter_handoff_callback_phone", MONDAY + 71),
    ]),
    # Tuesday, widget: the assistant hesitated three times.
    ("conv-hesitations", [
        said("ma tortue a mange le contrat", "nlu_fallback", 0.5, "widget", TUESDAY,
             ranking=(("nlu_fallback", 0.5), ("contract_info", 0.31), ("greet", 0.2))),
        answered("Je n'ai pas compris.", "utter_default", TUESDAY + 1),
        said("je voudrais changer mon rib", "change_payment_method", 0.62, "widget", TUESDAY + 10),
        answered("Vouliez-vous dire :", "utter_did_you_mean", TUESDAY + 11),
        said("/change_payment_method", "change_payment_method", 1.0, "widget", TUESDAY + 20),
        said("ecrivez moi a marie.dupont@example.fr pour mon contrat", "contact_info", 0.35, "widget",
             TUESDAY + 30),
        answered("Je n'ai pas compris.", "utter_default", TUESDAY + 31),
        said(HELDOUT_SENTENCE, "greet", 0.4, "widget", TUESDAY + 40),
        answered("Bonjour !", "utter_greet", TUESDAY + 41),
    ]),
]


async def store_conversations(path: Path) -> str:
    """Saves CONVERSATIONS in a SQLite tracker store at `path`; its URL."""
    store = MaskingSQLTrackerStore(domain=Domain.load(str(ROOT / "domain")), dialect="sqlite", db=str(path))
    for sender, events in CONVERSATIONS:
        tracker = await store.get_or_create_tracker(sender, append_action_listen=False)
        for event in events:
            tracker.update(event)
        await store.save(tracker)
    url = str(store.engine.url)
    store.engine.dispose()
    return url
