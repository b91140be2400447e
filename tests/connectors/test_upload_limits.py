"""How many files, and how many megabytes, a conversation and an address may send."""

import pytest

from connectors.upload_limits import (
    MEGABYTE,
    Allowance,
    InProcessUploadAllowances,
    address_key,
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
    limits = InProcessUploadAllowances.from_environment({}, largest_file=10 * MEGABYTE, clock=Clock())
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
        InProcessUploadAllowances.from_environment({"UPLOAD_FILES_PER_ADDRESS": text or "x"})


def test_an_allowance_smaller_than_one_largest_file_stops_the_start():
    with pytest.raises(ValueError, match="UPLOAD_MEGABYTES_PER_CONVERSATION"):
        InProcessUploadAllowances.from_environment({"UPLOAD_MEGABYTES_PER_CONVERSATION": "5/86400"},
                                                   largest_file=10 * MEGABYTE)


@pytest.mark.parametrize("seconds, label", [
    (1, "1 minute"), (59, "1 minute"), (61, "2 minutes"), (3599, "1 heure"), (3601, "2 heures"),
    (DAY / 3, "8 heures"),
])
def test_the_wait_is_said_in_minutes_or_hours(seconds, label):
    assert wait_label(seconds) == label
