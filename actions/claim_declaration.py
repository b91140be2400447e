"""Claim declaration: the form, its read-back summary, correction and filing."""

import abc
import dataclasses
import datetime as dt
import logging
import re
import time
import uuid
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.claim_documents import attachments_label, file_names, upload_ids
from actions.claim_outbox import REFUSED, claim_outbox, file_queued_claim, refuse
from actions.common.contracts import Contract, choose_contract, contract_buttons, entity_values, mentioned_products
from actions.common.forms import answers_this_turn
from actions.common.identity import identified_customer
from actions.common.messages import latest_intent, request_message
from actions.common.refusals import CLAIM_FILING, refusal_response
from actions.common.words import response_text
from actions.notices import offer_claim_notices
from core import clock
from core.labels import CLAIM_TYPE_LABELS, NOT_APPLICABLE, contract_label, date_label
from core.parsing import loss_facts
from core.parsing.dates import resolve_french_date
from core.parsing.identifiers import find_contract_number
from core.parsing.loss_facts import NO_THIRD_PARTY, NO_WITNESS
from core.service_client import ServiceRefusal, ServiceUnavailable, services
from core.service_contract import ErrorCode
from core.slots import (
    CLAIM_ATTACHMENTS,
    CLAIM_CANCEL_PENDING,
    CLAIM_FILING_PENDING,
    CLAIM_FORM_SLOTS,
    CLAIM_IDEMPOTENCY_KEY,
    CLAIM_TOLD_AS_STORY,
)

logger = logging.getLogger(__name__)

# The claims service refuses a filing whose files are unknown or on another claim:
# the claim is then filed without them.
ATTACHMENT_REFUSALS = {ErrorCode.upload_not_found, ErrorCode.upload_already_linked}
# Losses where another person is often involved: ask about a third party and a constat.
THIRD_PARTY_CLAIM_TYPES = {"accident_auto", "degat_des_eaux", "incendie", "responsabilite_civile"}
MAX_TEXT_LENGTH = 2000
# What the declaration holds, reads back and files for « nobody else », « no witness ».
NO_THIRD_PARTY_WORDS = "utter_claim_no_third_party"
NO_WITNESS_WORDS = "utter_claim_no_witness"
_NO_ANSWERS = {"non", "aucun", "aucune", "personne", "pas de témoin", "pas de temoin", "non aucun", "rien"}


async def eligible_contracts(customer_id: str, claim_type: str) -> List[Contract]:
    """The customer's active contracts that can cover this type of loss."""
    contracts = await services().list_contracts(customer_id)
    return [c for c in contracts if c.status == "active" and claim_type in c.covered_claim_types]


def _said_no(value: str) -> bool:
    """« non », « aucun », « personne »: read from the words, not the intent, since
    « non, il y a un témoin » is an answer too."""
    return value.strip(" .!").lower() in _NO_ANSWERS or loss_facts.said_no(value)


def _free_text(value: Any) -> Optional[str]:
    text = value.strip() if isinstance(value, str) else ""
    return text if 0 < len(text) <= MAX_TEXT_LENGTH else None


# Intents whose message is not an answer, unless it gives a fact the declaration needs.
NOT_AN_ANSWER_INTENTS = {
    "cancel", "request_human", "repeat", "contact_info", "document_retention", "complaint", "data_privacy",
    "bot_challenge", "ask_capabilities", "express_frustration", "attach_document", "send_documents", "contract_info",
    "payment_info", "indemnification_info", "claim_status", "expert_visit", "bonus_malus", "greet", "goodbye",
    "thank", "out_of_scope", "request_attestation", "request_quote", "nlu_fallback",
}
DETAIL_SLOTS = ("claim_damage", "claim_third_party", "claim_witnesses")
# The line of the grouped question that asks each detail.
DETAIL_LINES = {
    "claim_damage": "utter_claim_detail_claim_damage",
    "claim_third_party": "utter_claim_detail_claim_third_party",
    "claim_witnesses": "utter_claim_detail_claim_witnesses",
}
FREE_TEXT_SLOTS = ("claim_place", "claim_circumstances", "claim_damage", "claim_third_party", "claim_witnesses")
# Validated in this order: the type chooses the contract, the contract bounds the date.
VALIDATION_ORDER = ("claim_type", "claim_contract", "claim_date", *FREE_TEXT_SLOTS)
# A question asked in passing is short; a long story with a « ? » in it is still a story.
MAX_QUESTION_WORDS = 25
_CANCEL_WORDS = re.compile(r"\b(?:annul\w*|laisse[zr]? tomber|arr[eê]t\w*|stop|abandon\w*|oublie[zr]?|j'arr[eê]te)\b", re.I)


@dataclasses.dataclass
class ClaimReading:
    """What one message brings to the declaration."""

    values: Dict[str, Any] = dataclasses.field(default_factory=dict)
    # The words that name the contract (a number, « pour la maison »), with the products named.
    contract_words: Optional[str] = None
    products: List[str] = dataclasses.field(default_factory=list)
    # Fields named for correction without their new value: asked again.
    ask_again: List[str] = dataclasses.field(default_factory=list)
    told_as_story: bool = False

    def is_empty(self) -> bool:
        return not (self.values or self.contract_words or self.ask_again)


def _entity(message: Dict[str, Any], name: str) -> Optional[str]:
    return next(iter(entity_values(message, name)), None)


def read_story(message: Dict[str, Any], today: dt.date) -> ClaimReading:
    """Every fact of the message that opened the declaration (« mon pare-brise est
    fissuré depuis ce matin »); the story itself is kept as the circumstances."""
    text = (message.get("text") or "").strip()
    reading = ClaimReading()
    claim_type = _entity(message, "claim_type")
    if text.startswith("/"):  # a button: only its entities
        text = ""
    claim_type = claim_type if claim_type in CLAIM_TYPE_LABELS else loss_facts.claim_type_of(text)
    if claim_type:
        reading.values["claim_type"] = claim_type
    if not text:
        return reading
    facts = loss_facts.read_facts(text, today)
    if facts.date_words:
        reading.values["claim_date"] = facts.date_words
    if facts.place:
        reading.values["claim_place"] = facts.place
    if loss_facts.tells_a_loss(text) and _free_text(text):
        reading.told_as_story = True
        reading.values["claim_circumstances"] = text
        damage = loss_facts.story_damage(text)
        if damage:
            reading.values["claim_damage"] = damage
    if facts.third_party:
        reading.values["claim_third_party"] = facts.third_party
    if facts.witnesses:
        reading.values["claim_witnesses"] = facts.witnesses
    number = _entity(message, "contract_number") or find_contract_number(text)
    if number or facts.products:
        reading.contract_words, reading.products = number or text, facts.products
    return reading


def read_answer(message: Dict[str, Any], requested: Optional[str], slots: Dict[str, Any], today: dt.date) -> ClaimReading:
    """What an answer inside the claim form gives: the value asked for, other facts for
    the questions still to come, or corrections of earlier answers. Empty when the
    message is not an answer (a question, a request to stop)."""
    text = (message.get("text") or "").strip()
    intent = ((message.get("intent") or {}).get("name")) or ""
    reading = ClaimReading()
    if text.startswith("/"):  # a button: its entities are the answer
        claim_type = _entity(message, "claim_type")
        if claim_type:
            reading.values["claim_type"] = claim_type
        number = _entity(message, "contract_number")
        if number:
            reading.contract_words = number
        field = _entity(message, "claim_field")
        if field in CLAIM_FORM_SLOTS:
            reading.ask_again.append(field)
        return reading
    if not text:
        return reading
    folded = loss_facts.fold(text)
    correction = loss_facts.is_correction(text)
    value_text = loss_facts.corrected_value_text(text) if correction else text
    facts = loss_facts.read_facts(value_text, today)
    negated = loss_facts.negated_words(text) if correction else None
    found: Dict[str, Any] = {}
    # A question or a request in passing (« au fait, c'est quoi ma franchise ? ») answers nothing.
    words = len(text.split())
    # At a free-text question, words the NLU could not classify (« salle de bains ») are the answer.
    unclassified_answer = intent == "nlu_fallback" and requested in FREE_TEXT_SLOTS
    not_an_answer = (loss_facts.is_question(text) and words <= MAX_QUESTION_WORDS) or (
        intent in NOT_AN_ANSWER_INTENTS and not unclassified_answer
        and (intent != "cancel" or _clear_cancel(text)) and words <= MAX_QUESTION_WORDS)

    # The type of loss: asked, or corrected (« c'est un vol, pas un accident »).
    named_type = facts.claim_type or _entity(message, "claim_type")
    type_corrected = correction and (
        (negated and loss_facts.claim_type_of(negated)) or "claim_type" in loss_facts.fields_named(text))
    if named_type in CLAIM_TYPE_LABELS and (requested == "claim_type" or not slots.get("claim_type") or type_corrected):
        if named_type != slots.get("claim_type") or requested == "claim_type":
            found["claim_type"] = named_type

    # The contract: asked, named by its number, or « c'est pour la maison, pas la voiture ».
    number = _entity(message, "contract_number") or find_contract_number(text)
    product_corrected = correction and facts.products and (
        (negated and loss_facts.products_named(negated)) or re.search(r"\bpour (?:la|le|l'|ma|mon|mes)\b", folded))
    if requested == "claim_contract" and (number or facts.products or not loss_facts.is_question(text)):
        reading.contract_words, reading.products = value_text, facts.products
    elif number:
        reading.contract_words = number
    elif product_corrected and not not_an_answer:
        reading.contract_words, reading.products = value_text, facts.products

    # The date: asked, given ahead, or corrected; a question asked instead is no date.
    if facts.date_words and (requested == "claim_date" or not slots.get("claim_date") or correction):
        found["claim_date"] = facts.date_words
    elif requested == "claim_date" and not not_an_answer:
        found["claim_date"] = value_text

    # The place: given ahead, corrected, or a part of a longer answer.
    if facts.place and (requested == "claim_place" or not slots.get("claim_place") or correction):
        found["claim_place"] = facts.place

    # « pas à Niort mais à La Rochelle »: the field whose value holds what was wrong.
    if negated:
        for slot in FREE_TEXT_SLOTS:
            current = slots.get(slot)
            if isinstance(current, str) and loss_facts.fold(negated) in loss_facts.fold(current):
                new_value = facts.place if slot == "claim_place" and facts.place else _free_text(
                    loss_facts.strip_correction_words(value_text))
                if new_value:
                    found[slot] = new_value
                break

    # Details given ahead: damage, a third party, witnesses; a question in passing gives
    # none (« quel est votre numéro de téléphone ? » names no stolen phone), and neither
    # does the account of what happened, kept whole: each detail is then asked on its own.
    details_ahead = not not_an_answer and requested != "claim_circumstances"
    for slot, value in (("claim_damage", facts.damage), ("claim_third_party", facts.third_party),
                        ("claim_witnesses", facts.witnesses)):
        if value and details_ahead and slot != requested and (not slots.get(slot) or correction and slot in found):
            found.setdefault(slot, value)

    gave_other_facts = any(slot != requested for slot in found) or (
        reading.contract_words is not None and requested != "claim_contract")

    # The free text asked for: the answer itself, less what it said for other questions.
    if requested in FREE_TEXT_SLOTS and requested not in found and not not_an_answer and not (correction and gave_other_facts):
        answer = _free_text_answer(requested, text, facts, gave_other_facts)
        if answer is not None:
            found[requested] = answer
    elif requested == "claim_place" and requested in found and not gave_other_facts:
        # The place asked for, said alone: kept whole (« a Niort, dans la cuisine »).
        found[requested] = _free_text(loss_facts.strip_correction_words(text) if correction else text) or found[requested]

    if not found and reading.contract_words is None:
        named = [field for field in loss_facts.fields_named(text) if field in CLAIM_FORM_SLOTS]
        if named and (correction or requested is None or "corrig" in folded or "modifi" in folded or words <= 4):
            reading.ask_again.append(named[0])
    reading.values = found
    return reading


def _clear_cancel(text: str) -> bool:
    return len(text.split()) <= 8 or bool(_CANCEL_WORDS.search(text))


def _free_text_answer(slot: str, text: str, facts: "loss_facts.LossFacts", gave_other_facts: bool) -> Optional[str]:
    if slot == "claim_third_party" and (loss_facts.said_no(text) or facts.third_party == NO_THIRD_PARTY and not facts.witnesses):
        return NO_THIRD_PARTY
    if slot == "claim_witnesses" and (loss_facts.said_no(text) or facts.witnesses == NO_WITNESS):
        return NO_WITNESS
    answered_elsewhere = []
    if slot == "claim_damage":
        answered_elsewhere = [c for c in loss_facts.clauses(text) if loss_facts.clause_kind(c) in ("witnesses", "third_party", "no_third_party")]
    elif slot == "claim_third_party":
        answered_elsewhere = [c for c in loss_facts.clauses(text) if loss_facts.clause_kind(c) == "witnesses"]
        kept = loss_facts.without_clauses(text, answered_elsewhere) if answered_elsewhere else text
        if loss_facts.said_no(kept) or loss_facts.clause_kind(kept) == "no_third_party":
            return NO_THIRD_PARTY
    elif slot == "claim_place" and gave_other_facts:
        return facts.place
    if answered_elsewhere:
        return _free_text(loss_facts.without_clauses(text, answered_elsewhere))
    return _free_text(text)


class ValidateClaimForm(FormValidationAction):
    """Reads each answer of the claim declaration for fit before storing it: the value
    asked for, facts given ahead, corrections of earlier answers; a question or a request
    to stop stores nothing (the form is then rejected and the rules answer it)."""

    def name(self) -> Text:
        return "validate_claim_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        # Values Rasa (or a test) set since the customer's message are validated as given.
        candidates = dict(tracker.slots_to_validate())
        candidates.pop(REQUESTED_SLOT, None)
        events: List[EventType] = []
        requested = tracker.get_slot(REQUESTED_SLOT)
        reading = ClaimReading()
        if requested is None:
            if not any(tracker.get_slot(slot) for slot in CLAIM_FORM_SLOTS) and not candidates:
                reading = read_story(request_message(tracker, "declare_claim"), clock.today())
                if reading.told_as_story:
                    events.append(SlotSet(CLAIM_TOLD_AS_STORY, True))
        elif answers_this_turn(tracker, "claim_form"):
            if tracker.get_slot(CLAIM_CANCEL_PENDING):
                if latest_intent(tracker) in ("affirm", "cancel"):
                    # Confirmed: the declaration is dropped and the form ends with nothing to read back.
                    dispatcher.utter_message(response="utter_claim_cancelled")
                    return claim_reset_events() + [SlotSet(REQUESTED_SLOT, None)]
                events.append(SlotSet(CLAIM_CANCEL_PENDING, False))
                if latest_intent(tracker) == "deny" or loss_facts.said_no(tracker.latest_message.get("text") or ""):
                    return events
            reading = read_answer(tracker.latest_message, requested, tracker.slots, clock.today())
        for slot, value in reading.values.items():
            candidates.setdefault(slot, value)
        for slot in reading.ask_again:
            events.append(SlotSet(slot, None))
            tracker.slots[slot] = None
            if slot == "claim_type":
                events.append(SlotSet("claim_contract", None))
                tracker.slots["claim_contract"] = None
        events += await self._validated(candidates, reading, dispatcher, tracker, domain)
        # The next question follows the slots just set (no third party for a broken windscreen).
        tracker.add_slots(events)
        next_slot = await self.next_requested_slot(dispatcher, tracker, domain)
        return events + ([next_slot] if next_slot else [])

    async def _validated(self, candidates: Dict[str, Any], reading: ClaimReading, dispatcher: CollectingDispatcher,
                         tracker: Tracker, domain: DomainDict) -> List[EventType]:
        """Each value through its validate_<slot>, in an order where each check sees
        the values it depends on."""
        validated: Dict[str, Any] = {}
        required = await self.required_slots(self.domain_slots(domain), dispatcher, tracker, domain)
        for slot in VALIDATION_ORDER:
            if slot == "claim_contract" and slot not in candidates and reading.contract_words is not None:
                result = await self._contract_from(reading, dispatcher, tracker)
            elif slot in candidates:
                if slot not in required and slot != "claim_third_party":
                    continue
                result = await getattr(self, f"validate_{slot}")(candidates[slot], dispatcher, tracker, domain)
            else:
                continue
            validated.update(result)
            tracker.slots.update(result)
        for slot, value in candidates.items():
            if slot not in VALIDATION_ORDER:
                validated[slot] = value
        return [SlotSet(slot, value) for slot, value in validated.items()]

    async def _contract_from(self, reading: ClaimReading, dispatcher: CollectingDispatcher,
                             tracker: Tracker) -> Dict[Text, Any]:
        """The contract named by number or product; an unclear mention is left for
        the contract question (asked with buttons) rather than refused."""
        claim_type = tracker.get_slot("claim_type")
        words = reading.contract_words or ""
        if not claim_type:
            number = find_contract_number(words)
            return {"claim_contract": number} if number else {}
        try:
            contracts = await eligible_contracts(identified_customer(tracker), claim_type)
        except ServiceUnavailable:
            number = find_contract_number(words)
            return {"claim_contract": number} if number else {}
        chosen = choose_contract(contracts, words, reading.products)
        if chosen is None:
            if tracker.get_slot(REQUESTED_SLOT) == "claim_contract" or find_contract_number(words):
                dispatcher.utter_message(response="utter_claim_contract_not_eligible")
                return {"claim_contract": None}
            return {}  # a product mentioned in passing: the contract stays, or is asked
        return {"claim_contract": chosen.contract_number}

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        claim_type = tracker.get_slot("claim_type")
        if claim_type and claim_type not in THIRD_PARTY_CLAIM_TYPES:
            return [slot for slot in domain_slots if slot != "claim_third_party"]
        return domain_slots

    async def validate_claim_type(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if value not in CLAIM_TYPE_LABELS:
            return {"claim_type": None}
        try:
            contracts = await eligible_contracts(identified_customer(tracker), value)
        except ServiceUnavailable:
            # Keep the answer; the contract is then asked by number and checked at filing.
            return {"claim_type": value}
        if not contracts:
            dispatcher.utter_message(response="utter_claim_no_eligible_contract", claim_type_label=CLAIM_TYPE_LABELS[value])
            return {"claim_type": None}
        chosen = tracker.get_slot("claim_contract")
        if len(contracts) == 1:
            return {"claim_type": value, "claim_contract": contracts[0].contract_number}
        if chosen and chosen not in {c.contract_number for c in contracts}:
            return {"claim_type": value, "claim_contract": None}
        return {"claim_type": value}

    async def validate_claim_contract(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        claim_type = tracker.get_slot("claim_type")
        text = value if isinstance(value, str) else ""
        if not claim_type:
            # Named before the type of loss is known: checked once the type is given.
            return {"claim_contract": find_contract_number(text)}
        try:
            contracts = await eligible_contracts(identified_customer(tracker), claim_type)
        except ServiceUnavailable:
            return {"claim_contract": find_contract_number(text)}
        chosen = choose_contract(contracts, text, [*mentioned_products(tracker), *loss_facts.products_named(text)])
        if chosen is None:
            dispatcher.utter_message(response="utter_claim_contract_not_eligible")
            return {"claim_contract": None}
        return {"claim_contract": chosen.contract_number}

    async def validate_claim_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        today = clock.today()
        occurred_on = resolve_french_date(value if isinstance(value, str) else "", today)
        if occurred_on is None:
            dispatcher.utter_message(response="utter_claim_date_not_understood")
            return {"claim_date": None}
        if occurred_on > today:
            dispatcher.utter_message(response="utter_claim_date_in_future", date_label=date_label(occurred_on))
            return {"claim_date": None}
        start = await self._contract_start(tracker)
        if start is not None and occurred_on < start:
            dispatcher.utter_message(
                response="utter_claim_date_before_contract",
                contract_number=tracker.get_slot("claim_contract"),
                start_label=date_label(start),
                date_label=date_label(occurred_on),
            )
            return {"claim_date": None}
        return {"claim_date": occurred_on.isoformat()}

    @staticmethod
    async def _contract_start(tracker: Tracker) -> Optional[dt.date]:
        number = tracker.get_slot("claim_contract")
        if not number:
            return None
        try:
            contract = await services().get_contract(identified_customer(tracker), number)
        except (ServiceUnavailable, ServiceRefusal):
            return None  # checked again by the claims service at filing
        return contract.start_date

    async def validate_claim_place(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._text_answer("claim_place", value, dispatcher)

    async def validate_claim_circumstances(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._text_answer("claim_circumstances", value, dispatcher)

    async def validate_claim_damage(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._text_answer("claim_damage", value, dispatcher)

    async def validate_claim_third_party(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value == NO_THIRD_PARTY or isinstance(value, str) and _said_no(value):
            return {"claim_third_party": response_text(domain, NO_THIRD_PARTY_WORDS)}
        return self._text_answer("claim_third_party", value, dispatcher)

    async def validate_claim_witnesses(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if value == NO_WITNESS or isinstance(value, str) and _said_no(value):
            return {"claim_witnesses": response_text(domain, NO_WITNESS_WORDS)}
        return self._text_answer("claim_witnesses", value, dispatcher)

    @staticmethod
    def _text_answer(slot: Text, value: Any, dispatcher: CollectingDispatcher) -> Dict[Text, Any]:
        text = _free_text(value)
        if text is None:
            dispatcher.utter_message(response="utter_claim_text_invalid")
        return {slot: text}


class ActionAskClaimContract(Action):
    """Offers the contracts that can cover the loss, as buttons."""

    def name(self) -> Text:
        return "action_ask_claim_contract"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        try:
            contracts = await eligible_contracts(identified_customer(tracker), tracker.get_slot("claim_type"))
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_claim_contract_number_request")
            return []
        dispatcher.utter_message(response="utter_ask_claim_contract_choice", buttons=contract_buttons(contracts))
        return []


class ActionClaimSummary(Action):
    """Reads the declaration back and asks for confirmation."""

    def name(self) -> Text:
        return "action_claim_summary"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.get_slot("claim_type") is None and tracker.get_slot("claim_date") is None:
            return []  # the declaration was just dropped: nothing to read back
        number = tracker.get_slot("claim_contract")
        try:
            contract = await services().get_contract(identified_customer(tracker), number)
            described_contract = contract_label(contract)
        except (ServiceUnavailable, ServiceRefusal):
            described_contract = number
        dispatcher.utter_message(
            response="utter_claim_summary",
            claim_type_label=CLAIM_TYPE_LABELS.get(tracker.get_slot("claim_type"), ""),
            contract_label=described_contract,
            date_label=date_label(tracker.get_slot("claim_date")),
            third_party_label=tracker.get_slot("claim_third_party") or NOT_APPLICABLE,
            attachments_label=attachments_label(tracker.get_slot(CLAIM_ATTACHMENTS)),
        )
        return [SlotSet(CLAIM_CANCEL_PENDING, False)]


class ActionFileClaim(Action):
    """Files the confirmed declaration in the claims service, exactly once.

    One attempt only: when the claims service is down or too slow, the declaration
    goes to the claim outbox, whose worker files it once the service is back (the
    claims service then e-mails its number). Asked to try again, this action files
    what this conversation queued and tells how it ended."""

    def name(self) -> Text:
        return "action_file_claim"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        customer_id = identified_customer(tracker)
        if customer_id is None:
            dispatcher.utter_message(response="utter_identification_required")
            return []
        if any(tracker.get_slot(slot) is None for slot in ("claim_type", "claim_contract", "claim_date")):
            if tracker.get_slot(CLAIM_FILING_PENDING):
                return await self._file_queued(dispatcher, tracker, customer_id)
            dispatcher.utter_message(response="utter_no_claim_in_progress")
            return [SlotSet(CLAIM_FILING_PENDING, False)]
        key = tracker.get_slot(CLAIM_IDEMPOTENCY_KEY) or str(uuid.uuid4())
        attachments = tracker.get_slot(CLAIM_ATTACHMENTS) or []
        declaration = declaration_of(tracker)
        try:
            claim, attached = await self._file(customer_id, declaration, key, attachments)
        except ServiceUnavailable:
            return await self._queue(dispatcher, tracker, customer_id, declaration, key, attachments)
        except ServiceRefusal as refusal:
            logger.info("claim filing refused: %s", refusal.code)
            dispatcher.utter_message(response=refusal_response(CLAIM_FILING, refusal.code))
            return [SlotSet(CLAIM_FILING_PENDING, False)]
        dispatcher.utter_message(response="utter_claim_filed", claim_number=claim.claim_number)
        if attachments:
            response = "utter_claim_attachments_linked" if attached else "utter_claim_attachments_not_linked"
            dispatcher.utter_message(response=response, claim_number=claim.claim_number, file_names=file_names(attachments))
        dispatcher.utter_message(response="utter_claim_next_steps")
        return claim_reset_events() + await offer_claim_notices(dispatcher, tracker, customer_id)

    @staticmethod
    async def _file(customer_id: str, declaration: Dict[str, Any], key: str, attachments: List[Dict[str, Any]]):
        """(claim, whether the files are linked to it). Files the service refuses never
        keep the claim from being filed: nothing was written, it is filed without them."""
        try:
            claim = await services().file_claim(
                customer_id, declaration, key, attachments=upload_ids(attachments), retry=False)
            return claim, True
        except ServiceRefusal as refusal:
            if not attachments or refusal.code not in ATTACHMENT_REFUSALS:
                raise
            logger.info("claim filed without its files: %s", refusal.code)
            return await services().file_claim(customer_id, declaration, key, retry=False), False

    @staticmethod
    async def _queue(
        dispatcher: CollectingDispatcher, tracker: Tracker, customer_id: str,
        declaration: Dict[str, Any], key: str, attachments: List[Dict[str, Any]],
    ) -> List[EventType]:
        """The claims service did not answer: the declaration goes to the outbox, and
        leaves the conversation (the form's slots are emptied)."""
        try:
            await claim_outbox().queue(key, customer_id, tracker.sender_id, declaration,
                                       upload_ids(attachments), time.time())
        except (SQLAlchemyError, OSError) as error:
            # The outbox is out of reach too: the declaration stays in the conversation.
            logger.error("claim outbox unavailable: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_claim_filing_failed")
            return [SlotSet(CLAIM_IDEMPOTENCY_KEY, key), SlotSet(CLAIM_FILING_PENDING, True)]
        dispatcher.utter_message(response="utter_claim_filing_queued")
        return claim_reset_events() + [SlotSet(CLAIM_FILING_PENDING, True)]

    @staticmethod
    async def _file_queued(dispatcher: CollectingDispatcher, tracker: Tracker, customer_id: str) -> List[EventType]:
        """Files now what this conversation queued, and tells the customer how it ended."""
        outbox, still_queued = claim_outbox(), False
        for entry in await outbox.of_conversation(tracker.sender_id, customer_id):
            try:
                if entry.status == REFUSED:  # already handed to an adviser by the worker
                    raise ServiceRefusal(422, entry.refusal or "refused", "")
                number = await file_queued_claim(entry, outbox, services())
            except ServiceRefusal as refusal:
                if entry.status != REFUSED:
                    await refuse(entry, refusal, outbox, services())
                dispatcher.utter_message(response="utter_claim_queued_refused")
                await outbox.mark_told(entry.key)
                continue
            if number is None:
                still_queued = True
                continue
            dispatcher.utter_message(response="utter_claim_filed", claim_number=number)
            dispatcher.utter_message(response="utter_claim_next_steps")
            await outbox.mark_told(entry.key)
        if still_queued:
            dispatcher.utter_message(response="utter_claim_filing_still_queued")
            return [SlotSet(CLAIM_FILING_PENDING, True)]
        return [SlotSet(CLAIM_FILING_PENDING, False)] + await offer_claim_notices(dispatcher, tracker, customer_id)


def declaration_of(tracker: Tracker) -> Dict[str, Any]:
    """The claims service's declaration body, from the form's slots."""
    return {
        "contract_number": tracker.get_slot("claim_contract"),
        "claim_type": tracker.get_slot("claim_type"),
        "occurred_on": tracker.get_slot("claim_date"),
        "place": tracker.get_slot("claim_place"),
        "circumstances": tracker.get_slot("claim_circumstances"),
        "damage": tracker.get_slot("claim_damage"),
        "third_party": tracker.get_slot("claim_third_party"),
        "witnesses": tracker.get_slot("claim_witnesses"),
        "channel": (tracker.get_latest_input_channel() or "inconnu"),
    }


def claim_reset_events() -> List[EventType]:
    return [SlotSet(slot, None) for slot in (*CLAIM_FORM_SLOTS, CLAIM_IDEMPOTENCY_KEY, CLAIM_ATTACHMENTS)] + [
        SlotSet(CLAIM_FILING_PENDING, False), SlotSet(CLAIM_TOLD_AS_STORY, False), SlotSet(CLAIM_CANCEL_PENDING, False),
    ]


class ActionCorrectClaimField(Action):
    """Corrects the declaration before it is filed, from the customer's own words:
    the new value is in the message (« non, c'était samedi », « pas à Niort mais à La
    Rochelle ») and the summary is read again; or the field named (« le lieu ») is
    emptied and the form asks it again; or the customer is asked which (buttons)."""

    def name(self) -> Text:
        return "action_correct_claim_field"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        field = next(tracker.get_latest_entity_values("claim_field"), None)
        message = tracker.latest_message or {}
        reading = read_answer({**message, "text": message.get("text") or ""}, None, tracker.slots, clock.today())
        if field in CLAIM_FORM_SLOTS and not reading.values and reading.contract_words is None:
            reading.ask_again = [field]
        if reading.values or reading.contract_words is not None:
            form = ValidateClaimForm()
            validated = await form._validated(dict(reading.values), reading, dispatcher, tracker, domain)
            if any(event["value"] is not None for event in validated):
                return validated + [FollowupAction("action_claim_summary")]
        if reading.ask_again:
            events: List[EventType] = [SlotSet(reading.ask_again[0], None)]
            if reading.ask_again[0] == "claim_type":  # another type of loss may need another contract
                events.append(SlotSet("claim_contract", None))
            return events + [FollowupAction("claim_form")]
        dispatcher.utter_message(response="utter_ask_claim_correction")
        return [FollowupAction("action_listen")]


class ActionAskClaimCancel(Action):
    """Asks before dropping a declaration in progress: what was given is kept until
    the customer confirms."""

    def name(self) -> Text:
        return "action_ask_claim_cancel"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_ask_claim_cancel")
        return [SlotSet(CLAIM_CANCEL_PENDING, True)]


class _AskClaimDetail(Action, abc.ABC):
    """Asks one detail; after a story, the details still missing are asked together,
    so that one answer can give them all."""

    slot = ""

    @abc.abstractmethod
    def name(self) -> Text:
        """Abstract: this base is not an action of its own."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        claim_type = tracker.get_slot("claim_type")
        missing = [slot for slot in DETAIL_SLOTS if tracker.get_slot(slot) is None
                   and (slot != "claim_third_party" or not claim_type or claim_type in THIRD_PARTY_CLAIM_TYPES)]
        if tracker.get_slot(CLAIM_TOLD_AS_STORY) and len(missing) > 1:
            dispatcher.utter_message(response="utter_claim_details_intro")
            for slot in missing:
                dispatcher.utter_message(response=DETAIL_LINES[slot])
            return []
        dispatcher.utter_message(response=f"utter_ask_{self.slot}")
        return []


class ActionAskClaimDamage(_AskClaimDetail):
    slot = "claim_damage"

    def name(self) -> Text:
        return "action_ask_claim_damage"


class ActionAskClaimThirdParty(_AskClaimDetail):
    slot = "claim_third_party"

    def name(self) -> Text:
        return "action_ask_claim_third_party"


class ActionAskClaimWitnesses(_AskClaimDetail):
    slot = "claim_witnesses"

    def name(self) -> Text:
        return "action_ask_claim_witnesses"


class ActionResetClaim(Action):
    """Forgets the declaration in progress (the customer cancelled it)."""

    def name(self) -> Text:
        return "action_reset_claim"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return claim_reset_events()
