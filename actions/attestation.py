"""Attestations d'assurance: the contract chosen, the PDF generated, the link given."""

import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.common.contracts import (
    Contract,
    ContractMatch,
    contract_buttons,
    contracts_described,
    entity_values,
    mentioned_products,
)
from actions.common.identity import identified_customer
from actions.common.messages import request_message, request_text
from actions.common.refusals import ATTESTATION, refusal_response
from core.labels import PRODUCT_LABELS, date_label
from core.service_client import ServiceRefusal, ServiceUnavailable, services
from core.slots import ATTESTATION_CONTRACT

logger = logging.getLogger(__name__)

# Channels that cannot hand a document over: the telephone line.
CHANNELS_WITHOUT_FILES = {"ivr"}

# « attestation scolaire », « pour l'école », « pour la cantine »: the school certificate
# of a home contract's private-life liability.
_SCHOOL = re.compile(r"scola|[ée]cole|cantine|cr[èe]che|coll[èe]ge|lyc[ée]e", re.IGNORECASE)
# The car's papers of old (carte verte, papillon): today's answer is the auto attestation.
_CAR_PAPERS = re.compile(r"carte verte|papillon|m[ée]mo v[ée]hicule", re.IGNORECASE)


def attestation_kind(tracker: Tracker) -> str:
    """« scolaire » when the request speaks of school, else « standard »."""
    return "scolaire" if _SCHOOL.search(request_text(tracker, "request_attestation")) else "standard"


def requested_contracts(contracts: List[Contract], tracker: Tracker) -> ContractMatch:
    """The contracts the attestation request names or describes (« pour la Peugeot »,
    « de mon ancien studio rue Carnot »), asked before or after the identification."""
    request = request_message(tracker, "request_attestation")
    text = request.get("text") or ""
    products = entity_values(request, "product")
    if _SCHOOL.search(text):
        products = ["habitation"]
    elif _CAR_PAPERS.search(text):
        products = ["auto"]
    return contracts_described(contracts, text, products)


class ValidateAttestationForm(FormValidationAction):
    """Finds the contract the customer wants a certificate for."""

    def name(self) -> Text:
        return "validate_attestation_form"

    async def extract_attestation_contract(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        """No question when the request says which contract (« pour ma voiture », « la
        Peugeot », « ab123cd ») or the customer has one active contract and described
        none. A contract described that is none of theirs is never replaced by another:
        the customer is told, then asked. Only when the form starts: later turns are
        answers to its question."""
        if tracker.get_slot(ATTESTATION_CONTRACT) or tracker.get_slot(REQUESTED_SLOT):
            return {}
        try:
            contracts = await services().list_contracts(identified_customer(tracker))
        except ServiceUnavailable:
            return {}
        match = requested_contracts(contracts, tracker)
        if match.not_found:
            dispatcher.utter_message(response="utter_attestation_contract_not_described")
            return {}
        chosen = match.chosen
        active = [c for c in contracts if c.status == "active"]
        if chosen is None and not match.described and len(active) == 1:
            chosen = active[0]
        return {ATTESTATION_CONTRACT: chosen.contract_number} if chosen else {}

    async def validate_attestation_contract(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> Dict[Text, Any]:
        try:
            contracts = await services().list_contracts(identified_customer(tracker))
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_attestation_failed")
            return {ATTESTATION_CONTRACT: None, "requested_slot": None}
        # Terminated contracts are accepted here: the policy service refuses them
        # with the reason, which the customer is then told.
        match = contracts_described(contracts, value if isinstance(value, str) else "", mentioned_products(tracker))
        if match.chosen is None:
            ambiguous = match.ambiguous
            dispatcher.utter_message(
                response="utter_contract_ambiguous" if ambiguous else "utter_attestation_contract_unknown")
            return {ATTESTATION_CONTRACT: None}
        return {ATTESTATION_CONTRACT: match.chosen.contract_number}


class ActionAskAttestationContract(Action):
    """Offers as buttons the contracts the request described when several fit it, else
    the customer's active contracts."""

    def name(self) -> Text:
        return "action_ask_attestation_contract"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        try:
            contracts = await services().list_contracts(identified_customer(tracker))
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_attestation_contract_number_request")
            return []
        match = requested_contracts(contracts, tracker)
        if match.ambiguous:
            dispatcher.utter_message(response="utter_ask_attestation_contract_choice",
                                     buttons=contract_buttons(list(match.contracts)))
            return []
        active = [c for c in contracts if c.status == "active"]
        if not active:
            dispatcher.utter_message(response="utter_no_active_contract")
            return []
        dispatcher.utter_message(response="utter_ask_attestation_contract_choice", buttons=contract_buttons(active))
        return []


def _cannot_carry_files(tracker: Tracker) -> bool:
    """On the phone the attestation is e-mailed to the address on file (the `ivr`
    variant of utter_attestation_ready says so) instead of handed over."""
    return tracker.get_latest_input_channel() in CHANNELS_WITHOUT_FILES


class ActionGenerateAttestation(Action):
    """Has the policy service generate the PDF and gives the customer its link
    (or, on the phone, e-mails it)."""

    def name(self) -> Text:
        return "action_generate_attestation"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        customer_id = identified_customer(tracker)
        number = tracker.get_slot(ATTESTATION_CONTRACT)
        if customer_id is None or number is None:
            return [SlotSet(ATTESTATION_CONTRACT, None)]
        contract: Optional[Contract] = None
        try:
            contract = await services().get_contract(customer_id, number)
            attestation = await services().create_attestation(
                customer_id, number, attestation_kind(tracker), send_by_email=_cannot_carry_files(tracker)
            )
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_attestation_failed")
            return [SlotSet(ATTESTATION_CONTRACT, None)]
        except ServiceRefusal as refusal:
            logger.info("attestation refused: %s", refusal.code)
            dispatcher.utter_message(
                response=refusal_response(ATTESTATION, refusal.code),
                contract_number=number,
                end_label=date_label(contract.end_date if contract else None),
            )
            return [SlotSet(ATTESTATION_CONTRACT, None)]
        school = attestation.kind == "scolaire" or attestation_kind(tracker) == "scolaire"
        dispatcher.utter_message(
            # The school certificate says it is the school certificate.
            response="utter_school_attestation_ready" if school else "utter_attestation_ready",
            contract_number=number,
            product_label=PRODUCT_LABELS.get(contract.product, contract.product),
            valid_from_label=date_label(attestation.valid_from),
            valid_to_label=date_label(attestation.valid_to),
            url=attestation.url,
            reference=attestation.reference,
        )
        if contract.product == "auto":
            dispatcher.utter_message(response="utter_memo_vehicule_assure")
        return [SlotSet(ATTESTATION_CONTRACT, None)]
