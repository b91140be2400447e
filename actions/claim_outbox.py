"""Confirmed claims the claims service could not take: kept here, filed once it is back.

`action_file_claim` queues a declaration when the claims service is down or too
slow; the retry worker (`python -m actions.claim_outbox`, a process of its own)
files every due entry again with the same idempotency key, waiting longer after
each failure. A claim is never lost (its declaration stays here until filed) and
never doubled (the claims service answers a key it already knows with the claim it
created, even when the first attempt only timed out on our side). The claims
service acknowledges every new claim by e-mail, so the customer learns its number
even once the conversation is over; a declaration it refuses goes to an adviser.

Storage: `CLAIM_OUTBOX_URL` (default `sqlite:///var/claim_outbox.db`; PostgreSQL in
production, shared by every action server). Once filed or refused, an entry keeps
its key and outcome but not the declaration.

An entry keeps the customer's identity assertion of the conversation: the claims
service takes it for this filing up to a week after it expired (the idempotency key
keeps the filing from doing anything twice); past that, the claim goes to an adviser.
"""
import argparse
import asyncio
import logging
import os
import time
from dataclasses import dataclass
from typing import Any, Dict, List, Optional

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from core import reply_address
from core.db import create_missing_tables
from core.service_client import (
    CustomerIdentity,
    IdentityRefused,
    ServiceRefusal,
    ServicesClient,
    ServiceUnavailable,
    services,
)
from core.service_contract import ErrorCode
from core.settings import ASYNC_DRIVERS, ClaimOutboxSettings, default, read

logger = logging.getLogger(__name__)

DEFAULT_RETRY_SECONDS = default("CLAIM_OUTBOX_RETRY_SECONDS")  # first wait; doubled after every failure...
MAX_RETRY_SECONDS = 3600.0  # ...up to an hour
ATTACHMENT_REFUSALS = {ErrorCode.upload_not_found, ErrorCode.upload_already_linked}

PENDING, FILED, REFUSED = "pending", "filed", "refused"

metadata = MetaData()
pending_claims = Table(
    "pending_claims",
    metadata,
    Column("idempotency_key", String(100), primary_key=True),
    Column("customer_id", String(8), nullable=False, index=True),
    Column("sender_id", String(255), nullable=False, index=True),
    Column("declaration", JSON),  # emptied once filed or refused
    Column("attachments", JSON),  # upload ids
    Column("status", String(10), nullable=False, index=True),
    Column("attempts", Integer, nullable=False),
    Column("next_attempt_at", Float, nullable=False),  # unix time
    Column("claim_number", String(20)),
    Column("refusal", String(100)),
    Column("created_at", Float, nullable=False),
    # Whether the assistant told the customer how it ended (the e-mail tells them anyway).
    Column("customer_told", Boolean, nullable=False, default=False),
    # The identity assertion the claim is filed with; emptied once filed or refused.
    Column("identity_assertion", Text),
    # The customer's « oui » to the claim notices, as the address their channel signed
    # (actions/notices.py): recorded once the claim is filed, then emptied.
    Column("notice_consent", Text),
)


@dataclass(frozen=True)
class PendingClaim:
    key: str
    customer_id: str
    sender_id: str
    declaration: Optional[Dict[str, Any]]
    attachments: List[str]
    status: str
    attempts: int
    claim_number: Optional[str]
    refusal: Optional[str] = None
    identity_assertion: Optional[str] = None
    notice_consent: Optional[str] = None

    @property
    def customer(self) -> CustomerIdentity:
        return CustomerIdentity(self.customer_id, self.identity_assertion)


class ClaimOutbox:
    """The table of queued declarations (one engine, created on first use)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._engine: Optional[AsyncEngine] = None

    @classmethod
    def from_environment(cls) -> "ClaimOutbox":
        return cls(read("CLAIM_OUTBOX_URL"))

    async def queue(self, key: str, customer: CustomerIdentity, sender_id: str,
                    declaration: Dict[str, Any], attachments: List[str], now: float) -> None:
        """Keeps a declaration to file, with the customer's identity assertion; queueing the
        same key twice keeps the first."""
        engine = await self._ready()
        try:
            async with engine.begin() as connection:
                await connection.execute(pending_claims.insert().values(
                    idempotency_key=key, customer_id=str(customer), sender_id=sender_id,
                    identity_assertion=getattr(customer, "assertion", None),
                    declaration=declaration, attachments=list(attachments), status=PENDING,
                    attempts=0, next_attempt_at=now, created_at=now, customer_told=False,
                ))
        except IntegrityError:
            logger.info("claim already queued")

    async def get(self, key: str) -> Optional[PendingClaim]:
        rows = await self._select(pending_claims.c.idempotency_key == key)
        return rows[0] if rows else None

    async def of_conversation(self, sender_id: str, customer_id: str) -> List[PendingClaim]:
        """The entries queued from this conversation for this customer whose outcome the
        customer was not told yet, oldest first."""
        return await self._select(pending_claims.c.sender_id == sender_id,
                                  pending_claims.c.customer_id == customer_id,
                                  pending_claims.c.customer_told.is_(False))

    async def keep_notice_consent(self, sender_id: str, customer_id: str, signed_address: str) -> int:
        """The customer agreed to the claim notices while their claims wait here: recorded
        when each is filed. How many took it."""
        engine = await self._ready()
        async with engine.begin() as connection:
            result = await connection.execute(update(pending_claims).where(
                pending_claims.c.sender_id == sender_id, pending_claims.c.customer_id == customer_id,
                pending_claims.c.status == PENDING).values(notice_consent=signed_address))
        return result.rowcount or 0

    async def mark_told(self, key: str) -> None:
        await self._update(key, customer_told=True)

    async def due(self, now: float, limit: int = 50) -> List[PendingClaim]:
        return await self._select(pending_claims.c.status == PENDING,
                                  pending_claims.c.next_attempt_at <= now, limit=limit)

    async def mark_filed(self, key: str, claim_number: str) -> None:
        await self._update(key, status=FILED, claim_number=claim_number, declaration=None, identity_assertion=None,
                           notice_consent=None)

    async def mark_refused(self, key: str, code: str) -> None:
        await self._update(key, status=REFUSED, refusal=code[:100], declaration=None, identity_assertion=None,
                           notice_consent=None)

    async def postpone(self, entry: PendingClaim, now: float, retry_seconds: float) -> None:
        wait = min(retry_seconds * 2 ** entry.attempts, MAX_RETRY_SECONDS)
        await self._update(entry.key, attempts=entry.attempts + 1, next_attempt_at=now + wait)

    async def close(self) -> None:
        if self._engine is not None:
            await self._engine.dispose()
            self._engine = None

    async def _select(self, *conditions: Any, limit: Optional[int] = None) -> List[PendingClaim]:
        engine = await self._ready()
        query = select(pending_claims).where(*conditions).order_by(pending_claims.c.created_at)
        if limit:
            query = query.limit(limit)
        async with engine.connect() as connection:
            rows = (await connection.execute(query)).mappings().all()
        return [PendingClaim(
            key=row["idempotency_key"], customer_id=row["customer_id"], sender_id=row["sender_id"],
            declaration=row["declaration"], attachments=list(row["attachments"] or []),
            status=row["status"], attempts=row["attempts"], claim_number=row["claim_number"],
            refusal=row["refusal"], identity_assertion=row["identity_assertion"],
            notice_consent=row["notice_consent"],
        ) for row in rows]

    async def _update(self, key: str, **values: Any) -> None:
        engine = await self._ready()
        async with engine.begin() as connection:
            await connection.execute(
                update(pending_claims).where(pending_claims.c.idempotency_key == key).values(**values))

    async def _ready(self) -> AsyncEngine:
        if self._engine is None:
            url = make_url(self.url)
            backend = url.get_backend_name()
            if backend == "sqlite" and url.database:
                os.makedirs(os.path.dirname(os.path.abspath(url.database)), exist_ok=True)
            engine = create_async_engine(
                url.set(drivername=ASYNC_DRIVERS.get(backend, url.drivername)),
                future=True, hide_parameters=True,
            )
            await create_missing_tables(engine, metadata)
            await _add_identity_assertion_column(engine)
            self._engine = engine
        return self._engine


async def _add_identity_assertion_column(engine: AsyncEngine) -> None:
    """Outboxes created before the identity assertions: the column added (a queued claim
    without one goes to an adviser)."""
    async with engine.begin() as connection:
        columns = await connection.run_sync(
            lambda sync: {column["name"] for column in inspect(sync).get_columns(pending_claims.name)})
        if "identity_assertion" not in columns:
            await connection.execute(text("ALTER TABLE pending_claims ADD COLUMN identity_assertion TEXT"))
        if "notice_consent" not in columns:  # and before the claim notices
            await connection.execute(text("ALTER TABLE pending_claims ADD COLUMN notice_consent TEXT"))


async def file_queued_claim(entry: PendingClaim, outbox: ClaimOutbox, client: ServicesClient) -> Optional[str]:
    """Files one queued declaration: its claim number, or None when the claims service
    is still unavailable. Raises ServiceRefusal when it refuses the declaration, or the
    customer's identity assertion (expired for too long)."""
    if entry.status == FILED:
        return entry.claim_number
    declaration = entry.declaration or {}
    try:
        try:
            claim = await client.file_claim(entry.customer, declaration, entry.key,
                                            attachments=entry.attachments, retry=False)
        except ServiceRefusal as refusal:
            if not entry.attachments or refusal.code not in ATTACHMENT_REFUSALS:
                raise
            # Files the service no longer takes never keep the claim from being filed.
            claim = await client.file_claim(entry.customer, declaration, entry.key, retry=False)
    except ServiceUnavailable:
        return None
    except IdentityRefused as refusal:
        raise ServiceRefusal(401, refusal.code, "identité du client expirée avant l'enregistrement") from None
    if entry.notice_consent:
        await record_notice_consent(entry, claim.claim_number, client)
    await outbox.mark_filed(entry.key, claim.claim_number)
    logger.info("queued claim filed as %s", claim.claim_number)
    return claim.claim_number


async def record_notice_consent(entry: PendingClaim, claim_number: str, client: ServicesClient) -> None:
    """The customer's « oui » to the claim notices, given while the claim waited here: recorded
    now that it is filed (the services take the signed address past its lifetime for the
    claim just filed). Never keeps the claim from being filed."""
    channel = reply_address.claimed_channel(entry.notice_consent) or ""
    try:
        await client.record_notice_consent(entry.customer, channel, entry.sender_id, entry.notice_consent,
                                           claim_number=claim_number)
    except (ServiceUnavailable, ServiceRefusal, IdentityRefused) as error:
        logger.warning("notice consent of a queued claim not recorded: %s",
                       getattr(error, "code", type(error).__name__))


async def file_due_claims(outbox: ClaimOutbox, client: ServicesClient, now: float,
                          retry_seconds: float = DEFAULT_RETRY_SECONDS) -> Dict[str, int]:
    """One pass of the retry worker over the due entries; counts what happened."""
    counts = {FILED: 0, PENDING: 0, REFUSED: 0}
    for entry in await outbox.due(now):
        try:
            number = await file_queued_claim(entry, outbox, client)
        except ServiceRefusal as refusal:
            await refuse(entry, refusal, outbox, client)
            counts[REFUSED] += 1
            continue
        if number is None:
            await outbox.postpone(entry, now, retry_seconds)
            counts[PENDING] += 1
        else:
            counts[FILED] += 1
    return counts


async def refuse(entry: PendingClaim, refusal: ServiceRefusal, outbox: ClaimOutbox,
                 client: ServicesClient) -> None:
    """The claims service refuses the declaration: an adviser takes it over."""
    logger.warning("queued claim refused by the claims service: %s", refusal.code)
    declaration = entry.declaration or {}
    summary = (
        "Déclaration de sinistre confirmée par le client pendant une indisponibilité du "
        f"service des sinistres, refusée à l'enregistrement ({refusal.message or refusal.code}).\n"
        + "\n".join(f"- {field} : {value}" for field, value in declaration.items() if value)
    )
    handoff = {"channel": "file d'attente des sinistres", "reason": "déclaration de sinistre refusée"}
    try:
        try:
            await client.file_handoff(entry.customer, summary=summary[:4000], **handoff)
        except IdentityRefused:
            # Past the grace of its identity assertion: handed over without it, the
            # adviser checks who the customer is.
            summary = f"Client {entry.customer_id} (identité à vérifier).\n{summary}"
            await client.file_handoff(None, summary=summary[:4000], **handoff)
    except (ServiceUnavailable, ServiceRefusal):
        return  # stays pending: tried again at the next pass
    await outbox.mark_refused(entry.key, refusal.code)


_outbox: Optional[ClaimOutbox] = None


def claim_outbox() -> ClaimOutbox:
    """The process-wide outbox, built on first use from the environment."""
    global _outbox
    if _outbox is None:
        _outbox = ClaimOutbox.from_environment()
    return _outbox


def use_claim_outbox(outbox: Optional[ClaimOutbox]) -> None:
    """Replaces the process-wide outbox (tests)."""
    global _outbox
    _outbox = outbox


async def run_worker(poll_seconds: float, retry_seconds: float, once: bool = False) -> None:
    outbox, client = claim_outbox(), services()
    try:
        while True:
            try:
                counts = await file_due_claims(outbox, client, time.time(), retry_seconds)
                if any(counts.values()):
                    logger.info("queued claims: %s", counts)
            except Exception:  # the worker outlives a bad pass (database busy...)
                logger.exception("queued claims pass failed")
            if once:
                return
            await asyncio.sleep(poll_seconds)
    finally:
        await client.close()
        await outbox.close()


def main() -> None:
    from dotenv import load_dotenv

    from core.logs import use_log_format
    from core.masking import mask_every_log_handler

    load_dotenv()
    parser = argparse.ArgumentParser(prog="python -m actions.claim_outbox",
                                     description="File the claims queued while the claims service was down.")
    parser.add_argument("--once", action="store_true", help="one pass, then exit")
    args = parser.parse_args()
    settings = ClaimOutboxSettings.at_start("actions.claim_outbox")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    mask_every_log_handler()
    use_log_format(settings.log_format, "claim-outbox")  # LOG_FORMAT (core/logs.py)
    use_claim_outbox(ClaimOutbox(settings.claim_outbox_url))
    asyncio.run(run_worker(settings.claim_outbox_poll_seconds, settings.claim_outbox_retry_seconds,
                           once=args.once))


if __name__ == "__main__":
    main()
