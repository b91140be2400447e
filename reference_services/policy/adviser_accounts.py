"""Advisers' accounts and sessions: argon2id passwords, a lock after repeated failures,
and sessions of which only the SHA-256 of the token is stored."""
from __future__ import annotations

import asyncio
import functools
import hashlib
import math
import secrets
from datetime import datetime, timedelta
from typing import Any, Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import delete, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from reference_services.errors import ServiceError
from reference_services.policy.models import Adviser, AdviserSession

SESSION_HEADER = "X-Adviser-Session"
MAX_FAILED_LOGINS = 5  # in a row: then locked
LOCK_DURATION = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=10)  # a working day, whatever the use
ROLES = ("adviser", "supervisor")

_hasher = PasswordHasher()  # argon2id with the library's recommended costs


def hash_password(password: str) -> str:
    return _hasher.hash(password)


@functools.lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """What an unknown login's password is checked against: the same work, the same time."""
    return _hasher.hash(secrets.token_urlsafe(16))


def _matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def _check_password(password_hash: str, password: str) -> bool:
    # Hashing takes tens of milliseconds of CPU: off the event loop.
    return await asyncio.get_running_loop().run_in_executor(None, _matches, password_hash, password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _locked(until: datetime, now: datetime) -> ServiceError:
    seconds = max(1, math.ceil((until - now).total_seconds()))
    return ServiceError("adviser_locked", headers={"Retry-After": str(seconds)},
                        retry_after_seconds=seconds)


async def log_in(session: AsyncSession, login: str, password: str, now: datetime) -> tuple[Adviser, str, datetime]:
    """The adviser, a new session token (given once) and its absolute expiry; or
    401 adviser_login_refused (wrong password and unknown login alike) or 423 adviser_locked."""
    # Logins are told apart regardless of case: « Conseiller » is « conseiller ».
    adviser = (await session.execute(select(Adviser).where(func.lower(Adviser.login) == login.lower()))
               ).scalars().first()
    if adviser is None:
        await _check_password(_dummy_hash(), password)
        raise ServiceError("adviser_login_refused")
    if adviser.locked_until is not None and adviser.locked_until > now:
        # Not even checked: a locked account tells nothing about the password.
        raise _locked(adviser.locked_until, now)
    if not await _check_password(adviser.password_hash, password):
        await _count_failure(session, adviser.id, now)
        raise ServiceError("adviser_login_refused")
    adviser.failed_logins = 0
    adviser.locked_until = None
    if _hasher.check_needs_rehash(adviser.password_hash):
        adviser.password_hash = hash_password(password)
    await session.execute(delete(AdviserSession).where(
        AdviserSession.adviser_id == adviser.id, AdviserSession.expires_at <= now))
    token = secrets.token_urlsafe(32)
    expires_at = now + SESSION_LIFETIME
    session.add(AdviserSession(token_hash=token_hash(token), adviser_id=adviser.id, created_at=now,
                               last_seen_at=now, expires_at=expires_at))
    await session.commit()
    return adviser, token, expires_at


async def _count_failure(session: AsyncSession, adviser_id: int, now: datetime) -> None:
    """One more failure, counted in the database (two replicas count together); the
    last allowed one locks the account and answers the lock at once."""
    await session.execute(update(Adviser).where(Adviser.id == adviser_id)
                          .values(failed_logins=Adviser.failed_logins + 1)
                          .execution_options(synchronize_session=False))
    failures = (await session.execute(select(Adviser.failed_logins).where(Adviser.id == adviser_id))
                ).scalar_one()
    if failures >= MAX_FAILED_LOGINS:
        locked_until = now + LOCK_DURATION
        await session.execute(update(Adviser).where(Adviser.id == adviser_id)
                              .values(failed_logins=0, locked_until=locked_until)
                              .execution_options(synchronize_session=False))
        await session.commit()
        raise _locked(locked_until, now)
    await session.commit()


async def current_session(request: Any, session: AsyncSession, now: datetime) -> tuple[Adviser, AdviserSession]:
    """The adviser whose session the request carries, that session marked as used now;
    401 adviser_session_invalid when it is missing, unknown, idle too long or too old."""
    token = request.headers.get(SESSION_HEADER) or ""
    if not token or len(token) > 200:
        raise ServiceError("adviser_session_invalid")
    row: Optional[AdviserSession] = await session.get(AdviserSession, token_hash(token))
    idle = timedelta(minutes=request.app.ctx.settings.adviser_session_idle_minutes)
    if row is None or row.expires_at <= now or row.last_seen_at + idle <= now:
        if row is not None:
            await session.delete(row)
            await session.commit()
        raise ServiceError("adviser_session_invalid")
    row.last_seen_at = now
    adviser = await session.get(Adviser, row.adviser_id)
    await session.commit()
    return adviser, row


async def log_out(session: AsyncSession, row: AdviserSession) -> None:
    await session.delete(row)
    await session.commit()


def adviser_json(adviser: Adviser) -> dict:
    return {"login": adviser.login, "display_name": adviser.display_name, "role": adviser.role}
