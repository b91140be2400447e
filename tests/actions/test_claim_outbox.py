"""Claims confirmed while the claims service was down: filed later, once, or handed over."""
import datetime as dt
import uuid

import pytest

from actions.claim_outbox import FILED, PENDING, REFUSED, ClaimOutbox, file_due_claims
from core.service_client import CustomerIdentity
from tests.actions.helpers import MARIE, as_identified
from tests.conftest import identity_assertion
from tests.reference_services.helpers import count

NOW = 1_800_000_000.0


def water_leak(contract="HAB-120034"):
    return {
        "contract_number": contract, "claim_type": "degat_des_eaux",
        "occurred_on": (dt.date.today() - dt.timedelta(days=1)).isoformat(),
        "place": "cuisine", "circumstances": "fuite sous l'évier", "damage": "parquet gonflé",
        "third_party": None, "witnesses": None, "channel": "rest",
    }


@pytest.fixture
async def outbox(tmp_path):
    outbox = ClaimOutbox(f"sqlite:///{tmp_path / 'claim_outbox.db'}")
    yield outbox
    await outbox.close()


async def test_a_queued_claim_is_filed_once_the_claims_service_answers(outbox, client, services):
    key = str(uuid.uuid4())
    await outbox.queue(key, as_identified(MARIE), "conversation-1", water_leak(), [], NOW)

    assert await file_due_claims(outbox, client, NOW) == {FILED: 1, PENDING: 0, REFUSED: 0}

    entry = await outbox.get(key)
    assert entry.status == FILED and entry.declaration is None  # nothing of it kept here
    claim = services.get(f"/v1/customers/{MARIE}/claims/{entry.claim_number}").json()
    assert claim["place"] == "cuisine"
    assert await file_due_claims(outbox, client, NOW + 3600) == {FILED: 0, PENDING: 0, REFUSED: 0}


async def test_a_claim_that_reached_the_service_before_timing_out_is_not_filed_twice(outbox, client, services):
    key = str(uuid.uuid4())
    first = await client.file_claim(as_identified(MARIE), water_leak(), key)  # the attempt the customer never heard back from
    await outbox.queue(key, as_identified(MARIE), "conversation-2", water_leak(), [], NOW)

    await file_due_claims(outbox, client, NOW)

    assert (await outbox.get(key)).claim_number == first.claim_number
    assert count(services, "claims", "idempotency_key = ?", (key,)) == 1


async def test_queueing_the_same_declaration_twice_keeps_one_entry(outbox, client):
    key = str(uuid.uuid4())
    await outbox.queue(key, as_identified(MARIE), "conversation-3", water_leak(), [], NOW)
    await outbox.queue(key, as_identified(MARIE), "conversation-3", water_leak(), [], NOW + 1)
    assert len(await outbox.of_conversation("conversation-3", MARIE)) == 1


async def test_while_the_claims_service_is_down_each_retry_waits_longer(outbox, unreachable_services):
    key = str(uuid.uuid4())
    await outbox.queue(key, as_identified(MARIE), "conversation-4", water_leak(), [], NOW)

    assert (await file_due_claims(outbox, unreachable_services, NOW, retry_seconds=10))[PENDING] == 1
    assert await outbox.due(NOW + 9) == []
    assert (await file_due_claims(outbox, unreachable_services, NOW + 10, retry_seconds=10))[PENDING] == 1
    assert await outbox.due(NOW + 29) == []  # 10 s, then 20 s
    entry = await outbox.get(key)
    assert entry.status == PENDING and entry.attempts == 2 and entry.declaration == water_leak()


async def test_a_declaration_the_service_refuses_is_handed_to_an_adviser(outbox, client, services):
    key = str(uuid.uuid4())
    handoffs = count(services, "handoffs", "customer_id = ?", (MARIE,))
    await outbox.queue(key, as_identified(MARIE), "conversation-5", water_leak(contract="AUT-559120"), [], NOW)  # Karim's

    assert (await file_due_claims(outbox, client, NOW))[REFUSED] == 1

    assert (await outbox.get(key)).status == REFUSED
    assert count(services, "handoffs", "customer_id = ?", (MARIE,)) == handoffs + 1
    assert count(services, "claims", "idempotency_key = ?", (key,)) == 0


async def test_a_queued_claim_is_filed_with_an_assertion_that_expired_meanwhile(outbox, client, services):
    """The claims service takes it for this filing within its grace (a week)."""
    key = str(uuid.uuid4())
    expired_yesterday = CustomerIdentity(MARIE, identity_assertion(MARIE, minutes=60, issued_minutes_ago=25 * 60))
    await outbox.queue(key, expired_yesterday, "conversation-6", water_leak(), [], NOW)

    assert await file_due_claims(outbox, client, NOW) == {FILED: 1, PENDING: 0, REFUSED: 0}
    assert (await outbox.get(key)).identity_assertion is None  # nothing of it kept once filed


async def test_past_the_grace_of_its_assertion_a_queued_claim_goes_to_an_adviser(outbox, client, services):
    key = str(uuid.uuid4())
    handoffs = count(services, "handoffs", "summary LIKE ?", (f"Client {MARIE} (identité à vérifier)%",))
    expired_long_ago = CustomerIdentity(MARIE, identity_assertion(MARIE, minutes=60, issued_minutes_ago=8 * 24 * 60))
    await outbox.queue(key, expired_long_ago, "conversation-7", water_leak(), [], NOW)

    assert (await file_due_claims(outbox, client, NOW))[REFUSED] == 1

    assert (await outbox.get(key)).refusal == "identity_expired"
    assert count(services, "claims", "idempotency_key = ?", (key,)) == 0
    assert count(services, "handoffs", "summary LIKE ?", (f"Client {MARIE} (identité à vérifier)%",)) == handoffs + 1
