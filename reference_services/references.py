"""Human-readable references: yearly sequences (SIN-, DEM-, TRF-) and random ones (ATT-)."""
from __future__ import annotations

import asyncio
import logging
import random
import secrets
from typing import Awaitable, Callable, TypeVar

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

logger = logging.getLogger(__name__)

T = TypeVar("T")

# No 0/O or 1/I: references are read aloud on the phone.
_RANDOM_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
# Under a burst of parallel inserts each round lets one writer through: allow many.
MAX_ATTEMPTS = 20


async def next_yearly_reference(session: AsyncSession, column, prefix: str, year: int) -> str:
    """PREFIX-YEAR-NNNNNN, one more than the year's highest (numbers zero-padded, so
    the text maximum is the numeric one)."""
    highest = (
        await session.execute(select(func.max(column)).where(column.like(f"{prefix}-{year}-%")))
    ).scalar_one_or_none()
    number = int(highest.rsplit("-", 1)[1]) + 1 if highest else 1
    return f"{prefix}-{year}-{number:06d}"


def random_reference(prefix: str, year: int, length: int = 8) -> str:
    """PREFIX-YEAR-XXXXXXXX with unambiguous characters."""
    body = "".join(secrets.choice(_RANDOM_ALPHABET) for _ in range(length))
    return f"{prefix}-{year}-{body}"


async def commit_with_retries(session: AsyncSession, attempt: Callable[[], Awaitable[T]]) -> T:
    """Run `attempt` (which adds rows) and commit; start over on a unique-key collision.

    Two requests may pick the same next reference at once: the second insert
    fails on the unique index and is simply retried with a fresh number.
    """
    for number in range(1, MAX_ATTEMPTS + 1):
        try:
            result = await attempt()
            await session.commit()
            return result
        except IntegrityError:
            await session.rollback()
            if number == MAX_ATTEMPTS:
                raise
            logger.info("reference collision, retrying (attempt %d)", number + 1)
            await collision_pause(number)
    raise AssertionError("unreachable")


async def collision_pause(attempt: int) -> None:
    """A short random wait, so that colliding writers do not collide again in step."""
    await asyncio.sleep(random.uniform(0, 0.005 * attempt))
