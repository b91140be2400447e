"""The quote's actions the way Rasa calls them, with a services client that answers as the
policy service's quote routes do (the REST conversation tests run the real ones)."""

import datetime as dt
from typing import Any, Dict, List

import pytest
from rasa_sdk.executor import CollectingDispatcher

from actions.quotes import (
    ActionCreateQuote,
    ActionEmailQuote,
    ActionQuoteFollowUp,
    ActionStartQuote,
    ValidateQuoteFollowUpForm,
    ValidateQuoteForm,
)
from core import service_client as services_module
from core.service_client import ServiceUnavailable
from core.service_contract.answers import HandoffCreated, Quote, SentTo
from tests.actions.helpers import MARIE, identified, make_tracker, responses, slot_sets

FORMULAS = [
    {"code": "tiers", "label": "Tiers", "summary": "L'essentiel.", "guarantees": ["Responsabilité civile"],
     "deductible_eur": 300, "annual_premium_cents": 37440, "monthly_premium_cents": 3120},
    {"code": "tiers_etendu", "label": "Tiers étendu", "summary": "Plus le vol.", "guarantees": ["Vol"],
     "deductible_eur": 300, "annual_premium_cents": 52800, "monthly_premium_cents": 4400},
    {"code": "tous_risques", "label": "Tous risques", "summary": "Plus vos dégâts.", "guarantees": ["Tous accidents"],
     "deductible_eur": 300, "annual_premium_cents": 81600, "monthly_premium_cents": 6800},
]
ROWS = [{"code": f["code"], "label": f["label"], "monthly_cents": f["monthly_premium_cents"],
         "annual_cents": f["annual_premium_cents"]} for f in FORMULAS]


class FakeQuotes:
    """Answers as the policy service's quote routes; `down`: as when it does not answer."""

    def __init__(self) -> None:
        self.calls: List[Any] = []
        self.down = False

    def _called(self, name: str, *args: Any, **kwargs: Any) -> None:
        if self.down:
            raise ServiceUnavailable("down")
        self.calls.append((name, args, kwargs))

    async def create_quote(self, product: str, risk: Dict[str, Any], customer: Any = None) -> Quote:
        self._called("create_quote", product, risk, customer=customer)
        return Quote.parse_obj({
            "reference": "DEV-2026-000042", "product": product, "tariff_version": "test",
            "created_at": "2026-12-02T10:00:00+01:00", "valid_until": "2027-01-01", "risk": risk,
            "formulas": FORMULAS})

    async def get_quote(self, reference: str) -> Quote:
        self._called("get_quote", reference)
        return Quote.parse_obj({
            "reference": reference, "product": "auto", "tariff_version": "test",
            "created_at": "2026-12-02T10:00:00+01:00", "valid_until": "2027-01-01", "risk": {}, "formulas": FORMULAS})

    async def email_quote(self, reference: str, email: str) -> SentTo:
        self._called("email_quote", reference, email)
        return SentTo(sent_to="j•••@exemple.fr")

    async def request_quote_follow_up(self, reference: str, formula: str, channel: str, **kwargs: Any) -> HandoffCreated:
        self._called("request_quote_follow_up", reference, formula, channel, **kwargs)
        return HandoffCreated(reference="TRF-2026-000007", status="waiting", created_at="2026-12-02T10:00:00+01:00")


@pytest.fixture
def fake_services():
    fake = FakeQuotes()
    services_module.use_services(fake)
    yield fake
    services_module.use_services(None)


@pytest.fixture(autouse=True)
def today(monkeypatch):
    from core import clock
    monkeypatch.setattr(clock, "today", lambda: dt.date(2026, 12, 2))


def in_quote_form(domain, text, intent="inform", requested="quote_usage", slots=None, form="quote_form"):
    """The customer answers `requested` with `text` in the form."""
    return make_tracker(domain, slots={"requested_slot": requested, **(slots or {})}, text=text, intent=intent,
                        active_loop=form, events=[{"event": "action", "name": "action_listen"}])


CAR = {"quote_product": "auto", "quote_vehicle_model": "clio", "quote_vehicle_year": 2019, "quote_parking": "rue"}


async def test_the_request_that_opens_the_quote_gives_every_fact_it_tells(domain):
    tracker = make_tracker(domain, text="je voudrais un devis pour une Clio de 2019, je me gare dans la rue",
                           intent="request_quote")
    events = await ValidateQuoteForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_sets(events) == {**CAR, "requested_slot": "quote_usage"}


async def test_several_answers_at_once_and_a_correction_replace_the_first(domain):
    tracker = in_quote_form(domain, "non c'est une 308, et je suis jeune permis", slots=CAR)
    events = await ValidateQuoteForm().run(CollectingDispatcher(), tracker, domain)
    # A young driver's bonus-malus is not asked: the usage is what is left.
    assert slot_sets(events) == {"quote_vehicle_model": "308", "quote_young_driver": True,
                                 "requested_slot": "quote_usage"}


async def test_a_yes_to_the_young_driver_question(domain):
    slots = {**CAR, "quote_usage": "prive"}
    tracker = in_quote_form(domain, "/affirm", intent="affirm", requested="quote_young_driver", slots=slots)
    events = await ValidateQuoteForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_sets(events) == {"quote_young_driver": True, "requested_slot": None}


async def test_a_bonus_not_known_counts_as_one(domain):
    slots = {**CAR, "quote_usage": "prive", "quote_young_driver": False}
    dispatcher = CollectingDispatcher()
    tracker = in_quote_form(domain, "je ne sais pas mon bonus", requested="quote_bonus_malus", slots=slots)
    events = await ValidateQuoteForm().run(dispatcher, tracker, domain)
    assert slot_sets(events) == {"quote_bonus_malus": 1.0, "requested_slot": None}
    assert responses(dispatcher) == ["utter_quote_bonus_unknown"]


@pytest.mark.parametrize("text, intent, coefficient", [
    ("0,68", "inform", 0.68), ("0.5", "payment_info", 0.5), ("c'est 1,25", "inform", 1.25), ("coef 0,72.", "inform", 0.72)])
async def test_a_coefficient_alone_answers_the_bonus_malus_question(domain, text, intent, coefficient):
    tracker = in_quote_form(domain, text, intent=intent, requested="quote_bonus_malus",
                            slots={**CAR, "quote_usage": "prive", "quote_young_driver": False})
    events = await ValidateQuoteForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_sets(events)["quote_bonus_malus"] == coefficient


async def test_another_request_ends_the_form_its_answers_kept_and_is_served_at_once(domain, fake_services):
    dispatcher = CollectingDispatcher()
    tracker = in_quote_form(domain, "quel est votre numero de telephone", intent="contact_info", slots=CAR)
    events = await ValidateQuoteForm().run(dispatcher, tracker, domain)
    slots = slot_sets(events)
    assert responses(dispatcher) == ["utter_quote_set_aside"]
    assert slots["requested_slot"] is None and slots["next_request"][0]["intent"] == "contact_info"
    assert not set(slots) & set(CAR)
    priced = await ActionCreateQuote().run(CollectingDispatcher(), make_tracker(domain, slots=CAR), domain)
    assert slot_sets(priced) == {"quote_ready": False} and not fake_services.calls


async def test_a_cancel_fills_nothing_so_its_rule_answers_it(domain):
    tracker = in_quote_form(domain, "annuler", intent="cancel", slots=CAR)
    assert await ValidateQuoteForm().run(CollectingDispatcher(), tracker, domain) == []


async def test_another_request_at_the_formulas_keeps_the_quote_and_is_served(domain):
    tracker = at_formulas(domain, "ou en est mon sinistre", "claim_status", "quote_formula")
    slots = slot_sets(await ValidateQuoteFollowUpForm().run(CollectingDispatcher(), tracker, domain))
    assert (slots["quote_formula"], slots["quote_follow_up_confirmed"], slots["requested_slot"]) == ("aucune", False, None)
    assert slots["next_request"][0]["intent"] == "claim_status"


async def test_an_answer_without_the_fact_asked_is_asked_again(domain):
    dispatcher = CollectingDispatcher()
    tracker = in_quote_form(domain, "bof", intent="nlu_fallback", slots=CAR)
    events = await ValidateQuoteForm().run(dispatcher, tracker, domain)
    assert slot_sets(events) == {"quote_usage": None, "requested_slot": "quote_usage"}
    assert responses(dispatcher) == ["utter_quote_answer_unclear"]


async def test_the_other_product_named_forgets_the_first_ones_answers(domain):
    tracker = in_quote_form(domain, "finalement c'est pour mon appart de 3 pieces", slots=CAR)
    events = await ValidateQuoteForm().run(CollectingDispatcher(), tracker, domain)
    slots = slot_sets(events)
    assert (slots["quote_product"], slots["quote_housing"], slots["quote_rooms"]) == ("habitation", "appartement", 3)
    assert slots["quote_vehicle_model"] is None and slots["requested_slot"] == "quote_postcode"


async def test_a_home_quote_needs_no_rooms_once_the_surface_is_given(domain):
    tracker = make_tracker(domain, text="devis habitation maison de 85 m2 a 79000 proprietaire", intent="request_quote")
    events = await ValidateQuoteForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_sets(events)["requested_slot"] is None


async def test_the_formulas_are_shown_side_by_side_and_kept(domain, fake_services):
    dispatcher = CollectingDispatcher()
    slots = {**CAR, "quote_usage": "prive", "quote_young_driver": False, "quote_bonus_malus": 0.68}
    events = await ActionCreateQuote().run(dispatcher, make_tracker(domain, slots=slots), domain)
    assert fake_services.calls[0][1] == ("auto", {"vehicle_model": "clio", "vehicle_year": 2019, "usage": "prive",
                                                  "parking": "rue", "young_driver": False, "bonus_malus": 0.68})
    assert responses(dispatcher) == ["utter_quote_formulas_intro"] + ["utter_quote_formula"] * 3
    assert dispatcher.messages[1]["monthly"] == "31,20\xa0€" and dispatcher.messages[1]["summary"] == "L'essentiel."
    assert slot_sets(events) == {"quote_reference": "DEV-2026-000042", "quote_formulas": ROWS, "quote_ready": True}


async def test_services_down_nothing_is_lost(domain, fake_services):
    fake_services.down = True
    dispatcher = CollectingDispatcher()
    complete = {**CAR, "quote_usage": "prive", "quote_young_driver": True}
    events = await ActionCreateQuote().run(dispatcher, make_tracker(domain, slots=complete), domain)
    assert responses(dispatcher) == ["utter_quote_unavailable"]
    assert slot_sets(events) == {"quote_ready": False}  # the answers stay
    again = await ActionStartQuote().run(CollectingDispatcher(), make_tracker(domain, slots=complete), domain)
    assert not {slot for slot, value in slot_sets(again).items() if slot in complete}


async def test_a_product_the_tariff_does_not_price_goes_to_an_adviser(domain, fake_services):
    dispatcher = CollectingDispatcher()
    events = await ActionCreateQuote().run(dispatcher, make_tracker(domain, slots={"quote_product": "autre"}), domain)
    assert responses(dispatcher) == ["utter_quote_other_product"]
    assert slot_sets(events)["quote_ready"] is False and not fake_services.calls


def at_formulas(domain, text, intent, requested, slots=None, customer=None):
    return in_quote_form(domain, text, intent=intent, requested=requested, form="quote_follow_up_form",
                         slots={"quote_reference": "DEV-2026-000042", "quote_formulas": ROWS, **(customer or {}),
                                **(slots or {})})


@pytest.mark.parametrize("text, code", [("la tous risques", "tous_risques"), ("Tiers étendu", "tiers_etendu"),
                                        ("la moins chere", "tiers")])
async def test_the_formula_chosen_in_free_words(domain, text, code):
    tracker = at_formulas(domain, text, "inform", "quote_formula")
    events = await ValidateQuoteFollowUpForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_sets(events) == {"quote_formula": code, "requested_slot": "quote_follow_up_confirmed"}


async def test_an_e_mail_address_at_the_formulas_gets_the_quote_by_e_mail(domain, fake_services):
    dispatcher = CollectingDispatcher()
    tracker = at_formulas(domain, "envoyez le moi sur jean.dupont@exemple.fr", "send_quote_by_email", "quote_formula")
    events = await ValidateQuoteFollowUpForm().run(dispatcher, tracker, domain)
    assert fake_services.calls == [("email_quote", ("DEV-2026-000042", "jean.dupont@exemple.fr"), {})]
    assert responses(dispatcher) == ["utter_quote_emailed"]
    assert slot_sets(events)["requested_slot"] == "quote_formula"


async def test_an_anonymous_visitor_is_asked_a_contact_an_identified_customer_is_not(domain):
    slots = {"quote_formula": "tiers"}
    anonymous = await ValidateQuoteFollowUpForm().run(
        CollectingDispatcher(), at_formulas(domain, "oui", "affirm", "quote_follow_up_confirmed", slots), domain)
    assert slot_sets(anonymous) == {"quote_follow_up_confirmed": True, "requested_slot": "quote_contact"}
    marie = await ValidateQuoteFollowUpForm().run(
        CollectingDispatcher(), at_formulas(domain, "oui", "affirm", "quote_follow_up_confirmed", slots,
                                            customer=identified(MARIE)), domain)
    assert slot_sets(marie) == {"quote_follow_up_confirmed": True, "requested_slot": None}


async def test_the_follow_up_filed_with_the_visitors_e_mail_which_gets_the_quote_too(domain, fake_services):
    dispatcher = CollectingDispatcher()
    slots = {"quote_reference": "DEV-2026-000042", "quote_formulas": ROWS, "quote_formula": "tous_risques",
             "quote_follow_up_confirmed": True, "quote_contact": "jean.dupont@exemple.fr"}
    await ActionQuoteFollowUp().run(dispatcher, make_tracker(domain, slots=slots), domain)
    name, args, kwargs = fake_services.calls[0]
    assert (name, args[:2], kwargs["contact"], kwargs["customer"]) == (
        "request_quote_follow_up", ("DEV-2026-000042", "tous_risques"), "jean.dupont@exemple.fr", None)
    assert responses(dispatcher) == ["utter_quote_follow_up_filed_contact", "utter_quote_emailed"]
    assert dispatcher.messages[0]["handoff_reference"] == "TRF-2026-000007"
    assert dispatcher.messages[0]["quote_formula_label"] == "Tous risques"
    assert "jean.dupont" not in dispatcher.messages[0]["contact"]


async def test_no_follow_up_wanted_keeps_the_quote(domain, fake_services):
    dispatcher = CollectingDispatcher()
    slots = {"quote_reference": "DEV-2026-000042", "quote_formulas": ROWS, "quote_formula": "tiers",
             "quote_follow_up_confirmed": False}
    await ActionQuoteFollowUp().run(dispatcher, make_tracker(domain, slots=slots), domain)
    assert responses(dispatcher) == ["utter_quote_kept"]
    assert [call[0] for call in fake_services.calls] == ["get_quote"]


async def test_the_follow_up_not_filed_when_the_services_are_down(domain, fake_services):
    fake_services.down = True
    dispatcher = CollectingDispatcher()
    slots = {"quote_reference": "DEV-2026-000042", "quote_formulas": ROWS, "quote_formula": "tiers",
             "quote_follow_up_confirmed": True, **identified(MARIE)}
    events = await ActionQuoteFollowUp().run(dispatcher, make_tracker(domain, slots=slots), domain)
    assert responses(dispatcher) == ["utter_quote_follow_up_failed"]
    assert slot_sets(events)["quote_formula"] is None


async def test_e_mail_asked_without_an_address_then_sent(domain, fake_services):
    slots = {"quote_reference": "DEV-2026-000042"}
    asked = await ActionEmailQuote().run(CollectingDispatcher(), make_tracker(
        domain, slots=slots, text="envoyez le moi par mail", intent="send_quote_by_email"), domain)
    assert slot_sets(asked) == {"quote_email_needed": True}
    dispatcher = CollectingDispatcher()
    await ActionEmailQuote().run(dispatcher, make_tracker(
        domain, slots={**slots, "quote_email": "jean@exemple.fr", "quote_email_needed": True}), domain)
    assert responses(dispatcher) == ["utter_quote_emailed"]
    assert fake_services.calls == [("email_quote", ("DEV-2026-000042", "jean@exemple.fr"), {})]


async def test_no_formula_wanted_ends_the_follow_up_with_nothing_sent(domain):
    tracker = at_formulas(domain, "non merci", "deny", "quote_formula")
    events = await ValidateQuoteFollowUpForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_sets(events) == {"quote_formula": "aucune", "quote_follow_up_confirmed": False, "requested_slot": None}


@pytest.mark.parametrize("slots", [
    {**CAR, "quote_usage": "trajets", "quote_young_driver": False, "quote_bonus_malus": 0.5},
    {"quote_product": "habitation", "quote_housing": "appartement", "quote_rooms": 3, "quote_postcode": "79000",
     "quote_occupant": "locataire"},
    {"quote_product": "habitation", "quote_housing": "maison", "quote_surface_m2": 120, "quote_postcode": "17000",
     "quote_occupant": "proprietaire"},
])
async def test_the_risk_read_from_words_is_priced_by_the_real_tariff(domain, client, slots):
    dispatcher = CollectingDispatcher()
    events = await ActionCreateQuote().run(dispatcher, make_tracker(domain, slots=slots), domain)
    assert slot_sets(events)["quote_ready"] is True, responses(dispatcher)
    assert len(slot_sets(events)["quote_formulas"]) >= 2


async def test_a_deductible_the_tariff_does_not_have_is_said_and_each_formulas_usual_one_priced(domain, client):
    dispatcher = CollectingDispatcher()
    slots = {**CAR, "quote_usage": "prive", "quote_young_driver": True, "quote_deductible_eur": 200}
    events = await ActionCreateQuote().run(dispatcher, make_tracker(domain, slots=slots), domain)
    assert responses(dispatcher)[:2] == ["utter_quote_deductible_not_offered", "utter_quote_formulas_intro"]
    assert dispatcher.messages[0]["deductible"] == "200,00\xa0€"
    made = slot_sets(events)
    assert made["quote_deductible_eur"] is None and made["quote_ready"] is True and len(made["quote_formulas"]) == 3


async def test_an_answer_the_tariff_refuses_is_asked_again_the_others_kept(domain, client):
    dispatcher = CollectingDispatcher()
    slots = {"quote_product": "habitation", "quote_housing": "appartement", "quote_rooms": 3,
             "quote_postcode": "97500", "quote_occupant": "locataire"}  # Saint-Pierre: out of the tariff's zones
    events = await ActionCreateQuote().run(dispatcher, make_tracker(domain, slots=slots), domain)
    assert responses(dispatcher) == ["utter_quote_answer_refused"]
    assert slot_sets(events) == {"quote_postcode": None, "quote_ready": False}
    assert events[-1] == {"event": "followup", "name": "quote_form", "timestamp": None}


async def test_the_form_re_opened_after_a_refusal_does_not_read_the_opening_request_again(domain):
    tracker = make_tracker(domain, slots={"quote_product": "habitation", "quote_housing": "appartement",
                                          "quote_rooms": 3, "quote_occupant": "locataire"},
                           text="un devis pour mon appart de 3 pieces a st pierre 97500", intent="request_quote",
                           events=[{"event": "action", "name": "action_create_quote"},
                                   {"event": "action", "name": "action_extract_slots"}])
    events = await ValidateQuoteForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_sets(events) == {"requested_slot": "quote_postcode"}


async def test_a_real_quote_passed_to_an_adviser_and_e_mailed(domain, client, services):
    from tests.reference_services.helpers import query

    created = await ActionCreateQuote().run(CollectingDispatcher(), make_tracker(domain, slots={
        **CAR, "quote_usage": "prive", "quote_young_driver": True}), domain)
    made = slot_sets(created)
    dispatcher = CollectingDispatcher()
    await ActionQuoteFollowUp().run(dispatcher, make_tracker(domain, slots={
        "quote_reference": made["quote_reference"], "quote_formulas": made["quote_formulas"],
        "quote_formula": "tiers_etendu", "quote_follow_up_confirmed": True, "quote_contact": "lea@exemple.fr"}), domain)
    assert responses(dispatcher) == ["utter_quote_follow_up_filed_contact", "utter_quote_emailed"]
    [(summary, contact)] = query(services, "SELECT summary, contact FROM handoffs WHERE reference = ?",
                                 (dispatcher.messages[0]["handoff_reference"],))
    assert made["quote_reference"] in summary and contact == "lea@exemple.fr"
    assert (f"quote:{made['quote_reference']}",) in query(
        services, "SELECT attachment FROM outbox WHERE recipient = ?", ("lea@exemple.fr",))


async def test_no_address_after_all_sends_nothing_and_asks_no_more(domain, fake_services):
    from actions.quotes import ValidateQuoteEmailForm

    slots = {"quote_reference": "DEV-2026-000042", "quote_email_needed": True}
    tracker = in_quote_form(domain, "non", intent="deny", requested="quote_email", slots=slots, form="quote_email_form")
    validated = await ValidateQuoteEmailForm().run(CollectingDispatcher(), tracker, domain)
    assert slot_sets(validated) == {"quote_email": None, "requested_slot": None}
    after = await ActionEmailQuote().run(CollectingDispatcher(), make_tracker(domain, slots=slots), domain)
    assert slot_sets(after) == {"quote_email_needed": None} and not fake_services.calls
