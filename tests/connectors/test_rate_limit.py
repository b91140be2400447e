"""Per-sender and per-IP token buckets: in the process, and in Redis shared by replicas."""
import os

import pytest

from connectors.rate_limit import Limit, RateLimiter, TokenBuckets, retry_after
from tests.connectors.channel_server import refusal


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def test_a_burst_up_to_the_limit_goes_through_then_the_next_message_waits(clock):
    buckets = TokenBuckets(Limit(3, 30), clock)
    assert [buckets.take("s") for _ in range(3)] == [None, None, None]
    assert buckets.take("s") == pytest.approx(10)


def test_tokens_come_back_evenly_over_the_period(clock):
    buckets = TokenBuckets(Limit(3, 30), clock)
    for _ in range(3):
        buckets.take("s")
    clock.now += 10
    assert buckets.take("s") is None
    assert buckets.take("s") == pytest.approx(10)


async def test_each_sender_has_its_own_bucket(clock):
    limiter = RateLimiter(Limit(1, 60), Limit(100, 60), clock)
    assert await limiter.check(sender="a") is None
    assert await limiter.check(sender="a") is not None
    assert await limiter.check(sender="b") is None


async def test_one_address_is_limited_whatever_the_senders(clock):
    limiter = RateLimiter(Limit(100, 60), Limit(2, 60), clock)
    assert await limiter.check(ip="10.0.0.1", sender="a") is None
    assert await limiter.check(ip="10.0.0.1", sender="b") is None
    assert await limiter.check(ip="10.0.0.1", sender="c") is not None
    assert await limiter.check(ip="10.0.0.2", sender="c") is None


def test_refused_messages_do_not_postpone_the_next_allowed_one(clock):
    buckets = TokenBuckets(Limit(1, 10), clock)
    buckets.take("s")
    for _ in range(50):
        buckets.take("s")
    clock.now += 10
    assert buckets.take("s") is None


def test_limits_come_from_the_environment():
    limiter = RateLimiter.from_environment({"RATE_LIMIT_PER_SENDER": "5/10", "RATE_LIMIT_PER_IP": "50/30"})
    assert limiter.senders.limit == Limit(5, 10) and limiter.ips.limit == Limit(50, 30)
    defaults = RateLimiter.from_environment({})
    assert defaults.senders.limit == Limit(20, 60) and defaults.ips.limit == Limit(300, 60)


@pytest.mark.parametrize("setting", ["20", "abc/60", "0/60", "20/0", "-1/5", "20/sixty", "20/inf", "20/nan"])
def test_a_wrong_setting_is_refused_naming_the_variable(setting):
    with pytest.raises(ValueError, match="RATE_LIMIT_PER_SENDER"):
        RateLimiter.from_environment({"RATE_LIMIT_PER_SENDER": setting})


def test_the_answer_says_how_long_to_wait_in_whole_seconds():
    assert "Patientez 3 secondes" in refusal("too_many_messages", "rest", 2.2)
    assert "Patientez 1 seconde " in refusal("too_many_messages", "rest", 0.1)
    assert retry_after(2.2) == "3"


# --- shared by the replicas, in Redis ------------------------------------------------------


REPLICA_PER_SENDER, REPLICA_PER_IP = Limit(3, 60), Limit(1000, 60)


def replica(redis_server, per_sender=REPLICA_PER_SENDER, per_ip=REPLICA_PER_IP) -> RateLimiter:
    """The limiter of one Rasa replica, with its own connection to the Redis of production."""
    return RateLimiter.from_environment({
        "REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_server.port), "REDIS_PASSWORD": redis_server.password,
        "RATE_LIMIT_PER_SENDER": f"{per_sender.messages}/{per_sender.seconds:g}",
        "RATE_LIMIT_PER_IP": f"{per_ip.messages}/{per_ip.seconds:g}",
    })


async def test_two_replicas_sharing_redis_allow_the_limit_once(redis_server):
    first, second = replica(redis_server), replica(redis_server)
    sender = f"rest:{os.urandom(8).hex()}"
    allowed = [await limiter.check(sender=sender) is None for limiter in (first, second, first, second, first)]
    assert allowed == [True, True, True, False, False]
    wait = await second.check(sender=sender)
    assert 0 < wait <= 20  # a token comes back every 60/3 seconds
    assert await second.check(sender=f"rest:{os.urandom(8).hex()}") is None  # another sender: its own bucket


async def test_an_address_is_limited_once_across_replicas(redis_server):
    first, second = replica(redis_server, per_ip=Limit(2, 60)), replica(redis_server, per_ip=Limit(2, 60))
    address = f"ip:10.9.{os.urandom(1)[0]}.{os.urandom(1)[0]}-{os.urandom(4).hex()}"
    assert await first.check(ip=address) is None and await second.check(ip=address) is None
    assert await first.check(ip=address) is not None and await second.check(ip=address) is not None


async def test_the_limit_is_counted_atomically_when_replicas_ask_at_the_same_time(redis_server):
    import asyncio

    replicas = [replica(redis_server, per_sender=Limit(10, 60)) for _ in range(4)]
    sender = f"rest:{os.urandom(8).hex()}"
    answers = await asyncio.gather(*(limiter.check(sender=sender) for limiter in replicas for _ in range(10)))
    assert sum(answer is None for answer in answers) == 10


async def test_with_redis_down_each_replica_limits_alone_and_redis_is_tried_again_later(unreachable_redis, caplog):
    """Neither every message refused (an outage for every customer) nor every one let through
    (no protection): each replica keeps the limit itself, as without Redis."""
    redis_of_first, redis_of_second = unreachable_redis(), unreachable_redis()
    first = RateLimiter(Limit(2, 60), Limit(1000, 60), shared=redis_of_first)
    second = RateLimiter(Limit(2, 60), Limit(1000, 60), shared=redis_of_second)
    for limiter in (first, second):
        assert [await limiter.check(sender="s") is None for _ in range(3)] == [True, True, False]
    assert "Redis unreachable" in caplog.text
    assert not redis_of_first.available()  # not tried again at every message, for a while
