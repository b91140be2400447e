"""Identification started from the phone number a channel verified: the messaging app's
number (then an SMS code), the caller's number on the telephone line (no code)."""
import pytest

from reference_services.policy.identification import counter_key
from tests.conftest import TEST_DOCUMENT_LINK_SECRET, channel_phone_assertion
from tests.reference_services.helpers import count, execute, minutes_ago, new_customer, query
from tests.reference_services.test_identification import (
    WRONG_BIRTH_DATE,
    Asker,
    answer_shape,
    error_of,
    lock_minutes,
    sent_code,
    sms_count,
    verify,
)

UNKNOWN_PHONE = "+33799999999"


def start(services, phone, birth_date, asker=None, send_code=True, **more):
    asker = asker or Asker(channel="whatsapp" if send_code else "ivr")
    return services.post("/v1/phone-identity-checks", json={
        "phone_number": phone, "birth_date": birth_date, "send_code": send_code, **asker.fields(), **more,
    })


def call(services, phone, birth_date, asker=None):
    """The telephone line: the caller's number, signed by the line for this call, and the
    birth date, no code."""
    asker = asker or Asker(channel="ivr")
    signed = channel_phone_assertion(phone, asker.conversation_id)
    return start(services, phone, birth_date, asker, send_code=False, channel_assertion=signed)


def phone_key(phone):
    return counter_key(TEST_DOCUMENT_LINK_SECRET, "phone", phone)


def national(phone):
    """+33612345678 -> 06 12 34 56 78, as a customer would write it."""
    digits = "0" + phone[3:]
    return " ".join(digits[i:i + 2] for i in range(0, 10, 2))


def test_phone_and_birth_date_send_a_code_that_identifies_the_customer(services):
    customer, asker = new_customer(services), Asker(channel="whatsapp")
    started = start(services, customer["phone"], customer["birth_date"], asker)
    assert started.status_code == 201
    assert started.json()["sent_to"] == "06 ** ** ** " + customer["phone"][-2:]
    response = verify(services, started.json()["check_id"], sent_code(services, customer), asker)
    assert response.json()["customer_id"] == customer["customer_id"]


def test_phone_in_the_national_format_is_matched_to_the_phone_on_file(services):
    customer = new_customer(services)
    started = start(services, national(customer["phone"]), customer["birth_date"])
    assert started.status_code == 201
    assert sms_count(services, customer) == 1


def test_telephone_line_is_identified_without_a_code(services):
    customer = new_customer(services)
    response = call(services, customer["phone"], customer["birth_date"])
    assert response.status_code == 200
    assert response.json()["customer_id"] == customer["customer_id"]
    assert response.json()["verified"] is True
    assert sms_count(services, customer) == 0


def test_a_number_on_file_outside_the_ranges_phonenumbers_knows_identifies_its_customer(services):
    customer = new_customer(services)
    # A French mobile number in a range the phonenumbers metadata does not list.
    execute(services, "UPDATE customers SET phone = ? WHERE customer_id = ?", ("+33639981234", customer["customer_id"]))
    response = call(services, "+33639981234", customer["birth_date"])
    assert response.status_code == 200 and response.json()["customer_id"] == customer["customer_id"]


def test_demo_customer_is_found_by_her_phone(services):
    assert call(services, "+33612345678", "1985-03-12").json()["customer_id"] == "10000001"


def test_an_unknown_phone_or_a_wrong_birth_date_gets_a_check_like_the_right_ones(services):
    customer = new_customer(services)
    right = start(services, customer["phone"], customer["birth_date"])
    wrong_birth_date = start(services, customer["phone"], WRONG_BIRTH_DATE)
    unknown_phone = start(services, UNKNOWN_PHONE, customer["birth_date"])
    assert answer_shape(right) == answer_shape(wrong_birth_date) == answer_shape(unknown_phone) == (
        201, ["check_id", "expires_at", "sent_to"])
    assert unknown_phone.json()["sent_to"] == "07 ** ** ** 99"  # the number given: nothing learnt
    assert sms_count(services, customer) == 1


def test_on_the_telephone_line_an_unknown_phone_is_answered_like_a_wrong_birth_date(services):
    customer = new_customer(services)
    wrong_birth_date = [call(services, customer["phone"], WRONG_BIRTH_DATE, Asker("src-a", "ivr"))
                        for _ in range(3)]
    unknown_phone = [call(services, UNKNOWN_PHONE[:-1] + "8", customer["birth_date"], Asker("src-b", "ivr"))
                     for _ in range(3)]
    assert [answer_shape(a) for a in wrong_birth_date] == [answer_shape(a) for a in unknown_phone]
    assert [error_of(a) for a in unknown_phone] == [
        (401, "identity_mismatch"), (401, "identity_mismatch"), (423, "identification_locked")]
    assert [a.json()["error"].get("attempts_left") for a in unknown_phone[:2]] == [2, 1]


def test_wrong_answers_on_the_telephone_line_lock_the_call_and_the_number_not_the_customer(services):
    customer = new_customer(services)
    for _ in range(3):
        last = call(services, customer["phone"], WRONG_BIRTH_DATE)
    assert error_of(last) == (423, "identification_locked")
    # Even the right answer, from that number, waits for the end of the lock.
    assert error_of(call(services, customer["phone"], customer["birth_date"])) == (
        423, "identification_locked")
    # The customer still identifies with the customer id and a code.
    asker = Asker()
    check_id = services.post(f"/v1/customers/{customer['customer_id']}/identity-checks",
                             json={"birth_date": customer["birth_date"], **asker.fields()}).json()["check_id"]
    assert verify(services, check_id, sent_code(services, customer), asker).status_code == 200


def test_a_number_that_keeps_failing_waits_longer_each_time(services):
    phone = "+33788888877"
    waits = []
    for _ in range(3):
        for _ in range(3):
            last = call(services, phone, WRONG_BIRTH_DATE)
        waits.append(lock_minutes(last))
        execute(services, "UPDATE identification_counters SET locked_until = ?, updated_at = ? "
                          "WHERE key_hash = ?", (minutes_ago(1), minutes_ago(16), phone_key(phone)))
    assert waits == [15, 30, 60]


def test_success_on_the_telephone_line_clears_the_count_of_the_number(services):
    customer = new_customer(services)
    call(services, customer["phone"], WRONG_BIRTH_DATE)
    call(services, customer["phone"], WRONG_BIRTH_DATE)
    assert call(services, customer["phone"], customer["birth_date"]).status_code == 200
    assert query(services, "SELECT failures FROM identification_counters WHERE key_hash = ?",
                 (phone_key(customer["phone"]),)) == [(0,)]
    assert call(services, customer["phone"], WRONG_BIRTH_DATE).json()["error"]["attempts_left"] == 2


def test_a_strangers_wrong_answers_on_the_customer_id_leave_the_telephone_line_open(services):
    customer, stranger = new_customer(services), Asker(source="test-source-stranger-phone")
    for _ in range(3):
        check_id = services.post(f"/v1/customers/{customer['customer_id']}/identity-checks",
                                 json={"birth_date": WRONG_BIRTH_DATE, **stranger.fields()}).json()["check_id"]
        verify(services, check_id, "123456", stranger)
    assert call(services, customer["phone"], customer["birth_date"]).status_code == 200


def test_wrong_codes_after_a_phone_check_lock_the_conversation(services):
    customer, asker = new_customer(services), Asker(channel="whatsapp")
    check_id = start(services, customer["phone"], customer["birth_date"], asker).json()["check_id"]
    code = sent_code(services, customer)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"
    assert [error_of(verify(services, check_id, wrong, asker)) for _ in range(3)] == [
        (401, "wrong_code"), (401, "wrong_code"), (423, "identification_locked")]
    assert error_of(start(services, customer["phone"], customer["birth_date"], asker)) == (
        423, "identification_locked")


def test_codes_sent_to_the_phone_of_the_channel_have_their_own_budget(services):
    customer = new_customer(services)
    for _ in range(3):  # strangers spend the budget of the customer id route
        services.post(f"/v1/customers/{customer['customer_id']}/identity-checks",
                      json={"birth_date": customer["birth_date"], **Asker().fields()})
    assert sms_count(services, customer) == 3
    asker = Asker(channel="whatsapp")
    check_id = start(services, customer["phone"], customer["birth_date"], asker).json()["check_id"]
    assert sms_count(services, customer) == 4
    assert verify(services, check_id, sent_code(services, customer), asker).status_code == 200


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
    assert call(services, parent["phone"], "2001-06-30").json()["customer_id"] == child["customer_id"]


@pytest.mark.parametrize("body", [
    {"phone_number": "not a phone", "birth_date": "1985-03-12"},
    {"phone_number": "+4420", "birth_date": "1985-03-12"},
    {"phone_number": "+33612345678", "birth_date": "12/03/1985"},
    {"phone_number": "+33612345678"},
    {"phone_number": "+33612345678", "birth_date": "1985-03-12", "send_code": "yes"},
    {"phone_number": "+33612345678", "birth_date": "1985-03-12", "customer_id": "10000001"},
    {"phone_number": "+33612345678", "birth_date": "1985-03-12", "conversation_id": None},
])
def test_malformed_phone_checks_are_validation_errors_and_not_counted(services, body):
    counters_before = query(services, "SELECT * FROM identification_counters ORDER BY 1, 2")
    codes_before = count(services, "one_time_codes")
    response = services.post("/v1/phone-identity-checks", json={**Asker().fields(), **body})
    assert error_of(response) == (422, "validation_error")
    assert query(services, "SELECT * FROM identification_counters ORDER BY 1, 2") == counters_before
    assert count(services, "one_time_codes") == codes_before


# --- the number as the telephone line signed it (core/channel_assertion.py) ------------------

def unsigned_call(services, customer, asker, **signature):
    """The caller's number and birth date with `signature` instead of the line's own."""
    return start(services, customer["phone"], customer["birth_date"], asker, send_code=False, **signature)


def nothing_counted_nor_issued(services, customer, answer, counters_before, expected):
    assert error_of(answer) == expected
    assert "identity_assertion" not in answer.text and customer["customer_id"] not in answer.text
    assert query(services, "SELECT * FROM identification_counters ORDER BY 1, 2") == counters_before
    assert sms_count(services, customer) == 0


def test_without_the_lines_signature_the_number_and_birth_date_identify_nobody(services):
    """A caller of the services who holds their token but is not the telephone line."""
    customer, asker = new_customer(services), Asker("src-unsigned", "ivr")
    before = query(services, "SELECT * FROM identification_counters ORDER BY 1, 2")
    for signature in ({}, {"channel_assertion": None}, {"channel_assertion": ""}):
        nothing_counted_nor_issued(services, customer, unsigned_call(services, customer, asker, **signature),
                                   before, (401, "channel_assertion_required"))


@pytest.mark.parametrize("forgery", ["another secret", "expired", "another phone", "another conversation",
                                     "another channel", "not a token", "an identity assertion"])
def test_a_signature_forged_expired_or_of_another_call_identifies_nobody(services, forgery):
    from tests.conftest import identity_assertion

    customer, asker = new_customer(services), Asker("src-forged", "ivr")
    phone, conversation = customer["phone"], asker.conversation_id
    signature = {
        "another secret": lambda: channel_phone_assertion(phone, conversation, secret="guessed-" + "x" * 32),
        "expired": lambda: channel_phone_assertion(phone, conversation, minutes=-1),
        "another phone": lambda: channel_phone_assertion(UNKNOWN_PHONE, conversation),
        "another conversation": lambda: channel_phone_assertion(phone, Asker().conversation_id),
        "another channel": lambda: channel_phone_assertion(phone, conversation, channel="whatsapp"),
        "not a token": lambda: "eyJhbGciOiJub25lIn0.eyJwaG9uZSI6IiJ9.",
        "an identity assertion": lambda: identity_assertion(customer["customer_id"], conversation_id=conversation,
                                                             channel="ivr", verified_by="caller_number"),
    }[forgery]()
    before = query(services, "SELECT * FROM identification_counters ORDER BY 1, 2")
    answer = unsigned_call(services, customer, asker, channel_assertion=signature)
    nothing_counted_nor_issued(services, customer, answer, before, (403, "channel_assertion_invalid"))


def test_the_lines_signature_identifies_only_on_the_telephone_line(services):
    """A check that says it comes from another channel is not identified without a code,
    even on a signature of the line."""
    customer, asker = new_customer(services), Asker("src-other-channel", "rest")
    signature = channel_phone_assertion(customer["phone"], asker.conversation_id, channel="rest")
    before = query(services, "SELECT * FROM identification_counters ORDER BY 1, 2")
    answer = unsigned_call(services, customer, asker, channel_assertion=signature)
    nothing_counted_nor_issued(services, customer, answer, before, (403, "channel_assertion_invalid"))


def test_the_lines_signature_of_the_number_for_this_call_identifies_the_caller(services):
    customer, asker = new_customer(services), Asker("src-signed", "ivr")
    answer = unsigned_call(services, customer, asker,
                           channel_assertion=channel_phone_assertion(customer["phone"], asker.conversation_id))
    assert answer.status_code == 200
    assert answer.json()["customer_id"] == customer["customer_id"]
    assert answer.json()["identity_assertion"]


def test_the_messaging_apps_need_no_signature_their_code_proves_the_phone(services):
    customer = new_customer(services)
    assert start(services, customer["phone"], customer["birth_date"]).status_code == 201
    assert sms_count(services, customer) == 1
