"""Identification started from the phone number a channel verified."""
import pytest

from tests.bot.helpers import count, execute, minutes_ago, new_customer, query
from tests.bot.test_identification import error_of, sent_code, verify, wrong

UNKNOWN_PHONE = "+33799999999"


def start(services, phone, birth_date, send_code=True):
    return services.post("/v1/phone-identity-checks", json={
        "phone_number": phone, "birth_date": birth_date, "send_code": send_code,
    })


def national(phone):
    """+33612345678 -> 06 12 34 56 78, as a customer would write it."""
    digits = "0" + phone[3:]
    return " ".join(digits[i:i + 2] for i in range(0, 10, 2))


def test_phone_and_birth_date_send_a_code_that_identifies_the_customer(services):
    customer = new_customer(services)
    started = start(services, customer["phone"], customer["birth_date"])
    assert started.status_code == 201
    assert started.json()["sent_to"] == "06 ** ** ** " + customer["phone"][-2:]
    response = verify(services, started.json()["check_id"], sent_code(services, customer))
    assert response.json() == {"customer_id": customer["customer_id"], "verified": True}


def test_phone_in_the_national_format_is_matched_to_the_phone_on_file(services):
    customer = new_customer(services)
    started = start(services, national(customer["phone"]), customer["birth_date"])
    assert started.status_code == 201


def test_telephone_line_is_identified_without_a_code(services):
    customer = new_customer(services)
    sms_before = count(services, "outbox", "recipient = ?", (customer["phone"],))
    response = start(services, customer["phone"], customer["birth_date"], send_code=False)
    assert response.status_code == 200
    assert response.json() == {"customer_id": customer["customer_id"], "verified": True}
    assert count(services, "outbox", "recipient = ?", (customer["phone"],)) == sms_before


def test_demo_customer_is_found_by_her_phone(services):
    response = start(services, "+33612345678", "1985-03-12", send_code=False)
    assert response.json()["customer_id"] == "10000001"


def test_unknown_phone_is_answered_like_a_wrong_birth_date(services):
    customer = new_customer(services)
    wrong_birth_date = start(services, customer["phone"], "1980-01-01")
    unknown_phone = start(services, UNKNOWN_PHONE, customer["birth_date"])
    assert wrong_birth_date.status_code == unknown_phone.status_code == 401
    assert wrong_birth_date.json() == unknown_phone.json()


def test_unknown_phone_locks_after_three_tries_like_a_known_one(services):
    phone = "+33788888888"
    answers = [start(services, phone, "1985-03-12") for _ in range(3)]
    assert [error_of(a) for a in answers] == [
        (401, "identity_mismatch"), (401, "identity_mismatch"), (423, "identification_locked"),
    ]
    assert [a.json()["error"].get("attempts_left") for a in answers[:2]] == [2, 1]


def test_phone_identification_locks_after_three_wrong_answers(services):
    customer = new_customer(services)
    for _ in range(2):
        assert error_of(start(services, customer["phone"], "1980-01-01")) == (
            401, "identity_mismatch")
    locked = start(services, customer["phone"], "1980-01-01")
    assert error_of(locked) == (423, "identification_locked")
    assert locked.json()["error"]["locked_until"]
    # Right answers are refused while locked, from the phone and from the customer id.
    assert error_of(start(services, customer["phone"], customer["birth_date"],
                          send_code=False)) == (423, "identification_locked")
    by_id = services.post(f"/v1/customers/{customer['customer_id']}/identity-checks",
                          json={"birth_date": customer["birth_date"]})
    assert error_of(by_id) == (423, "identification_locked")


def test_wrong_answers_from_the_phone_and_the_customer_id_share_one_count(services):
    customer = new_customer(services)
    services.post(f"/v1/customers/{customer['customer_id']}/identity-checks",
                  json={"birth_date": "1980-01-01"})
    start(services, customer["phone"], "1980-01-01")
    start(services, customer["phone"], "1980-01-01")
    response = start(services, customer["phone"], customer["birth_date"])
    assert error_of(response) == (423, "identification_locked")


def test_wrong_codes_after_a_phone_check_lock_the_customer(services):
    customer = new_customer(services)
    check_id = start(services, customer["phone"], customer["birth_date"]).json()["check_id"]
    code = sent_code(services, customer)
    assert error_of(verify(services, check_id, wrong(code))) == (401, "wrong_code")
    assert error_of(verify(services, check_id, wrong(code))) == (401, "wrong_code")
    assert error_of(verify(services, check_id, wrong(code))) == (423, "identification_locked")
    assert error_of(start(services, customer["phone"], customer["birth_date"])) == (
        423, "identification_locked")


def test_lock_of_a_phone_ends_after_fifteen_minutes(services):
    customer = new_customer(services)
    for _ in range(3):
        start(services, customer["phone"], "1980-01-01")
    for table, key, value in (("phone_identification_locks", "phone_number", customer["phone"]),
                              ("identification_locks", "customer_id", customer["customer_id"])):
        execute(services, f"UPDATE {table} SET updated_at = ?, locked_until = ? WHERE {key} = ?",
                (minutes_ago(16), minutes_ago(1), value))
    assert start(services, customer["phone"], customer["birth_date"]).status_code == 201


def test_success_clears_the_wrong_answers_of_the_phone(services):
    customer = new_customer(services)
    start(services, customer["phone"], "1980-01-01")
    start(services, customer["phone"], "1980-01-01")
    check_id = start(services, customer["phone"], customer["birth_date"]).json()["check_id"]
    assert verify(services, check_id, sent_code(services, customer)).status_code == 200
    assert query(services, "SELECT failed_attempts FROM phone_identification_locks "
                           "WHERE phone_number = ?", (customer["phone"],)) == [(0,)]
    assert start(services, customer["phone"], "1980-01-01").json()["error"]["attempts_left"] == 2


def test_two_customers_sharing_a_phone_and_a_birth_date_are_ambiguous(services):
    first = new_customer(services, birth_date="1970-01-01")
    second = new_customer(services, birth_date="1970-01-01")
    execute(services, "UPDATE customers SET phone = ? WHERE customer_id = ?",
            (first["phone"], second["customer_id"]))
    assert error_of(start(services, first["phone"], "1970-01-01")) == (409, "identity_ambiguous")


def test_customer_sharing_a_phone_is_told_apart_by_the_birth_date(services):
    parent = new_customer(services, birth_date="1970-01-01")
    child = new_customer(services, birth_date="2001-06-30")
    execute(services, "UPDATE customers SET phone = ? WHERE customer_id = ?",
            (parent["phone"], child["customer_id"]))
    response = start(services, parent["phone"], "2001-06-30", send_code=False)
    assert response.json()["customer_id"] == child["customer_id"]


@pytest.mark.parametrize("body", [
    {"phone_number": "not a phone", "birth_date": "1985-03-12"},
    {"phone_number": "+4420", "birth_date": "1985-03-12"},
    {"phone_number": "+33612345678", "birth_date": "12/03/1985"},
    {"phone_number": "+33612345678"},
    {"phone_number": "+33612345678", "birth_date": "1985-03-12", "send_code": "yes"},
    {"phone_number": "+33612345678", "birth_date": "1985-03-12", "customer_id": "10000001"},
])
def test_malformed_phone_checks_are_validation_errors_and_not_counted(services, body):
    locks_before = query(services, "SELECT * FROM phone_identification_locks ORDER BY 1")
    response = services.post("/v1/phone-identity-checks", json=body)
    assert error_of(response) == (422, "validation_error")
    assert query(services, "SELECT * FROM phone_identification_locks ORDER BY 1") == locks_before
