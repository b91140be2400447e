"""How many files, and how many megabytes, a conversation and an address may send: in the
process, and in Redis shared by the replicas."""

import asyncio
import logging
import os

import pytest

from connectors.shared_state import SharedRedis
from connectors.upload_limits import (
    MEGABYTE,
    Allowance,
    InProcessUploadAllowances,
    UploadAllowances,
    address_key,
    allowances_from_environment,
    wait_label,
)

DAY, HOUR = 86400, 3600


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def allowances(clock, files_per_conversation="3/86400", mb_per_conversation="30/86400",
               files_per_address="5/3600", mb_per_address="100/3600"):
    given = {
        "UPLOAD_FILES_PER_CONVERSATION": files_per_conversation,
        "UPLOAD_MEGABYTES_PER_CONVERSATION": mb_per_conversation,
        "UPLOAD_FILES_PER_ADDRESS": files_per_address,
        "UPLOAD_MEGABYTES_PER_ADDRESS": mb_per_address,
    }
    return InProcessUploadAllowances({name: Allowance.parse(text, name) for name, text in given.items()}, clock)


def test_by_default_ten_files_and_30_mb_a_conversation_a_day_30_files_and_100_mb_an_address_an_hour():
    limits = InProcessUploadAllowances(allowances_from_environment({}, largest_file=10 * MEGABYTE), Clock())
    assert all(limits.take("conv", None, 1000) is None for _ in range(10))
    assert limits.take("conv", None, 1000) == pytest.approx(DAY / 10)
    assert limits.take("big", None, 30 * MEGABYTE) is None
    assert limits.take("big", None, 1) is not None
    assert all(limits.take(f"conv-{n}", "192.0.2.1", 1000) is None for n in range(30))
    assert limits.take("conv-30", "192.0.2.1", 1000) == pytest.approx(HOUR / 30)
    assert all(limits.take(f"large-{n}", "192.0.2.2", 10 * MEGABYTE) is None for n in range(10))
    assert limits.take("large-10", "192.0.2.2", 1) is not None


def test_a_conversation_beyond_its_files_waits_and_nothing_more_is_counted():
    clock = Clock()
    limits = allowances(clock)
    assert [limits.take("conv", "192.0.2.1", 100) for _ in range(3)] == [None, None, None]
    wait = limits.take("conv", "192.0.2.1", 100)
    assert wait == pytest.approx(DAY / 3)
    # The refused file counted nowhere: the address still has its two files left.
    assert limits.take("other", "192.0.2.1", 100) is None
    assert limits.take("third", "192.0.2.1", 100) is None
    assert limits.take("fourth", "192.0.2.1", 100) is not None


def test_the_allowance_refills_evenly():
    clock = Clock()
    limits = allowances(clock)
    for _ in range(3):
        limits.take("conv", None, 100)
    clock.now += DAY / 3 - 1
    assert limits.take("conv", None, 100) is not None
    clock.now += 1
    assert limits.take("conv", None, 100) is None


def test_bytes_count_as_well_as_files():
    clock = Clock()
    limits = allowances(clock, files_per_conversation="100/86400", mb_per_conversation="25/86400")
    assert limits.take("conv", None, 10 * MEGABYTE) is None
    assert limits.take("conv", None, 10 * MEGABYTE) is None
    wait = limits.take("conv", None, 10 * MEGABYTE)
    assert wait == pytest.approx(5 * MEGABYTE / (25 * MEGABYTE / DAY))
    assert limits.take("conv", None, 5 * MEGABYTE) is None


def test_an_address_is_bounded_across_its_conversations():
    clock = Clock()
    limits = allowances(clock)
    assert all(limits.take(f"conv-{n}", "198.51.100.7", 100) is None for n in range(5))
    assert limits.take("conv-new", "198.51.100.7", 100) == pytest.approx(HOUR / 5)
    assert limits.take("conv-new", "198.51.100.8", 100) is None  # another address


def test_an_ipv6_address_counts_by_its_64_block():
    clock = Clock()
    limits = allowances(clock)
    for n in range(5):
        assert limits.take(f"conv-{n}", f"2001:db8:1:2::{n + 1}", 100) is None
    assert limits.take("conv-5", "2001:db8:1:2:ffff::9", 100) is not None
    assert limits.take("conv-6", "2001:db8:1:3::1", 100) is None


@pytest.mark.parametrize("address, key", [
    ("192.0.2.1", "192.0.2.1"),
    ("::ffff:192.0.2.1", "192.0.2.1"),
    ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
    ("not an address", "not an address"),
    ("", None),
    (None, None),
])
def test_address_key(address, key):
    assert address_key(address) == key


def test_a_file_given_back_frees_its_room():
    clock = Clock()
    limits = allowances(clock)
    for _ in range(3):
        limits.take("conv", "192.0.2.1", 100)
    limits.give_back("conv", "192.0.2.1", 100)
    assert limits.take("conv", "192.0.2.1", 100) is None


@pytest.mark.parametrize("text", ["", "10", "ten/60", "0/60", "10/0", "10/-5", "10/inf", "-1/60"])
def test_a_malformed_allowance_names_its_variable(text):
    with pytest.raises(ValueError, match="UPLOAD_FILES_PER_ADDRESS"):
        allowances_from_environment({"UPLOAD_FILES_PER_ADDRESS": text or "x"})


def test_an_allowance_smaller_than_one_largest_file_stops_the_start():
    with pytest.raises(ValueError, match="UPLOAD_MEGABYTES_PER_CONVERSATION"):
        allowances_from_environment({"UPLOAD_MEGABYTES_PER_CONVERSATION": "5/86400"}, largest_file=10 * MEGABYTE)


@pytest.mark.parametrize("seconds, label", [
    (1, "1 minute"), (59, "1 minute"), (61, "2 minutes"), (3599, "1 heure"), (3601, "2 heures"),
    (DAY / 3, "8 heures"),
])
def test_the_wait_is_said_in_minutes_or_hours(seconds, label):
    assert wait_label(seconds) == label


# --- shared by the replicas, in Redis ------------------------------------------------------


def redis_environment(redis_server, **allowances):
    return {"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(redis_server.port), "REDIS_PASSWORD": redis_server.password,
            **allowances}


def replica(redis_server, **allowances) -> UploadAllowances:
    """The allowances of one Rasa replica, with its own connection to the Redis of production."""
    return UploadAllowances.from_environment(redis_environment(redis_server, **allowances), largest_file=MEGABYTE)


def new_conversation() -> str:
    return f"widget:{os.urandom(16).hex()}"


def new_address() -> str:
    return f"10.{os.urandom(1)[0]}.{os.urandom(1)[0]}.{os.urandom(1)[0] % 254 + 1}"


async def test_two_replicas_sharing_redis_allow_a_conversations_files_once(redis_server):
    first, second = (replica(redis_server, UPLOAD_FILES_PER_CONVERSATION="3/86400") for _ in range(2))
    conversation = new_conversation()
    taken = [await limits.take(conversation, None, 100) is None for limits in (first, second, first, second, first)]
    assert taken == [True, True, True, False, False]
    wait = await second.take(conversation, None, 100)
    assert DAY / 3 - 60 < wait <= DAY / 3  # a file comes back every 86400/3 seconds
    assert await second.take(new_conversation(), None, 100) is None  # another conversation: its own allowance


async def test_an_address_is_bounded_once_across_replicas_and_an_ipv6_one_by_its_64(redis_server):
    first, second = (replica(redis_server, UPLOAD_FILES_PER_ADDRESS="2/3600") for _ in range(2))
    address = new_address()
    assert await first.take(new_conversation(), address, 100) is None
    assert await second.take(new_conversation(), address, 100) is None
    assert await first.take(new_conversation(), address, 100) is not None
    assert await second.take(new_conversation(), address, 100) is not None
    block = f"2001:db8:{os.urandom(2).hex()}:1"
    assert await first.take(new_conversation(), f"{block}::1", 100) is None
    assert await second.take(new_conversation(), f"{block}:ffff::2", 100) is None
    assert await first.take(new_conversation(), f"{block}::3", 100) is not None


async def test_megabytes_are_counted_once_across_replicas(redis_server):
    first, second = (replica(redis_server, UPLOAD_MEGABYTES_PER_CONVERSATION="3/86400") for _ in range(2))
    conversation = new_conversation()
    assert await first.take(conversation, None, MEGABYTE) is None
    assert await second.take(conversation, None, 2 * MEGABYTE) is None
    wait = await first.take(conversation, None, MEGABYTE // 2)
    assert 0 < wait <= DAY / 6  # half a megabyte comes back in a sixth of the day
    assert await second.take(conversation, None, 1) is not None


async def test_a_file_beyond_one_allowance_counts_against_none_of_them_in_redis(redis_server):
    first, second = (replica(redis_server, UPLOAD_FILES_PER_CONVERSATION="1/86400", UPLOAD_FILES_PER_ADDRESS="2/3600")
                     for _ in range(2))
    conversation, address = new_conversation(), new_address()
    assert await first.take(conversation, address, 100) is None
    for _ in range(5):  # beyond the conversation's: the address is not charged for them
        assert await second.take(conversation, address, 100) is not None
    assert await second.take(new_conversation(), address, 100) is None
    assert await first.take(new_conversation(), address, 100) is not None


async def test_replicas_taking_files_at_the_same_time_take_the_allowance_once(redis_server):
    replicas = [replica(redis_server, UPLOAD_FILES_PER_ADDRESS="5/3600") for _ in range(4)]
    address = new_address()
    answers = await asyncio.gather(*(limits.take(new_conversation(), address, 100)
                                     for limits in replicas for _ in range(5)))
    assert sum(answer is None for answer in answers) == 5


async def test_a_file_given_back_by_one_replica_frees_its_room_for_the_other_never_beyond_full(redis_server):
    first, second = (replica(redis_server, UPLOAD_FILES_PER_CONVERSATION="2/86400") for _ in range(2))
    conversation, address = new_conversation(), new_address()
    assert await first.take(conversation, address, 100) is None
    assert await first.take(conversation, address, 100) is None
    assert await second.take(conversation, address, 100) is not None
    await first.give_back(conversation, address, 100)  # the claims service could not store it
    assert await second.take(conversation, address, 100) is None
    for _ in range(4):  # given back more often than taken: still two files at once, no more
        await second.give_back(conversation, address, 100)
    assert [await first.take(conversation, address, 100) is None for _ in range(3)] == [True, True, False]


async def test_the_counters_live_under_their_own_keys_and_expire_once_full_again(redis_server):
    limits = replica(redis_server, UPLOAD_FILES_PER_CONVERSATION="2/86400", UPLOAD_FILES_PER_ADDRESS="3/3600")
    conversation, address = new_conversation(), new_address()
    await limits.take(conversation, address, 100)
    client = SharedRedis.from_environment(redis_environment(redis_server)).client
    lifetimes = {key.decode(): await client.ttl(key) for key in await client.keys(f"oyat:upload:*:{conversation}")}
    lifetimes.update({key.decode(): await client.ttl(key) for key in await client.keys(f"oyat:upload:*:{address}")})
    assert set(lifetimes) == {f"oyat:upload:files:conversation:{conversation}",
                              f"oyat:upload:bytes:conversation:{conversation}",
                              f"oyat:upload:files:address:{address}", f"oyat:upload:bytes:address:{address}"}
    assert 0 < lifetimes[f"oyat:upload:files:conversation:{conversation}"] <= DAY
    assert 0 < lifetimes[f"oyat:upload:files:address:{address}"] <= HOUR


async def test_with_redis_down_each_replica_counts_alone_and_logs_it_once(unreachable_redis, caplog):
    """Neither every file refused (an outage of the uploads) nor every file taken (no bound
    left): each replica keeps the allowances itself, as without Redis."""
    allowances = allowances_from_environment({"UPLOAD_FILES_PER_CONVERSATION": "2/86400"})
    first = UploadAllowances(allowances, shared=unreachable_redis())
    second = UploadAllowances(allowances, shared=unreachable_redis())
    with caplog.at_level(logging.WARNING):
        for limits in (first, second):
            assert [await limits.take("widget:conv", None, 100) is None for _ in range(3)] == [True, True, False]
            await limits.give_back("widget:conv", None, 100)
            assert await limits.take("widget:conv", None, 100) is None
    assert caplog.text.count("Redis unreachable") == 2  # once per replica


async def test_without_redis_host_each_process_counts_alone():
    environment = {"UPLOAD_FILES_PER_CONVERSATION": "1/86400"}
    first, second = (UploadAllowances.from_environment(environment, largest_file=MEGABYTE) for _ in range(2))
    assert await first.take("widget:conv", None, 100) is None
    assert await first.take("widget:conv", None, 100) is not None
    assert await second.take("widget:conv", None, 100) is None
