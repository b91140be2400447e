"""What a change would cost on the customer's own contract (« si je baisse ma franchise a
150 € je paierai combien ? », « combien pour ajouter le bris de glace ? »): the policy
service's tariff simulates it, the assistant states the new premium per month and per
year, the difference and the effective date, then offers to file the change request
(kind coverage_change) with that figure in its details."""

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common.contracts import contracts_described, entity_values
from actions.common.identity import identified_customer
from actions.common.messages import request_message
from core.labels import contract_label, date_label, euros
from core.service_client import NotFound, ServiceError, ServiceRefusal, ServiceUnavailable, services
from core.service_contract import Contract

logger = logging.getLogger(__name__)

INTENT = "simulate_contract_change"
# The request's words kept while the customer picks the contract (buttons).
SIMULATION_REQUEST = "simulation_request"
# The simulated change waiting for the customer's yes: contract, change, figures.
SIMULATION_PENDING = "simulation_pending"
PRICED_PRODUCTS = ("auto", "habitation")

_LOWER = re.compile(r"\b(?:baiss|diminu|redui|descend|moins\s+(?:haute|elevee|chere)|plus\s+(?:basse|petite|faible))")
_HIGHER = re.compile(r"\b(?:augment|mont(?:er|e|ez)\b|hauss|relev|plus\s+(?:haute|elevee|grosse|grande))")
_DEDUCTIBLE = re.compile(r"\bfranchise")
_AMOUNT = re.compile(r"(?<![\d-])(\d{2,4})(?:[.,]\d{1,2})?(?!\d)")
_REMOVE = re.compile(r"\b(?:enlev|retir|supprim|sans\b|plus\s+besoin|ne\s+\w+\s+plus|arret|resili)")
# A guarantee in the customer's words: its code on a car contract and on a home contract.
_GUARANTEES: Tuple[Tuple[re.Pattern, Dict[str, str]], ...] = (
    (re.compile(r"bris\s+de\s+glace|pare[\s-]?brise|vitr|glaces?\b"),
     {"auto": "bris_de_glace", "habitation": "bris_de_glace_habitation"}),
    (re.compile(r"tous\s+risques?|dommages?\s+tous\s+accidents?|dommages?\s+collision"),
     {"auto": "dommages_tous_accidents"}),
    (re.compile(r"(?:garantie|protection|assurance)\s+(?:du\s+)?conducteur"), {"auto": "garantie_conducteur"}),
    (re.compile(r"\bvol\b|\bincendie"), {"auto": "vol_incendie", "habitation": "vol_vandalisme"}),
    (re.compile(r"\bassistance|depann|remorqu"), {"auto": "assistance", "habitation": "assistance"}),
    (re.compile(r"protection\s+juridique"), {"auto": "protection_juridique", "habitation": "protection_juridique"}),
    (re.compile(r"degats?\s+des\s+eaux|fuites?\b"), {"habitation": "degats_des_eaux"}),
    (re.compile(r"tempete|grele|neige"), {"habitation": "tempete_grele_neige"}),
    (re.compile(r"catastrophes?\s+naturelles?"),
     {"auto": "catastrophes_naturelles", "habitation": "catastrophes_naturelles"}),
)


def plain(text: str) -> str:
    """Lower case without accents: « Réduire » and « reduire » read alike."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("’", "'")


@dataclass
class WantedChange:
    """What the customer asks to simulate, read from their words."""

    deductible_eur: Optional[int] = None
    deductible_direction: Optional[str] = None  # lower | higher, without an amount
    guarantees: List[Dict[str, str]] = field(default_factory=list)  # {product: code}, by words
    remove: bool = False

    def could_apply_to(self, contract: Contract) -> bool:
        """Whether the change means something on `contract` (« baisser a 150 » on a
        contract already at 150 does not; nor adding a guarantee it already has)."""
        if contract.product not in self.products():
            return False
        current = int(contract.franchise_eur or 0)
        if self.deductible_eur is not None:
            if self.deductible_eur == current or (self.deductible_direction == "lower" and current < self.deductible_eur) \
                    or (self.deductible_direction == "higher" and current > self.deductible_eur):
                return False
        if self.guarantees and not self.remove:
            held = {g.code for g in contract.guarantees}
            return any(codes.get(contract.product) not in held for codes in self.guarantees) or \
                self.deductible_eur is not None
        return True

    @property
    def empty(self) -> bool:
        return self.deductible_eur is None and self.deductible_direction is None and not self.guarantees

    def products(self) -> List[str]:
        """The products this change can apply to (a deductible: any)."""
        if not self.guarantees:
            return list(PRICED_PRODUCTS)
        return [product for product in PRICED_PRODUCTS if all(product in codes for codes in self.guarantees)]


def read_change(text: str) -> WantedChange:
    words = plain(text)
    change = WantedChange(remove=bool(_REMOVE.search(words)))
    if _DEDUCTIBLE.search(words):
        amounts = [int(amount) for amount in _AMOUNT.findall(words)]
        change.deductible_direction = ("lower" if _LOWER.search(words) else
                                       "higher" if _HIGHER.search(words) else None)
        if amounts:
            change.deductible_eur = amounts[-1]
    for pattern, codes in _GUARANTEES:
        if pattern.search(words):
            change.guarantees.append(codes)
    return change


def signed_euros(cents: int) -> str:
    return euros(abs(cents) / 100)


class ActionSimulateContractChange(Action):
    def name(self) -> Text:
        return "action_simulate_contract_change"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        customer = identified_customer(tracker)
        request = request_message(tracker, INTENT)
        text = request.get("text") or ""
        change = read_change(text)
        kept = tracker.get_slot(SIMULATION_REQUEST)
        if change.empty and kept:  # the contract chosen on a button: the change said before
            text, change = kept, read_change(kept)
        if change.empty:
            dispatcher.utter_message(response="utter_simulation_ask_change")
            return [SlotSet(SIMULATION_PENDING, None)]
        try:
            contracts = await services().list_contracts(customer)
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_simulation_unavailable")
            return []
        contract = self._contract(dispatcher, contracts, request, text, change)
        if contract is None:
            return [SlotSet(SIMULATION_REQUEST, text), SlotSet(SIMULATION_PENDING, None)]
        events: List[EventType] = [SlotSet(SIMULATION_REQUEST, None)]
        try:
            asked = await self._asked_change(dispatcher, customer, contract, change)
            if asked is None:
                return events + [SlotSet(SIMULATION_PENDING, None)]
            simulation = await services().simulate_contract_change(customer, contract.contract_number, asked)
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_simulation_unavailable")
            return events
        except NotFound:
            dispatcher.utter_message(response="utter_contract_unknown")
            return events
        except ServiceRefusal as refusal:
            logger.info("simulation refused: %s", refusal.code)
            await self._refused(dispatcher, customer, contract)
            return events + [SlotSet(SIMULATION_PENDING, None)]
        what = self._what(change, asked, simulation)
        difference = simulation.difference_monthly_cents
        dispatcher.utter_message(
            response="utter_simulation_result",
            contract_label=contract_label(contract),
            change_label=what,
            monthly=euros(simulation.simulated.monthly_premium_cents / 100),
            annual=euros(simulation.simulated.annual_premium_cents / 100),
            current_monthly=euros(simulation.current.monthly_premium_cents / 100),
            current_annual=euros(simulation.current.annual_premium_cents / 100),
            difference_monthly=signed_euros(difference),
            difference_annual=signed_euros(simulation.difference_annual_cents),
            more_or_less="de plus" if difference > 0 else "de moins",
            effective_label=date_label(simulation.effective_date),
        )
        if difference == 0 and simulation.difference_annual_cents == 0:
            dispatcher.utter_message(response="utter_anything_else")
            return events + [SlotSet(SIMULATION_PENDING, None)]
        dispatcher.utter_message(response="utter_simulation_offer_request")
        summary = (
            f"{what[0].upper()}{what[1:]} sur le contrat {contract.contract_number} (simulation du tarif "
            f"{simulation.tariff_version}) : nouvelle prime "
            f"{euros(simulation.simulated.monthly_premium_cents / 100)} par mois, soit "
            f"{euros(simulation.simulated.annual_premium_cents / 100)} par an ("
            f"{'+' if difference > 0 else '-'}{signed_euros(difference)} par mois, "
            f"{'+' if difference > 0 else '-'}{signed_euros(simulation.difference_annual_cents)} par an), "
            f"à effet du {date_label(simulation.effective_date)}."
        )
        pending = {
            "contract_number": contract.contract_number, "change": asked, "summary": summary,
            "annual_premium_cents": simulation.simulated.annual_premium_cents,
            "monthly_premium_cents": simulation.simulated.monthly_premium_cents,
            "difference_annual_cents": simulation.difference_annual_cents,
            "difference_monthly_cents": difference,
            "effective_date": simulation.effective_date.isoformat(),
            "tariff_version": simulation.tariff_version,
        }
        return events + [SlotSet(SIMULATION_PENDING, pending)]

    @staticmethod
    def _contract(dispatcher: CollectingDispatcher, contracts: List[Contract], request: Dict[str, Any],
                  text: str, change: WantedChange) -> Optional[Contract]:
        priced = [c for c in contracts if c.status == "active" and c.product in PRICED_PRODUCTS]
        named = entity_values(request, "contract_number")
        if named:
            chosen = [c for c in priced if c.contract_number == named[0].upper()]
            if chosen:
                return chosen[0]
        match = contracts_described(priced, text, entity_values(request, "product"))
        if match.chosen:
            return match.chosen
        if match.not_found or not priced:
            dispatcher.utter_message(response="utter_simulation_no_contract")
            return None
        candidates = list(match.contracts) if match.described else priced
        fitting = [c for c in candidates if change.could_apply_to(c)]
        if not fitting and change.guarantees and not change.remove and change.deductible_eur is None:
            for contract in candidates:  # every contract it could go on already has it
                held = {g.code: g.label for g in contract.guarantees}
                for codes in change.guarantees:
                    if codes.get(contract.product) in held:
                        dispatcher.utter_message(response="utter_simulation_already_covered",
                                                 guarantee=held[codes[contract.product]],
                                                 contract_number=contract.contract_number)
            return None
        fitting = fitting or candidates
        if len(fitting) == 1:
            return fitting[0]
        dispatcher.utter_message(response="utter_simulation_which_contract", buttons=[
            {"title": contract.contract_number,
             "payload": f'/{INTENT}{{"contract_number": "{contract.contract_number}"}}'}
            for contract in fitting
        ])
        return None

    @staticmethod
    async def _asked_change(dispatcher: CollectingDispatcher, customer: Any, contract: Contract,
                            change: WantedChange) -> Optional[Dict[str, Any]]:
        """The change as the tariff takes it; None when there is nothing to simulate (said why)."""
        asked: Dict[str, Any] = {}
        current_deductible = int(contract.franchise_eur or 0)
        if change.deductible_eur is not None:
            if change.deductible_eur == current_deductible:
                dispatcher.utter_message(response="utter_simulation_same_deductible",
                                         deductible=euros(current_deductible))
                return None
            asked["deductible_eur"] = change.deductible_eur
        elif change.deductible_direction:
            levels = (await services().simulate_contract_change(
                customer, contract.contract_number, {"deductible_eur": current_deductible})).deductible_levels
            lower = [level for level in levels if level < current_deductible]
            higher = [level for level in levels if level > current_deductible]
            options = lower[-1:] if change.deductible_direction == "lower" else higher[:1]
            if not options:
                dispatcher.utter_message(response="utter_simulation_no_other_deductible",
                                         deductible=euros(current_deductible))
                return None
            asked["deductible_eur"] = options[0]
        held = {g.code for g in contract.guarantees}
        for codes in change.guarantees:
            code = codes.get(contract.product)
            if code is None:
                continue
            if change.remove:
                if code in held:
                    asked.setdefault("remove_guarantees", []).append(code)
            elif code in held:
                label = next(g.label for g in contract.guarantees if g.code == code)
                dispatcher.utter_message(response="utter_simulation_already_covered", guarantee=label,
                                         contract_number=contract.contract_number)
            else:
                asked.setdefault("add_guarantees", []).append(code)
        if not asked:
            if not change.guarantees or change.remove:
                dispatcher.utter_message(response="utter_simulation_ask_change")
            return None
        return asked

    @staticmethod
    async def _refused(dispatcher: CollectingDispatcher, customer: Any, contract: Contract) -> None:
        """An amount or a guarantee the tariff does not have on this contract: what it has."""
        try:
            simulation = await services().simulate_contract_change(
                customer, contract.contract_number, {"deductible_eur": int(contract.franchise_eur or 0)})
        except ServiceError:
            dispatcher.utter_message(response="utter_simulation_not_possible")
            return
        dispatcher.utter_message(
            response="utter_simulation_choices",
            deductibles=", ".join(euros(level) for level in simulation.deductible_levels),
            guarantees=", ".join(g.label for g in simulation.optional_guarantees) or "aucune",
        )

    @staticmethod
    def _what(change: WantedChange, asked: Dict[str, Any], simulation: Any) -> str:
        """« une franchise de 150 € », « le bris de glace en plus »."""
        parts = []
        if "deductible_eur" in asked:
            parts.append(f"une franchise de {euros(asked['deductible_eur'])}")
        labels = {g.code: g.label for g in [*simulation.simulated.guarantees, *simulation.current.guarantees,
                                             *simulation.optional_guarantees]}
        for code in asked.get("add_guarantees", []):
            parts.append(f"la garantie « {labels.get(code, code)} » en plus")
        for code in asked.get("remove_guarantees", []):
            parts.append(f"sans la garantie « {labels.get(code, code)} »")
        return " et ".join(parts)


class ActionFileSimulatedChange(Action):
    """The customer's yes to the simulated change: the change request, with the figure."""

    def name(self) -> Text:
        return "action_file_simulated_change"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        pending = tracker.get_slot(SIMULATION_PENDING)
        forget = [SlotSet(SIMULATION_PENDING, None)]
        if not isinstance(pending, dict) or not pending.get("summary"):
            dispatcher.utter_message(response="utter_anything_else")
            return forget
        details = {
            "description": pending["summary"],
            "simulation": {key: pending.get(key) for key in (
                "change", "annual_premium_cents", "monthly_premium_cents", "difference_annual_cents",
                "difference_monthly_cents", "effective_date", "tariff_version")},
            "channel": tracker.get_latest_input_channel() or "inconnu",
        }
        try:
            filed = await services().file_request(identified_customer(tracker), "coverage_change", details,
                                                  pending.get("contract_number"))
        except ServiceError as error:
            logger.warning("simulated change not filed: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_change_request_failed")
            return forget
        dispatcher.utter_message(response="utter_change_request_filed", reference=filed.reference,
                                 expected_by_label=date_label(filed.expected_by), delay_days=filed.delay_days)
        return forget


class ActionKeepContract(Action):
    """The customer's no to the simulated change: nothing filed."""

    def name(self) -> Text:
        return "action_keep_contract_as_is"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_simulation_not_filed")
        return [SlotSet(SIMULATION_PENDING, None)]
