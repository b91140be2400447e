"""Choosing one of the customer's contracts from what they said."""

from typing import Any, Dict, Iterable, List, Optional

from rasa_sdk import Tracker

from actions.common.labels import contract_label
from actions.common.messages import request_message
from actions.parsing.identifiers import find_contract_number

Contract = Dict[str, Any]


def choose_contract(contracts: List[Contract], text: str, products: Iterable[str]) -> Optional[Contract]:
    """The contract the customer named among `contracts`: by number, or by product
    when exactly one contract of that product is in the list."""
    number = find_contract_number(text)
    if number:
        return next((c for c in contracts if c["contract_number"] == number), None)
    for product in products:
        of_product = [c for c in contracts if c["product"] == product]
        if len(of_product) == 1:
            return of_product[0]
    return None


def mentioned_products(tracker: Tracker, request_intent: Optional[str] = None) -> List[str]:
    """Products named in the latest message or, failing that, in the request."""
    products = list(tracker.get_latest_entity_values("product"))
    if products or request_intent is None:
        return products
    entities = request_message(tracker, request_intent).get("entities") or []
    return [e["value"] for e in entities if e.get("entity") == "product"]


def contract_buttons(contracts: List[Contract]) -> List[Dict[str, str]]:
    """One button per contract; the payload carries the number the bot itself chose."""
    return [
        {"title": contract_label(c), "payload": f'/inform{{"contract_number": "{c["contract_number"]}"}}'}
        for c in contracts
    ]
