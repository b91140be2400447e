"""Alerts the customer sets in the conversation (« prevenez-moi un mois avant l'echeance
de mon assurance auto »), lists and cancels: the policy service keeps them and sends the
reminders (reference_services/policy/alerts.py). A reminder goes where the customer is
talking (widget, WhatsApp, Telegram, Messenger: there if they accepted messages there,
else by e-mail), by SMS or e-mail when they say so, by e-mail from the phone or the REST
channel."""

import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common.contracts import contracts_described, entity_values
from actions.common.identity import identified_customer
from actions.common.messages import request_message
from actions.simulations import plain
from core.labels import date_label
from core.service_client import NotFound, ServiceError, ServiceRefusal, ServiceUnavailable, services

logger = logging.getLogger(__name__)

MESSAGING_CHANNELS = ("widget", "whatsapp", "telegram", "messenger")
CHANNEL_LABELS = {
    "email": "par e-mail", "sms": "par SMS", "widget": "ici, dans votre espace client",
    "whatsapp": "ici, sur WhatsApp", "telegram": "ici, sur Telegram", "messenger": "ici, sur Messenger",
}
DEFAULT_DAYS_BEFORE = 30
MAX_DAYS_BEFORE = 180

_RENEWAL = re.compile(r"renouvel|reconduc|resili|preavis")
_UNPAID = re.compile(r"impaye|pas\s+(?:ete\s+)?pay|non\s+pay|rejet|pas\s+(?:ete\s+)?preleve|retard\s+de\s+paiement")
_SMS = re.compile(r"\bsms\b|texto|\bpar\s+message\s+sur\s+mon\s+(?:tel|portable|mobile)")
_EMAIL = re.compile(r"e?-?\s?mail|courriel")
_NUMBERS = {"un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6, "huit": 8, "dix": 10,
            "quinze": 15, "vingt": 20, "trente": 30}
_DELAY = re.compile(r"\b(\d{1,3}|un|une|deux|trois|quatre|cinq|six|huit|dix|quinze|vingt|trente)\s+"
                    r"(jours?|semaines?|mois)\b")
_UNITS = {"jour": 1, "semaine": 7, "mois": 30}


def read_days_before(words: str) -> Optional[int]:
    """« un mois » → 30, « 2 semaines » → 14, « 15 jours » → 15, « la veille » → 1."""
    if "la veille" in words:
        return 1
    found = _DELAY.search(words)
    if found is None:
        return None
    number = int(found.group(1)) if found.group(1).isdigit() else _NUMBERS[found.group(1)]
    unit = found.group(2).rstrip("s") if found.group(2) != "mois" else "mois"
    return min(number * _UNITS[unit], MAX_DAYS_BEFORE)


def read_kind(words: str) -> str:
    if _UNPAID.search(words):
        return "unpaid_premium"
    if _RENEWAL.search(words):
        return "renewal"
    return "due_date"


def read_channel(words: str, conversation_channel: Optional[str]) -> str:
    if _SMS.search(words):
        return "sms"
    if _EMAIL.search(words):
        return "email"
    return conversation_channel if conversation_channel in MESSAGING_CHANNELS else "email"


def _where(alert: Any) -> str:
    return f"sur le contrat {alert.contract_number}" if alert.contract_number else "sur chacun de vos contrats"


def _when(alert: Any) -> str:
    """« 30 jours avant l'échéance », « la veille du renouvellement »."""
    if alert.kind == "unpaid_premium":
        return "dès qu'une prime n'est pas reçue"
    of, named = (("de l'échéance", "l'échéance") if alert.kind == "due_date"
                 else ("du renouvellement", "le renouvellement"))
    if alert.days_before == 0:
        return f"le jour {of}"
    if alert.days_before == 1:
        return f"la veille {of}"
    return f"{alert.days_before} jours avant {named}"


class ActionSetAlert(Action):
    def name(self) -> Text:
        return "action_set_alert"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        customer = identified_customer(tracker)
        request = request_message(tracker, "set_alert")
        text = request.get("text") or ""
        words = plain(text)
        kind = read_kind(words)
        channel = read_channel(words, tracker.get_latest_input_channel())
        days_before = read_days_before(words)
        try:
            contract_number = await self._contract_number(customer, request, text)
            if contract_number is False:
                dispatcher.utter_message(response="utter_contract_unknown")
                return []
            alert = await services().create_alert(
                customer, kind, channel, DEFAULT_DAYS_BEFORE if days_before is None else days_before,
                contract_number or None)
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_alerts_unavailable")
            return []
        except (NotFound, ServiceRefusal) as refusal:
            logger.info("alert refused: %s", getattr(refusal, "code", ""))
            dispatcher.utter_message(response="utter_alert_contract_not_active")
            return []
        dispatcher.utter_message(
            response="utter_alert_set", when=_when(alert), where=_where(alert),
            channel_label=CHANNEL_LABELS[alert.channel])
        if alert.kind == "renewal":
            dispatcher.utter_message(response="utter_alert_renewal_notice")
        if alert.next_reminder_on:
            dispatcher.utter_message(response="utter_alert_next_reminder",
                                     next_label=date_label(alert.next_reminder_on))
        if alert.channel in MESSAGING_CHANNELS:
            dispatcher.utter_message(response="utter_alert_messaging_consent")
        return []

    @staticmethod
    async def _contract_number(customer: Any, request: Dict[str, Any], text: str) -> Any:
        """The contract named or described; None for all of them; False for none of theirs."""
        named = entity_values(request, "contract_number")
        products = entity_values(request, "product")
        if not named and not products and not re.search(r"\d{6}|voiture|auto|maison|appart|logement|habitation",
                                                        plain(text)):
            return None
        contracts = [c for c in await services().list_contracts(customer) if c.status == "active"]
        match = contracts_described(contracts, text, products)
        if match.not_found:
            return False
        if match.chosen:
            return match.chosen.contract_number
        return None


class ActionListAlerts(Action):
    def name(self) -> Text:
        return "action_list_alerts"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        try:
            alerts = await services().list_alerts(identified_customer(tracker))
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_alerts_unavailable")
            return []
        show_alerts(dispatcher, alerts, "utter_alerts_listed")
        return []


def show_alerts(dispatcher: CollectingDispatcher, alerts: List[Any], response: str) -> None:
    """The alerts, one line each, with a button to cancel each."""
    if not alerts:
        dispatcher.utter_message(response="utter_no_alerts")
        return
    lines = "\n".join(
        f"{number}. {_when(alert)}, {_where(alert)}, {CHANNEL_LABELS[alert.channel]}"
        + (f" (prochain rappel le {date_label(alert.next_reminder_on)})" if alert.next_reminder_on else "")
        for number, alert in enumerate(alerts, 1))
    dispatcher.utter_message(response=response, alerts=lines, buttons=[
        {"title": f"Annuler l'alerte {number}"[:20],
         "payload": f'/cancel_alert{{"alert_id": "{alert.alert_id}"}}'}
        for number, alert in enumerate(alerts, 1)
    ])


class ActionCancelAlert(Action):
    def name(self) -> Text:
        return "action_cancel_alert"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        customer = identified_customer(tracker)
        request = request_message(tracker, "cancel_alert")
        chosen = entity_values(request, "alert_id")
        try:
            alerts = await services().list_alerts(customer)
            if not chosen:
                described = self._described(alerts, plain(request.get("text") or ""))
                if len(described) == 1:
                    chosen = [described[0].alert_id]
                else:
                    show_alerts(dispatcher, described or alerts, "utter_which_alert_to_cancel")
                    return []
            alert = next((a for a in alerts if a.alert_id == chosen[0]), None)
            if alert is None:
                dispatcher.utter_message(response="utter_alert_already_cancelled")
                return []
            await services().cancel_alert(customer, alert.alert_id)
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_alerts_unavailable")
            return []
        except ServiceError:
            dispatcher.utter_message(response="utter_alert_already_cancelled")
            return []
        dispatcher.utter_message(response="utter_alert_cancelled", when=_when(alert), where=_where(alert))
        return []

    @staticmethod
    def _described(alerts: List[Any], words: str) -> List[Any]:
        """The alerts the customer's words point at (a kind, a contract), else all of them."""
        kinds = {kind for kind, pattern in (("renewal", _RENEWAL), ("unpaid_premium", _UNPAID)) if pattern.search(words)}
        if "echeance" in words:
            kinds.add("due_date")
        number = re.search(r"\b([a-z]{3})[\s-]?(\d{6})\b", words)
        fitting = [a for a in alerts if (not kinds or a.kind in kinds)
                   and (number is None or a.contract_number == f"{number.group(1).upper()}-{number.group(2)}")]
        return fitting
