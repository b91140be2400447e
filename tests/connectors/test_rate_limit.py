"""Per-sender and per-IP token buckets."""
import pytest

from connectors.rate_limit import Limit, RateLimiter, TokenBuckets, refusal_text, retry_after


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


def test_each_sender_has_its_own_bucket(clock):
    limiter = RateLimiter(Limit(1, 60), Limit(100, 60), clock)
    assert limiter.check(sender="a") is None
    assert limiter.check(sender="a") is not None
    assert limiter.check(sender="b") is None


def test_one_address_is_limited_whatever_the_senders(clock):
    limiter = RateLimiter(Limit(100, 60), Limit(2, 60), clock)
    assert limiter.check(ip="10.0.0.1", sender="a") is None
    assert limiter.check(ip="10.0.0.1", sender="b") is None
    assert limiter.check(ip="10.0.0.1", sender="c") is not None
    assert limiter.check(ip="10.0.0.2", sender="c") is None


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


@pytest.mark.parametrize("setting", ["20", "abc/60", "0/60", "20/0", "-1/5", "20/sixty"])
def test_a_wrong_setting_is_refused_naming_the_variable(setting):
    with pytest.raises(ValueError, match="RATE_LIMIT_PER_SENDER"):
        RateLimiter.from_environment({"RATE_LIMIT_PER_SENDER": setting})


def test_the_answer_says_how_long_to_wait_in_whole_seconds():
    assert "Patientez 3 secondes" in refusal_text(2.2)
    assert "Patientez 1 seconde " in refusal_text(0.1)
    assert retry_after(2.2) == "3"
