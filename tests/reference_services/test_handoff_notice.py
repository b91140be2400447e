"""The advisers are told of each new hand-off by e-mail, through a real SMTP server (aiosmtpd),
and the services' other e-mails go out the same way; nothing in the notice is personal."""
import re
import time
from typing import Iterator

import pytest

from tests.conftest import RunningServices, running_services
from tests.reference_services.helpers import MARIE, query
from tests.reference_services.smtp import SmtpRecorder

NOTICE_ADDRESS = "conseillers@oyat-assurances.fr"
CONSOLE_URL = "https://assistant.oyat-assurances.fr/conseiller"
CONTACT = "visiteur.rappel@example.fr"
CALL_BACK_PHONE = "06 11 22 33 44"
SUMMARY = "Mme Dupont, née le 12/03/1985, veut parler de son dégât des eaux au 14 rue Ricard."


@pytest.fixture(scope="module")
def smtp() -> Iterator[SmtpRecorder]:
    recorder = SmtpRecorder().start()
    try:
        yield recorder
    finally:
        recorder.stop()


@pytest.fixture(scope="module")
def mailing_services(smtp: SmtpRecorder, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningServices]:
    workdir = tmp_path_factory.mktemp("mailing-services")
    with running_services(workdir, f"sqlite:///{workdir / 'oyat.db'}", extra_env={
        "SMTP_URL": smtp.url, "HANDOFF_NOTIFY_EMAIL": NOTICE_ADDRESS, "ADVISER_CONSOLE_URL": CONSOLE_URL,
    }) as running:
        yield running


@pytest.fixture
def received(smtp: SmtpRecorder) -> Iterator[SmtpRecorder]:
    smtp.received.clear()
    yield smtp


def personal_data(services: RunningServices) -> set:
    """Every demo customer's name, id, phone number and e-mail, as stored and as written."""
    found = {CONTACT, "+33611223344", CALL_BACK_PHONE, "Dupont", "12/03/1985", "Ricard", "dégât"}
    for customer_id, first, last, phone, email in query(
            services, "SELECT customer_id, first_name, last_name, phone, email FROM customers"):
        national = "0" + phone[3:]
        found |= {customer_id, first, last, phone, email, national,
                  " ".join(national[i:i + 2] for i in range(0, 10, 2))}
    return found


def wait_for_status(services: RunningServices, recipient: str, status: str, timeout: float = 10) -> tuple:
    """The (status, attempts) of the last e-mail to `recipient`, once `status` (or the timeout)."""
    deadline = time.monotonic() + timeout
    while True:
        last = query(services, "SELECT status, attempts FROM outbox WHERE recipient = ? ORDER BY id",
                     [recipient])[-1]
        if last[0] == status or time.monotonic() > deadline:
            return last
        time.sleep(0.1)


@pytest.mark.parametrize("identified", [False, True])
def test_a_new_handoff_is_told_to_the_advisers_with_its_reference_and_link_and_nothing_personal(
        mailing_services, received, identified):
    body = {"channel": "widget", "reason": "demande explicite", "summary": SUMMARY,
            "conversation_id": "c0ffee00-1234-4abc-9def-0123456789ab"}
    if identified:
        body["customer_id"] = MARIE
    else:
        body["contact"] = CONTACT
    response = mailing_services.post("/v1/handoffs", json=body, identified_as=MARIE if identified else None)
    assert response.status_code == 201
    reference = response.json()["reference"]

    (mail,) = received.wait_for(1)
    assert mail.recipients == [NOTICE_ADDRESS]
    assert mail.message["From"] == "Oyat Assurance <ne-pas-repondre@oyat-assurances.fr>"
    assert mail.message["Subject"] == f"Nouveau transfert {reference} (widget)"
    assert f"{CONSOLE_URL}/transferts/{reference}" in mail.body
    assert f"Client identifié : {'oui' if identified else 'non'}" in mail.body
    assert re.search(r"Demandé le : .+ à \d\d:\d\d \(heure de Paris\)", mail.body)
    whole = mail.message.as_string() + mail.body
    leaked = {value for value in personal_data(mailing_services) if value in whole}
    assert not leaked
    # Marked once the server has taken it.
    assert wait_for_status(mailing_services, NOTICE_ADDRESS, "sent") == ("sent", 1)


def test_the_notice_is_written_with_the_handoff_and_nothing_else_is_sent(mailing_services, received):
    """Same transaction: a refused hand-off queues no notice."""
    before = query(mailing_services, "SELECT COUNT(*) FROM outbox")[0][0]
    response = mailing_services.post("/v1/handoffs", json={"channel": "widget", "reason": "r"})
    assert response.status_code == 422
    assert query(mailing_services, "SELECT COUNT(*) FROM outbox")[0][0] == before


def test_a_channel_cannot_add_a_header_or_a_recipient_to_the_notice(mailing_services, received):
    """The channel is the caller's text: only letters, digits, spaces and « . _ - » reach the subject."""
    hostile = mailing_services.post("/v1/handoffs", json={
        "channel": "widget\r\nBcc: pirate@example.com", "reason": "r", "summary": "s"})
    odd = mailing_services.post("/v1/handoffs", json={"channel": "télé<phone> (SVI)", "reason": "r", "summary": "s"})
    assert (hostile.status_code, odd.status_code) == (201, 201)
    first, second = received.wait_for(2)
    for mail in (first, second):
        assert mail.recipients == [NOTICE_ADDRESS] and mail.message["Bcc"] is None
    assert first.message["Subject"] == f"Nouveau transfert {hostile.json()['reference']} (widgetBcc pirateexample.com)"
    assert second.message["Subject"] == f"Nouveau transfert {odd.json()['reference']} (tlphone SVI)"


def test_a_password_reset_is_delivered_to_the_customer(mailing_services, received):
    response = mailing_services.post(f"/v1/customers/{MARIE}/password-reset")
    assert response.status_code == 202
    (mail,) = received.wait_for(1)
    assert mail.recipients == ["marie.dupont@example.fr"]
    assert mail.message["Subject"] == "Réinitialisation de votre mot de passe Oyat Assurance"
    assert "https://connexion.oyat-assurances.fr/reinitialisation?jeton=" in mail.body
    assert mail.body.startswith("Bonjour Marie Dupont")


def test_the_log_never_shows_a_recipient_or_a_body(mailing_services, received):
    mailing_services.post(f"/v1/customers/{MARIE}/password-reset")
    received.wait_for(1)
    log = mailing_services.log_path.read_text()
    assert "marie.dupont@example.fr" not in log and NOTICE_ADDRESS not in log
    assert "jeton=" not in log


def test_an_email_waits_while_the_smtp_server_is_down_and_goes_once_it_is_back(mailing_services, received):
    received.stop()
    try:
        response = mailing_services.post(f"/v1/customers/{MARIE}/identifier-reminder")
        assert response.status_code == 202
        deadline, last = time.monotonic() + 10, None
        while last != ("queued", 1) and time.monotonic() < deadline:  # tried once, waiting again
            time.sleep(0.1)
            last = query(mailing_services, "SELECT status, attempts FROM outbox WHERE recipient = ? "
                                           "ORDER BY id", ["marie.dupont@example.fr"])[-1]
        assert last == ("queued", 1)
        assert received.received == []
    finally:
        received.start()
    (mail,) = received.wait_for(1, timeout=40)  # the next attempt, 10 s after the first
    assert mail.message["Subject"] == "Votre identifiant Oyat Assurance"
    assert wait_for_status(mailing_services, "marie.dupont@example.fr", "sent") == ("sent", 2)
    time.sleep(3)  # a few more delivery rounds: nothing sent twice
    assert len(received.received) == 1
