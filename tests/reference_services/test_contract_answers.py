"""Every route answers what its model in the contract (core/service_contract) describes:
a real answer of each route reads as its model, member for member, and its errors as
the contract's Error with a code of ErrorCode."""
import json
import uuid

import pytest

from core.service_contract import ROUTES, Error, ErrorCode
from tests.reference_services.helpers import MARIE, latest_code, new_adviser, new_customer
from tests.reference_services.test_advisers import console, log_in
from tests.reference_services.test_claims import declaration
from tests.reference_services.test_identification import Asker
from tests.reference_services.test_phone_identification import call
from tests.reference_services.test_session_tokens import WHERE, session_token
from tests.reference_services.test_uploads import uploaded

CUSTOMER = f"/v1/customers/{MARIE}"
JSON_ROUTES = {route.operation_id: route for route in ROUTES  # but those not JSON of a model
               if route.operation_id not in ("openapi", "downloadDocument", "closeAdviserSession", "metrics")}


def real_answers(services) -> dict:
    """operation id -> (status, JSON) of one real call of each JSON route."""
    customer, asker = new_customer(services), Asker()
    started = services.post(f"/v1/customers/{customer['customer_id']}/identity-checks",
                            json={"birth_date": customer["birth_date"], **asker.fields()})
    verified = services.post(f"/v1/identity-checks/{started.json()['check_id']}/verify",
                             json={"code": latest_code(services, customer["phone"]), **asker.fields()})
    on_phone = new_customer(services)
    upload = uploaded(services)
    claim = services.post(f"{CUSTOMER}/claims", json=declaration(attachments=[upload["upload_id"]]),
                          headers={"Idempotency-Key": uuid.uuid4().hex})
    claim_number = claim.json()["claim_number"]
    answers = {
        "health": services.get("/health"),
        "ready": services.get("/ready", authorized=False),
        "getCustomer": services.get(CUSTOMER),
        "listContracts": services.get(f"{CUSTOMER}/contracts"),
        "getContract": services.get(f"{CUSTOMER}/contracts/AUT-482913"),
        "createAttestation": services.post(f"{CUSTOMER}/contracts/AUT-482913/attestations",
                                           json={"send_by_email": True}),
        "sendPasswordReset": services.post(f"{CUSTOMER}/password-reset"),
        "sendIdentifierReminder": services.post(f"{CUSTOMER}/identifier-reminder"),
        "createCustomerRequest": services.post(f"{CUSTOMER}/requests", json={
            "kind": "quote", "details": {"description": "un devis"}, "contract_number": "AUT-482913"}),
        "createHandoff": services.post("/v1/handoffs", json={
            "customer_id": None, "channel": "rest", "reason": "demande", "summary": "Un résumé."}),
        "startIdentityCheck": started,
        "startPhoneIdentityCheck": call(services, on_phone["phone"], on_phone["birth_date"]),
        "verifyIdentityCheck": verified,
        "checkSessionToken": services.post("/v1/espace-client-token-checks",
                                           json={"token": session_token(MARIE), **WHERE}),
        "listClaims": services.get(f"{CUSTOMER}/claims"),
        "createClaim": claim,
        "getClaim": services.get(f"{CUSTOMER}/claims/{claim_number}"),
        "addClaimDocument": services.post(f"{CUSTOMER}/claims/{claim_number}/documents",
                                          json={"upload_id": uploaded(services)["upload_id"]}),
    }
    handoff = services.post("/v1/handoffs", identified_as=MARIE, json={
        "customer_id": MARIE, "channel": "widget", "reason": "demande", "summary": "Un résumé.",
        "conversation_id": uuid.uuid4().hex})
    path = f"/v1/handoffs/{handoff.json()['reference']}"
    logged_in = log_in(services, new_adviser(services))
    session = logged_in.json()["session"]
    answers.update({
        "countAvailableAdvisers": services.get("/v1/advisers/available"),
        "openAdviserSession": logged_in,
        "getAdviserSession": console(services, "GET", "/v1/adviser-sessions/current", session),
        "listHandoffs": console(services, "GET", "/v1/handoffs", session),
        "getHandoff": console(services, "GET", path, session),
        "takeHandoff": console(services, "POST", f"{path}/take", session),
        "recordHandoffMessage": console(services, "POST", f"{path}/messages", session,
                                        json={"text": "Bonjour."}),
        "closeHandoff": console(services, "POST", f"{path}/close", session),
    })
    # C: alerts (issue 18)
    alert = services.post(f"{CUSTOMER}/alerts", json={"kind": "due_date", "contract_number": "AUT-482913",
                                                      "days_before": 5, "channel": "email"})
    answers.update({
        "createAlert": alert,
        "listAlerts": services.get(f"{CUSTOMER}/alerts"),
        "cancelAlert": services.request("DELETE", f"{CUSTOMER}/alerts/{alert.json()['alert_id']}"),
    })
    answers.update(notice_answers(services))  # D: claim notices (issue 15)
    answers.update(quote_answers(services))  # A: quotes and simulations (issue 18)
    from tests.reference_services.test_training_reviews import training_answers

    answers.update(training_answers(services))  # I: figures and review (issue 16)
    return {"uploadFile": (201, upload),
            **{name: (answer.status_code, answer.json()) for name, answer in answers.items()}}


def quote_answers(services) -> dict:
    """The quotes' routes: a car quote read, e-mailed, passed to an adviser; a simulation."""
    from tests.reference_services.test_quotes import CAR

    created = services.post("/v1/quotes", json={"product": "auto", "risk": CAR})
    path = f"/v1/quotes/{created.json()['reference']}"
    return {
        "createQuote": created,
        "getQuote": services.get(path),
        "emailQuote": services.post(f"{path}/email", json={"email": "visiteur@example.fr"}),
        "followUpQuote": services.post(f"{path}/follow-up", json={
            "formula": "tiers", "channel": "rest", "contact": "06 12 34 56 78"}),
        "simulateContractChange": services.post(f"{CUSTOMER}/contracts/AUT-482913/simulations",
                                                json={"deductible_eur": 150}),
    }


def notice_answers(services) -> dict:
    """The claim notices' routes: a consent, three claims announced, each notice reported."""
    from tests.conftest import TEST_NOTIFIER_TOKEN
    from tests.reference_services.test_notices import consent, customer_with_contract, file_claim

    notifier = {"Authorization": f"Bearer {TEST_NOTIFIER_TOKEN}"}
    customer_id, contract, _ = customer_with_contract(services)
    given = consent(services, customer_id, "widget", f"conv-{customer_id}", f"conv-{customer_id}")
    for _ in range(3):
        file_claim(services, customer_id, contract, channel="widget")
    leased = services.post("/v1/notices/lease", authorized=False, headers=notifier, json={"limit": 50})
    first, second, third = [n["id"] for n in leased.json()["notices"] if n["customer_id"] == customer_id]

    def report(notice_id, what, **body):
        return services.post(f"/v1/notices/{notice_id}/{what}", authorized=False, headers=notifier, json=body)

    return {
        "giveNoticeConsent": given,
        "listNoticeConsents": services.get(f"/v1/customers/{customer_id}/notice-consents"),
        "leaseNotices": leased,
        "noticeDelivered": report(first, "delivered"),
        "noticeFailed": report(second, "failed", retry=True, reason="platform down"),
        "noticeFallback": report(third, "fallback"),
        "withdrawNoticeConsents": services.post("/v1/notice-consents/withdraw", identified_as=customer_id,
                                                json={"customer_id": customer_id}),
    }


def test_a_real_answer_of_every_route_is_its_model_member_for_member(services):
    answers = real_answers(services)
    assert set(answers) == set(JSON_ROUTES)
    for name, (status, answer) in answers.items():
        description, model = JSON_ROUTES[name].answers[status]  # a status the route documents
        parsed = model.parse_obj(answer)
        # Nothing the model does not know of, nothing written otherwise than it says.
        assert json.loads(parsed.json(exclude_unset=True)) == answer, name


@pytest.mark.parametrize("method, path, body", [
    ("GET", f"{CUSTOMER}/contracts/AUT-000000", None),
    ("POST", f"{CUSTOMER}/claims", {"place": 42}),
    ("POST", "/v1/identity-checks/0123456789abcdef0123456789abcdef/verify",
     {"code": "123456", "conversation_id": "c", "channel": "rest"}),
], ids=["not found", "validation error", "unknown check"])
def test_errors_are_the_contracts_error_with_one_of_its_codes(services, method, path, body):
    answer = services.request(method, path, json=body, headers={"Idempotency-Key": "k"})
    error = Error.parse_obj(answer.json()).error
    assert isinstance(error.code, ErrorCode) and error.code.status == answer.status_code
