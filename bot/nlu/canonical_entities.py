"""Entities in their canonical form in the NLU output itself (spec §3).

After the extractors and EntitySynonymMapper (exact, accent-sensitive), every entity
the actions and slots read has one spelling:

- identifiers read again from the text by the actions' own parsers
  (core/parsing/identifiers.py), whatever the extractors found: contract_number
  « aut 482 913 » → AUT-482913, claim_number « SIN2026-731 » → SIN-2026-000731 (full
  numbers only: « le 731 » is matched against the customer's own claims by the
  actions), plate « ab123cd » → AB-123-CD;
- claim_type and product mapped through the training data's synonyms without regard
  to case, accents, apostrophes or a plural « s » (« inondée », « Appart », « dégats
  des eaux »); a value that maps to no canonical value is dropped;
- a product named anywhere in the message (« un devis pour assurer une moto ») added
  when no extractor found one;
- customer_id kept only as the eight digits it is (« dossier 000731 » names no customer).

A message that names a claim (« ou en est le sin 2026 731 », « et le 731 il en est ou »)
is about that claim: when the classifier is unsure, or hesitates with requests that
cannot name a claim (a contact, a contract), the intents that can are weighed alone
(see about_the_claim_named).

Cost: five linear regular-expression scans of the message and dictionary look-ups,
no model: about 0.1 ms for a message of 300 characters.
"""

import logging
import re
import unicodedata
from typing import Any, Dict, List, Optional, Text

import rasa.shared.utils.io
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.nlu.constants import ENTITIES, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from core.parsing.identifiers import claim_number_spans, contract_number_spans, find_claim_reference, plate_spans

logger = logging.getLogger(__name__)

# Canonical values of spec §3.
CLAIM_TYPES = frozenset({"accident_auto", "bris_de_glace", "vol", "degat_des_eaux", "incendie",
                         "catastrophe_naturelle", "responsabilite_civile"})
PRODUCTS = frozenset({"auto", "habitation", "sante", "prevoyance", "pro"})
CANONICAL_VALUES = {"claim_type": CLAIM_TYPES, "product": PRODUCTS}
# Read again from the text by the actions' parsers (value and span).
IDENTIFIER_FINDERS = {
    "contract_number": contract_number_spans,
    "claim_number": claim_number_spans,
    "plate": plate_spans,
}
EXTRACTOR_NAME = "CanonicalEntities"
# The questions about an existing claim, and what else a message naming one may be.
CLAIM_QUESTIONS = frozenset({"claim_status", "expert_visit", "indemnification_info", "send_documents"})
ABOUT_A_NAMED_CLAIM = CLAIM_QUESTIONS | {"complaint", "request_human", "inform", "correct_claim"}
# Below it, the classifier did not see a claim question at all: nothing is promoted.
MIN_CLAIM_QUESTION = 0.15
# « où en est », « ça avance », « des nouvelles »: asking where a claim stands, which no
# answer giving the number (inform) does.
_ASKS_WHERE_IT_STANDS = re.compile(
    r"\bo[uù]\s+en\s+(?:est|sont|etes|êtes)\b|\ben\s+est\s+o[uù]\b|\bavanc|\bnouvelles?\b|\b[ée]tat\b|\bstatut\b|"
    r"\bsuivi\b|\bcomment\s+[çc]a\s+se\s+passe\b",
    re.IGNORECASE,
)
# Above it, the classifier's choice of another request stands even when a claim is named.
CONFIDENT = 0.8
SYNONYMS_FILE = "canonical_synonyms.json"


def _fold_character(character: str) -> str:
    base = "".join(c for c in unicodedata.normalize("NFKD", character) if not unicodedata.combining(c)).lower()
    return base[:1] or character


# Latin letters with accents (U+00C0 to U+024F) and apostrophes, folded once.
_FOLD_TABLE = {code: _fold_character(chr(code)) for code in range(0xC0, 0x250)}
_FOLD_TABLE.update({ord(apostrophe): " " for apostrophe in "'’`´"})


def fold(text: str) -> str:
    """Lower case without accents, one character for each character of `text` (so that a
    match in the folded text is a span of the original), apostrophes as spaces."""
    folded = text.translate(_FOLD_TABLE).lower()
    if len(folded) != len(text):  # a letter whose lower case is two characters (rare scripts)
        folded = "".join(character.lower()[:1] for character in text.translate(_FOLD_TABLE))
    return folded


def _key(text: str) -> str:
    """The look-up form of a synonym: folded, single spaces, without a final plural « s »."""
    words = re.sub(r"\s+", " ", fold(text).replace("-", " ")).strip().split(" ")
    return " ".join(word[:-1] if len(word) > 3 and word.endswith(("s", "x")) else word for word in words)


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR], is_trainable=True)
class CanonicalEntities(GraphComponent):
    def __init__(self, model_storage: ModelStorage, resource: Resource,
                 synonyms: Optional[Dict[str, Dict[str, str]]] = None) -> None:
        self._model_storage = model_storage
        self._resource = resource
        # entity -> {look-up form of a synonym -> canonical value}
        self.synonyms: Dict[str, Dict[str, str]] = synonyms or {entity: {} for entity in CANONICAL_VALUES}
        self._product_words = self._scanner(self.synonyms.get("product") or {})

    @classmethod
    def create(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
               execution_context: ExecutionContext) -> "CanonicalEntities":
        return cls(model_storage, resource)

    @classmethod
    def load(cls, config: Dict[Text, Any], model_storage: ModelStorage, resource: Resource,
             execution_context: ExecutionContext, **kwargs: Any) -> "CanonicalEntities":
        try:
            with model_storage.read_from(resource) as storage:
                synonyms = rasa.shared.utils.io.read_json_file(storage / SYNONYMS_FILE)
        except (ValueError, FileNotFoundError):
            logger.warning("canonical entities: no synonyms in the model, only canonical values are kept")
            synonyms = None
        return cls(model_storage, resource, synonyms)

    # --- training: the synonyms of the training data, in look-up form -------------

    def train(self, training_data: TrainingData) -> Resource:
        for entity, canonical in CANONICAL_VALUES.items():
            table = self.synonyms.setdefault(entity, {})
            for value in canonical:
                table[_key(value.replace("_", " "))] = value
                table[_key(value)] = value
        for synonym, value in training_data.entity_synonyms.items():
            for entity, canonical in CANONICAL_VALUES.items():
                if value in canonical:
                    self.synonyms[entity][_key(synonym)] = value
        for example in training_data.entity_examples:
            for entity in example.get(ENTITIES, []):
                canonical = CANONICAL_VALUES.get(entity.get("entity"))
                if canonical and entity.get("value") in canonical:
                    span = example.get(TEXT)[entity["start"]:entity["end"]]
                    self.synonyms[entity["entity"]].setdefault(_key(span), entity["value"])
        with self._model_storage.write_to(self._resource) as storage:
            rasa.shared.utils.io.dump_obj_as_json_to_file(storage / SYNONYMS_FILE, self.synonyms)
        self._product_words = self._scanner(self.synonyms["product"])
        return self._resource

    @staticmethod
    def _scanner(table: Dict[str, str]) -> Optional[re.Pattern]:
        """One pattern for every synonym of a table, longest first, whole words only, a
        plural « s » allowed."""
        if not table:
            return None
        words = sorted(table, key=len, reverse=True)
        alternatives = "|".join(r"[\s-]+".join(map(re.escape, word.split(" "))) for word in words)
        return re.compile(rf"(?<![a-z0-9])(?:{alternatives})[sx]?(?![a-z0-9-])")

    # --- inference --------------------------------------------------------------

    def process(self, messages: List[Message]) -> List[Message]:
        for message in messages:
            text = message.get(TEXT) or ""
            entities = [entity for entity in message.get(ENTITIES, []) or [] if self._canonical(entity)]
            entities = [entity for entity in entities if entity.get("entity") not in IDENTIFIER_FINDERS]
            for name, spans in IDENTIFIER_FINDERS.items():
                entities += [_entity(name, value, start, end, text) for value, start, end in spans(text)]
            if not any(entity.get("entity") == "product" for entity in entities):
                entities += self._products_named(text)
            if any(entity.get("entity") == "claim_number" for entity in entities) or find_claim_reference(text):
                about_the_claim_named(message, text)
            message.set(ENTITIES, sorted(entities, key=lambda e: (e.get("start", 0), e.get("end", 0))),
                        add_to_output=True)
        return messages

    def _canonical(self, entity: Dict[str, Any]) -> bool:
        """Puts a claim_type or product entity in canonical form; False when it has none."""
        name = entity.get("entity")
        if name == "customer_id":
            digits = re.sub(r"[\s.]", "", str(entity.get("value") or ""))
            entity["value"] = digits
            return re.fullmatch(r"[0-9]{8}", digits) is not None
        canonical = CANONICAL_VALUES.get(name)
        if canonical is None:
            return True
        value = str(entity.get("value") or "")
        if value in canonical:
            return True
        mapped = self.synonyms.get(name, {}).get(_key(value))
        if mapped is None and name == "product" and self._product_words:
            named = {self.synonyms["product"][_key(m[0])] for m in self._product_words.finditer(fold(value))
                     if _key(m[0]) in self.synonyms["product"]}
            mapped = named.pop() if len(named) == 1 else None
        if mapped is None:
            return False
        entity["value"] = mapped
        entity.setdefault("processors", []).append(EXTRACTOR_NAME)
        return True

    def _products_named(self, text: str) -> List[Dict[str, Any]]:
        if self._product_words is None:
            return []
        found = []
        for match in self._product_words.finditer(fold(text)):
            value = self.synonyms["product"].get(_key(match[0]))
            if value:
                found.append(_entity("product", value, match.start(), match.end(), text))
        return found


def _entity(name: str, value: str, start: int, end: int, text: str) -> Dict[str, Any]:
    return {"entity": name, "value": value, "start": start, "end": end, "confidence_entity": 1.0,
            "extractor": EXTRACTOR_NAME, "text": text[start:end]}


def about_the_claim_named(message: Message, text: str) -> None:
    """A message naming a claim that asks where it stands is a claim_status question
    (« ou en est le SIN-2026-000731 » gives no answer: it asks). Otherwise, weighs alone
    the intents such a message can have, when the classifier's choice is unsure or one
    that names no claim, and one of them is a question about a claim: « ou en est le sin
    2026 731 » is no contract question."""
    intent = message.get("intent") or {}
    ranking = message.get("intent_ranking") or []
    if not ranking:
        return
    name, confidence = intent.get("name"), intent.get("confidence") or 0
    if name in CLAIM_QUESTIONS and confidence >= 0.5:
        return
    settled = confidence >= (0.5 if name in ABOUT_A_NAMED_CLAIM else CONFIDENT)
    if not settled and _reweigh(message, ranking):
        return
    if _ASKS_WHERE_IT_STANDS.search(text) and (name in ABOUT_A_NAMED_CLAIM or confidence < CONFIDENT):
        _swap(message, ranking, "claim_status")


def _reweigh(message: Message, ranking: List[Dict[str, Any]]) -> bool:
    """Keeps the intents a message naming a claim can have, their confidences made to sum
    to one, when that makes a claim question first."""
    kept = [dict(entry) for entry in ranking if entry.get("name") in ABOUT_A_NAMED_CLAIM]
    total = sum(entry.get("confidence") or 0 for entry in kept)
    if total <= 0 or not any(entry["name"] in CLAIM_QUESTIONS and (entry.get("confidence") or 0) >= MIN_CLAIM_QUESTION
                             for entry in kept):
        return False
    for entry in kept:
        entry["confidence"] = (entry.get("confidence") or 0) / total
    kept.sort(key=lambda entry: entry["confidence"], reverse=True)
    if kept[0]["name"] not in CLAIM_QUESTIONS:
        return False
    message.set("intent", {"name": kept[0]["name"], "confidence": kept[0]["confidence"]}, add_to_output=True)
    message.set("intent_ranking", kept, add_to_output=True)
    return True


def _swap(message: Message, ranking: List[Dict[str, Any]], chosen: str) -> None:
    """`chosen` takes the first place and its confidence, the first its place."""
    ranking = [dict(entry) for entry in ranking]
    first = ranking[0]
    other = next((entry for entry in ranking if entry.get("name") == chosen), None)
    if other is None:
        other = {"name": chosen, "confidence": 0.0}
        ranking.append(other)
    first["confidence"], other["confidence"] = other.get("confidence") or 0.0, first.get("confidence") or 0.0
    ranking.sort(key=lambda entry: entry["confidence"], reverse=True)
    message.set("intent", {"name": chosen, "confidence": ranking[0]["confidence"]}, add_to_output=True)
    message.set("intent_ranking", ranking, add_to_output=True)
