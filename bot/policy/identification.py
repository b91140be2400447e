"""Identification in the dialogue: birth date, then a six-digit SMS code.

Three wrong answers (birth date or code) lock the customer's identification
for 15 minutes. Wrong answers are counted with atomic UPDATEs so that parallel
guesses cannot slip past the limit; the count is forgotten 15 minutes after
the last wrong answer, which is also when a lock ends.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import isoformat_paris
from bot.errors import ServiceError
from bot.masking import mask_phone
from bot.policy.models import Customer, IdentificationLock, OneTimeCode
from bot.policy.notifications import queue_identity_code

MAX_WRONG_ANSWERS = 3
LOCK_DURATION = timedelta(minutes=15)
CODE_LIFETIME = timedelta(minutes=10)
CODE_DIGITS = 6


@dataclass(frozen=True)
class StartedCheck:
    check_id: str
    sent_to: str
    expires_at: datetime


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_code(secret: str, check_id: str, code: str) -> str:
    """Keyed hash: a stolen database does not give the codes away (only 10^6 exist)."""
    key = hmac.new(secret.encode(), b"oyat-one-time-code", hashlib.sha256).digest()
    return hmac.new(key, f"{check_id}:{code}".encode(), hashlib.sha256).hexdigest()


def locked_error(locked_until: datetime) -> ServiceError:
    return ServiceError("identification_locked", locked_until=isoformat_paris(locked_until))


class Identification:
    """The identification steps of one customer, on one session."""

    def __init__(self, session: AsyncSession, secret: str) -> None:
        self.session = session
        self.secret = secret

    async def start(self, customer: Customer, birth_date: date, now: datetime) -> StartedCheck:
        """Check the birth date, then send a code by SMS."""
        await self._refuse_if_locked(customer.customer_id, now)
        if birth_date != customer.birth_date:
            await self._wrong_answer(customer.customer_id, now, "identity_mismatch")
        # A new code replaces any code still pending.
        await self.session.execute(
            update(OneTimeCode)
            .where(
                OneTimeCode.customer_id == customer.customer_id,
                OneTimeCode.verified_at.is_(None),
                OneTimeCode.revoked_at.is_(None),
            )
            .values(revoked_at=now)
        )
        check_id = uuid.uuid4().hex
        code = new_code()
        expires_at = now + CODE_LIFETIME
        self.session.add(OneTimeCode(
            check_id=check_id, customer_id=customer.customer_id,
            code_hash=hash_code(self.secret, check_id, code),
            created_at=now, expires_at=expires_at, attempts=0,
        ))
        queue_identity_code(self.session, customer, code, now)
        await self.session.commit()
        return StartedCheck(check_id, mask_phone(customer.phone), expires_at)

    async def verify(self, check_id: str, code: str, now: datetime) -> str:
        """Check the SMS code; returns the identified customer's id."""
        check = await self.session.get(OneTimeCode, check_id)
        if check is None:
            raise ServiceError("identity_check_not_found")
        customer_id = check.customer_id
        await self._refuse_if_locked(customer_id, now)
        if check.verified_at or check.revoked_at or check.expires_at <= now:
            raise ServiceError("code_expired")
        if not hmac.compare_digest(hash_code(self.secret, check_id, code), check.code_hash):
            await self.session.execute(
                update(OneTimeCode)
                .where(OneTimeCode.check_id == check_id)
                .values(attempts=OneTimeCode.attempts + 1)
            )
            await self._wrong_answer(customer_id, now, "wrong_code")
        check.verified_at = now
        await self.session.execute(
            update(IdentificationLock)
            .where(IdentificationLock.customer_id == customer_id)
            .values(failed_attempts=0, locked_until=None, updated_at=now)
        )
        await self.session.commit()
        return customer_id

    async def _refuse_if_locked(self, customer_id: str, now: datetime) -> None:
        await self._ensure_lock_row(customer_id, now)
        # Wrong answers older than the lock duration no longer count.
        await self.session.execute(
            update(IdentificationLock)
            .where(
                IdentificationLock.customer_id == customer_id,
                IdentificationLock.failed_attempts > 0,
                IdentificationLock.updated_at <= now - LOCK_DURATION,
            )
            .values(failed_attempts=0, locked_until=None)
        )
        locked_until = (await self.session.execute(
            select(IdentificationLock.locked_until).where(
                IdentificationLock.customer_id == customer_id,
                IdentificationLock.locked_until > now,
            )
        )).scalar_one_or_none()
        if locked_until is not None:
            await self.session.commit()
            raise locked_error(locked_until)

    async def _ensure_lock_row(self, customer_id: str, now: datetime) -> None:
        exists = (await self.session.execute(
            select(IdentificationLock.customer_id).where(
                IdentificationLock.customer_id == customer_id
            )
        )).scalar_one_or_none()
        if exists:
            return
        self.session.add(IdentificationLock(
            customer_id=customer_id, failed_attempts=0, updated_at=now,
        ))
        try:
            await self.session.commit()
        except IntegrityError:  # created meanwhile by a parallel request
            await self.session.rollback()

    async def _wrong_answer(self, customer_id: str, now: datetime, code: str) -> None:
        """Count a wrong answer, lock on the third, and raise the refusal."""
        await self.session.execute(
            update(IdentificationLock)
            .where(IdentificationLock.customer_id == customer_id)
            .values(failed_attempts=IdentificationLock.failed_attempts + 1, updated_at=now)
        )
        failures = (await self.session.execute(
            select(IdentificationLock.failed_attempts).where(
                IdentificationLock.customer_id == customer_id
            )
        )).scalar_one()
        if failures >= MAX_WRONG_ANSWERS:
            locked_until = now + LOCK_DURATION
            await self.session.execute(
                update(IdentificationLock)
                .where(
                    IdentificationLock.customer_id == customer_id,
                    or_(
                        IdentificationLock.locked_until.is_(None),
                        IdentificationLock.locked_until <= now,
                    ),
                )
                .values(locked_until=locked_until)
            )
            await self.session.commit()
            raise locked_error(locked_until)
        await self.session.commit()
        raise ServiceError(code, attempts_left=MAX_WRONG_ANSWERS - failures)
