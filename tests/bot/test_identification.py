"""Identification: birth date, SMS code, and the lock after three wrong answers."""
import re

import pytest

from tests.bot.helpers import count, execute, latest_message, minutes_ago, new_customer, query


def start(services, customer, birth_date=None):
    return services.post(f"/v1/customers/{customer['customer_id']}/identity-checks",
                         json={"birth_date": birth_date or customer["birth_date"]})


def verify(services, check_id, code):
    return services.post(f"/v1/identity-checks/{check_id}/verify", json={"code": code})


def sent_code(services, customer):
    message = latest_message(services, customer["phone"])
    assert message["channel"] == "sms"
    return re.search(r"\b(\d{6})\b", message["body"]).group(1)


def wrong(code):
    return f"{(int(code) + 1) % 1_000_000:06d}"


def error_of(response):
    return response.status_code, response.json()["error"]["code"]


def test_right_birth_date_and_code_identify_the_customer(services):
    customer = new_customer(services)
    started = start(services, customer)
    assert started.status_code == 201
    body = started.json()
    assert body["sent_to"] == "06 ** ** ** " + customer["phone"][-2:]
    assert body["expires_at"]
    response = verify(services, body["check_id"], sent_code(services, customer))
    assert response.status_code == 200
    assert response.json() == {"customer_id": customer["customer_id"], "verified": True}


def test_identity_check_locks_after_three_wrong_answers(services):
    customer = new_customer(services)
    mismatch = start(services, customer, birth_date="1980-01-01")
    assert error_of(mismatch) == (401, "identity_mismatch")
    assert mismatch.json()["error"]["attempts_left"] == 2

    check_id = start(services, customer).json()["check_id"]
    code = sent_code(services, customer)
    first_wrong = verify(services, check_id, wrong(code))
    assert error_of(first_wrong) == (401, "wrong_code")
    assert first_wrong.json()["error"]["attempts_left"] == 1

    locked = verify(services, check_id, wrong(code))
    assert error_of(locked) == (423, "identification_locked")
    assert locked.json()["error"]["locked_until"]
    assert "0825 07 11 22" in locked.json()["error"]["message"]
    # Even right answers are refused while locked, and the lock is in the database.
    assert error_of(verify(services, check_id, code)) == (423, "identification_locked")
    assert error_of(start(services, customer)) == (423, "identification_locked")
    assert query(services, "SELECT locked_until IS NOT NULL FROM identification_locks "
                           "WHERE customer_id = ?", (customer["customer_id"],)) == [(1,)]


def test_lock_ends_fifteen_minutes_after_the_last_wrong_answer(services):
    customer = new_customer(services)
    for _ in range(3):
        start(services, customer, birth_date="1980-01-01")
    assert error_of(start(services, customer)) == (423, "identification_locked")
    execute(services, "UPDATE identification_locks SET updated_at = ?, locked_until = ? "
                      "WHERE customer_id = ?",
            (minutes_ago(16), minutes_ago(1), customer["customer_id"]))
    assert start(services, customer).status_code == 201


def test_old_wrong_answers_are_forgotten(services):
    customer = new_customer(services)
    start(services, customer, birth_date="1980-01-01")
    start(services, customer, birth_date="1980-01-01")
    execute(services, "UPDATE identification_locks SET updated_at = ? WHERE customer_id = ?",
            (minutes_ago(20), customer["customer_id"]))
    response = start(services, customer, birth_date="1980-01-01")
    assert response.json()["error"]["attempts_left"] == 2


def test_expired_code_is_refused_without_counting_a_wrong_answer(services):
    customer = new_customer(services)
    check_id = start(services, customer).json()["check_id"]
    code = sent_code(services, customer)
    execute(services, "UPDATE one_time_codes SET expires_at = ? WHERE check_id = ?",
            (minutes_ago(1), check_id))
    assert error_of(verify(services, check_id, code)) == (410, "code_expired")
    fresh = start(services, customer).json()["check_id"]
    response = verify(services, fresh, wrong(sent_code(services, customer)))
    assert response.json()["error"]["attempts_left"] == 2


def test_code_cannot_be_used_twice(services):
    customer = new_customer(services)
    check_id = start(services, customer).json()["check_id"]
    code = sent_code(services, customer)
    assert verify(services, check_id, code).status_code == 200
    assert error_of(verify(services, check_id, code)) == (410, "code_expired")


def test_new_code_replaces_the_previous_one(services):
    customer = new_customer(services)
    first = start(services, customer).json()["check_id"]
    first_code = sent_code(services, customer)
    start(services, customer)
    assert error_of(verify(services, first, first_code)) == (410, "code_expired")


def test_success_clears_earlier_wrong_answers(services):
    customer = new_customer(services)
    start(services, customer, birth_date="1980-01-01")
    start(services, customer, birth_date="1980-01-01")
    check_id = start(services, customer).json()["check_id"]
    assert verify(services, check_id, sent_code(services, customer)).status_code == 200
    response = start(services, customer, birth_date="1980-01-01")
    assert response.json()["error"]["attempts_left"] == 2


def test_code_is_stored_only_as_a_hash(services):
    customer = new_customer(services)
    check_id = start(services, customer).json()["check_id"]
    code = sent_code(services, customer)
    row = query(services, "SELECT * FROM one_time_codes WHERE check_id = ?", (check_id,))[0]
    assert not any(code in str(value) for value in row)


@pytest.mark.parametrize("path, body", [
    ("/v1/customers/{customer_id}/identity-checks", {"birth_date": "12/03/1985"}),
    ("/v1/customers/{customer_id}/identity-checks", {}),
    ("/v1/customers/{customer_id}/identity-checks", {"birth_date": "1985-03-12", "x": 1}),
    ("/v1/identity-checks/{check_id}/verify", {"code": "12345"}),
    ("/v1/identity-checks/{check_id}/verify", {"code": 123456}),
    ("/v1/identity-checks/{check_id}/verify", {"code": "abcdef"}),
])
def test_malformed_answers_are_validation_errors_and_not_counted(services, path, body):
    customer = new_customer(services)
    check_id = start(services, customer).json()["check_id"]
    codes_before = count(services, "one_time_codes")
    response = services.post(path.format(check_id=check_id, **customer), json=body)
    assert error_of(response) == (422, "validation_error")
    assert count(services, "one_time_codes") == codes_before
    assert query(services, "SELECT failed_attempts FROM identification_locks "
                           "WHERE customer_id = ?", (customer["customer_id"],)) == [(0,)]


def test_unknown_identity_check_is_not_found(services):
    response = verify(services, "0" * 32, "123456")
    assert error_of(response) == (404, "identity_check_not_found")


def test_unknown_customer_cannot_be_identified(services):
    response = services.post("/v1/customers/99999999/identity-checks",
                             json={"birth_date": "1985-03-12"})
    assert error_of(response) == (404, "customer_not_found")
