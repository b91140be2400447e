"""Identification in the dialogue: customer id and birth date, then a six-digit SMS code
(spec §5; the policy, what is counted and what each party sees: docs/identification.md).

It starts from the customer id, or from a phone number that a channel verified
(the messaging app's number, the caller's number), matched to the phone on file.

No answer tells whether a customer id exists or a birth date is right: every
well-formed request starts a check and gets the same answer, but the SMS code is
sent only when the customer exists, the birth date is right and the customer's
code budget allows; a check without a code refuses every code, like a wrong one.
On the telephone line (no code: the caller's number and the birth date suffice)
an unknown number is answered exactly like a wrong birth date.

Wrong answers are counted per conversation (three lock it for 15 minutes), per
source (the client's address or platform user: five) and per phone number of the
phone route (three), which lock for 15 minutes, then 30, 1 h... up to a day while
they go on; never per customer id: a stranger's wrong answers never lock the
customer out. What reaches one customer from strangers is bounded instead: the
codes sent to them per hour and per day, and three tries per code. The checks a
conversation or a source starts are bounded too, right or wrong alike.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Optional, Sequence, Union

from sqlalchemy import and_, case, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from core.clock import isoformat_paris
from core.db import UtcDateTime
from core.masking import mask_phone
from reference_services.errors import ServiceError
from reference_services.policy.models import CodeBudget, Customer, IdentificationCounter, OneTimeCode
from reference_services.policy.notifications import queue_identity_code

MAX_WRONG_ANSWERS = 3
LOCK_DURATION = timedelta(minutes=15)
CODE_LIFETIME = timedelta(minutes=10)
CODE_DIGITS = 6
TRIES_PER_CODE = 3
# SMS codes one customer can receive per hour and per day, from each device that
# already identified as them, and from everyone else together.
CODES_PER_HOUR = 3
CODES_PER_DAY = 10
# A device (source) is the customer's own for this long after it identified with a code.
KNOWN_DEVICE_MEMORY = timedelta(days=30)
EVERYONE_ELSE = "*"
_NO_CODE = "0" * 64  # compared against when no code was sent: the same work either way


@dataclass(frozen=True)
class LockPolicy:
    """How one kind of counter locks: at `threshold` counts (each forgotten 15 minutes
    after the last one), the first lock lasts `first_lock`, each further one twice as
    long up to `longest_lock`; the number of locks is forgotten `memory` after the
    last count."""

    scope: str
    threshold: int
    first_lock: timedelta
    longest_lock: timedelta
    memory: timedelta

    def lock_duration(self, earlier_locks: int) -> timedelta:
        return min(self.first_lock * 2 ** min(earlier_locks, 16), self.longest_lock)


DAY = timedelta(hours=24)
# Wrong answers. Spec §5: three lock the conversation for 15 minutes.
CONVERSATION = LockPolicy("conversation", MAX_WRONG_ANSWERS, LOCK_DURATION, LOCK_DURATION, LOCK_DURATION)
# A source or a phone number that keeps failing waits longer each time. A source
# (an address) may be shared by several people: a few more answers before its lock.
SOURCE = LockPolicy("source", 5, LOCK_DURATION, DAY, DAY)
PHONE = LockPolicy("phone", MAX_WRONG_ANSWERS, LOCK_DURATION, DAY, DAY)
# Checks started, right or wrong alike (counting them tells nothing), so that
# nobody can repeat a question at will (to time the answers, or fill the database).
# The check past the number allowed in 15 minutes is the one refused and locking.
CHECKS_PER_CONVERSATION = 5
CHECKS_PER_SOURCE = 30
CONVERSATION_CHECKS = LockPolicy("checks:conversation", CHECKS_PER_CONVERSATION + 1,
                                 LOCK_DURATION, LOCK_DURATION, LOCK_DURATION)
SOURCE_CHECKS = LockPolicy("checks:source", CHECKS_PER_SOURCE + 1, LOCK_DURATION, DAY, DAY)


@dataclass(frozen=True)
class Asker:
    """Where the answers come from: the conversation, and its source (the client's
    address or platform user, as the channel saw it; None when it did not say)."""

    conversation_id: str
    source: Optional[str] = None


@dataclass(frozen=True)
class StartedCheck:
    check_id: str
    expires_at: datetime
    sent_to: Optional[str] = None


@dataclass(frozen=True)
class Counted:
    """One counter of an identification: its policy and its key (a keyed hash)."""

    policy: LockPolicy
    key_hash: str


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_code(secret: str, check_id: str, code: str) -> str:
    """Keyed hash: a stolen database does not give the codes away (only 10^6 exist)."""
    key = hmac.new(secret.encode(), b"oyat-one-time-code", hashlib.sha256).digest()
    return hmac.new(key, f"{check_id}:{code}".encode(), hashlib.sha256).hexdigest()


def counter_key(secret: str, kind: str, value: str) -> str:
    """The key of a counter or a check's conversation and source: a keyed hash, so
    that the database holds no conversation id, address or phone number in clear."""
    key = hmac.new(secret.encode(), b"oyat-identification-counters", hashlib.sha256).digest()
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def locked_error(locked_until: datetime) -> ServiceError:
    return ServiceError("identification_locked", locked_until=isoformat_paris(locked_until))


def _insert(session: AsyncSession, model: Any) -> Any:
    """INSERT with ON CONFLICT, on SQLite and PostgreSQL alike."""
    dialect = session.bind.dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(model)


def _at(moment: datetime) -> Any:
    """A moment as an SQL value of a UtcDateTime column (inside CASE expressions)."""
    return literal(moment, UtcDateTime())


class WrongAnswers:
    """The counters of wrong answers, and the locks they lead to.

    Counted with atomic UPDATEs; a wrong answer older than the lock duration no
    longer counts, and the number of earlier locks is forgotten after the policy's
    memory."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def refuse_if_locked(self, counters: Sequence[Counted], now: datetime) -> None:
        rows = (await self.session.execute(
            select(IdentificationCounter.locked_until).where(
                _any_of(counters), IdentificationCounter.locked_until > now,
            )
        )).scalars().all()
        if rows:
            raise locked_error(max(rows))

    async def count(self, counters: Sequence[Counted], now: datetime) -> tuple[int, Optional[datetime]]:
        """Counts one on every counter; answers the counts left before a lock and, when
        one is locked now, the end of the longest lock."""
        attempts_left = MAX_WRONG_ANSWERS
        locked_until: Optional[datetime] = None
        for counted in counters:
            failures, until = await self._count_one(counted, now)
            attempts_left = min(attempts_left, counted.policy.threshold - failures)
            if until is not None and until > now:
                locked_until = max(locked_until or until, until)
        return attempts_left, locked_until

    async def clear(self, counters: Sequence[Counted]) -> None:
        """Forgets the wrong answers (not the locks) of `counters`."""
        await self.session.execute(
            update(IdentificationCounter).where(_any_of(counters)).values(failures=0)
            .execution_options(synchronize_session=False)
        )

    async def _count_one(self, counted: Counted, now: datetime) -> tuple[int, Optional[datetime]]:
        row = IdentificationCounter
        await self.session.execute(
            _insert(self.session, row)
            .values(scope=counted.policy.scope, key_hash=counted.key_hash, failures=0, locks=0,
                    updated_at=now)
            .on_conflict_do_nothing(index_elements=["scope", "key_hash"])
        )
        forgotten = row.updated_at <= now - LOCK_DURATION
        locks_forgotten = row.updated_at <= now - counted.policy.memory
        this = and_(row.scope == counted.policy.scope, row.key_hash == counted.key_hash)
        await self.session.execute(
            update(row).where(this).values(
                failures=case((forgotten, 1), else_=row.failures + 1),
                locks=case((locks_forgotten, 0), else_=row.locks),
                updated_at=now,
            ).execution_options(synchronize_session=False)
        )
        failures, locks, locked_until = (await self.session.execute(
            select(row.failures, row.locks, row.locked_until).where(this)
        )).one()
        if failures < counted.policy.threshold:
            return failures, locked_until
        # The row stays locked by this transaction's UPDATE until the commit: a
        # parallel wrong answer waits, then counts towards the next lock.
        locked_until = now + counted.policy.lock_duration(locks)
        await self.session.execute(
            update(row).where(this).values(failures=0, locks=locks + 1, locked_until=locked_until)
            .execution_options(synchronize_session=False)
        )
        return counted.policy.threshold, locked_until


def _any_of(counters: Sequence[Counted]) -> Any:
    return or_(*(
        and_(IdentificationCounter.scope == counted.policy.scope,
             IdentificationCounter.key_hash == counted.key_hash)
        for counted in counters
    ))


class Identification:
    """The identification steps, on one session."""

    def __init__(self, session: AsyncSession, secret: str) -> None:
        self.session = session
        self.secret = secret
        self.wrong_answers = WrongAnswers(session)

    async def start(
        self, customer_id: str, birth_date: date, asker: Asker, now: datetime
    ) -> StartedCheck:
        """Starts a check; the code goes by SMS only to the customer of that id, when
        the birth date is theirs and their code budget allows. The same answer in
        every case: nothing tells whether the customer exists or the date is right."""
        await self._count_check(asker, [], now)
        customer = await self.session.get(Customer, customer_id)
        # Asked for an unknown id too: the same queries whatever the answer.
        requester = await self._requester(customer_id, self._source_hash(asker), now)
        recipient = None
        if customer is not None and customer.birth_date == birth_date:
            if await self._take_code(customer.customer_id, requester, now):
                recipient = customer
        return await self._new_check(asker, recipient, now)

    async def start_from_phone(
        self, phone_number: str, birth_date: date, send_code: bool, asker: Asker, now: datetime
    ) -> Union[StartedCheck, str]:
        """Finds the customer by the phone on file and the birth date; then starts a
        check as `start` does (the code goes to that phone), or (send_code false: the
        telephone line) answers the customer id at once."""
        phone = Counted(PHONE, self._hash("phone", phone_number))
        counters = [*self._counters(asker), phone]
        if send_code:
            await self._count_check(asker, [phone], now)
        else:
            await self.wrong_answers.refuse_if_locked(counters, now)
        owners = (await self.session.execute(
            select(Customer).where(Customer.phone == phone_number)
        )).scalars().all()
        matching = [customer for customer in owners if customer.birth_date == birth_date]
        if len(matching) > 1:
            raise ServiceError("identity_ambiguous")
        customer = matching[0] if matching else None
        if not send_code:
            if customer is None:
                await self._wrong_answer(counters, now, "identity_mismatch")
            # Only the owner of the number gets here: their success ends its count.
            await self.wrong_answers.clear([counters[0], phone])
            await self.session.commit()
            return customer.customer_id
        recipient = None
        # The channel verified the number: the customer's own device, with its own budget.
        if customer is not None and await self._take_code(customer.customer_id, phone.key_hash, now):
            recipient = customer
        started = await self._new_check(asker, recipient, now)
        return StartedCheck(started.check_id, started.expires_at, mask_phone(phone_number))

    async def verify(self, check_id: str, code: str, asker: Asker, now: datetime) -> str:
        """Checks the SMS code; returns the identified customer's id."""
        counters = self._counters(asker)
        await self.wrong_answers.refuse_if_locked(counters, now)
        check = await self.session.get(OneTimeCode, check_id)
        if check is None or not hmac.compare_digest(
            check.conversation_hash, self._hash("conversation", asker.conversation_id)
        ):
            raise ServiceError("identity_check_not_found")
        if check.verified_at or check.revoked_at or check.expires_at <= now:
            raise ServiceError("code_expired")
        # The try is taken before the code is compared: parallel guesses cannot
        # get more than TRIES_PER_CODE of them.
        taken = await self.session.execute(
            update(OneTimeCode)
            .where(OneTimeCode.check_id == check_id, OneTimeCode.attempts < TRIES_PER_CODE,
                   OneTimeCode.verified_at.is_(None), OneTimeCode.revoked_at.is_(None))
            .values(attempts=OneTimeCode.attempts + 1)
            .execution_options(synchronize_session=False)
        )
        if taken.rowcount != 1:
            await self.session.commit()
            raise ServiceError("code_expired")
        matches = hmac.compare_digest(hash_code(self.secret, check_id, code),
                                      check.code_hash or _NO_CODE)
        if not (matches and check.code_hash is not None):
            await self._wrong_answer(counters, now, "wrong_code")
        verified = await self.session.execute(
            update(OneTimeCode)
            .where(OneTimeCode.check_id == check_id, OneTimeCode.verified_at.is_(None))
            .values(verified_at=now)
            .execution_options(synchronize_session=False)
        )
        if verified.rowcount != 1:  # a parallel right answer was first
            await self.session.commit()
            raise ServiceError("code_expired")
        await self.wrong_answers.clear(counters[:1])  # the conversation's; a source's stay
        await self.session.commit()
        return check.customer_id

    async def _count_check(self, asker: Asker, more: Sequence[Counted], now: datetime) -> None:
        """Refuses a new check while the asker is locked; else counts it, which locks
        past the number of checks allowed."""
        started = [Counted(CONVERSATION_CHECKS, self._hash("conversation", asker.conversation_id))]
        source_hash = self._source_hash(asker)
        if source_hash is not None:
            started.append(Counted(SOURCE_CHECKS, source_hash))
        await self.wrong_answers.refuse_if_locked([*self._counters(asker), *more, *started], now)
        _left, locked_until = await self.wrong_answers.count(started, now)
        if locked_until is not None:
            await self.session.commit()
            raise locked_error(locked_until)

    def _hash(self, kind: str, value: str) -> str:
        return counter_key(self.secret, kind, value)

    def _source_hash(self, asker: Asker) -> Optional[str]:
        return self._hash("source", asker.source) if asker.source else None

    def _counters(self, asker: Asker) -> list[Counted]:
        """The conversation's counter first, then the source's when known."""
        counters = [Counted(CONVERSATION, self._hash("conversation", asker.conversation_id))]
        source_hash = self._source_hash(asker)
        if source_hash is not None:
            counters.append(Counted(SOURCE, source_hash))
        return counters

    async def _requester(self, customer_id: str, source_hash: Optional[str], now: datetime) -> str:
        """The budget a code for `customer_id` comes from: the source's own when it
        identified as that customer with a code lately, everyone else's otherwise."""
        if source_hash is None:
            return EVERYONE_ELSE
        known = (await self.session.execute(
            select(OneTimeCode.check_id).where(
                OneTimeCode.customer_id == customer_id,
                OneTimeCode.source_hash == source_hash,
                OneTimeCode.verified_at >= now - KNOWN_DEVICE_MEMORY,
            ).limit(1)
        )).scalar_one_or_none()
        return source_hash if known is not None else EVERYONE_ELSE

    async def _take_code(self, customer_id: str, requester: str, now: datetime) -> bool:
        """Takes one code from the customer's budget for `requester`; False when spent."""
        budget = CodeBudget
        await self.session.execute(
            _insert(self.session, budget)
            .values(customer_id=customer_id, requester=requester, hour_started_at=now,
                    codes_this_hour=0, day_started_at=now, codes_this_day=0)
            .on_conflict_do_nothing(index_elements=["customer_id", "requester"])
        )
        new_hour = budget.hour_started_at <= now - timedelta(hours=1)
        new_day = budget.day_started_at <= now - timedelta(days=1)
        # One conditional UPDATE: parallel requests cannot overspend the budget.
        taken = await self.session.execute(
            update(budget)
            .where(budget.customer_id == customer_id, budget.requester == requester,
                   or_(new_hour, budget.codes_this_hour < CODES_PER_HOUR),
                   or_(new_day, budget.codes_this_day < CODES_PER_DAY))
            .values(
                hour_started_at=case((new_hour, _at(now)), else_=budget.hour_started_at),
                codes_this_hour=case((new_hour, 1), else_=budget.codes_this_hour + 1),
                day_started_at=case((new_day, _at(now)), else_=budget.day_started_at),
                codes_this_day=case((new_day, 1), else_=budget.codes_this_day + 1),
            )
            .execution_options(synchronize_session=False)
        )
        return taken.rowcount == 1

    async def _new_check(self, asker: Asker, recipient: Optional[Customer], now: datetime) -> StartedCheck:
        """A check of the conversation; with a recipient, its code goes by SMS."""
        conversation_hash = self._hash("conversation", asker.conversation_id)
        # It replaces the conversation's pending check, and only that one: a check of
        # another conversation (the customer's own, maybe) stays valid.
        await self.session.execute(
            update(OneTimeCode)
            .where(OneTimeCode.conversation_hash == conversation_hash,
                   OneTimeCode.verified_at.is_(None), OneTimeCode.revoked_at.is_(None))
            .values(revoked_at=now)
            .execution_options(synchronize_session=False)
        )
        check_id = uuid.uuid4().hex
        code = new_code()
        expires_at = now + CODE_LIFETIME
        self.session.add(OneTimeCode(
            check_id=check_id,
            customer_id=recipient.customer_id if recipient else None,
            code_hash=hash_code(self.secret, check_id, code) if recipient else None,
            conversation_hash=conversation_hash, source_hash=self._source_hash(asker),
            created_at=now, expires_at=expires_at, attempts=0,
        ))
        if recipient is not None:
            queue_identity_code(self.session, recipient, code, now)
        await self.session.commit()
        return StartedCheck(check_id, expires_at)

    async def _wrong_answer(self, counters: Sequence[Counted], now: datetime, code: str) -> None:
        """Counts a wrong answer, locks on the third, and raises the refusal."""
        attempts_left, locked_until = await self.wrong_answers.count(counters, now)
        await self.session.commit()
        if locked_until is not None:
            raise locked_error(locked_until)
        raise ServiceError(code, attempts_left=attempts_left)
