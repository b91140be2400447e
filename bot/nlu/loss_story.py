"""A message that tells a loss is a claim declaration, whatever the classifier said.

Customers open with what happened (« mon pare-brise est fissuré depuis ce matin »,
« j'ai une fuite chez moi et le plafond de la voisine est abîmé »), without the word
« déclarer ». When a message names a type of loss and tells it as something that
happened, it becomes declare_claim with the canonical claim_type entity, so that the
declaration starts with every fact of the story. Questions about cover (« suis-je
couvert pour un bris de glace ? »), about an existing claim, an attestation or a quote
keep their intent.

Cost: a handful of precompiled regular expressions over the first
MAX_READ_CHARACTERS characters of the message, a few tens of microseconds; no model.
"""

from typing import Any, Dict, List, Optional, Text

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from core.parsing.loss_facts import CLAIM_TYPES, claim_type_match, tells_a_loss

DECLARE_CLAIM = "declare_claim"
CLAIM_TYPE = "claim_type"
# Intents about something else than a new loss, kept even when a loss is named:
# the text checks of tells_a_loss catch most of them, the classifier the rest.
KEPT_INTENTS = {"claim_status", "expert_visit", "indemnification_info", "send_documents", "request_attestation",
                "request_quote", "terminate_contract", "modify_coverage"}
# What the classifier says of a story when it cannot tell it from an answer or small talk:
# a loss told in such a message is a declaration. Any other request it is sure of is kept.
OVERRIDDEN_INTENTS = {"inform", "nlu_fallback", "greet", "express_frustration", "out_of_scope", "deny", "affirm",
                      "correct_claim", "cancel"}
KEEP_REQUEST_CONFIDENCE = 0.5
# A story is read from its beginning; a longer message is cut there for the reading.
MAX_READ_CHARACTERS = 1500


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class LossStory(GraphComponent):
    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "LossStory":
        return cls()

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            self._read(message)
        return messages

    @staticmethod
    def _read(message: Message) -> None:
        text = message.get(TEXT) or ""
        if not text or text.startswith("/"):  # buttons carry their own intent and entities
            return
        text = text[:MAX_READ_CHARACTERS]
        intent = (message.get(INTENT) or {}).get("name")
        if intent == DECLARE_CLAIM:
            _add_claim_type(message, text)
            return
        if intent in KEPT_INTENTS or not tells_a_loss(text):
            return
        if intent not in OVERRIDDEN_INTENTS and confidence_of(message) >= KEEP_REQUEST_CONFIDENCE:
            # « j'ai eu un accrochage, est-ce que ça va me faire perdre mon bonus ? »: the
            # classifier is sure of another request, which the loss is only the context of.
            return
        confidence = (message.get(INTENT) or {}).get("confidence") or 0.0
        declared = {"name": DECLARE_CLAIM, "confidence": max(float(confidence), 0.9)}
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != DECLARE_CLAIM]
        message.set(INTENT, declared, add_to_output=True)
        message.set(INTENT_RANKING_KEY, [declared, *ranking], add_to_output=True)
        _add_claim_type(message, text)


def confidence_of(message: Message) -> float:
    return float((message.get(INTENT) or {}).get("confidence") or 0.0)


def _add_claim_type(message: Message, text: str) -> None:
    """The canonical claim_type entity, from the words of the story when the extractors
    found none (or none in canonical form)."""
    entities = list(message.get(ENTITIES) or [])
    if any(e.get("entity") == CLAIM_TYPE and e.get("value") in CLAIM_TYPES for e in entities):
        return
    found: Optional[tuple] = claim_type_match(text)
    if found is None:
        return
    name, start, end = found
    entities = [e for e in entities if e.get("entity") != CLAIM_TYPE]
    entities.append({"entity": CLAIM_TYPE, "start": start, "end": end, "value": name,
                     "extractor": "LossStory", "confidence_entity": 1.0})
    message.set(ENTITIES, entities, add_to_output=True)
