"""The action server's client of quotes and simulations (core/service_client.py) against the
real policy service: answers as the contract's models, refusals typed with their fields."""
import pytest

from core.service_client import CustomerIdentity, NotFound, ServiceRefusal, ServicesClient
from core.service_contract import ErrorCode, HandoffCreated, Quote, SentTo, Simulation
from tests.conftest import identity_assertion
from tests.reference_services.helpers import MARIE, query

CAR = {"vehicle_model": "clio", "vehicle_year": 2019, "usage": "prive", "parking": "garage"}


@pytest.fixture
async def client(services):
    client = ServicesClient(services.base_url, services.base_url, services.token, timeout_seconds=5)
    yield client
    await client.close()


def marie() -> CustomerIdentity:
    return CustomerIdentity(MARIE, identity_assertion(MARIE))


async def test_a_visitor_gets_a_quote_reads_it_back_has_it_emailed_and_asks_for_a_formula(client, services):
    quote = await client.create_quote("auto", CAR)
    assert isinstance(quote, Quote) and [f.code for f in quote.formulas] == ["tiers", "tiers_etendu", "tous_risques"]
    assert quote.risk["vehicle_group"] == 3 and quote.expired is False
    assert (await client.get_quote(quote.reference)) == quote
    sent = await client.email_quote(quote.reference, "visiteur@example.fr")
    assert isinstance(sent, SentTo) and sent.sent_to != "visiteur@example.fr"
    handoff = await client.request_quote_follow_up(quote.reference, "tous_risques", "widget",
                                                   contact="visiteur@example.fr", conversation_id="widget:q1")
    assert isinstance(handoff, HandoffCreated) and handoff.status == "waiting"
    assert query(services, "SELECT reason, contact FROM handoffs WHERE reference = ?",
                 [handoff.reference]) == [("quote", "visiteur@example.fr")]


async def test_an_identified_customer_quotes_follows_up_and_simulates(client):
    quote = await client.create_quote("habitation", {"housing": "maison", "surface_m2": 110, "postcode": "79000",
                                                     "occupant": "proprietaire"}, marie())
    handoff = await client.request_quote_follow_up(quote.reference, "confort", "rest", customer=marie())
    assert handoff.reference.startswith("TRF-")
    simulation = await client.simulate_contract_change(marie(), "AUT-482913", {"deductible_eur": 150})
    assert isinstance(simulation, Simulation)
    assert simulation.current.monthly_premium_cents == 4890 and simulation.difference_monthly_cents > 0
    assert simulation.effective_rule == "next_month"


async def test_refusals_come_typed_with_their_fields(client):
    with pytest.raises(ServiceRefusal) as refused:
        await client.create_quote("auto", {**CAR, "vehicle_year": 1900})
    assert refused.value.code == ErrorCode.validation_error
    assert set(refused.value.details["fields"]) == {"risk.vehicle_year"}
    with pytest.raises(NotFound) as missing:
        await client.get_quote("DEV-2026-999999")
    assert missing.value.code == ErrorCode.quote_not_found
    with pytest.raises(ServiceRefusal) as refused:
        await client.simulate_contract_change(marie(), "AUT-482913", {"add_guarantees": ["rayures"]})
    assert "add_guarantees" in refused.value.details["fields"]
