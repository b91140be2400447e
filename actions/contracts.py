"""Contracts and payments, answered from the customer's own data; changes that need
the insurer's approval filed as requests with a reference and a delay."""

import logging
import re
from abc import ABC, abstractmethod
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common.contracts import Contract, contracts_described, entity_values
from actions.common.identity import identified_customer
from actions.common.messages import intent_of, last_user_event, latest_intent, request_message
from core.labels import FREQUENCY_LABELS, PAYMENT_METHOD_LABELS, PRODUCT_LABELS, contract_label, date_label, euros
from core.next_request import serve_first
from core.service_client import ServiceError, ServiceUnavailable, services

logger = logging.getLogger(__name__)

# The change request each intent files, and the request kinds of the policy service.
REQUEST_KINDS = {
    "change_payment_method": "payment_method_change",
    "modify_coverage": "coverage_change",
    "update_personal_info": "personal_info_change",
    "terminate_contract": "termination",
    "beneficiary_clause": "beneficiary_change",
}
CHANGE_REQUEST_KIND = "change_request_kind"
CHANGE_REQUEST_DETAILS = "change_request_details"
# « oui » once the customer confirmed the read-back, « non » once they refused it.
CHANGE_REQUEST_CONFIRMED = "change_request_confirmed"
CHANGE_REQUEST_SLOTS = (CHANGE_REQUEST_KIND, CHANGE_REQUEST_DETAILS, CHANGE_REQUEST_CONFIRMED)
MAX_DETAILS_LENGTH = 1000
# A message that asks for a change of personal details, not one that only gives an
# address or a number (« c'est au 3 rue des Lilas », « mon numéro c'est le … »).
_ASKS_FOR_CHANGE = re.compile(
    r"chang|modifi|d[ée]m[ée]nag|nouv(?:el|elle|eau|elles|eaux)\b|mettre\s+[àa]\s+jour|mise\s+[àa]\s+jour|"
    r"mettez\s+[àa]\s+jour|maj\b|corrig|rectifi|remplac|actualis|n['’ ]?est\s+plus|plus\s+(?:le|la|les)\s+(?:bon|bonne|m[êe]me)|"
    r"ancien|erron|update",
    re.IGNORECASE,
)
_YES = re.compile(r"\b(?:oui|ouais|ok|okay|d['’ ]?accord|dac|vas[- ]y|allez[- ]y|envoie[zs]?|confirme[zs]?|parfait|exact|c(?:['’ ]?est)?\s+(?:bon|ça|ca|good))\b", re.IGNORECASE)
_NO = re.compile(r"\b(?:non|nan|nope|annule[zr]?|laisse[zr]?\s+tomber|stop|surtout\s+pas|pas\s+la\s+peine|n['’ ]?envo(?:i|y)\w*\s+pas|ne\s+transmet\w*\s+pas)\b",
                 re.IGNORECASE)


# The questions about contracts, whose request may have come before the identification.
CONTRACT_QUESTION_INTENTS = ("contract_info", "payment_info", "bonus_malus", "beneficiary_clause")


def contracts_meant(contracts: List[Contract], tracker: Tracker) -> Optional[List[Contract]]:
    """The contracts the customer asks about: the one named or described (« la Peugeot »,
    « l'appart de Niort »), else all of them; None when what they named or described is
    none of theirs."""
    request = request_message(tracker, CONTRACT_QUESTION_INTENTS)
    match = contracts_described(contracts, request.get("text") or "", entity_values(request, "product"))
    if match.not_found:
        return None
    return list(match.contracts)


class _ContractAnswerAction(Action, ABC):
    """Answers about each of the customer's contracts concerned. Abstract, so that
    rasa-sdk does not register it as an action."""

    @abstractmethod
    def name(self) -> Text:
        ...

    @abstractmethod
    def answer(self, dispatcher: CollectingDispatcher, contracts: List[Contract]) -> None:
        """Says what this action tells about these contracts."""

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        try:
            contracts = await services().list_contracts(identified_customer(tracker))
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_contracts_unavailable")
            return []
        meant = contracts_meant(contracts, tracker)
        if meant is None:
            dispatcher.utter_message(response="utter_contract_unknown")
        else:
            self.answer(dispatcher, meant)
        return []


class ActionContractInfo(_ContractAnswerAction):
    def name(self) -> Text:
        return "action_contract_info"

    def answer(self, dispatcher: CollectingDispatcher, contracts: List[Contract]) -> None:
        if not contracts:
            dispatcher.utter_message(response="utter_no_active_contract")
        for contract in contracts:
            if contract.status != "active":
                dispatcher.utter_message(
                    response="utter_contract_terminated_summary",
                    contract_number=contract.contract_number,
                    end_label=date_label(contract.end_date),
                )
                continue
            dispatcher.utter_message(
                response="utter_contract_summary",
                contract_label=contract_label(contract),
                guarantees=", ".join(g.label for g in contract.guarantees),
                franchise=euros(contract.franchise_eur),
                next_due_label=date_label(contract.next_due_date),
            )


class ActionPaymentInfo(_ContractAnswerAction):
    def name(self) -> Text:
        return "action_payment_info"

    def answer(self, dispatcher: CollectingDispatcher, contracts: List[Contract]) -> None:
        active = [c for c in contracts if c.status == "active"]
        if not active:
            for contract in contracts:  # the terminated contract asked about: nothing is due on it
                dispatcher.utter_message(
                    response="utter_contract_terminated_summary",
                    contract_number=contract.contract_number,
                    end_label=date_label(contract.end_date),
                )
            if not contracts:
                dispatcher.utter_message(response="utter_no_active_contract")
        for contract in active:
            dispatcher.utter_message(
                response="utter_payment_summary",
                contract_number=contract.contract_number,
                product_label=PRODUCT_LABELS.get(contract.product, contract.product),
                premium=euros(contract.premium_eur),
                frequency_label=FREQUENCY_LABELS.get(contract.premium_frequency, contract.premium_frequency),
                payment_method_label=PAYMENT_METHOD_LABELS.get(contract.payment_method, contract.payment_method),
                next_due_label=date_label(contract.next_due_date),
            )


class ActionBonusMalus(_ContractAnswerAction):
    def name(self) -> Text:
        return "action_bonus_malus"

    def answer(self, dispatcher: CollectingDispatcher, contracts: List[Contract]) -> None:
        cars = [c for c in contracts if c.status == "active" and c.bonus_malus is not None]
        if not cars:
            dispatcher.utter_message(response="utter_bonus_malus_general")
        for contract in cars:
            coefficient = float(contract.bonus_malus)
            dispatcher.utter_message(
                response="utter_bonus_malus" if coefficient <= 1 else "utter_bonus_malus_malus",
                contract_number=contract.contract_number,
                coefficient=f"{coefficient:.2f}".replace(".", ","),
                percent=f"{abs(round((1 - coefficient) * 100))} %",
            )


class ActionBeneficiaryClause(_ContractAnswerAction):
    def name(self) -> Text:
        return "action_beneficiary_clause"

    def answer(self, dispatcher: CollectingDispatcher, contracts: List[Contract]) -> None:
        with_clause = [c for c in contracts if c.status == "active" and c.beneficiary_clause]
        if not with_clause:
            dispatcher.utter_message(response="utter_beneficiary_clause_general")
            return
        for contract in with_clause:
            dispatcher.utter_message(
                response="utter_beneficiary_clause",
                contract_number=contract.contract_number,
                clause=contract.beneficiary_clause,
            )
        dispatcher.utter_message(response="utter_offer_change_request")


class ActionStartChangeRequest(Action):
    """Notes which change the customer asks for, from the intent that asked for it. A
    message that only mentions an address or a number is asked about first: « Voulez-vous
    modifier vos coordonnées ? » (a « oui » runs this action again)."""

    def name(self) -> Text:
        return "action_start_change_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        request = last_user_event(tracker, REQUEST_KINDS)
        if request is None:
            return []
        intent = intent_of(request.get("parse_data"))
        if (intent == "update_personal_info" and latest_intent(tracker) == intent
                and not _ASKS_FOR_CHANGE.search(request.get("text") or "")):
            dispatcher.utter_message(response="utter_offer_personal_info_change")
            return [FollowupAction("action_listen")]
        dispatcher.utter_message(response="utter_change_request_intro")
        return [SlotSet(CHANGE_REQUEST_KIND, REQUEST_KINDS[intent]), SlotSet(CHANGE_REQUEST_CONFIRMED, None),
                FollowupAction("change_request_form")]


def confirmation(text: str, intent: Optional[str]) -> Optional[str]:
    """« oui » or « non » in the customer's words (buttons or free words), else None."""
    if intent == "deny" or (intent != "affirm" and _NO.search(text)):
        return "non"
    if intent == "affirm" or _YES.search(text):
        return "oui"
    return None


class ValidateChangeRequestForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_change_request_form"

    async def validate_change_request_details(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        text = value.strip() if isinstance(value, str) else ""
        if not 3 <= len(text) <= MAX_DETAILS_LENGTH:
            dispatcher.utter_message(response="utter_change_request_details_invalid")
            return {CHANGE_REQUEST_DETAILS: None}
        return {CHANGE_REQUEST_DETAILS: text}

    async def validate_change_request_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != CHANGE_REQUEST_CONFIRMED:
            # Only an answer to the read-back: not the « oui » that opened the request.
            return {CHANGE_REQUEST_CONFIRMED: None}
        answer = confirmation(value if isinstance(value, str) else "", latest_intent(tracker))
        if answer is None:
            dispatcher.utter_message(response="utter_change_request_confirmation_unclear")
        return {CHANGE_REQUEST_CONFIRMED: answer}


class ActionSetAsideChangeRequest(Action):
    """Another request typed in the middle of a change request: the change is left
    unsent, and the request served at once, as typed (bot/two_requests.py)."""

    def name(self) -> Text:
        return "action_set_aside_change_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_change_request_set_aside")
        return [ActiveLoop(None), SlotSet("requested_slot", None), *(SlotSet(slot, None) for slot in CHANGE_REQUEST_SLOTS),
                serve_first(tracker, latest_intent(tracker) or "", tracker.latest_message or {})]


async def contract_concerned(tracker: Tracker, details: str) -> Optional[str]:
    """The number of the contract a change request is about, named or described in its
    details or in the request (« le RIB de la Peugeot »); None when none, or several, of
    the customer's contracts fit: the request is then filed for the customer, its
    details saying the rest."""
    request = request_message(tracker, REQUEST_KINDS)
    texts = [details, request.get("text") or ""]
    if not any(texts):
        return None
    contracts = await services().list_contracts(identified_customer(tracker))
    for text in texts:
        match = contracts_described(contracts, text, ())
        if match.described:
            return match.chosen.contract_number if match.chosen else None
    return None


class ActionFileChangeRequest(Action):
    """Files the change with the policy service: a reference and a delay, never dropped."""

    def name(self) -> Text:
        return "action_file_change_request"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        details = tracker.get_slot(CHANGE_REQUEST_DETAILS)
        kind = tracker.get_slot(CHANGE_REQUEST_KIND)
        # The details may hold personal data (a new address, bank details): never kept
        # after this turn, whether the request could be filed or not.
        forget = [SlotSet(slot, None) for slot in CHANGE_REQUEST_SLOTS]
        if tracker.get_slot(CHANGE_REQUEST_CONFIRMED) != "oui":  # nothing is sent without the customer's yes
            dispatcher.utter_message(response="utter_change_request_not_sent")
            return forget
        try:
            filed = await services().file_request(
                identified_customer(tracker),
                kind,
                {"description": details, "channel": tracker.get_latest_input_channel() or "inconnu"},
                await contract_concerned(tracker, details or ""),
            )
        except ServiceError as error:
            logger.warning("change request not filed: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_change_request_failed")
            return forget
        dispatcher.utter_message(
            response="utter_change_request_filed",
            reference=filed.reference,
            expected_by_label=date_label(filed.expected_by),
            delay_days=filed.delay_days,
        )
        return forget
