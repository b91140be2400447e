"""Identification in the dialogue: birth date, then a six-digit SMS code.

It starts from the customer id, or from a phone number that a channel verified
(the messaging app's number, the caller's number), matched to the phone on file.
A wrong or unknown phone number is answered exactly like a wrong birth date.

Three wrong answers (birth date or code) lock the customer's identification
for 15 minutes; identifications started from a phone number are also counted
per phone number, known or not, so that an unknown number locks like a known
one. Wrong answers are counted with atomic UPDATEs so that parallel guesses
cannot slip past the limit; the count is forgotten 15 minutes after the last
wrong answer, which is also when a lock ends.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Union

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from bot.clock import isoformat_paris
from bot.errors import ServiceError
from bot.masking import mask_phone
from bot.policy.models import (
    Customer, IdentificationLock, OneTimeCode, PhoneIdentificationLock,
)
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


class WrongAnswers:
    """The wrong answers counted in one lock table, per key (customer id or phone number)."""

    def __init__(self, session: AsyncSession, model: Any, key: str) -> None:
        self.session = session
        self.model = model
        self.key = key

    def _of(self, value: str):
        return getattr(self.model, self.key) == value

    async def refuse_if_locked(self, value: str, now: datetime) -> None:
        await self._ensure_row(value, now)
        # Wrong answers older than the lock duration no longer count.
        await self.session.execute(
            update(self.model)
            .where(
                self._of(value),
                self.model.failed_attempts > 0,
                self.model.updated_at <= now - LOCK_DURATION,
            )
            .values(failed_attempts=0, locked_until=None)
        )
        locked_until = (await self.session.execute(
            select(self.model.locked_until).where(self._of(value), self.model.locked_until > now)
        )).scalar_one_or_none()
        if locked_until is not None:
            await self.session.commit()
            raise locked_error(locked_until)

    async def count(self, value: str, now: datetime) -> tuple[int, datetime | None]:
        """Counts a wrong answer, locks on the third; answers the count and the lock's end."""
        await self._ensure_row(value, now)  # a customer of the phone may have none yet
        await self.session.execute(
            update(self.model)
            .where(self._of(value))
            .values(failed_attempts=self.model.failed_attempts + 1, updated_at=now)
        )
        failures = (await self.session.execute(
            select(self.model.failed_attempts).where(self._of(value))
        )).scalar_one()
        if failures < MAX_WRONG_ANSWERS:
            return failures, None
        await self.session.execute(
            update(self.model)
            .where(
                self._of(value),
                or_(self.model.locked_until.is_(None), self.model.locked_until <= now),
            )
            .values(locked_until=now + LOCK_DURATION)
        )
        locked_until = (await self.session.execute(
            select(self.model.locked_until).where(self._of(value))
        )).scalar_one()
        return failures, locked_until

    async def clear(self, value: str, now: datetime) -> None:
        await self.session.execute(
            update(self.model)
            .where(self._of(value))
            .values(failed_attempts=0, locked_until=None, updated_at=now)
        )

    async def _ensure_row(self, value: str, now: datetime) -> None:
        exists = (await self.session.execute(
            select(getattr(self.model, self.key)).where(self._of(value))
        )).scalar_one_or_none()
        if exists:
            return
        self.session.add(self.model(**{self.key: value}, failed_attempts=0, updated_at=now))
        try:
            await self.session.commit()
        except IntegrityError:  # created meanwhile by a parallel request
            await self.session.rollback()


class Identification:
    """The identification steps of one customer, on one session."""

    def __init__(self, session: AsyncSession, secret: str) -> None:
        self.session = session
        self.secret = secret
        self.customer_answers = WrongAnswers(session, IdentificationLock, "customer_id")
        self.phone_answers = WrongAnswers(session, PhoneIdentificationLock, "phone_number")

    async def start(self, customer: Customer, birth_date: date, now: datetime) -> StartedCheck:
        """Check the birth date, then send a code by SMS."""
        await self.customer_answers.refuse_if_locked(customer.customer_id, now)
        if birth_date != customer.birth_date:
            await self._wrong_answer(self.customer_answers, customer.customer_id, now,
                                     "identity_mismatch")
        return await self._send_code(customer, now)

    async def start_from_phone(
        self, phone_number: str, birth_date: date, send_code: bool, now: datetime
    ) -> Union[StartedCheck, str]:
        """Find the customer by the phone on file and the birth date; then send a code by
        SMS, or (send_code false) answer the customer id at once."""
        await self.phone_answers.refuse_if_locked(phone_number, now)
        owners = (await self.session.execute(
            select(Customer).where(Customer.phone == phone_number)
        )).scalars().all()
        matching = [customer for customer in owners if customer.birth_date == birth_date]
        if not matching:
            # The same wrong answer counts for the customers of that phone too:
            # switching between customer id and phone gives no extra guesses.
            for owner in owners:
                await self.customer_answers.count(owner.customer_id, now)
            await self._wrong_answer(self.phone_answers, phone_number, now, "identity_mismatch")
        if len(matching) > 1:
            await self.session.commit()
            raise ServiceError("identity_ambiguous")
        customer = matching[0]
        await self.customer_answers.refuse_if_locked(customer.customer_id, now)
        if send_code:
            return await self._send_code(customer, now)
        await self._forget_wrong_answers(customer, now)
        await self.session.commit()
        return customer.customer_id

    async def verify(self, check_id: str, code: str, now: datetime) -> str:
        """Check the SMS code; returns the identified customer's id."""
        check = await self.session.get(OneTimeCode, check_id)
        if check is None:
            raise ServiceError("identity_check_not_found")
        customer_id = check.customer_id
        await self.customer_answers.refuse_if_locked(customer_id, now)
        if check.verified_at or check.revoked_at or check.expires_at <= now:
            raise ServiceError("code_expired")
        if not hmac.compare_digest(hash_code(self.secret, check_id, code), check.code_hash):
            await self.session.execute(
                update(OneTimeCode)
                .where(OneTimeCode.check_id == check_id)
                .values(attempts=OneTimeCode.attempts + 1)
            )
            await self._wrong_answer(self.customer_answers, customer_id, now, "wrong_code")
        check.verified_at = now
        customer = await self.session.get(Customer, customer_id)
        await self._forget_wrong_answers(customer, now)
        await self.session.commit()
        return customer_id

    async def _send_code(self, customer: Customer, now: datetime) -> StartedCheck:
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

    async def _forget_wrong_answers(self, customer: Customer, now: datetime) -> None:
        """A successful identification clears the customer's and their phone's count."""
        await self.customer_answers.clear(customer.customer_id, now)
        await self.phone_answers.clear(customer.phone, now)

    async def _wrong_answer(self, answers: WrongAnswers, key: str, now: datetime,
                            code: str) -> None:
        """Count a wrong answer, lock on the third, and raise the refusal."""
        failures, locked_until = await answers.count(key, now)
        await self.session.commit()
        if locked_until is not None:
            raise locked_error(locked_until)
        raise ServiceError(code, attempts_left=MAX_WRONG_ANSWERS - failures)
