"""Every customer-scoped call of both services, made for one customer with another
customer's contract, claim, document, key or identity: answered exactly like an unknown
one (same status, same body), and nothing written. And none is made without that
customer's identity assertion: the service token alone, a forged, an expired or another
customer's assertion are refused before anything is read or written."""
import uuid

import pytest

from tests.conftest import as_customer
from tests.reference_services.helpers import KARIM, MARIE, count, new_customer, table_counts
from tests.reference_services.test_claims import declaration
from tests.reference_services.test_http_conventions import WRITE_TABLES
from tests.reference_services.test_uploads import uploaded

KARIMS_CONTRACT, KARIMS_CLAIM = "AUT-559120", "SIN-2026-000415"
UNKNOWN_CONTRACT, UNKNOWN_CLAIM = "AUT-999999", "SIN-2026-999999"


def send(services, method, path, body=None, key=None):
    return services.request(method, path, json=body, headers={"Idempotency-Key": key or uuid.uuid4().hex})


def answered_alike_and_nothing_written(services, foreign, unknown):
    """Makes both calls; returns the foreign one's answer after checking they match."""
    before = written(services)
    foreign_answer, unknown_answer = foreign(), unknown()
    assert foreign_answer.status_code == unknown_answer.status_code
    assert foreign_answer.json() == unknown_answer.json()
    assert written(services) == before
    return foreign_answer


def written(services):
    return {**table_counts(services, *WRITE_TABLES),
            "linked documents": count(services, "claim_documents", "claim_id IS NOT NULL")}


# --- policy service -------------------------------------------------------------


def test_another_customers_contract_is_an_unknown_contract(services):
    answer = answered_alike_and_nothing_written(
        services,
        lambda: services.get(f"/v1/customers/{MARIE}/contracts/{KARIMS_CONTRACT}"),
        lambda: services.get(f"/v1/customers/{MARIE}/contracts/{UNKNOWN_CONTRACT}"))
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "contract_not_found"


def test_no_attestation_is_issued_on_another_customers_contract(services):
    answered_alike_and_nothing_written(
        services,
        lambda: send(services, "POST", f"/v1/customers/{MARIE}/contracts/{KARIMS_CONTRACT}/attestations",
                     {"send_by_email": True}),
        lambda: send(services, "POST", f"/v1/customers/{MARIE}/contracts/{UNKNOWN_CONTRACT}/attestations",
                     {"send_by_email": True}))


def test_no_change_request_is_filed_on_another_customers_contract(services):
    answered_alike_and_nothing_written(
        services,
        lambda: send(services, "POST", f"/v1/customers/{MARIE}/requests",
                     {"kind": "termination", "contract_number": KARIMS_CONTRACT}),
        lambda: send(services, "POST", f"/v1/customers/{MARIE}/requests",
                     {"kind": "termination", "contract_number": UNKNOWN_CONTRACT}))


def test_a_contract_list_holds_only_the_customers_own_contracts(services):
    listed = services.get(f"/v1/customers/{MARIE}/contracts").json()["contracts"]
    assert {c["customer_id"] for c in listed} == {MARIE}
    assert KARIMS_CONTRACT not in {c["contract_number"] for c in listed}


def test_a_signed_link_opens_only_the_document_it_was_signed_for(services):
    maries = send(services, "POST", f"/v1/customers/{MARIE}/contracts/AUT-482913/attestations").json()
    karims = send(services, "POST", f"/v1/customers/{KARIM}/contracts/{KARIMS_CONTRACT}/attestations").json()
    maries_query = maries["url"].split("?", 1)[1]
    karims_path = "/v1/documents/" + karims["document_id"] + ".pdf"
    forged_query = maries_query.rsplit("signature=", 1)[0] + "signature=" + "0" * 64
    answer = answered_alike_and_nothing_written(
        services,
        lambda: services.get(f"{karims_path}?{maries_query}", authorized=False),
        lambda: services.get(f"{karims_path}?{forged_query}", authorized=False))
    assert answer.status_code == 403 and answer.json()["error"]["code"] == "invalid_link"


def answered_alike_and_no_code_sent(services, foreign, unknown, *varying):
    """An identification started with another customer's data gets the answer of one
    started with unknown data (but the `varying` fields: the number given), and no SMS
    goes to anyone; each then refuses the right code of the customer, like a wrong one."""
    conversations = [{"conversation_id": f"test-{uuid.uuid4()}", "channel": "rest"} for _ in range(2)]
    sms_before = count(services, "outbox", "channel = 'sms'")
    answers = [foreign(conversations[0]), unknown(conversations[1])]
    assert [a.status_code for a in answers] == [201, 201]
    assert [sorted(set(a.json()) - set(varying)) for a in answers] == [["check_id", "expires_at"]] * 2
    assert count(services, "outbox", "channel = 'sms'") == sms_before
    for answer, conversation in zip(answers, conversations, strict=True):
        verified = services.post(f"/v1/identity-checks/{answer.json()['check_id']}/verify",
                                 json={"code": "123456", **conversation})
        assert (verified.status_code, verified.json()["error"]["code"]) == (401, "wrong_code")


def test_another_customers_birth_date_is_a_wrong_birth_date(services):
    someone, other, stranger = new_customer(services, "1970-01-01"), new_customer(services, "1991-09-09"), \
        new_customer(services, "1982-02-02")
    answered_alike_and_no_code_sent(
        services,
        lambda asked: send(services, "POST", f"/v1/customers/{someone['customer_id']}/identity-checks",
                           {"birth_date": other["birth_date"], **asked}),
        lambda asked: send(services, "POST", f"/v1/customers/{stranger['customer_id']}/identity-checks",
                           {"birth_date": "1999-12-31", **asked}))


def test_one_customers_phone_with_another_customers_birth_date_is_an_unknown_phone(services):
    someone, other = new_customer(services, "1971-03-03"), new_customer(services, "1988-08-08")
    unknown_phone = "+33699" + str(uuid.uuid4().int)[:6]
    answered_alike_and_no_code_sent(
        services,
        lambda asked: send(services, "POST", "/v1/phone-identity-checks",
                           {"phone_number": someone["phone"], "birth_date": other["birth_date"], **asked}),
        lambda asked: send(services, "POST", "/v1/phone-identity-checks",
                           {"phone_number": unknown_phone, "birth_date": other["birth_date"], **asked}),
        "sent_to")


@pytest.mark.parametrize("route", ["password-reset", "identifier-reminder"])
def test_login_emails_go_only_to_the_address_on_file_of_the_customer_named(services, route):
    sent_to_karim = count(services, "outbox", "recipient = ?", ("karim.benali@example.fr",))
    assert send(services, "POST", f"/v1/customers/{MARIE}/{route}").json() == {"sent_to": "m***@example.fr"}
    assert count(services, "outbox", "recipient = ?", ("karim.benali@example.fr",)) == sent_to_karim


# --- claims service -------------------------------------------------------------


def test_another_customers_claim_is_an_unknown_claim(services):
    answer = answered_alike_and_nothing_written(
        services,
        lambda: services.get(f"/v1/customers/{MARIE}/claims/{KARIMS_CLAIM}"),
        lambda: services.get(f"/v1/customers/{MARIE}/claims/{UNKNOWN_CLAIM}"))
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "claim_not_found"


def test_a_claim_list_holds_only_the_customers_own_claims(services):
    listed = services.get(f"/v1/customers/{MARIE}/claims").json()["claims"]
    assert {c["customer_id"] for c in listed} == {MARIE}
    assert KARIMS_CLAIM not in {c["claim_number"] for c in listed}


def test_no_claim_is_filed_on_another_customers_contract(services):
    glass = {"claim_type": "bris_de_glace"}
    answered_alike_and_nothing_written(
        services,
        lambda: send(services, "POST", f"/v1/customers/{MARIE}/claims",
                     declaration(contract_number=KARIMS_CONTRACT, **glass)),
        lambda: send(services, "POST", f"/v1/customers/{MARIE}/claims",
                     declaration(contract_number=UNKNOWN_CONTRACT, **glass)))


def test_no_document_is_added_to_another_customers_claim(services):
    photo = uploaded(services)["upload_id"]
    answered_alike_and_nothing_written(
        services,
        lambda: send(services, "POST", f"/v1/customers/{MARIE}/claims/{KARIMS_CLAIM}/documents", {"upload_id": photo}),
        lambda: send(services, "POST", f"/v1/customers/{MARIE}/claims/{UNKNOWN_CLAIM}/documents", {"upload_id": photo}))


def test_a_file_on_another_customers_claim_is_an_unknown_file(services):
    karims_photo = uploaded(services)["upload_id"]
    assert send(services, "POST", f"/v1/customers/{KARIM}/claims/{KARIMS_CLAIM}/documents",
                {"upload_id": karims_photo}).status_code == 201
    unknown = uuid.uuid4().hex
    answered_alike_and_nothing_written(
        services,
        lambda: send(services, "POST", f"/v1/customers/{MARIE}/claims/SIN-2026-000731/documents",
                     {"upload_id": karims_photo}),
        lambda: send(services, "POST", f"/v1/customers/{MARIE}/claims/SIN-2026-000731/documents",
                     {"upload_id": unknown}))
    answered_alike_and_nothing_written(
        services,
        lambda: send(services, "POST", f"/v1/customers/{MARIE}/claims", declaration(attachments=[karims_photo])),
        lambda: send(services, "POST", f"/v1/customers/{MARIE}/claims", declaration(attachments=[unknown])))


def test_another_customers_idempotency_key_is_a_new_key(services):
    key = uuid.uuid4().hex
    karims = send(services, "POST", f"/v1/customers/{KARIM}/claims",
                  declaration(contract_number=KARIMS_CONTRACT, claim_type="bris_de_glace"), key=key).json()
    maries = send(services, "POST", f"/v1/customers/{MARIE}/claims", declaration(), key=key)
    assert maries.status_code == 201  # as for a key never used: Marie's own claim, not Karim's
    assert maries.json()["customer_id"] == MARIE and maries.json()["claim_number"] != karims["claim_number"]


# --- no call about a customer without that customer's identity assertion ---------

# Every route that needs the assertion, called for Marie as the action server would.
MARIES_ROUTES = {
    # D: claim notices (issue 15)
    ("get", "/v1/customers/{customer_id}/notice-consents"): ("GET", f"/v1/customers/{MARIE}/notice-consents", None),
    ("post", "/v1/customers/{customer_id}/notice-consents"): ("POST", f"/v1/customers/{MARIE}/notice-consents", {
        "channel": "widget", "conversation_id": "conv-marie", "reply_address_assertion": "signed"}),
    ("post", "/v1/notice-consents/withdraw"): ("POST", "/v1/notice-consents/withdraw", {"customer_id": MARIE}),
    ("get", "/v1/customers/{customer_id}"): ("GET", f"/v1/customers/{MARIE}", None),
    ("get", "/v1/customers/{customer_id}/contracts"): ("GET", f"/v1/customers/{MARIE}/contracts", None),
    ("get", "/v1/customers/{customer_id}/contracts/{contract_number}"):
        ("GET", f"/v1/customers/{MARIE}/contracts/AUT-482913", None),
    ("post", "/v1/customers/{customer_id}/contracts/{contract_number}/attestations"):
        ("POST", f"/v1/customers/{MARIE}/contracts/AUT-482913/attestations", {"send_by_email": True}),
    ("post", "/v1/customers/{customer_id}/password-reset"): ("POST", f"/v1/customers/{MARIE}/password-reset", {}),
    ("post", "/v1/customers/{customer_id}/identifier-reminder"):
        ("POST", f"/v1/customers/{MARIE}/identifier-reminder", {}),
    ("post", "/v1/customers/{customer_id}/requests"):
        ("POST", f"/v1/customers/{MARIE}/requests", {"kind": "termination", "contract_number": "AUT-482913"}),
    ("post", "/v1/handoffs"):
        ("POST", "/v1/handoffs", {"customer_id": MARIE, "channel": "widget", "reason": "r", "summary": "s"}),
    ("get", "/v1/customers/{customer_id}/claims"): ("GET", f"/v1/customers/{MARIE}/claims", None),
    ("post", "/v1/customers/{customer_id}/claims"): ("POST", f"/v1/customers/{MARIE}/claims", "declaration"),
    ("get", "/v1/customers/{customer_id}/claims/{claim_number}"):
        ("GET", f"/v1/customers/{MARIE}/claims/SIN-2026-000731", None),
    ("post", "/v1/customers/{customer_id}/claims/{claim_number}/documents"):
        ("POST", f"/v1/customers/{MARIE}/claims/SIN-2026-000731/documents", "upload"),
    # C: alerts (issue 18)
    ("get", "/v1/customers/{customer_id}/alerts"): ("GET", f"/v1/customers/{MARIE}/alerts", None),
    ("post", "/v1/customers/{customer_id}/alerts"):
        ("POST", f"/v1/customers/{MARIE}/alerts", {"kind": "due_date", "contract_number": "AUT-482913"}),
    ("delete", "/v1/customers/{customer_id}/alerts/{alert_id}"):
        ("DELETE", f"/v1/customers/{MARIE}/alerts/{'0' * 32}", None),
    # A: quotes and simulations (issue 18)
    ("post", "/v1/quotes"): ("POST", "/v1/quotes", {"product": "habitation", "customer_id": MARIE, "risk": {
        "housing": "maison", "rooms": 4, "postcode": "79000", "occupant": "proprietaire"}}),
    ("post", "/v1/quotes/{quote_reference}/follow-up"):
        ("POST", "/v1/quotes/DEV-2026-000001/follow-up", {"formula": "confort", "channel": "rest", "customer_id": MARIE}),
    ("post", "/v1/customers/{customer_id}/contracts/{contract_number}/simulations"):
        ("POST", f"/v1/customers/{MARIE}/contracts/AUT-482913/simulations", {"deductible_eur": 150}),
}
# Marie's data, which no refused call may show.
MARIES_DATA = ("Dupont", "marie.dupont", "AUT-482913", "SIN-2026-000731", "1985-03-12")
REFUSED_IDENTITIES = {
    "the service token alone": ({}, 401, "identity_required"),
    "a forged assertion": (lambda: as_customer(MARIE, secret="not-the-services-secret-0123456789"),
                           401, "identity_invalid"),
    "an assertion expired for longer than the grace of queued claims": (
        lambda: as_customer(MARIE, minutes=60, issued_minutes_ago=8 * 24 * 60 + 61), 401, "identity_expired"),
    "another customer's assertion": (lambda: as_customer(KARIM), 403, "identity_forbidden"),
    "an empty assertion": ({"X-Identity-Assertion": ""}, 401, "identity_required"),
    "an espace-client token instead": (
        lambda: {"X-Identity-Assertion": espace_client_token(MARIE)}, 401, "identity_invalid"),
}


def espace_client_token(customer_id):
    from devtools.espace_client import issue_session_token
    from tests.conftest import TEST_ESPACE_CLIENT_JWT_SECRET

    return issue_session_token(customer_id, TEST_ESPACE_CLIENT_JWT_SECRET, 30)


def call_for_marie(services, route, headers):
    method, path, body = MARIES_ROUTES[route]
    if body == "declaration":
        body = declaration()
    elif body == "upload":
        body = {"upload_id": uploaded(services)["upload_id"]}
    return services.request(method, path, json=body, identified_as=None,
                            headers={"Idempotency-Key": uuid.uuid4().hex, **headers})


@pytest.mark.parametrize("identity", sorted(REFUSED_IDENTITIES))
@pytest.mark.parametrize("route", sorted(MARIES_ROUTES))
def test_no_customer_scoped_call_without_that_customers_valid_assertion(services, route, identity):
    headers, status, code = REFUSED_IDENTITIES[identity]
    headers = headers() if callable(headers) else headers
    before = written(services)
    answer = call_for_marie(services, route, headers)
    assert (answer.status_code, answer.json()["error"]["code"]) == (status, code)
    assert not any(data in answer.text for data in MARIES_DATA)
    assert written(services) == before


# Where the claim outbox files a queued claim, or hands it over (docs/services-api.md).
GRACE_ROUTES = {("post", "/v1/customers/{customer_id}/claims"), ("post", "/v1/handoffs")}


@pytest.mark.parametrize("route", sorted(set(MARIES_ROUTES) - GRACE_ROUTES))
def test_an_assertion_expired_a_minute_ago_is_refused(services, route):
    before = written(services)
    answer = call_for_marie(services, route, as_customer(MARIE, minutes=60, issued_minutes_ago=61))
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "identity_expired")
    assert written(services) == before


def test_an_assertion_expired_for_days_still_files_a_claim_but_reads_nothing(services):
    """The claim outbox files a claim confirmed while the claims service was down, maybe
    days later, with the assertion of the conversation; its idempotency key keeps it from
    doing anything twice."""
    days_ago = as_customer(MARIE, minutes=60, issued_minutes_ago=3 * 24 * 60)
    key = uuid.uuid4().hex
    filed = services.post(f"/v1/customers/{MARIE}/claims", json=declaration(), identified_as=None,
                          headers={"Idempotency-Key": key, **days_ago})
    assert filed.status_code == 201
    again = services.post(f"/v1/customers/{MARIE}/claims", json=declaration(), identified_as=None,
                          headers={"Idempotency-Key": key, **days_ago})
    assert (again.status_code, again.json()["claim_number"]) == (200, filed.json()["claim_number"])
    listed = services.get(f"/v1/customers/{MARIE}/claims", identified_as=None, headers=days_ago)
    assert (listed.status_code, listed.json()["error"]["code"]) == (401, "identity_expired")


def test_past_the_grace_an_expired_assertion_files_nothing(services):
    weeks_ago = as_customer(MARIE, minutes=60, issued_minutes_ago=8 * 24 * 60)
    before = written(services)
    answer = services.post(f"/v1/customers/{MARIE}/claims", json=declaration(), identified_as=None,
                           headers={"Idempotency-Key": uuid.uuid4().hex, **weeks_ago})
    assert (answer.status_code, answer.json()["error"]["code"]) == (401, "identity_expired")
    assert written(services) == before


def test_every_route_that_needs_an_assertion_is_refused_without_one(services):
    paths = services.get("/v1/openapi.json", authorized=False).json()["paths"]
    needing = {(method, path) for path, operations in paths.items() for method, operation in operations.items()
               if any(parameter["name"] == "X-Identity-Assertion" for parameter in operation.get("parameters", []))}
    assert needing == set(MARIES_ROUTES)
    identifying = {(method, path) for path in paths if "{customer_id}" in path
                   for method in paths[path]} - needing
    assert identifying == {("post", "/v1/customers/{customer_id}/identity-checks")}


# --- every customer-scoped route is covered ---------------------------------------

COVERED = {
    # D: claim notices (issue 15), in test_notices.py
    ("get", "/v1/customers/{customer_id}/notice-consents"):
        "test_notices.py: a customer's consents are listed with their own assertion only",
    ("post", "/v1/customers/{customer_id}/notice-consents"):
        "test_notices.py: a consent is given only for the identified customer",
    ("post", "/v1/notice-consents/withdraw"):
        "test_notices.py: stop for a customer needs their identity",
    ("get", "/v1/customers/{customer_id}"): "the customer's own record: the id is the identity",
    ("get", "/v1/customers/{customer_id}/contracts"): "test_a_contract_list_holds_only_the_customers_own_contracts",
    ("get", "/v1/customers/{customer_id}/contracts/{contract_number}"): "test_another_customers_contract_is_an_unknown_contract",
    ("post", "/v1/customers/{customer_id}/contracts/{contract_number}/attestations"):
        "test_no_attestation_is_issued_on_another_customers_contract",
    ("post", "/v1/customers/{customer_id}/password-reset"): "test_login_emails_go_only_to_the_address_on_file_of_the_customer_named",
    ("post", "/v1/customers/{customer_id}/identifier-reminder"):
        "test_login_emails_go_only_to_the_address_on_file_of_the_customer_named",
    ("post", "/v1/customers/{customer_id}/requests"): "test_no_change_request_is_filed_on_another_customers_contract",
    ("post", "/v1/customers/{customer_id}/identity-checks"): "test_another_customers_birth_date_is_a_wrong_birth_date",
    ("get", "/v1/customers/{customer_id}/claims"): "test_a_claim_list_holds_only_the_customers_own_claims",
    ("post", "/v1/customers/{customer_id}/claims"): "test_no_claim_is_filed_on_another_customers_contract",
    ("get", "/v1/customers/{customer_id}/claims/{claim_number}"): "test_another_customers_claim_is_an_unknown_claim",
    ("post", "/v1/customers/{customer_id}/claims/{claim_number}/documents"):
        "test_no_document_is_added_to_another_customers_claim",
    ("get", "/v1/documents/{filename}"): "test_a_signed_link_opens_only_the_document_it_was_signed_for",
    ("post", "/v1/phone-identity-checks"): "test_one_customers_phone_with_another_customers_birth_date_is_an_unknown_phone",
    # C: alerts (issue 18), in test_alerts.py
    ("get", "/v1/customers/{customer_id}/alerts"): "test_alerts.py: another customer's alert is unknown",
    ("post", "/v1/customers/{customer_id}/alerts"): "test_alerts.py: another customer's contract is unknown",
    ("delete", "/v1/customers/{customer_id}/alerts/{alert_id}"): "test_alerts.py: another customer's alert is unknown",
    # A: quotes and simulations (issue 18), in test_quotes.py
    ("post", "/v1/customers/{customer_id}/contracts/{contract_number}/simulations"):
        "test_quotes.py: another customer's contract is an unknown contract",
}


def test_every_customer_scoped_route_has_its_cross_customer_case(services):
    paths = services.get("/v1/openapi.json", authorized=False).json()["paths"]
    scoped = {(method, path) for path, operations in paths.items() for method in operations
              if "{customer_id}" in path or path in ("/v1/documents/{filename}", "/v1/phone-identity-checks")}
    assert scoped - set(COVERED) == set(), "a customer-scoped route without a cross-customer case"
    assert all(name in globals() or " " in name for name in COVERED.values())
