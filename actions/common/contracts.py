"""Choosing one of the customer's contracts from what they said: its number, or its
description (« la Peugeot », « ab123cd », « mon ancien studio rue Carnot »).

A description is matched against the customer's own contracts and never stretched to
fit another: « la Clio » of a customer whose car is a Peugeot matches nothing, and the
customer is told so instead of getting the Peugeot's papers."""

import re
from dataclasses import dataclass
from typing import Any, Dict, FrozenSet, Iterable, List, Optional, Sequence

from rasa_sdk import Tracker

from actions.common.messages import request_message
from core.labels import contract_label
from core.parsing.contract_description import (
    ContractDescription,
    address_words,
    describe,
    vehicle_tokens,
    words_of,
)
from core.parsing.identifiers import canonical_plate
from core.service_contract import Contract

# Words of contract labels that tell nothing apart (« Habitation Confort – studio »: only
# « studio » describes the home).
_GENERIC_LABEL_WORDS = frozenset({"auto", "habitation", "confort", "essentielle", "essentiel", "tiers", "plus",
                                  "famille", "artisan", "batiment", "prevoyance", "sante", "pro", "contrat", "assurance"})


@dataclass(frozen=True)
class ContractMatch:
    """The customer's contracts that fit what they said; `described` when they said
    something about which one (a number, a car, a place, a product...)."""

    described: bool
    contracts: Sequence[Contract]

    @property
    def chosen(self) -> Optional[Contract]:
        """The one contract described, or None (nothing said, several fit, or none)."""
        return self.contracts[0] if self.described and len(self.contracts) == 1 else None

    @property
    def not_found(self) -> bool:
        """A contract was described and none of the customer's fits."""
        return self.described and not self.contracts

    @property
    def ambiguous(self) -> bool:
        return self.described and len(self.contracts) > 1


def contracts_described(contracts: Sequence[Contract], text: str, products: Iterable[str] = ()) -> ContractMatch:
    """The contracts among `contracts` that fit `text` and the `products` named: every
    part of the description must fit (the plate, the car, the street or town, the
    product, « ancien » for a terminated contract)."""
    description = describe(text)
    if description.number:
        return ContractMatch(True, [c for c in contracts if c.contract_number == description.number])
    candidates = list(contracts)
    described = False
    for fits in _criteria(description, contracts, set(products)):
        described = True
        candidates = [c for c in candidates if fits(c)]
    if len(candidates) > 1:
        # Soft: words of the label (« studio », « appartement ») only tell apart contracts
        # that everything else fits.
        named = [c for c in candidates if description.words & _label_words(c)]
        if 0 < len(named) < len(candidates):
            described, candidates = True, named
    return ContractMatch(described, candidates)


def _criteria(description: ContractDescription, contracts: Sequence[Contract], products: set) -> List:
    criteria = []
    if description.plates:
        criteria.append(lambda c: _plate(c) in description.plates)
    own_vehicle_words = frozenset().union(*(_vehicle_words(c) for c in contracts))
    vehicle = description.vehicle_words | {w for w in description.words & own_vehicle_words if len(w) > 1}
    if vehicle:
        criteria.append(lambda c: vehicle <= _vehicle_words(c))
    own_address_words = frozenset().union(*(_address_words(c) for c in contracts))
    place = description.street_names | description.postcodes | {w for w in description.words & own_address_words
                                                                 if len(w) > 2}
    if place:
        criteria.append(lambda c: place <= _address_words(c))
    if products:
        criteria.append(lambda c: c.product in products)
    if description.former:
        criteria.append(lambda c: c.status != "active")
    elif description.current:
        criteria.append(lambda c: c.status == "active")
    return criteria


def _plate(contract: Contract) -> Optional[str]:
    vehicle = contract.insured_vehicle
    return canonical_plate(vehicle.plate if vehicle else "")


def _vehicle_words(contract: Contract) -> FrozenSet[str]:
    vehicle = contract.insured_vehicle
    return vehicle_tokens(vehicle.make, vehicle.model) if vehicle else frozenset()


def _address_words(contract: Contract) -> FrozenSet[str]:
    address = contract.insured_address
    return address_words(address.street, address.city, address.postcode) if address else frozenset()


def _label_words(contract: Contract) -> FrozenSet[str]:
    return frozenset(w for w in words_of(contract.label)
                     if len(w) > 3 and not re.fullmatch(r"[0-9]+", w) and w not in _GENERIC_LABEL_WORDS)


def choose_contract(contracts: List[Contract], text: str, products: Iterable[str]) -> Optional[Contract]:
    """The contract the customer named or described among `contracts`, or None when
    nothing, several or none of them fit."""
    return contracts_described(contracts, text, products).chosen


def entity_values(message: Dict[str, Any], entity: str) -> List[str]:
    """The message's values of `entity`; only text (a value of another type, say from a
    button payload, is nobody's identifier)."""
    return [e["value"] for e in message.get("entities") or []
            if e.get("entity") == entity and isinstance(e.get("value"), str) and e["value"]]


def mentioned_products(tracker: Tracker, request_intent: Optional[str] = None) -> List[str]:
    """Products named in the latest message or, failing that, in the request."""
    products = list(tracker.get_latest_entity_values("product"))
    if products or request_intent is None:
        return products
    return entity_values(request_message(tracker, request_intent), "product")


def contract_buttons(contracts: List[Contract]) -> List[Dict[str, str]]:
    """One button per contract; the payload carries the number the bot itself chose."""
    return [
        {"title": contract_label(c), "payload": f'/inform{{"contract_number": "{c.contract_number}"}}'}
        for c in contracts
    ]
