"""What the replicas count together in Redis: the messaging apps' message ids already seen,
and Redis's own settings and failures."""
import asyncio
import logging
import os

import pytest

from connectors.messaging import RecentIds
from connectors.shared_state import RETRY_SECONDS, SharedRedis, Unavailable


def environment(redis_server):
    return {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_server.port), "REDIS_PASSWORD": redis_server.password}


def message_id() -> str:
    return f"wamid.{os.urandom(12).hex()}"


async def test_a_message_seen_by_one_replica_is_a_redelivery_for_the_other(redis_server):
    first = RecentIds("whatsapp", shared=SharedRedis.from_environment(environment(redis_server)))
    second = RecentIds("whatsapp", shared=SharedRedis.from_environment(environment(redis_server)))
    delivered = message_id()
    assert await first.first_time(delivered) is True
    assert await second.first_time(delivered) is False
    assert await first.first_time(delivered) is False
    assert await second.first_time(message_id()) is True


async def test_the_same_id_on_two_platforms_is_two_messages(redis_server):
    shared = SharedRedis.from_environment(environment(redis_server))
    update_id = int.from_bytes(os.urandom(4), "big")
    assert await RecentIds("telegram", shared=shared).first_time(update_id) is True
    assert await RecentIds("messenger", shared=shared).first_time(update_id) is True


async def test_a_message_delivered_to_two_replicas_at_once_is_handled_by_one(redis_server):
    replicas = [RecentIds("whatsapp", shared=SharedRedis.from_environment(environment(redis_server)))
                for _ in range(4)]
    delivered = message_id()
    firsts = await asyncio.gather(*(seen.first_time(delivered) for seen in replicas))
    assert sorted(firsts) == [False, False, False, True]


async def test_a_seen_id_expires_after_the_redelivery_window(redis_server):
    shared = SharedRedis.from_environment(environment(redis_server))
    delivered = message_id()
    await RecentIds("whatsapp", shared=shared).first_time(delivered)
    keys = await shared.client.keys("oyat:seen:whatsapp:*")
    lifetimes = [await shared.client.ttl(key) for key in keys]
    assert lifetimes and all(0 < lifetime <= 24 * 3600 for lifetime in lifetimes)
    assert all(len(key) < 64 for key in keys)  # hashed: bounded whatever the platform's id


async def test_with_redis_down_a_replica_still_recognises_what_it_saw(unreachable_redis, caplog):
    """A redelivery is handled twice only if it reaches another replica meanwhile: a message
    is never dropped because Redis is down."""
    seen = RecentIds("whatsapp", shared=unreachable_redis())
    delivered = message_id()
    with caplog.at_level(logging.WARNING):
        assert await seen.first_time(delivered) is True
        assert await seen.first_time(delivered) is False
        assert await seen.first_time(message_id()) is True
    assert caplog.text.count("Redis unreachable") == 1


async def test_redis_is_tried_again_after_a_while_and_counts_together_again(redis_server, caplog):
    now = [1000.0]
    shared = SharedRedis(SharedRedis.from_environment(environment(redis_server)).client, clock=lambda: now[0])

    async def failing(_client):
        raise ConnectionError("refused")

    with pytest.raises(Unavailable):
        await shared.run(failing)
    assert not shared.available()
    now[0] += RETRY_SECONDS
    assert shared.available()
    with caplog.at_level(logging.WARNING):
        assert await shared.run(lambda client: client.ping()) is True
    assert "reachable again" in caplog.text and shared.available()


def test_without_redis_host_each_process_counts_alone():
    assert SharedRedis.from_environment({}) is None
    assert SharedRedis.from_environment({"REDIS_HOST": " "}) is None


@pytest.mark.parametrize("port", ["abc", "٦٣٧٩", "-1"])
def test_a_wrong_port_stops_the_start_naming_the_variable(port):
    with pytest.raises(ValueError, match="REDIS_PORT"):
        SharedRedis.from_environment({"REDIS_HOST": "redis", "REDIS_PORT": port})


# --- one conversation's order across replicas (connectors.messaging.SharedOrder) -------------


def replicas(redis_server, count: int = 2, wait_seconds: float = 30.0):
    from connectors.messaging import InOrder, SharedOrder

    return [InOrder(SharedOrder(SharedRedis.from_environment(environment(redis_server)), wait_seconds=wait_seconds))
            for _ in range(count)]


async def test_a_conversations_messages_keep_their_order_across_replicas(redis_server):
    """The first message's webhook reached replica A, the second's replica B; B is ready
    first (A is still downloading a photo, say): B's message waits for A's."""
    first_replica, second_replica = replicas(redis_server)
    conversation = f"whatsapp:{os.urandom(16).hex()}"
    handled, first_may_go = [], asyncio.Event()

    async def first_message():
        await first_may_go.wait()
        handled.append("photo")

    async def second_message():
        handled.append("texte")

    first_ticket = await first_replica.ticket(conversation)
    second_ticket = await second_replica.ticket(conversation)
    assert (first_ticket, second_ticket) == (first_ticket, first_ticket + 1)
    second_replica.submit(conversation, second_message, second_ticket)
    first_replica.submit(conversation, first_message, first_ticket)
    await asyncio.sleep(0.3)
    assert handled == []  # the second message waits for the first
    first_may_go.set()
    await asyncio.gather(first_replica.drain(), second_replica.drain())
    assert handled == ["photo", "texte"]


async def test_a_replica_that_died_holding_a_turn_delays_the_next_message_once(redis_server):
    first_replica, second_replica = replicas(redis_server, wait_seconds=0.5)
    conversation = f"telegram:{os.urandom(16).hex()}"
    handled = []
    await first_replica.ticket(conversation)  # taken, then the replica died
    for text in ("un", "deux"):
        ticket = await second_replica.ticket(conversation)
        second_replica.submit(conversation, lambda text=text: _append(handled, text), ticket)
    await second_replica.drain()
    assert handled == ["un", "deux"]


async def _append(handled, text):
    handled.append(text)


async def test_order_counters_hold_no_conversation_id_and_expire(redis_server):
    [replica] = replicas(redis_server, count=1)
    conversation = f"messenger:{os.urandom(16).hex()}"
    ticket = await replica.ticket(conversation)
    replica.submit(conversation, lambda: asyncio.sleep(0), ticket)
    await replica.drain()
    client = replica.shared_order._shared.client
    keys = await client.keys("oyat:order:*")
    assert keys and all(conversation.encode() not in key for key in keys)
    lifetimes = [await client.ttl(key) for key in keys]
    assert all(0 < lifetime <= 3600 for lifetime in lifetimes)


async def test_with_redis_down_messages_are_handled_in_the_replicas_order(unreachable_redis):
    from connectors.messaging import InOrder, SharedOrder

    replica = InOrder(SharedOrder(unreachable_redis()))
    handled = []
    for text in ("un", "deux", "trois"):
        ticket = await replica.ticket("whatsapp:abc")
        assert ticket is None
        replica.submit("whatsapp:abc", lambda text=text: _append(handled, text), ticket)
    await replica.drain()
    assert handled == ["un", "deux", "trois"]
