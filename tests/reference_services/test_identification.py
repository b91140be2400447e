"""Identification by customer id: birth date, SMS code, and the locks of wrong answers,
which are per conversation and per source, never per customer (docs/identification.md)."""
import re
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

import pytest

from reference_services.policy.identification import counter_key
from tests.conftest import TEST_DOCUMENT_LINK_SECRET
from tests.reference_services.helpers import count, execute, latest_message, minutes_ago, new_customer, query

UNKNOWN_CUSTOMER = "29999999"
WRONG_BIRTH_DATE = "1980-01-01"


class Asker:
    """One conversation, from one source (None: the channel did not say)."""

    def __init__(self, source=None, channel="rest"):
        self.conversation_id = f"test-{uuid.uuid4()}"
        self.source = source
        self.channel = channel

    @classmethod
    def from_new_source(cls):
        return cls(source=f"test-source-{uuid.uuid4().hex}")

    def fields(self):
        fields = {"conversation_id": self.conversation_id, "channel": self.channel}
        if self.source is not None:
            fields["source"] = self.source
        return fields

    def in_same_source(self):
        return Asker(self.source, self.channel)


def start(services, customer_id, birth_date, asker):
    return services.post(f"/v1/customers/{customer_id}/identity-checks",
                         json={"birth_date": birth_date, **asker.fields()})


def verify(services, check_id, code, asker):
    return services.post(f"/v1/identity-checks/{check_id}/verify",
                         json={"code": code, **asker.fields()})


def sent_code(services, customer):
    message = latest_message(services, customer["phone"])
    assert message["channel"] == "sms"
    return re.search(r"\b(\d{6})\b", message["body"]).group(1)


def sms_count(services, customer):
    return count(services, "outbox", "recipient = ?", (customer["phone"],))


def wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def error_of(response):
    return response.status_code, response.json()["error"]["code"]


def answer_shape(response):
    """What an answer tells, without the values that differ on every call (ids, times)."""
    body = response.json()
    if "error" in body:
        return response.status_code, {k: v for k, v in body["error"].items() if k != "locked_until"}
    return response.status_code, sorted(body)


def move_back(services, table, key_column, key, minutes, *columns):
    """Moves the given time columns of one row `minutes` into the past."""
    assignments = ", ".join(f"{column} = ?" for column in columns)
    execute(services, f"UPDATE {table} SET {assignments} WHERE {key_column} = ?",
            (*[minutes_ago(minutes)] * len(columns), key))


def source_key(source):
    return counter_key(TEST_DOCUMENT_LINK_SECRET, "source", source)


def conversation_key(asker):
    return counter_key(TEST_DOCUMENT_LINK_SECRET, "conversation", asker.conversation_id)


def wrong_answers_from(services, source, count):
    """`count` wrong answers from `source`, each in a conversation of its own; the last answer."""
    for _ in range(count):
        asker = Asker(source)
        check_id = start(services, UNKNOWN_CUSTOMER, WRONG_BIRTH_DATE, asker).json()["check_id"]
        last = verify(services, check_id, "123456", asker)
    return last


def lock_minutes(response):
    until = datetime.fromisoformat(response.json()["error"]["locked_until"])
    return round((until - datetime.now(timezone.utc)) / timedelta(minutes=1))


def test_right_birth_date_and_code_identify_the_customer(services):
    customer, asker = new_customer(services), Asker.from_new_source()
    started = start(services, customer["customer_id"], customer["birth_date"], asker)
    assert started.status_code == 201
    assert sorted(started.json()) == ["check_id", "expires_at"]  # no phone number, even masked
    response = verify(services, started.json()["check_id"], sent_code(services, customer), asker)
    assert response.status_code == 200
    assert response.json()["customer_id"] == customer["customer_id"]
    assert response.json()["verified"] is True


@pytest.mark.parametrize("who", ["unknown customer", "wrong birth date"])
def test_every_step_answers_alike_whether_the_customer_exists_and_the_birth_date_is_right(services, who):
    customer = new_customer(services)
    customer_id, birth_date = ((UNKNOWN_CUSTOMER, customer["birth_date"]) if who == "unknown customer"
                               else (customer["customer_id"], WRONG_BIRTH_DATE))
    real, other = Asker.from_new_source(), Asker.from_new_source()
    sms_before = sms_count(services, customer)

    real_check = start(services, customer["customer_id"], customer["birth_date"], real)
    other_check = start(services, customer_id, birth_date, other)
    assert answer_shape(other_check) == answer_shape(real_check) == (201, ["check_id", "expires_at"])
    assert sms_count(services, customer) == sms_before + 1  # the right birth date only
    code = sent_code(services, customer)

    real_answers = [verify(services, real_check.json()["check_id"], wrong(code), real) for _ in range(3)]
    other_answers = [verify(services, other_check.json()["check_id"], code, other) for _ in range(3)]
    assert [answer_shape(a) for a in other_answers] == [answer_shape(a) for a in real_answers]
    assert [error_of(a) for a in other_answers] == [
        (401, "wrong_code"), (401, "wrong_code"), (423, "identification_locked")]
    assert [a.json()["error"].get("attempts_left") for a in other_answers[:2]] == [2, 1]
    # Locked, both alike.
    assert answer_shape(start(services, customer_id, birth_date, other)) == answer_shape(
        start(services, customer["customer_id"], customer["birth_date"], real))


def test_a_strangers_wrong_answers_never_lock_the_customer_out(services):
    customer = new_customer(services)
    stranger = Asker.from_new_source()
    for _ in range(3):
        check_id = start(services, customer["customer_id"], WRONG_BIRTH_DATE, stranger).json()["check_id"]
        last = verify(services, check_id, "123456", stranger)
    assert error_of(last) == (423, "identification_locked")
    for _ in range(2):  # from another conversation of the same source, up to its lock
        other_conversation = stranger.in_same_source()
        check_id = start(services, customer["customer_id"], WRONG_BIRTH_DATE, other_conversation).json()["check_id"]
        last = verify(services, check_id, "123456", other_conversation)
    assert error_of(last) == (423, "identification_locked")
    assert error_of(start(services, customer["customer_id"], customer["birth_date"],
                          stranger.in_same_source())) == (423, "identification_locked")

    for own in (Asker.from_new_source(), Asker(source=None)):
        check_id = start(services, customer["customer_id"], customer["birth_date"], own).json()["check_id"]
        assert verify(services, check_id, sent_code(services, customer), own).status_code == 200


def test_three_wrong_answers_lock_the_conversation_even_for_right_answers(services):
    customer, asker = new_customer(services), Asker.from_new_source()
    check_id = start(services, customer["customer_id"], customer["birth_date"], asker).json()["check_id"]
    code = sent_code(services, customer)
    answers = [verify(services, check_id, wrong(code), asker) for _ in range(3)]
    assert error_of(answers[-1]) == (423, "identification_locked")
    assert lock_minutes(answers[-1]) == 15
    assert "0825 07 11 22" in answers[-1].json()["error"]["message"]
    assert error_of(verify(services, check_id, code, asker)) == (423, "identification_locked")
    assert error_of(start(services, customer["customer_id"], customer["birth_date"], asker)) == (
        423, "identification_locked")
    # Another conversation, from the same source or not, is not locked yet.
    assert start(services, customer["customer_id"], customer["birth_date"],
                 asker.in_same_source()).status_code == 201
    assert start(services, customer["customer_id"], customer["birth_date"], Asker()).status_code == 201


def test_five_wrong_answers_from_one_source_lock_its_conversations_not_the_others(services):
    source = Asker.from_new_source().source
    answers = [wrong_answers_from(services, source, 1) for _ in range(5)]
    assert [error_of(a) for a in answers] == [(401, "wrong_code")] * 4 + [(423, "identification_locked")]
    assert [a.json()["error"]["attempts_left"] for a in answers[:4]] == [2, 2, 2, 1]
    assert error_of(start(services, UNKNOWN_CUSTOMER, WRONG_BIRTH_DATE, Asker(source))) == (
        423, "identification_locked")
    assert start(services, UNKNOWN_CUSTOMER, WRONG_BIRTH_DATE, Asker.from_new_source()).status_code == 201


def test_a_conversation_without_a_source_is_locked_by_its_own_wrong_answers(services):
    customer, asker = new_customer(services), Asker(source=None)
    for _ in range(3):
        check_id = start(services, customer["customer_id"], WRONG_BIRTH_DATE, asker).json()["check_id"]
        last = verify(services, check_id, "123456", asker)
    assert error_of(last) == (423, "identification_locked")


def test_a_source_that_keeps_failing_waits_longer_each_time_up_to_a_day(services):
    source = Asker.from_new_source().source
    waits = []
    for _ in range(4):
        waits.append(lock_minutes(wrong_answers_from(services, source, 5)))
        # The lock is over; the source's wrong answers are older than 15 minutes.
        for key in (source_key(source),):
            move_back(services, "identification_counters", "key_hash", key, 16, "locked_until", "updated_at")
        execute(services, "DELETE FROM identification_counters WHERE scope = 'checks:source' AND key_hash = ?",
                (source_key(source),))
    assert waits == [15, 30, 60, 120]
    execute(services, "UPDATE identification_counters SET locks = 12 WHERE scope = 'source' AND key_hash = ?",
            (source_key(source),))
    assert lock_minutes(wrong_answers_from(services, source, 5)) == 24 * 60


def test_a_source_quiet_for_a_day_starts_again_from_fifteen_minutes(services):
    source = Asker.from_new_source().source
    execute(services, "INSERT INTO identification_counters (scope, key_hash, failures, locks, updated_at)"
                      " VALUES ('source', ?, 0, 5, ?)", (source_key(source), minutes_ago(25 * 60)))
    assert lock_minutes(wrong_answers_from(services, source, 5)) == 15


def test_checks_started_are_bounded_per_conversation_and_per_source_whatever_the_data(services):
    customer, asker = new_customer(services), Asker.from_new_source()
    data = [(customer["customer_id"], customer["birth_date"]), (customer["customer_id"], WRONG_BIRTH_DATE),
            (UNKNOWN_CUSTOMER, WRONG_BIRTH_DATE)] * 2
    answers = [start(services, customer_id, birth_date, asker) for customer_id, birth_date in data]
    assert [a.status_code for a in answers] == [201] * 5 + [423]
    assert lock_minutes(answers[-1]) == 15
    # The source: thirty checks in 15 minutes, across its conversations.
    source = Asker.from_new_source().source
    answers = [start(services, UNKNOWN_CUSTOMER, WRONG_BIRTH_DATE, Asker(source)) for _ in range(31)]
    assert [a.status_code for a in answers] == [201] * 30 + [423]
    assert start(services, UNKNOWN_CUSTOMER, WRONG_BIRTH_DATE, Asker()).status_code == 201


def test_the_conversation_lock_ends_after_fifteen_minutes(services):
    customer, asker = new_customer(services), Asker()
    for _ in range(3):
        check_id = start(services, customer["customer_id"], WRONG_BIRTH_DATE, asker).json()["check_id"]
        verify(services, check_id, "123456", asker)
    assert error_of(start(services, customer["customer_id"], customer["birth_date"], asker)) == (
        423, "identification_locked")
    move_back(services, "identification_counters", "key_hash", conversation_key(asker), 16,
              "locked_until", "updated_at")
    assert start(services, customer["customer_id"], customer["birth_date"], asker).status_code == 201


def test_old_wrong_answers_are_forgotten(services):
    customer, asker = new_customer(services), Asker()
    for _ in range(2):
        check_id = start(services, customer["customer_id"], WRONG_BIRTH_DATE, asker).json()["check_id"]
        verify(services, check_id, "123456", asker)
    move_back(services, "identification_counters", "key_hash", conversation_key(asker), 20, "updated_at")
    check_id = start(services, customer["customer_id"], WRONG_BIRTH_DATE, asker).json()["check_id"]
    assert verify(services, check_id, "123456", asker).json()["error"]["attempts_left"] == 2


def test_success_clears_the_conversations_wrong_answers_but_not_the_sources(services):
    customer, asker = new_customer(services), Asker.from_new_source()
    check_id = start(services, customer["customer_id"], customer["birth_date"], asker).json()["check_id"]
    code = sent_code(services, customer)
    verify(services, check_id, wrong(code), asker)
    verify(services, check_id, wrong(code), asker)
    assert verify(services, check_id, code, asker).status_code == 200
    assert query(services, "SELECT failures FROM identification_counters WHERE scope = 'conversation'"
                           " AND key_hash = ?", (conversation_key(asker),)) == [(0,)]
    # A customer identifying as themselves does not wipe what their source did before.
    assert query(services, "SELECT failures FROM identification_counters WHERE scope = 'source'"
                           " AND key_hash = ?", (source_key(asker.source),)) == [(2,)]


def test_codes_sent_to_a_customer_are_bounded_per_hour_without_touching_their_own_device(services):
    customer = new_customer(services)
    own_device = Asker.from_new_source()
    check_id = start(services, customer["customer_id"], customer["birth_date"], own_device).json()["check_id"]
    assert verify(services, check_id, sent_code(services, customer), own_device).status_code == 200

    answers = [start(services, customer["customer_id"], customer["birth_date"], Asker.from_new_source())
               for _ in range(5)]
    assert all(answer_shape(a) == (201, ["check_id", "expires_at"]) for a in answers)
    # Three codes in the hour from devices not yet known: the own device's first one, and two.
    assert sms_count(services, customer) == 3
    # The customer's own device, known from its identification, still gets its code.
    own_conversation = own_device.in_same_source()
    check_id = start(services, customer["customer_id"], customer["birth_date"],
                     own_conversation).json()["check_id"]
    assert sms_count(services, customer) == 4
    assert verify(services, check_id, sent_code(services, customer), own_conversation).status_code == 200
    # An hour later, the others' requests send codes again.
    execute(services, "UPDATE identification_code_budgets SET hour_started_at = ? "
                      "WHERE customer_id = ? AND requester = '*'", (minutes_ago(61), customer["customer_id"]))
    start(services, customer["customer_id"], customer["birth_date"], Asker.from_new_source())
    assert sms_count(services, customer) == 5


def test_codes_sent_to_a_customer_are_bounded_per_day(services):
    customer = new_customer(services)
    sms_before = sms_count(services, customer)
    for _ in range(5):
        for _ in range(3):
            start(services, customer["customer_id"], customer["birth_date"], Asker())
        execute(services, "UPDATE identification_code_budgets SET hour_started_at = ? "
                          "WHERE customer_id = ?", (minutes_ago(61), customer["customer_id"]))
    assert sms_count(services, customer) == sms_before + 10


def test_a_check_answers_only_its_own_conversation(services):
    customer, asker = new_customer(services), Asker()
    check_id = start(services, customer["customer_id"], customer["birth_date"], asker).json()["check_id"]
    code = sent_code(services, customer)
    assert error_of(verify(services, check_id, code, Asker())) == (404, "identity_check_not_found")
    assert verify(services, check_id, code, asker).status_code == 200


def test_a_new_check_replaces_only_the_pending_check_of_its_conversation(services):
    customer, mine, theirs = new_customer(services), Asker(), Asker()
    first = start(services, customer["customer_id"], customer["birth_date"], mine).json()["check_id"]
    first_code = sent_code(services, customer)
    theirs_check = start(services, customer["customer_id"], customer["birth_date"], theirs).json()["check_id"]
    theirs_code = sent_code(services, customer)
    start(services, customer["customer_id"], customer["birth_date"], mine)
    assert error_of(verify(services, first, first_code, mine)) == (410, "code_expired")
    assert verify(services, theirs_check, theirs_code, theirs).status_code == 200


def test_parallel_guesses_get_three_tries_of_a_code_at_most(services):
    customer, asker = new_customer(services), Asker()
    check_id = start(services, customer["customer_id"], customer["birth_date"], asker).json()["check_id"]
    code = sent_code(services, customer)
    guesses = [f"{n:06d}" for n in range(12) if f"{n:06d}" != code][:10] + [code]
    with ThreadPoolExecutor(max_workers=11) as pool:
        answers = list(pool.map(lambda guess: verify(services, check_id, guess, asker), guesses))
    assert query(services, "SELECT attempts FROM one_time_codes WHERE check_id = ?", (check_id,))[0][0] <= 3
    assert sum(answer.status_code in (200, 401) for answer in answers) <= 3


def test_expired_code_is_refused_without_counting_a_wrong_answer(services):
    customer, asker = new_customer(services), Asker()
    check_id = start(services, customer["customer_id"], customer["birth_date"], asker).json()["check_id"]
    code = sent_code(services, customer)
    execute(services, "UPDATE one_time_codes SET expires_at = ? WHERE check_id = ?",
            (minutes_ago(1), check_id))
    assert error_of(verify(services, check_id, code, asker)) == (410, "code_expired")
    fresh = start(services, customer["customer_id"], customer["birth_date"], asker).json()["check_id"]
    response = verify(services, fresh, wrong(sent_code(services, customer)), asker)
    assert response.json()["error"]["attempts_left"] == 2


def test_code_cannot_be_used_twice(services):
    customer, asker = new_customer(services), Asker()
    check_id = start(services, customer["customer_id"], customer["birth_date"], asker).json()["check_id"]
    code = sent_code(services, customer)
    assert verify(services, check_id, code, asker).status_code == 200
    assert error_of(verify(services, check_id, code, asker)) == (410, "code_expired")


def test_the_database_holds_no_code_conversation_or_source_in_clear(services):
    customer, asker = new_customer(services), Asker.from_new_source()
    check_id = start(services, customer["customer_id"], customer["birth_date"], asker).json()["check_id"]
    code = sent_code(services, customer)
    verify(services, check_id, wrong(code), asker)
    rows = (query(services, "SELECT * FROM one_time_codes WHERE check_id = ?", (check_id,))
            + query(services, "SELECT * FROM identification_counters"))
    for secret in (code, asker.conversation_id, asker.source):
        assert not any(secret in str(value) for row in rows for value in row)


@pytest.mark.parametrize("path, body", [
    ("/v1/customers/{customer_id}/identity-checks", {"birth_date": "12/03/1985"}),
    ("/v1/customers/{customer_id}/identity-checks", {}),
    ("/v1/customers/{customer_id}/identity-checks", {"birth_date": "1985-03-12", "x": 1}),
    ("/v1/customers/1234/identity-checks", {"birth_date": "1985-03-12"}),
    ("/v1/customers/{customer_id}/identity-checks", {"birth_date": "1985-03-12", "conversation_id": None}),
    ("/v1/customers/{customer_id}/identity-checks", {"birth_date": "1985-03-12", "source": ["a"]}),
    ("/v1/identity-checks/{check_id}/verify", {"code": "12345"}),
    ("/v1/identity-checks/{check_id}/verify", {"code": 123456}),
    ("/v1/identity-checks/{check_id}/verify", {"code": "abcdef"}),
    ("/v1/identity-checks/{check_id}/verify", {"code": "123456", "conversation_id": ""}),
])
def test_malformed_answers_are_validation_errors_and_not_counted(services, path, body):
    customer, asker = new_customer(services), Asker.from_new_source()
    check_id = start(services, customer["customer_id"], customer["birth_date"], asker).json()["check_id"]
    codes_before = count(services, "one_time_codes")
    counters_before = query(services, "SELECT * FROM identification_counters ORDER BY 1, 2")
    response = services.post(path.format(check_id=check_id, **customer), json={**asker.fields(), **body})
    assert error_of(response) == (422, "validation_error")
    assert count(services, "one_time_codes") == codes_before
    assert query(services, "SELECT * FROM identification_counters ORDER BY 1, 2") == counters_before


def test_unknown_identity_check_is_not_found(services):
    response = verify(services, "0" * 32, "123456", Asker())
    assert error_of(response) == (404, "identity_check_not_found")
