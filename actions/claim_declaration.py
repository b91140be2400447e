"""Claim declaration: the form, its read-back summary, correction and filing."""

import datetime as dt
import logging
import time
import uuid
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.common import clock
from actions.common.contracts import Contract, choose_contract, contract_buttons, mentioned_products
from actions.common.identity import identified_customer
from actions.common.labels import CLAIM_TYPE_LABELS, contract_label, date_label
from actions.common.messages import latest_intent
from actions.claim_documents import attachments_label, file_names, upload_ids
from actions.claim_outbox import REFUSED, claim_outbox, file_queued_claim, refuse
from actions.common.slots import CLAIM_ATTACHMENTS, CLAIM_FILING_PENDING, CLAIM_FORM_SLOTS, CLAIM_IDEMPOTENCY_KEY
from actions.parsing.dates import resolve_french_date
from actions.parsing.identifiers import find_contract_number
from actions.services import ServiceRefusal, ServiceUnavailable, services

logger = logging.getLogger(__name__)

# The claims service refuses a filing whose files are unknown or on another claim:
# the claim is then filed without them.
ATTACHMENT_REFUSALS = {"upload_not_found", "upload_already_linked"}
# Losses where another person is often involved: ask about a third party and a constat.
THIRD_PARTY_CLAIM_TYPES = {"accident_auto", "degat_des_eaux", "incendie", "responsabilite_civile"}
MAX_TEXT_LENGTH = 2000
NO_THIRD_PARTY = "Aucun tiers impliqué"
NO_WITNESS = "Aucun témoin"
_NO_ANSWERS = {"non", "aucun", "aucune", "personne", "pas de témoin", "pas de temoin", "non aucun", "rien"}


async def eligible_contracts(customer_id: str, claim_type: str) -> List[Contract]:
    """The customer's active contracts that can cover this type of loss."""
    contracts = await services().list_contracts(customer_id)
    return [c for c in contracts if c["status"] == "active" and claim_type in c.get("covered_claim_types", [])]


def _said_no(tracker: Tracker, value: str) -> bool:
    intent = latest_intent(tracker)
    return intent == "deny" or value.strip(" .!").lower() in _NO_ANSWERS


def _free_text(value: Any) -> Optional[str]:
    text = value.strip() if isinstance(value, str) else ""
    return text if 0 < len(text) <= MAX_TEXT_LENGTH else None


class ValidateClaimForm(FormValidationAction):
    """Checks each answer of the claim declaration as it comes."""

    def name(self) -> Text:
        return "validate_claim_form"

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
            return {"claim_type": value, "claim_contract": contracts[0]["contract_number"]}
        if chosen and chosen not in {c["contract_number"] for c in contracts}:
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
        chosen = choose_contract(contracts, text, mentioned_products(tracker))
        if chosen is None:
            dispatcher.utter_message(response="utter_claim_contract_not_eligible")
            return {"claim_contract": None}
        return {"claim_contract": chosen["contract_number"]}

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
        return dt.date.fromisoformat(contract["start_date"])

    async def validate_claim_place(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._text_answer("claim_place", value, dispatcher)

    async def validate_claim_circumstances(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._text_answer("claim_circumstances", value, dispatcher)

    async def validate_claim_damage(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return self._text_answer("claim_damage", value, dispatcher)

    async def validate_claim_third_party(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if isinstance(value, str) and _said_no(tracker, value):
            return {"claim_third_party": NO_THIRD_PARTY}
        return self._text_answer("claim_third_party", value, dispatcher)

    async def validate_claim_witnesses(self, value: Any, dispatcher, tracker, domain) -> Dict[Text, Any]:
        if isinstance(value, str) and _said_no(tracker, value):
            return {"claim_witnesses": NO_WITNESS}
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
            third_party_label=tracker.get_slot("claim_third_party") or "sans objet",
            attachments_label=attachments_label(tracker.get_slot(CLAIM_ATTACHMENTS)),
        )
        return []


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
            dispatcher.utter_message(response="utter_claim_filing_refused", reason=refusal.message)
            return [SlotSet(CLAIM_FILING_PENDING, False)]
        dispatcher.utter_message(response="utter_claim_filed", claim_number=claim["claim_number"])
        if attachments:
            response = "utter_claim_attachments_linked" if attached else "utter_claim_attachments_not_linked"
            dispatcher.utter_message(response=response, claim_number=claim["claim_number"], file_names=file_names(attachments))
        dispatcher.utter_message(response="utter_claim_next_steps")
        return claim_reset_events()

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
        return [SlotSet(CLAIM_FILING_PENDING, still_queued)]


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
        SlotSet(CLAIM_FILING_PENDING, False)
    ]


class ActionCorrectClaimField(Action):
    """Corrects the declaration before it is filed: either the new value is in the
    message (« non, c'était samedi ») and the summary is read again, or the field
    named is emptied and the form asks it again, or the customer is asked which."""

    def name(self) -> Text:
        return "action_correct_claim_field"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        field = next(tracker.get_latest_entity_values("claim_field"), None)
        new_date = next(tracker.get_latest_entity_values("date"), None)
        if new_date and field in (None, "claim_date"):
            corrected = await ValidateClaimForm().validate_claim_date(new_date, dispatcher, tracker, domain)
            if corrected["claim_date"]:
                return [SlotSet("claim_date", corrected["claim_date"]), FollowupAction("action_claim_summary")]
        if field in CLAIM_FORM_SLOTS:
            events: List[EventType] = [SlotSet(field, None)]
            if field == "claim_type":  # another type of loss may need another contract
                events.append(SlotSet("claim_contract", None))
            return events + [FollowupAction("claim_form")]
        dispatcher.utter_message(response="utter_ask_claim_correction")
        return [FollowupAction("action_listen")]


class ActionResetClaim(Action):
    """Forgets the declaration in progress (the customer cancelled it)."""

    def name(self) -> Text:
        return "action_reset_claim"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        return claim_reset_events()
