"""The outbox's e-mails delivered through the SMTP server of SMTP_URL.

With SMTP_URL set, the services write their e-mails "queued" (reference_services/policy/
notifications.py) in the request's own transaction, and the policy service delivers them in
the background, every POLL_SECONDS: it claims one row at a time with a conditional UPDATE
(queued → sending), so that two replicas never send one twice, sends it with smtplib in a
thread, then marks it "sent", or "queued" again with a later next_attempt_at (doubling
waits), or "failed" after MAX_ATTEMPTS. A claim lapses after SENDING_LEASE_SECONDS: an
e-mail whose replica stopped mid-send is sent again by another (once more at worst).

smtp:// talks plain SMTP and switches to TLS (STARTTLS) when the server offers it; it never
sends a password on a connection that stayed in clear. smtps:// is TLS from the start. The
server's certificate is checked. SMS stay recorded only. Logs never carry a body or a
recipient unmasked.
"""
from __future__ import annotations

import asyncio
import logging
import smtplib
import ssl
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Any, Callable, Optional, Tuple
from urllib.parse import unquote, urlsplit

from sqlalchemy import and_, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import now_utc
from core.masking import mask_email
from reference_services.policy.models import OutboxMessage
from reference_services.policy.notifications import DELIVER_EMAILS

logger = logging.getLogger(__name__)

FROM_ADDRESS = "Oyat Assurance <ne-pas-repondre@oyat-assurances.fr>"
MESSAGE_ID_DOMAIN = "oyat-assurances.fr"
POLL_SECONDS = 2
# After a failure: 10 s, 20 s, 40 s... an hour at most; "failed" after the 10th attempt
# (about 2 h 30 of trying).
FIRST_RETRY_SECONDS = 10
LONGEST_RETRY_SECONDS = 3600
MAX_ATTEMPTS = 10
SMTP_TIMEOUT_SECONDS = 30
# Longer than a send can take (connection, TLS, login, data: each bounded by the timeout).
SENDING_LEASE_SECONDS = 10 * 60

DEFAULT_PORTS = {"smtp": 25, "smtps": 465}


class CleartextLoginRefused(Exception):
    """The server offers no STARTTLS: the password would cross the network in clear."""


@dataclass(frozen=True)
class SmtpServer:
    host: str
    port: int
    implicit_tls: bool
    username: str = ""
    password: str = field(default="", repr=False)

    @classmethod
    def from_url(cls, url: str) -> "SmtpServer":
        """smtp://[user:password@]host[:port] or smtps://... (core/settings.py checked it)."""
        parts = urlsplit(url)
        return cls(
            host=parts.hostname or "",
            port=parts.port or DEFAULT_PORTS[parts.scheme],
            implicit_tls=parts.scheme == "smtps",
            username=unquote(parts.username or ""),
            password=unquote(parts.password or ""),
        )

    def send(self, message: EmailMessage) -> None:
        """Sends `message` (blocking: run it in a thread). smtplib's errors go up."""
        context = ssl.create_default_context()
        if self.implicit_tls:
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS, context=context)
        else:
            client = smtplib.SMTP(self.host, self.port, timeout=SMTP_TIMEOUT_SECONDS)
        with client:
            client.ehlo()
            secure = self.implicit_tls
            if not secure and client.has_extn("starttls"):
                client.starttls(context=context)
                client.ehlo()
                secure = True
            if self.username:
                if not secure:
                    raise CleartextLoginRefused()
                client.login(self.username, self.password)
            client.send_message(message)


@dataclass(frozen=True)
class Claimed:
    """An e-mail this replica claimed: what sending it needs, read before the send."""

    id: int
    recipient: str
    subject: Optional[str]
    body: str
    attempts: int  # this one included
    attachment: Optional[str] = None  # e.g. "quote:DEV-2026-000001", rendered at delivery


# A document attached to an e-mail: (filename, content type, bytes).
Attachment = Tuple[str, str, bytes]


def email_of(row: Claimed, now: datetime, attachment: Optional[Attachment] = None) -> EmailMessage:
    message = EmailMessage()
    message["From"] = FROM_ADDRESS
    message["To"] = row.recipient
    message["Subject"] = row.subject or ""
    message["Date"] = format_datetime(now)
    # The same id on every attempt: a server that got it twice can tell.
    message["Message-ID"] = make_msgid(idstring=f"outbox-{row.id}", domain=MESSAGE_ID_DOMAIN)
    message.set_content(row.body)
    if attachment is not None:
        filename, content_type, content = attachment
        maintype, subtype = content_type.split("/", 1)
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    return message


async def render_attachment(session: AsyncSession, name: Optional[str]) -> Optional[Attachment]:
    """The document an e-mail names (None: none): "quote:<reference>" is that quote's PDF."""
    if not name:
        return None
    kind, _, key = name.partition(":")
    if kind == "quote":
        from reference_services.policy.quotes import quote_attachment  # the policy service's

        return await quote_attachment(session, key)
    raise LookupError(f"unknown attachment kind {kind!r}")


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt."""
    return timedelta(seconds=min(FIRST_RETRY_SECONDS * 2 ** (attempts - 1), LONGEST_RETRY_SECONDS))


def _due(now: datetime) -> Any:
    """E-mails to send now: queued and due, or claimed by a replica that never finished."""
    return and_(
        OutboxMessage.channel == "email",
        or_(
            and_(OutboxMessage.status == "queued",
                 or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now)),
            and_(OutboxMessage.status == "sending", OutboxMessage.next_attempt_at <= now),
        ),
    )


async def claim_next(session: AsyncSession, now: datetime) -> Optional[Claimed]:
    """The oldest due e-mail, now "sending" for this replica alone; None when none is due.
    No transaction stays open afterwards (a send may take a while)."""
    while True:
        candidate = (await session.execute(
            select(OutboxMessage.id).where(_due(now)).order_by(OutboxMessage.id).limit(1)
        )).scalar_one_or_none()
        if candidate is None:
            return None
        # Conditional: the row changes only if still due (another replica may have taken it
        # between the SELECT and here; PostgreSQL re-checks the condition after its lock).
        claimed = await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == candidate, _due(now))
            .values(status="sending", attempts=OutboxMessage.attempts + 1,
                    next_attempt_at=now + timedelta(seconds=SENDING_LEASE_SECONDS))
            .execution_options(synchronize_session=False)
        )
        await session.commit()
        if claimed.rowcount == 1:
            row = (await session.execute(
                select(OutboxMessage.id, OutboxMessage.recipient, OutboxMessage.subject,
                       OutboxMessage.body, OutboxMessage.attempts,
                       OutboxMessage.attachment).where(OutboxMessage.id == candidate)
            )).one()
            await session.commit()
            return Claimed(*row)


async def deliver_one(sessionmaker: Callable[[], AsyncSession], server: SmtpServer,
                      now: Callable[[], datetime] = now_utc) -> Optional[str]:
    """Claims and sends one due e-mail; its new status, or None when none was due."""
    async with sessionmaker() as session:
        row = await claim_next(session, now())
        if row is None:
            return None
        recipient = mask_email(row.recipient)
        try:
            attachment = await render_attachment(session, row.attachment)
            await session.commit()  # no transaction open while sending
            await asyncio.to_thread(server.send, email_of(row, now(), attachment))
        except Exception as error:  # refused, unreachable, malformed: an attempt that failed
            failed = row.attempts >= MAX_ATTEMPTS
            values = ({"status": "failed", "next_attempt_at": None} if failed else
                      {"status": "queued", "next_attempt_at": now() + retry_delay(row.attempts)})
            logger.warning("e-mail %d to %s not delivered (attempt %d): %s%s", row.id, recipient,
                           row.attempts, type(error).__name__, ", given up" if failed else "")
        else:
            values = {"status": "sent", "sent_at": now(), "next_attempt_at": None}
            logger.info("e-mail %d delivered to %s", row.id, recipient)
        # Only while still ours: a lapsed claim taken by another replica is theirs to mark.
        await session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == row.id, OutboxMessage.status == "sending",
                   OutboxMessage.attempts == row.attempts)
            .values(**values)
            .execution_options(synchronize_session=False)
        )
        await session.commit()
        return values["status"]


async def deliver_periodically(app: Any, server: SmtpServer) -> None:
    while True:
        try:
            # Every due e-mail, one after the other, then a pause.
            while await deliver_one(app.ctx.sessionmaker, server) is not None:
                pass
        except asyncio.CancelledError:
            raise
        except Exception as error:  # database unreachable...: the next round tries again
            logger.error("e-mail delivery round failed: %s", type(error).__name__)
        await asyncio.sleep(POLL_SECONDS)


def install_email_delivery(app: Any, settings: Any, deliver: bool) -> None:
    """With SMTP_URL: the app's sessions write e-mails "queued" (both services write e-mails),
    and, when `deliver` (the policy service), a background task delivers them while the
    server runs."""
    if not settings.smtp_url:
        return
    server = SmtpServer.from_url(settings.smtp_url)
    task: Optional[asyncio.Task] = None

    async def start(app: Any, _loop: Any) -> None:
        nonlocal task
        # Runs after core.db's listener has made the sessionmaker (registered after it).
        app.ctx.sessionmaker.configure(info={DELIVER_EMAILS: True})
        if deliver:
            task = asyncio.get_running_loop().create_task(deliver_periodically(app, server))

    async def stop(app: Any, _loop: Any) -> None:
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    app.register_listener(start, "before_server_start")
    app.register_listener(stop, "before_server_stop")
