"""Where an adviser's message goes on a messaging app: the address behind a conversation's
pseudonym, remembered from the customer's last message for as long as the platform lets a
business write back, found by whichever replica the console reaches."""
import os

from connectors.recipients import Recipients
from connectors.shared_state import SharedRedis


class Clock:
    def __init__(self) -> None:
        self.now = 1_790_000_000.0

    def __call__(self) -> float:
        return self.now


def environment(redis_server):
    return {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_server.port), "REDIS_PASSWORD": redis_server.password}


def conversation() -> str:
    return f"whatsapp:{os.urandom(8).hex()}"


async def test_the_address_of_the_last_message_is_found_within_whatsapps_24_hours():
    clock = Clock()
    kept = Recipients(shared=None, clock=clock)
    sender = conversation()
    await kept.remember(sender, "whatsapp", "33612345678")
    clock.now += 23 * 3600
    found = await kept.find(sender)
    assert (found.platform, found.address) == ("whatsapp", "33612345678")
    clock.now += 2 * 3600
    assert await kept.find(sender) is None  # the window closed: nothing can be sent, nothing kept


async def test_each_message_moves_the_window_on():
    clock = Clock()
    kept = Recipients(shared=None, clock=clock)
    sender = conversation()
    await kept.remember(sender, "messenger", "6543210987654321")
    clock.now += 20 * 3600
    await kept.remember(sender, "messenger", "6543210987654321")
    clock.now += 20 * 3600
    assert (await kept.find(sender)).address == "6543210987654321"


async def test_telegram_has_no_window_and_is_kept_a_week():
    clock = Clock()
    kept = Recipients(shared=None, clock=clock)
    sender = conversation()
    await kept.remember(sender, "telegram", "424242")
    clock.now += 6 * 24 * 3600
    assert (await kept.find(sender)).address == "424242"
    clock.now += 2 * 24 * 3600
    assert await kept.find(sender) is None


async def test_an_unknown_conversation_has_no_address():
    assert await Recipients(shared=None).find(conversation()) is None


async def test_a_replica_finds_the_address_another_one_saw_and_redis_forgets_it_with_the_window(redis_server):
    first = Recipients(shared=SharedRedis.from_environment(environment(redis_server)))
    second = Recipients(shared=SharedRedis.from_environment(environment(redis_server)))
    sender = conversation()
    await first.remember(sender, "whatsapp", "33698765432")
    assert (await second.find(sender)).address == "33698765432"
    lifetime = await second._shared.client.ttl(f"oyat:recipient:{sender}")
    assert 0 < lifetime <= 24 * 3600


async def test_with_redis_down_the_replica_that_saw_the_message_still_finds_it(unreachable_redis):
    kept = Recipients(shared=unreachable_redis())
    sender = conversation()
    await kept.remember(sender, "telegram", "777")
    assert (await kept.find(sender)).address == "777"
