"""Claim notices in the policy service: consents given on a signed reply address and
withdrawn by « STOP », notices written with the change they tell, leased by the notifier
alone, delivered once, retried, or sent by e-mail instead."""
from __future__ import annotations

import asyncio
import itertools
import uuid
from datetime import datetime, timezone
from typing import Iterator

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import sessionmaker

from core.db import create_app_engine
from core.settings import Settings
from reference_services.notices import queue_notice
from reference_services.policy.models import Contract
from tests.conftest import (
    TEST_ADVISER_CONSOLE_TOKEN,
    TEST_SERVICES_API_TOKEN,
    RunningServices,
    as_customer,
    reply_address_assertion,
    running_services,
)
from tests.reference_services.helpers import (
    count,
    db_time,
    execute,
    minutes_ago,
    new_customer,
    query,
    sent_messages,
)
from tests.reference_services.test_claims import declaration

NOTIFIER_TOKEN = "test-notifier-token-0123456789"
NOTIFIER = {"Authorization": f"Bearer {NOTIFIER_TOKEN}"}
_numbers = itertools.count(1)


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def services(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServices]:
    """The services with the notifier's token (and the template the notices name)."""
    workdir = tmp_path_factory.mktemp(f"notices-{request.param}")
    if request.param == "sqlite":
        database_url = f"sqlite:///{workdir / 'oyat.db'}"
    else:
        database_url = request.getfixturevalue("postgresql_server").create_database("notices")
    with running_services(workdir, database_url, {
        "NOTIFIER_TOKEN": NOTIFIER_TOKEN, "WHATSAPP_NOTICE_TEMPLATE": "suivi_sinistre_v2",
        "WHATSAPP_NOTICE_TEMPLATE_LANGUAGE": "fr",
    }) as running:
        yield running


# --- helpers ------------------------------------------------------------------------------

def customer_with_contract(services) -> tuple[str, str, str]:
    """A customer of our own with a copy of Marie's home contract: (customer_id, contract, e-mail)."""
    customer = new_customer(services)
    number = f"HAB-9{next(_numbers):05d}"
    columns = [c.name for c in Contract.__table__.columns if c.name not in ("contract_number", "customer_id")]
    execute(services, f"INSERT INTO contracts (contract_number, customer_id, {', '.join(columns)}) "
                      f"SELECT ?, ?, {', '.join(columns)} FROM contracts WHERE contract_number = 'HAB-120034'",
            (number, customer["customer_id"]))
    return customer["customer_id"], number, customer["email"]


def consent(services, customer_id, channel="whatsapp", address=None, conversation=None, **body):
    address = address or f"+3361{uuid.uuid4().int % 10**7:07d}"
    conversation = conversation or f"{channel}:{address}"
    assertion = reply_address_assertion(channel, address, conversation)
    return services.post(f"/v1/customers/{customer_id}/notice-consents", json={
        "channel": channel, "conversation_id": conversation, "reply_address_assertion": assertion, **body})


def file_claim(services, customer_id, contract, channel="whatsapp"):
    response = services.post(f"/v1/customers/{customer_id}/claims",
                             json=declaration(contract_number=contract, channel=channel),
                             headers={"Idempotency-Key": uuid.uuid4().hex})
    assert response.status_code == 201, response.text
    return response.json()["claim_number"]


def lease(services, limit=50, customer_id=None):
    response = services.post("/v1/notices/lease", authorized=False, headers=NOTIFIER, json={"limit": limit})
    assert response.status_code == 200, response.text
    notices = response.json()["notices"]
    return [n for n in notices if customer_id is None or n["customer_id"] == customer_id]


def report(services, notice_id, what, **body):
    return services.post(f"/v1/notices/{notice_id}/{what}", authorized=False, headers=NOTIFIER, json=body)


def notice_row(services, notice_id):
    (row,) = query(services, "SELECT status, attempts, delivered_by FROM notices WHERE id = ?", (notice_id,))
    return row


def lapse(services, notice_id):
    """As if its lease (or its wait) had ended: the notifier died, or time passed."""
    execute(services, "UPDATE notices SET next_attempt_at = ? WHERE id = ?", (minutes_ago(1), notice_id))


def queue(services, customer_id, text, key, channel=None):
    """reference_services.notices.queue_notice, in a transaction of its own (as C's reminders)."""
    async def run():
        engine = create_app_engine(Settings(database_url=services.database_url, services_api_token="t",
                                            document_link_secret="s"))
        try:
            async with sessionmaker(engine, class_=AsyncSession, future=True)() as session:
                queued = await queue_notice(session, customer_id, "reminder_due_date", text,
                                            datetime.now(timezone.utc), key, channel)
                await session.commit()
                return queued
        finally:
            await engine.dispose()

    return asyncio.run(run())


# --- consents ---------------------------------------------------------------------------

def test_a_consent_is_recorded_with_its_date_once_per_address(services):
    customer_id, _, _ = customer_with_contract(services)
    first = consent(services, customer_id, "telegram", "555001", "telegram:555001")
    assert first.status_code == 201
    assert first.json()["channel"] == "telegram" and first.json()["given_at"].startswith("20")
    again = consent(services, customer_id, "telegram", "555001", "telegram:555001")
    assert again.status_code == 200 and again.json()["consent_id"] == first.json()["consent_id"]
    listed = services.get(f"/v1/customers/{customer_id}/notice-consents").json()["consents"]
    assert [c["consent_id"] for c in listed] == [first.json()["consent_id"]]


@pytest.mark.parametrize("assertion, status, code", [
    (None, 401, "reply_address_required"),
    (lambda: reply_address_assertion("whatsapp", "+33612345678", "whatsapp:+33612345678", secret="forged-" * 6),
     403, "reply_address_invalid"),
    (lambda: reply_address_assertion("whatsapp", "+33612345678", "whatsapp:+33612345678", minutes=-1),
     403, "reply_address_invalid"),
    (lambda: reply_address_assertion("whatsapp", "+33612345678", "whatsapp:other-conversation"),
     403, "reply_address_invalid"),
])
def test_a_consent_needs_the_address_the_channel_signed_for_this_conversation(services, assertion, status, code):
    customer_id, _, _ = customer_with_contract(services)
    body = {"channel": "whatsapp", "conversation_id": "whatsapp:+33612345678",
            "reply_address_assertion": assertion() if assertion else None}
    response = services.post(f"/v1/customers/{customer_id}/notice-consents", json=body)
    assert (response.status_code, response.json()["error"]["code"]) == (status, code)
    assert count(services, "notice_consents", "customer_id = ?", (customer_id,)) == 0


def test_a_consent_is_given_only_for_the_identified_customer(services):
    customer_id, _, _ = customer_with_contract(services)
    other, _, _ = customer_with_contract(services)
    assertion = reply_address_assertion("widget", "conv-x", "conv-x")
    response = services.post(f"/v1/customers/{customer_id}/notice-consents", identified_as=other,
                             json={"channel": "widget", "conversation_id": "conv-x",
                                   "reply_address_assertion": assertion})
    assert response.status_code == 403 and response.json()["error"]["code"] == "identity_forbidden"


# --- claim events -----------------------------------------------------------------------

def test_a_claim_filed_by_a_customer_who_agreed_is_announced_on_their_channel(services):
    customer_id, contract, _ = customer_with_contract(services)
    consent(services, customer_id, "whatsapp", "+33699000001", "whatsapp:+33699000001")
    claim_number = file_claim(services, customer_id, contract)
    (notice,) = lease(services, customer_id=customer_id)
    assert notice["claim_number"] == claim_number and notice["event"] == "opened"
    assert (notice["channel"], notice["address"], notice["conversation_id"]) == (
        "whatsapp", "+33699000001", "whatsapp:+33699000001")
    assert notice["text"].startswith(f"Votre déclaration de sinistre est enregistrée sous le numéro {claim_number}.")
    assert notice["template"] == {"name": "suivi_sinistre_v2", "language": "fr", "parameters": [notice["text"]]}


def test_a_claim_of_a_customer_who_never_agreed_makes_no_notice(services):
    customer_id, contract, _ = customer_with_contract(services)
    claim_number = file_claim(services, customer_id, contract)
    assert count(services, "notices", "claim_number = ?", (claim_number,)) == 0


def test_a_claim_is_told_on_its_own_channel_else_where_the_customer_last_agreed(services):
    customer_id, contract, _ = customer_with_contract(services)
    consent(services, customer_id, "whatsapp", "+33699000055", "whatsapp:+33699000055")
    consent(services, customer_id, "telegram", "tg-other", "telegram:tg-other")
    by_whatsapp = file_claim(services, customer_id, contract, channel="whatsapp")
    by_phone = file_claim(services, customer_id, contract, channel="telephone")
    assert sorted(query(services, "SELECT claim_number, channel FROM notices WHERE customer_id = ?",
                        (customer_id,))) == sorted([(by_whatsapp, "whatsapp"), (by_phone, "telegram")])


def test_a_claim_queued_during_an_outage_is_announced_when_its_consent_comes_with_it(services):
    customer_id, contract, _ = customer_with_contract(services)
    claim_number = file_claim(services, customer_id, contract, channel="telegram")
    # The consent was given minutes before, in the conversation; its assertion has expired since.
    late = reply_address_assertion("telegram", "777001", "telegram:777001", minutes=-30)
    body = {"channel": "telegram", "conversation_id": "telegram:777001", "reply_address_assertion": late}
    refused = services.post(f"/v1/customers/{customer_id}/notice-consents", json=body)
    assert refused.status_code == 403
    # Filed by the claim outbox later, with the conversation's identity assertion, expired too.
    expired = as_customer(customer_id, minutes=-30, issued_minutes_ago=90)
    refused = services.post(f"/v1/customers/{customer_id}/notice-consents", identified_as=None,
                            headers=expired, json=body)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "identity_expired"
    given = services.post(f"/v1/customers/{customer_id}/notice-consents", identified_as=None,
                          headers=expired, json={**body, "claim_number": claim_number})
    assert given.status_code == 201, given.text
    (notice,) = lease(services, customer_id=customer_id)
    assert (notice["claim_number"], notice["event"], notice["address"]) == (claim_number, "opened", "777001")


# --- the notifier -----------------------------------------------------------------------

@pytest.mark.parametrize("headers", [
    {}, {"Authorization": f"Bearer {TEST_SERVICES_API_TOKEN}"},
    {"Authorization": f"Bearer {TEST_ADVISER_CONSOLE_TOKEN}"}, {"Authorization": f"Bearer {NOTIFIER_TOKEN}x"},
])
def test_only_the_notifier_leases_or_reports_notices(services, headers):
    for path in ("/v1/notices/lease", "/v1/notices/1/delivered", "/v1/notices/1/failed", "/v1/notices/1/fallback"):
        response = services.post(path, authorized=False, headers=headers, json={})
        assert response.status_code == 401 and response.json()["error"]["code"] == "unauthorized", path


def test_the_notifiers_token_opens_no_other_route(services):
    customer_id, _, _ = customer_with_contract(services)
    response = services.get(f"/v1/customers/{customer_id}/notice-consents", authorized=False,
                            headers={**NOTIFIER, **as_customer(customer_id)})
    assert response.status_code == 401


def test_a_leased_notice_is_not_leased_again_until_its_lease_lapses_and_never_once_delivered(services):
    customer_id, _, _ = customer_with_contract(services)
    consent(services, customer_id, "messenger", "psid-1", "messenger:psid-1")
    assert queue(services, customer_id, "Votre échéance approche.", f"t:{uuid.uuid4()}")
    (notice,) = lease(services, customer_id=customer_id)
    assert lease(services, customer_id=customer_id) == []
    lapse(services, notice["id"])  # the notifier died while sending
    (again,) = lease(services, customer_id=customer_id)
    assert again["id"] == notice["id"]
    assert report(services, notice["id"], "delivered").json() == {
        "id": notice["id"], "status": "delivered", "delivered_by": "channel"}
    lapse(services, notice["id"])
    assert lease(services, customer_id=customer_id) == []
    assert report(services, notice["id"], "delivered").status_code == 200  # said twice: still once
    assert notice_row(services, notice["id"]) == ("delivered", 2, "channel")


def test_two_notifiers_leasing_at_once_never_get_the_same_notice(services):
    from concurrent.futures import ThreadPoolExecutor

    customer_id, _, _ = customer_with_contract(services)
    consent(services, customer_id, "telegram", "tg-race", "telegram:tg-race")
    for number in range(12):
        queue(services, customer_id, f"Rappel {number}.", f"race:{uuid.uuid4()}")
    with ThreadPoolExecutor(max_workers=4) as pool:
        leases = list(pool.map(lambda _: [n["id"] for n in lease(services, limit=5, customer_id=customer_id)],
                               range(4)))
    leased = [notice_id for each in leases for notice_id in each]
    assert len(leased) == len(set(leased))
    leased += [n["id"] for n in lease(services, customer_id=customer_id)]
    assert len(leased) == len(set(leased)) == 12


def test_a_failed_delivery_is_retried_later_then_given_up(services):
    customer_id, _, _ = customer_with_contract(services)
    consent(services, customer_id)
    queue(services, customer_id, "Votre échéance approche.", f"t:{uuid.uuid4()}")
    (notice,) = lease(services, customer_id=customer_id)
    failed = report(services, notice["id"], "failed", retry=True, reason="platform 503")
    assert failed.json()["status"] == "queued"
    assert lease(services, customer_id=customer_id) == []  # waits before the next attempt
    (next_at,) = query(services, "SELECT next_attempt_at FROM notices WHERE id = ?", (notice["id"],))[0]
    assert str(next_at) > db_time(datetime.now(timezone.utc))
    lapse(services, notice["id"])
    lease(services, customer_id=customer_id)
    assert report(services, notice["id"], "failed", retry=False, reason="blocked").json()["status"] == "failed"
    lapse(services, notice["id"])
    assert lease(services, customer_id=customer_id) == []
    assert report(services, notice["id"], "failed").status_code == 409


def test_a_notice_the_channel_cannot_deliver_goes_by_email_once(services):
    customer_id, _, email = customer_with_contract(services)
    consent(services, customer_id, "widget", "conv-gone", "conv-gone")
    contract = query(services, "SELECT contract_number FROM contracts WHERE customer_id = ?", (customer_id,))[0][0]
    claim_number = file_claim(services, customer_id, contract, channel="widget")
    (notice,) = lease(services, customer_id=customer_id)
    before = len(sent_messages(services, email))
    answer = report(services, notice["id"], "fallback")
    assert answer.json() == {"id": notice["id"], "status": "delivered", "delivered_by": "fallback_email"}
    message = sent_messages(services, email)[-1]
    assert message["subject"] == f"Votre sinistre {claim_number} : du nouveau"
    assert notice["text"] in message["body"] and message["body"].startswith("Bonjour Test Client,")
    assert report(services, notice["id"], "fallback").status_code == 200
    assert len(sent_messages(services, email)) == before + 1
    lapse(services, notice["id"])
    assert lease(services, customer_id=customer_id) == []


def test_unknown_notices_are_not_found(services):
    assert report(services, 999999999, "delivered").json()["error"]["code"] == "notice_not_found"


# --- queue_notice (C's reminders) -------------------------------------------------------

def test_queue_notice_answers_false_without_consent_and_queues_a_key_once(services):
    customer_id, _, _ = customer_with_contract(services)
    key = f"reminder:{uuid.uuid4()}"
    assert queue(services, customer_id, "Votre échéance approche.", key) is False
    consent(services, customer_id, "telegram", "tg-1", "telegram:tg-1")
    widget = consent(services, customer_id, "widget", "w-1", "w-1").json()
    assert queue(services, customer_id, "Votre échéance approche.", key, channel="telegram") is True
    assert queue(services, customer_id, "Votre échéance approche.", key) is True
    rows = query(services, "SELECT channel FROM notices WHERE dedup_key = ?", (key,))
    assert rows == [("telegram",)]
    assert queue(services, customer_id, "Autre rappel.", key + "-2")  # no channel: the latest consent
    assert query(services, "SELECT consent_id FROM notices WHERE dedup_key = ?", (key + "-2",)) == [
        (widget["consent_id"],)]


# --- STOP ---------------------------------------------------------------------------------

def test_stop_from_an_address_withdraws_its_consents_and_drops_their_notices(services):
    customer_id, _, _ = customer_with_contract(services)
    consent(services, customer_id, "whatsapp", "+33699000077", "whatsapp:+33699000077")
    kept = consent(services, customer_id, "telegram", "tg-77", "telegram:tg-77").json()
    queue(services, customer_id, "Rappel WhatsApp.", f"t:{uuid.uuid4()}", channel="whatsapp")
    stop = reply_address_assertion("whatsapp", "+33699000077", "whatsapp:+33699000077")
    # Anonymous: only the signed address is needed (no customer named, no identity).
    response = services.post("/v1/notice-consents/withdraw", identified_as=None,
                             json={"reply_address_assertion": stop})
    assert response.json() == {"withdrawn": 1}
    assert lease(services, customer_id=customer_id) == []
    assert count(services, "notices", "customer_id = ? AND status = 'withdrawn'", (customer_id,)) == 1
    listed = services.get(f"/v1/customers/{customer_id}/notice-consents").json()["consents"]
    assert [c["consent_id"] for c in listed] == [kept["consent_id"]]
    assert queue(services, customer_id, "Rappel.", f"t:{uuid.uuid4()}", channel="whatsapp")  # → telegram


def test_stop_of_an_identified_customer_withdraws_all_their_consents(services):
    customer_id, _, _ = customer_with_contract(services)
    consent(services, customer_id, "whatsapp")
    consent(services, customer_id, "widget", "w-88", "w-88")
    response = services.post("/v1/notice-consents/withdraw", identified_as=None,
                             headers=as_customer(customer_id), json={"customer_id": customer_id})
    assert response.json() == {"withdrawn": 2}
    assert queue(services, customer_id, "Rappel.", f"t:{uuid.uuid4()}") is False


def test_stop_for_a_customer_needs_their_identity_and_for_an_address_its_signature(services):
    customer_id, _, _ = customer_with_contract(services)
    consent(services, customer_id, "widget", "w-99", "w-99")
    other, _, _ = customer_with_contract(services)
    forbidden = services.post("/v1/notice-consents/withdraw", identified_as=None,
                              headers=as_customer(other), json={"customer_id": customer_id})
    assert forbidden.status_code == 403
    forged = reply_address_assertion("widget", "w-99", "w-99", secret="forged-secret-" * 3)
    refused = services.post("/v1/notice-consents/withdraw", json={"reply_address_assertion": forged})
    assert refused.status_code == 403
    assert services.post("/v1/notice-consents/withdraw", json={}).status_code == 401
    assert count(services, "notice_consents", "customer_id = ? AND withdrawn_at IS NULL", (customer_id,)) == 1


# --- the services' client (the action server's side) ---------------------------------------

def test_the_client_records_lists_and_withdraws_consents(services):
    from core.service_client import CustomerIdentity, ServiceRefusal, ServicesClient
    from tests.conftest import identity_assertion

    customer_id, _, _ = customer_with_contract(services)
    customer = CustomerIdentity(customer_id, identity_assertion(customer_id))
    signed = reply_address_assertion("messenger", "psid-c", "messenger:psid-c")

    async def run():
        client = ServicesClient(services.base_url, services.base_url, TEST_SERVICES_API_TOKEN)
        try:
            given = await client.record_notice_consent(customer, "messenger", "messenger:psid-c", signed)
            listed = await client.list_notice_consents(customer)
            with pytest.raises(ServiceRefusal) as refused:
                await client.record_notice_consent(customer, "messenger", "messenger:other", signed)
            withdrawn = await client.withdraw_notice_consents(reply_address_assertion=signed)
            return given, listed, refused.value.code, withdrawn, await client.list_notice_consents(customer)
        finally:
            await client.close()

    given, listed, refusal, withdrawn, after = asyncio.run(run())
    assert given.channel == "messenger" and [c.consent_id for c in listed] == [given.consent_id]
    assert refusal == "reply_address_invalid"
    assert (withdrawn, after) == (1, [])


# --- with the notifier process (connectors/notifier.py) -------------------------------------

class FakeRasa:
    """The Rasa servers' notice route: the widget conversations in `connected` take the
    notice (200), the others answer 409 not_connected."""

    def __init__(self, connected):
        import http.server
        import json
        import threading

        self.connected, self.received = set(connected), []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                conversation = self.path.rsplit("/", 1)[-1]
                fake.received.append((conversation, body, self.headers.get("Authorization")))
                status = 200 if conversation in fake.connected else 409
                answer = json.dumps({} if status == 200 else {"code": "not_connected"}).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(answer)))
                self.end_headers()
                self.wfile.write(answer)

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def test_the_notifier_delivers_each_notice_once_on_the_widget_or_by_email(services):
    import subprocess
    import sys

    connected_customer, connected_contract, _ = customer_with_contract(services)
    away_customer, away_contract, away_email = customer_with_contract(services)
    consent(services, connected_customer, "widget", "conv-open", "conv-open")
    consent(services, away_customer, "widget", "conv-closed", "conv-closed")
    connected_claim = file_claim(services, connected_customer, connected_contract, channel="widget")
    away_claim = file_claim(services, away_customer, away_contract, channel="widget")
    rasa = FakeRasa({"conv-open"})
    env = {**services.env, "NOTIFIER_TOKEN": NOTIFIER_TOKEN, "POLICY_SERVICE_URL": services.base_url,
           "RASA_SERVER_URL": rasa.url}
    try:
        for _ in range(2):  # a second pass finds nothing left to deliver
            done = subprocess.run([sys.executable, "-m", "connectors.notifier", "--once"], env=env,
                                  cwd=services.workdir, capture_output=True, text=True, timeout=60)
            assert done.returncode == 0, done.stderr
    finally:
        rasa.close()
    mine = [(conversation, body) for conversation, body, _ in rasa.received
            if conversation in ("conv-open", "conv-closed")]
    assert sorted(conversation for conversation, _ in mine) == ["conv-closed", "conv-open"]
    assert {auth for _, _, auth in rasa.received} == {f"Bearer {NOTIFIER_TOKEN}"}
    assert query(services, "SELECT claim_number, status, delivered_by FROM notices WHERE claim_number IN (?, ?) "
                           "ORDER BY claim_number", tuple(sorted((connected_claim, away_claim)))) == sorted([
        (connected_claim, "delivered", "channel"), (away_claim, "delivered", "fallback_email")])
    (email,) = [m for m in sent_messages(services, away_email) if m["subject"] == f"Votre sinistre {away_claim} : du nouveau"]
    assert f"enregistrée sous le numéro {away_claim}" in email["body"]


def test_the_lease_of_the_last_attempt_says_so_for_the_notifier_to_fall_back(services):
    from reference_services.notices.service import MAX_ATTEMPTS

    customer_id, _, _ = customer_with_contract(services)
    consent(services, customer_id)
    queue(services, customer_id, "Votre échéance approche.", f"t:{uuid.uuid4()}")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        (notice,) = lease(services, customer_id=customer_id)
        assert notice["last_attempt"] is (attempt == MAX_ATTEMPTS)
        if attempt < MAX_ATTEMPTS:
            report(services, notice["id"], "failed", retry=True, reason="platform 503")
            lapse(services, notice["id"])
