"""Quotes for anyone: the risk asked in a form that reads free words (core/parsing/risk.py),
the quote priced by the policy service's tariff, its formulas shown side by side, the one
chosen passed to an adviser (a phone number or an e-mail asked of an anonymous visitor),
the quote e-mailed as a PDF to an address the customer gives."""

import datetime as dt
import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import ActiveLoop, EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import REQUESTED_SLOT
from rasa_sdk.types import DomainDict

from actions.common.forms import answers_this_turn
from actions.common.identity import identified_customer
from actions.common.messages import latest_intent, request_message
from core import clock
from core.labels import date_label, euros
from core.next_request import serve_first
from core.parsing import risk
from core.parsing.contacts import is_email, masked_contact, read_contact, read_email
from core.parsing.loss_facts import said_no
from core.service_client import IdentityRefused, ServiceError, ServiceRefusal, ServiceUnavailable, services
from core.slots import NEXT_REQUEST, QUOTE_CONTACT, QUOTE_EMAIL

logger = logging.getLogger(__name__)

PRODUCT = "quote_product"
REFERENCE = "quote_reference"
FORMULAS = "quote_formulas"
READY = "quote_ready"
FORMULA = "quote_formula"
CONFIRMED = "quote_follow_up_confirmed"
EMAIL_NEEDED = "quote_email_needed"
QUOTE_FORM = "quote_form"
FOLLOW_UP_FORM = "quote_follow_up_form"
# Every input of the risk has its slot: quote_<input of the tariff>.
INPUTS = (*risk.AUTO_FIELDS, *risk.HABITATION_FIELDS, "surface_m2", "deductible_eur")
RISK_SLOTS = tuple(f"quote_{name}" for name in INPUTS)
FOLLOW_UP_SLOTS = (FORMULA, CONFIRMED, QUOTE_CONTACT)
QUOTE_SLOTS = (PRODUCT, *RISK_SLOTS, REFERENCE, FORMULAS, READY, *FOLLOW_UP_SLOTS, QUOTE_EMAIL, EMAIL_NEEDED)
BONUS_DEFAULT = 1.0
QUOTE_VALIDITY_DAYS = 30
NO_FORMULA = "aucune"
# Other requests typed in the middle of the quote: served at once (rule « another request
# during the quote »), the answers kept; « annuler », a human, « répétez »: their own rules.
SERVED_REQUESTS = (
    "declare_claim", "claim_status", "send_documents", "expert_visit", "indemnification_info", "request_attestation",
    "contract_info", "payment_info", "login_problem", "forgot_password", "lost_identifier", "account_locked",
    "sms_code_issue", "contact_info", "complaint", "document_retention", "data_privacy", "terminate_contract",
    "change_payment_method", "update_personal_info", "beneficiary_clause",
)
NOT_AN_ANSWER_INTENTS = {"cancel", "request_human", "repeat", *SERVED_REQUESTS}
_DONT_KNOW = ("sais pas", "sait pas", "aucune idee", "je ne sais", "jsp", "ne sais plus", "connais pas")


def slot_of(name: str) -> str:
    return f"quote_{name}"


def risk_of(slots: Dict[str, Any], product: Optional[str]) -> Dict[str, Any]:
    """The tariff's risk from the form's slots, for `product`."""
    names = (*risk.AUTO_FIELDS, "deductible_eur") if product == risk.AUTO else (
        *risk.HABITATION_FIELDS, "surface_m2", "deductible_eur")
    return {name: slots.get(slot_of(name)) for name in names if slots.get(slot_of(name)) is not None}


def required_quote_slots(slots: Dict[str, Any]) -> List[str]:
    """What the tariff needs for the product chosen: the product first; a young driver's
    bonus-malus is not asked (1,00); the rooms of a home whose surface was given neither."""
    product = slots.get(PRODUCT)
    if product == risk.AUTO:
        fields = [name for name in risk.AUTO_FIELDS if not (name == "bonus_malus" and slots.get(slot_of("young_driver")))]
    elif product == risk.HABITATION:
        fields = [name for name in risk.HABITATION_FIELDS if not (name == "rooms" and slots.get(slot_of("surface_m2")))]
    elif product == risk.OTHER_PRODUCT:
        return []
    else:
        return [PRODUCT]
    return [PRODUCT, *(slot_of(name) for name in fields)]


async def next_question(form: FormValidationAction, dispatcher: CollectingDispatcher, tracker: Tracker,
                        domain: DomainDict) -> EventType:
    """The first of the form's required slots still empty (None: the form is done)."""
    required = await form.required_slots(form.domain_slots(domain), dispatcher, tracker, domain)
    return SlotSet(REQUESTED_SLOT, next((slot for slot in required if tracker.get_slot(slot) is None), None))


def _priced_this_turn(tracker: Tracker) -> bool:
    """Whether action_create_quote ran since the customer's latest message."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") == "action_create_quote":
            return True
    return False


def _is_button(text: str) -> bool:
    return text.startswith("/")


class ValidateQuoteForm(FormValidationAction):
    """Reads each message for every input of the risk it gives, in any order and several at
    once; a value given again replaces the first (« non c'est une 308 »). The request that
    opened the quote is read too (« un devis pour ma Clio de 2019 »). A message that asks
    something else fills nothing: the rules answer it."""

    def name(self) -> Text:
        return "validate_quote_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> List[Text]:
        return required_quote_slots(tracker.slots)

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        product = tracker.get_slot(PRODUCT)
        found: Dict[str, Any] = {}
        if requested is None:
            # Re-opened after the tariff refused an answer (action_create_quote), nothing is
            # read again: the refused answer would come back.
            message = {} if _priced_this_turn(tracker) else request_message(tracker, "request_quote")
            text = message.get("text") or ""
            if not _is_button(text):
                found = self._reading(text, product)
        elif answers_this_turn(tracker, QUOTE_FORM):
            text = (tracker.latest_message or {}).get("text") or ""
            intent = latest_intent(tracker)
            found = {} if _is_button(text) else self._reading(text, product)
            coefficient = risk.bare_bonus_malus(text) if requested == slot_of("bonus_malus") else None
            if not found and coefficient is not None:
                found = {requested: coefficient}  # « 0,68 », as the question's example
            if not found and intent in SERVED_REQUESTS and not _is_button(text):
                # Another request: the form ends, the answers stay, the request is served
                # at once as typed (bot/two_requests.py); action_create_quote then prices nothing.
                dispatcher.utter_message(response="utter_quote_set_aside")
                return [serve_first(tracker, intent, tracker.latest_message or {}), SlotSet(REQUESTED_SLOT, None)]
            if not found:
                found = self._answer_without_facts(requested, text, intent, dispatcher)
                if found is None:  # « annuler », a human, « répétez »: their rules
                    return []
        events = [SlotSet(slot, value) for slot, value in found.items()]
        new_product = found.get(PRODUCT)
        if new_product and product and new_product != product:
            # Another product: what was said of the first one no longer counts.
            events += [SlotSet(slot, None) for slot in RISK_SLOTS if slot not in found]
        tracker.add_slots(events)
        return events + [await next_question(self, dispatcher, tracker, domain)]

    @staticmethod
    def _reading(text: str, product: Optional[str]) -> Dict[str, Any]:
        reading = risk.read_risk(text, clock.today(), product)
        found = {slot_of(name): value for name, value in reading.values.items()}
        if reading.product and reading.product != product:
            found[PRODUCT] = reading.product
        return found

    @staticmethod
    def _answer_without_facts(requested: str, text: str, intent: Optional[str],
                              dispatcher: CollectingDispatcher) -> Optional[Dict[str, Any]]:
        """An answer the reader found no input in: a yes or no to the young driver's question,
        « je ne sais pas » to the bonus-malus; None for a message asking something else
        (the form lets the rules answer it); else the question is asked again."""
        folded = risk.fold(text)
        if requested == slot_of("young_driver") and intent in ("affirm", "deny"):
            return {requested: intent == "affirm"}
        if requested == slot_of("young_driver") and said_no(text):
            return {requested: False}
        if requested == slot_of("bonus_malus") and any(words in folded for words in _DONT_KNOW):
            dispatcher.utter_message(response="utter_quote_bonus_unknown")
            return {requested: BONUS_DEFAULT}
        if intent in ("cancel", "request_human", "repeat") and not _is_button(text):
            return None
        dispatcher.utter_message(response="utter_quote_answer_unclear")
        return {requested: None}


class ActionStartQuote(Action):
    """A new quote: what an earlier quote of this conversation was asked is forgotten; the
    answers of a quote not made yet (services down, set aside) are kept."""

    def name(self) -> Text:
        return "action_start_quote"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events: List[EventType] = [SlotSet(slot, None) for slot in (READY, *FOLLOW_UP_SLOTS, QUOTE_EMAIL, EMAIL_NEEDED)]
        started = any(tracker.get_slot(slot) is not None for slot in (PRODUCT, *RISK_SLOTS))
        if tracker.get_slot(REFERENCE) or tracker.get_slot(PRODUCT) == risk.OTHER_PRODUCT:
            events += [SlotSet(slot, None) for slot in (PRODUCT, *RISK_SLOTS, REFERENCE, FORMULAS)]
            started = False
        other_product = risk.product_of(request_message(tracker, "request_quote").get("text") or "") == risk.OTHER_PRODUCT
        if not started and not other_product:  # a product priced by an adviser is said so at once
            dispatcher.utter_message(response="utter_quote_intro")
        return events


def refused_inputs(refusal: ServiceRefusal, risk_inputs: Dict[str, Any]) -> List[str]:
    """The answers of the risk that the tariff's 422 names (its fields are « risk.<input> »)."""
    fields = (refusal.details or {}).get("fields") or {}
    names = {field.split(".", 1)[1] for field in fields if isinstance(field, str) and field.startswith("risk.")}
    return [name for name in risk_inputs if name in names]


def formula_rows(quote: Any) -> List[Dict[str, Any]]:
    """What the conversation keeps of each formula: its code, label and premiums."""
    return [{"code": formula.code, "label": formula.label, "monthly_cents": formula.monthly_premium_cents,
             "annual_cents": formula.annual_premium_cents} for formula in quote.formulas]


class ActionCreateQuote(Action):
    """Prices the risk with the tariff and shows the formulas side by side, one sentence
    each; the choice is then asked (quote_follow_up_form). Services down: said so, the
    answers kept for the next try."""

    def name(self) -> Text:
        return "action_create_quote"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        product = tracker.get_slot(PRODUCT)
        if product == risk.OTHER_PRODUCT:
            dispatcher.utter_message(response="utter_quote_other_product")
            return [SlotSet(PRODUCT, None), SlotSet(READY, False)]
        if product not in (risk.AUTO, risk.HABITATION) or any(
                tracker.get_slot(slot) is None for slot in required_quote_slots(tracker.slots)):
            return [SlotSet(READY, False)]  # set aside before all was said: priced when asked again
        risk_inputs = risk_of(tracker.slots, product)
        try:
            quote = await self._create(product, risk_inputs, identified_customer(tracker))
        except ServiceUnavailable:
            dispatcher.utter_message(response="utter_quote_unavailable")
            return [SlotSet(READY, False)]
        except ServiceRefusal as refusal:
            refused = refused_inputs(refusal, risk_inputs)
            logger.info("quote refused: %s %s", refusal.code, sorted((refusal.details or {}).get("fields") or {}))
            if not refused:
                dispatcher.utter_message(response="utter_quote_refused")
                return [SlotSet(READY, False)]
            cleared = [SlotSet(slot_of(name), None) for name in refused]
            tracker.add_slots(cleared)
            if refused == ["deductible_eur"]:
                # A level the tariff does not have (« 200 € de franchise »): priced at each
                # formula's usual deductible, which the formulas state.
                dispatcher.utter_message(response="utter_quote_deductible_not_offered",
                                         deductible=euros(risk_inputs["deductible_eur"]))
                return cleared + await self.run(dispatcher, tracker, domain)
            # An answer the tariff cannot price (a postcode out of its zones, a year out of
            # its range): that question asked again, the other answers kept.
            dispatcher.utter_message(response="utter_quote_answer_refused")
            return cleared + [SlotSet(READY, False), FollowupAction(QUOTE_FORM)]
        dispatcher.utter_message(response="utter_quote_formulas_intro", reference=quote.reference,
                                 valid_until=date_label(quote.valid_until))
        for formula in quote.formulas:
            dispatcher.utter_message(
                response="utter_quote_formula", label=formula.label, monthly=euros(formula.monthly_premium_cents / 100),
                annual=euros(formula.annual_premium_cents / 100), deductible=euros(formula.deductible_eur),
                summary=formula.summary)
        return [SlotSet(REFERENCE, quote.reference), SlotSet(FORMULAS, formula_rows(quote)), SlotSet(READY, True)]

    @staticmethod
    async def _create(product: str, risk_inputs: Dict[str, Any], customer: Any) -> Any:
        try:
            return await services().create_quote(product, risk_inputs, customer)
        except IdentityRefused:  # the identity expired meanwhile: an anonymous quote
            return await services().create_quote(product, risk_inputs, None)


def _formulas(tracker: Tracker) -> List[Dict[str, Any]]:
    value = tracker.get_slot(FORMULAS)
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def formula_label(tracker: Tracker, code: Optional[str] = None) -> str:
    code = code or tracker.get_slot(FORMULA)
    return next((row.get("label") or "" for row in _formulas(tracker) if row.get("code") == code), code or "")


class ActionAskQuoteFormula(Action):
    """Which formula: one button per formula, its name and monthly premium (on the phone,
    a keypad menu)."""

    def name(self) -> Text:
        return "action_ask_quote_formula"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        buttons = [{"title": row["label"], "payload": row["label"]} for row in _formulas(tracker)]
        dispatcher.utter_message(response="utter_ask_quote_formula", buttons=buttons)
        return []


class ActionAskQuoteFollowUpConfirmed(Action):
    def name(self) -> Text:
        return "action_ask_quote_follow_up_confirmed"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_quote_confirm_follow_up", quote_formula_label=formula_label(tracker))
        return []


async def send_quote(dispatcher: CollectingDispatcher, reference: Optional[str], email: str) -> bool:
    """E-mails the quote as a PDF to `email` and says so (masked); False when not sent."""
    if not reference:
        dispatcher.utter_message(response="utter_no_quote_yet")
        return False
    try:
        sent = await services().email_quote(reference, email)
    except ServiceError as error:
        logger.warning("quote not e-mailed: %s", type(error).__name__)
        dispatcher.utter_message(response="utter_quote_email_failed", reference=reference)
        return False
    dispatcher.utter_message(response="utter_quote_emailed", reference=reference,
                             email=getattr(sent, "sent_to", None) or masked_contact(email))
    return True


class ValidateQuoteFollowUpForm(FormValidationAction):
    """The formula chosen (its name, its place, « la moins chère »), the customer's yes to an
    adviser, and, for an anonymous visitor, a French phone number or an e-mail. An e-mail
    address given on the way gets the quote e-mailed."""

    def name(self) -> Text:
        return "validate_quote_follow_up_form"

    async def required_slots(self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker,
                             domain: DomainDict) -> List[Text]:
        if tracker.get_slot(CONFIRMED) is False or identified_customer(tracker) is not None:
            return [FORMULA, CONFIRMED]
        return [FORMULA, CONFIRMED, QUOTE_CONTACT]

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        requested = tracker.get_slot(REQUESTED_SLOT)
        found: Dict[str, Any] = {}
        if requested is not None and answers_this_turn(tracker, FOLLOW_UP_FORM):
            text = (tracker.latest_message or {}).get("text") or ""
            intent = latest_intent(tracker)
            answer = self._answer(requested, text, intent, tracker)
            if answer is None:
                email = read_email(text) if requested != QUOTE_CONTACT and not _is_button(text) else None
                if email:
                    await send_quote(dispatcher, tracker.get_slot(REFERENCE), email)
                    answer = {QUOTE_EMAIL: None}
                elif intent == "send_quote_by_email":
                    dispatcher.utter_message(response="utter_ask_quote_email")
                    answer = {QUOTE_EMAIL: None}
                elif (intent in SERVED_REQUESTS or intent == "request_quote") and not _is_button(text):
                    # Another request (a new quote among them): nothing passed on, the quote
                    # kept (action_quote_follow_up says so), the request served as typed.
                    answer = {FORMULA: NO_FORMULA, CONFIRMED: False,
                              NEXT_REQUEST: serve_first(tracker, intent, tracker.latest_message or {})["value"]}
                elif intent in NOT_AN_ANSWER_INTENTS and not _is_button(text):
                    return []  # « annuler », a human, « répétez »: their rules
                else:
                    dispatcher.utter_message(response=self._unclear(requested))
                    answer = {requested: None}
            found = answer
        events = [SlotSet(slot, value) for slot, value in found.items()]
        tracker.add_slots(events)
        return events + [await next_question(self, dispatcher, tracker, domain)]

    @staticmethod
    def _unclear(requested: str) -> str:
        return {FORMULA: "utter_quote_formula_unclear", QUOTE_CONTACT: "utter_quote_contact_invalid"}.get(
            requested, "utter_quote_answer_unclear")

    @staticmethod
    def _answer(requested: str, text: str, intent: Optional[str], tracker: Tracker) -> Optional[Dict[str, Any]]:
        """The slots this answer fills, None when it fills none."""
        if requested == FORMULA:
            code = risk.formula_chosen(text, _formulas(tracker))
            if code:
                return {FORMULA: code}
            # « non merci »: no formula, nothing passed on, the quote kept.
            return {FORMULA: NO_FORMULA, CONFIRMED: False} if intent == "deny" or said_no(text) else None
        if requested == CONFIRMED:
            code = risk.formula_chosen(text, _formulas(tracker)) if not _is_button(text) else None
            if code and code != tracker.get_slot(FORMULA):  # « plutôt la tous risques »
                return {FORMULA: code}
            if intent in ("affirm", "deny"):
                contact = read_contact(text) if intent == "affirm" and not _is_button(text) else None
                return {CONFIRMED: intent == "affirm", **({QUOTE_CONTACT: contact} if contact else {})}
            if read_contact(text):  # « appelez-moi au 06 12 34 56 78 »
                return {CONFIRMED: True, QUOTE_CONTACT: read_contact(text)}
            return {CONFIRMED: False} if said_no(text) else None
        if requested == QUOTE_CONTACT:
            if intent in ("deny", "cancel") or said_no(text):
                return {CONFIRMED: False}
            contact = read_contact(text)
            return {QUOTE_CONTACT: contact} if contact else None
        return None


class ActionQuoteFollowUp(Action):
    """The chosen formula passed to an adviser (a hand-off naming the quote), with the
    identified customer's details or the contact the visitor gave (an e-mail also gets the
    quote); both references said. « non »: nothing sent, the quote kept."""

    def name(self) -> Text:
        return "action_quote_follow_up"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        reference, code = tracker.get_slot(REFERENCE), tracker.get_slot(FORMULA)
        contact = tracker.get_slot(QUOTE_CONTACT)
        done = [SlotSet(slot, None) for slot in (CONFIRMED, QUOTE_CONTACT, READY)]
        if not reference or not code:
            dispatcher.utter_message(response="utter_no_quote_yet")
            return done
        if tracker.get_slot(CONFIRMED) is not True:
            dispatcher.utter_message(response="utter_quote_kept", reference=reference,
                                     valid_until=await self._valid_until(reference))
            return done
        label = formula_label(tracker)
        try:
            handoff = await self._file(tracker, reference, code, contact)
        except ServiceError as error:
            logger.warning("quote follow-up not filed: %s", type(error).__name__)
            dispatcher.utter_message(response="utter_quote_follow_up_failed", reference=reference)
            return done + [SlotSet(FORMULA, None)]
        if contact:
            dispatcher.utter_message(response="utter_quote_follow_up_filed_contact", handoff_reference=handoff.reference,
                                     contact=masked_contact(contact), quote_formula_label=label, reference=reference)
            if is_email(contact):
                await send_quote(dispatcher, reference, contact)
        else:
            dispatcher.utter_message(response="utter_quote_follow_up_filed", handoff_reference=handoff.reference,
                                     quote_formula_label=label, reference=reference)
        return done

    @staticmethod
    async def _file(tracker: Tracker, reference: str, code: str, contact: Optional[str]) -> Any:
        channel = tracker.get_latest_input_channel() or "inconnu"
        customer = identified_customer(tracker)
        try:
            return await services().request_quote_follow_up(
                reference, code, channel, customer=customer, contact=contact, conversation_id=tracker.sender_id)
        except IdentityRefused:
            return await services().request_quote_follow_up(
                reference, code, channel, customer=None, contact=contact, conversation_id=tracker.sender_id)

    @staticmethod
    async def _valid_until(reference: str) -> str:
        try:
            return date_label((await services().get_quote(reference)).valid_until)
        except ServiceError:
            return date_label(clock.today() + dt.timedelta(days=QUOTE_VALIDITY_DAYS))


class ActionEmailQuote(Action):
    """« envoyez-le moi par mail » (with an address, or after it was asked): the quote made
    in this conversation e-mailed as a PDF. No address yet: it is asked (quote_email_form)."""

    def name(self) -> Text:
        return "action_email_quote"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        reference = tracker.get_slot(REFERENCE)
        if not reference:
            dispatcher.utter_message(response="utter_no_quote_yet")
            return [SlotSet(EMAIL_NEEDED, None), SlotSet(QUOTE_EMAIL, None)]
        email = tracker.get_slot(QUOTE_EMAIL) or read_email((tracker.latest_message or {}).get("text") or "")
        if not email:
            if tracker.get_slot(EMAIL_NEEDED):  # the address was asked and not given
                return [SlotSet(EMAIL_NEEDED, None)]
            return [SlotSet(EMAIL_NEEDED, True)]
        await send_quote(dispatcher, reference, email)
        return [SlotSet(EMAIL_NEEDED, None), SlotSet(QUOTE_EMAIL, None)]


class ValidateQuoteEmailForm(FormValidationAction):
    """The address to e-mail the quote to; « non » drops it."""

    def name(self) -> Text:
        return "validate_quote_email_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.get_slot(REQUESTED_SLOT) != QUOTE_EMAIL or not answers_this_turn(tracker, "quote_email_form"):
            return []
        text = (tracker.latest_message or {}).get("text") or ""
        intent = latest_intent(tracker)
        email = read_email(text)
        if email:
            return [SlotSet(QUOTE_EMAIL, email)]
        if intent in ("deny", "cancel") or said_no(text):
            # The form ends without an address: action_email_quote then sends nothing.
            dispatcher.utter_message(response="utter_ok")
            return [SlotSet(QUOTE_EMAIL, None), SlotSet(REQUESTED_SLOT, None)]
        if intent in NOT_AN_ANSWER_INTENTS:
            return []
        dispatcher.utter_message(response="utter_quote_email_invalid")
        return [SlotSet(QUOTE_EMAIL, None)]


class ActionCancelQuote(Action):
    """« annuler » during the quote: nothing kept, nothing sent."""

    def name(self) -> Text:
        return "action_cancel_quote"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        dispatcher.utter_message(response="utter_quote_cancelled")
        keep_made_quote = tracker.active_loop_name != QUOTE_FORM
        forgotten = [slot for slot in QUOTE_SLOTS if not (keep_made_quote and slot in (REFERENCE, FORMULAS))]
        return [ActiveLoop(None), SlotSet(REQUESTED_SLOT, None), *(SlotSet(slot, None) for slot in forgotten)]
