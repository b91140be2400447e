"""The outbox's e-mails delivered through a real SMTP server (aiosmtpd) on a real database
(SQLite and PostgreSQL): retried while the server is down, never sent twice, given up after
MAX_ATTEMPTS, never a password in clear."""
import asyncio
import ssl
import uuid
from datetime import date, timedelta
from typing import Iterator

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import sessionmaker

from core.clock import now_utc
from core.db import create_app_engine
from core.settings import Settings, SettingsError
from reference_services import mail
from reference_services.cli import run_migrations
from reference_services.mail import MAX_ATTEMPTS, SENDING_LEASE_SECONDS, SmtpServer, claim_next, deliver_one
from reference_services.policy import notifications
from reference_services.policy.models import Customer, OutboxMessage
from tests.reference_services.smtp import SmtpRecorder, self_signed_certificate

SECRETS = {"SERVICES_API_TOKEN": "t", "DOCUMENT_LINK_SECRET": "s", "IDENTITY_ASSERTION_SECRET": "i"}


@pytest.fixture(params=["sqlite", "postgresql"])
def settings(request: pytest.FixtureRequest, tmp_path) -> Settings:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'oyat.db'}"
    else:
        url = request.getfixturevalue("postgresql_server").create_database(f"mail_{uuid.uuid4().hex[:12]}")
    settings = Settings.from_env({**SECRETS, "DATABASE_URL": url})
    run_migrations(settings)
    return settings


@pytest.fixture
async def sessions(settings):
    engine = create_app_engine(settings)
    yield sessionmaker(engine, class_=AsyncSession, expire_on_commit=False, future=True)
    await engine.dispose()


@pytest.fixture
def smtp() -> Iterator[SmtpRecorder]:
    recorder = SmtpRecorder()  # not started: the server is down
    try:
        yield recorder
    finally:
        recorder.stop()


async def queue_emails(sessions, count: int = 1) -> list:
    async with sessions() as session:
        rows = [OutboxMessage(channel="email", recipient=f"client{n}@example.fr", subject=f"Message {n}",
                              body=f"Bonjour,\n\nmessage numéro {n}.\n", status="queued",
                              created_at=now_utc(), attempts=0) for n in range(count)]
        session.add_all(rows)
        await session.commit()
        return [row.id for row in rows]


async def outbox(sessions, outbox_id: int) -> OutboxMessage:
    async with sessions() as session:
        return await session.get(OutboxMessage, outbox_id)


async def test_an_email_waits_while_the_server_is_down_and_is_delivered_once_when_it_is_back(sessions, smtp):
    (outbox_id,) = await queue_emails(sessions)
    server, start = SmtpServer.from_url(smtp.url), now_utc()

    assert await deliver_one(sessions, server, lambda: start) == "queued"
    row = await outbox(sessions, outbox_id)
    assert (row.status, row.attempts, row.sent_at) == ("queued", 1, None)
    assert row.next_attempt_at == start + timedelta(seconds=mail.FIRST_RETRY_SECONDS)
    assert await deliver_one(sessions, server, lambda: start + timedelta(seconds=5)) is None  # not due yet

    smtp.start()
    later = start + timedelta(seconds=mail.FIRST_RETRY_SECONDS + 1)
    assert await deliver_one(sessions, server, lambda: later) == "sent"
    assert await deliver_one(sessions, server, lambda: later + timedelta(hours=2)) is None
    (received,) = smtp.received
    assert received.recipients == ["client0@example.fr"]
    assert received.message["Subject"] == "Message 0"
    assert received.message["From"] == mail.FROM_ADDRESS
    assert received.body == "Bonjour,\n\nmessage numéro 0.\n"
    row = await outbox(sessions, outbox_id)
    assert (row.status, row.attempts, row.next_attempt_at, row.sent_at) == ("sent", 2, None, later)


async def test_two_replicas_delivering_at_once_send_each_email_once(settings, sessions, smtp):
    ids = await queue_emails(sessions, 8)
    smtp.start()
    other_engine = create_app_engine(settings)
    other = sessionmaker(other_engine, class_=AsyncSession, expire_on_commit=False, future=True)
    server = SmtpServer.from_url(smtp.url)

    async def replica(sessions) -> None:
        while await deliver_one(sessions, server) is not None:
            pass

    try:
        await asyncio.gather(replica(sessions), replica(other), replica(sessions))
    finally:
        await other_engine.dispose()
    assert sorted(m.message["Subject"] for m in smtp.received) == sorted(f"Message {n}" for n in range(8))
    async with sessions() as session:
        rows = (await session.execute(select(OutboxMessage).where(OutboxMessage.id.in_(ids)))).scalars().all()
    assert {(row.status, row.attempts) for row in rows} == {("sent", 1)}


async def test_an_email_is_given_up_after_the_last_attempt(sessions, smtp):
    (outbox_id,) = await queue_emails(sessions)
    server, start = SmtpServer.from_url(smtp.url), now_utc()
    statuses = []
    for attempt in range(MAX_ATTEMPTS + 2):
        moment = start + timedelta(hours=2 * attempt)
        statuses.append(await deliver_one(sessions, server, lambda moment=moment: moment))
    assert statuses == ["queued"] * (MAX_ATTEMPTS - 1) + ["failed", None, None]
    row = await outbox(sessions, outbox_id)
    assert (row.status, row.attempts) == ("failed", MAX_ATTEMPTS)


async def test_waits_between_attempts_double_up_to_an_hour():
    assert [mail.retry_delay(n).total_seconds() for n in (1, 2, 3, 9)] == [10, 20, 40, 2560]
    assert mail.retry_delay(10).total_seconds() == mail.LONGEST_RETRY_SECONDS


async def test_an_email_claimed_by_a_replica_that_stopped_is_sent_once_its_claim_lapses(sessions, smtp):
    (outbox_id,) = await queue_emails(sessions)
    smtp.start()
    server, start = SmtpServer.from_url(smtp.url), now_utc()
    async with sessions() as session:
        assert (await claim_next(session, start)).id == outbox_id  # ...and the replica stops
    assert await deliver_one(sessions, server, lambda: start + timedelta(seconds=60)) is None
    lapsed = start + timedelta(seconds=SENDING_LEASE_SECONDS + 1)
    assert await deliver_one(sessions, server, lambda: lapsed) == "sent"
    assert len(smtp.received) == 1
    assert (await outbox(sessions, outbox_id)).attempts == 2


async def test_a_password_never_crosses_the_network_in_clear(sessions, smtp):
    """The test server offers no STARTTLS: no login, no e-mail, an attempt that failed."""
    (outbox_id,) = await queue_emails(sessions)
    smtp.start()
    server = SmtpServer.from_url(f"smtp://oyat:s3cr%40t@127.0.0.1:{smtp.port}")
    assert (server.username, server.password) == ("oyat", "s3cr@t")
    assert await deliver_one(sessions, server) == "queued"
    assert smtp.received == []
    assert (await outbox(sessions, outbox_id)).attempts == 1


async def test_over_starttls_the_login_and_the_email_go_through_and_a_certificate_is_checked(
        sessions, tmp_path, monkeypatch):
    cert, key = self_signed_certificate(tmp_path)
    tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    tls.load_cert_chain(cert, key)
    smtp = SmtpRecorder(tls_context=tls, credentials=("oyat", "s3cr@t")).start()
    try:
        first, second = await queue_emails(sessions, 2)
        server = SmtpServer.from_url(f"smtp://oyat:s3cr%40t@localhost:{smtp.port}")
        # A certificate no authority signed: refused, nothing sent, not even the login.
        assert await deliver_one(sessions, server) == "queued"
        assert smtp.logins == [] and smtp.received == []
        monkeypatch.setenv("SSL_CERT_FILE", str(cert))  # now the system trusts it
        assert await deliver_one(sessions, server) == "sent"
        assert smtp.logins == ["oyat"]
        assert [m.message["Subject"] for m in smtp.received] == ["Message 1"]
        assert (await outbox(sessions, second)).status == "sent"
        assert (await outbox(sessions, first)).attempts == 1  # its retry is not due yet
    finally:
        smtp.stop()


@pytest.mark.parametrize("deliver", [False, True])
async def test_emails_are_queued_only_with_an_smtp_server_and_sms_are_only_recorded(sessions, deliver):
    customer = Customer(customer_id="10000001", first_name="Marie", last_name="Dupont",
                        birth_date=date(1985, 3, 12), email="marie.dupont@example.fr", phone="+33612345678")
    async with sessions(info={notifications.DELIVER_EMAILS: True} if deliver else {}) as session:
        notifications.queue_identifier_reminder(session, customer, now_utc())
        notifications.queue_identity_code(session, customer, "123456", now_utc())
        await session.commit()
        rows = (await session.execute(select(OutboxMessage.channel, OutboxMessage.status))).all()
    assert sorted(rows) == [("email", "queued" if deliver else "sent"), ("sms", "sent")]


def test_the_smtp_url_reads_and_its_password_is_never_shown():
    settings = Settings.from_env({**SECRETS, "SMTP_URL": "smtps://oyat:pa55word@mail.example.fr"})
    assert "pa55word" not in repr(settings)
    server = SmtpServer.from_url(settings.smtp_url)
    assert (server.host, server.port, server.implicit_tls) == ("mail.example.fr", 465, True)
    assert "pa55word" not in repr(server)
    assert SmtpServer.from_url("smtp://relay.internal").port == 25
    for wrong in ("http://oyat:pa55word@mail.example.fr", "smtp://oyat:pa55word@mail.example.fr:port", "smtp://"):
        with pytest.raises(SettingsError, match="SMTP_URL") as refused:
            Settings.from_env({**SECRETS, "SMTP_URL": wrong})
        assert "pa55word" not in str(refused.value)
