"""What the Rasa replicas count together: in Redis in production, in the process otherwise.

Rate limits (connectors.rate_limit), upload allowances (connectors.upload_limits) and the
messaging apps' message ids already seen (connectors.messaging.RecentIds) only hold when
every replica counts in one place: with N replicas, counters of their own would let a
client send N times the limit or the files, and a message the platform redelivers to
another replica would be handled twice. So does the order of one conversation's messages
when two replicas receive them (connectors.messaging.SharedOrder, `oyat:order:...`), and
what the messaging channels remember of a user: the platform address
(connectors.recipients, `oyat:recipient:...`), the conversation of a WhatsApp
business-scoped user id (`oyat:whatsapp-user:...`), the number a Telegram user shared
(`oyat:telegram-phone:...`).

- `REDIS_HOST` set (the production configuration, the Redis of the lock store, with
  `REDIS_PORT` and `REDIS_PASSWORD`): the counters are kept in that Redis, database 1 as
  the lock store's, under keys of their own (`oyat:rate:...`, `oyat:upload:...`, `oyat:seen:...`).
- `REDIS_HOST` not set (`make run`, one Rasa process): each process counts alone.

Redis unreachable or failing: each replica counts alone meanwhile (the limits hold per
replica, a redelivery is recognised when it reaches the same replica), logs it once, and
tries Redis again RETRY_SECONDS later. Neither open nor closed: refusing every message
would turn a Redis failure into an outage for every customer, letting every message
through would drop the protection; counting alone keeps both, at the cost of up to N
times the limit and of a redelivered message perhaps handled twice (never lost).
"""
import asyncio
import logging
import time
from typing import Any, Callable, Mapping, Optional

from core.settings import read

logger = logging.getLogger(__name__)

# The lock store's database (endpoints.production.yml): one Redis database for what the
# replicas share; the key prefixes keep the counters apart from the locks (`oyat:lock:`).
REDIS_DATABASE = 1
KEY_PREFIX = "oyat:"
# A counter answers in a fraction of a millisecond on the private network: past this,
# Redis counts as unreachable and the message goes on with the process's own counters.
TIMEOUT_SECONDS = 0.5
RETRY_SECONDS = 5.0


def _failures() -> tuple:
    from redis.exceptions import RedisError

    return (RedisError, OSError, asyncio.TimeoutError)


class SharedRedis:
    """The Redis client of the counters, and whether Redis is to be tried now."""

    def __init__(self, client: Any, clock: Callable[[], float] = time.monotonic) -> None:
        self.client = client
        self._clock = clock
        self._retry_at: Optional[float] = None  # set while Redis is failing

    @classmethod
    def from_environment(cls, environ: Optional[Mapping[str, str]] = None) -> Optional["SharedRedis"]:
        """The Redis of `REDIS_HOST`, `REDIS_PORT` (default 6379) and `REDIS_PASSWORD` (empty:
        none); None when `REDIS_HOST` is not set. Connects at the first counter, not here."""
        host = read("REDIS_HOST", environ)
        if not host:
            return None
        port = read("REDIS_PORT", environ)  # SettingsError, a ValueError, naming it
        import redis.asyncio

        client = redis.asyncio.Redis(
            host=host, port=port, password=read("REDIS_PASSWORD", environ) or None, db=REDIS_DATABASE,
            socket_timeout=TIMEOUT_SECONDS, socket_connect_timeout=TIMEOUT_SECONDS,
        )
        return cls(client)

    def available(self) -> bool:
        """False while Redis is failing, until it is time to try again."""
        return self._retry_at is None or self._clock() >= self._retry_at

    async def run(self, command: Callable[[Any], Any]) -> Any:
        """`await command(client)` (each network wait bounded by TIMEOUT_SECONDS); raises
        `Unavailable` when Redis fails (then it is not tried again for RETRY_SECONDS)."""
        try:
            result = await command(self.client)
        except _failures() as error:
            if self._retry_at is None:
                logger.warning("Redis unreachable (%s): each replica counts alone for now",
                               type(error).__name__)
            self._retry_at = self._clock() + RETRY_SECONDS
            raise Unavailable() from error
        if self._retry_at is not None:
            logger.warning("Redis reachable again: the replicas count together")
            self._retry_at = None
        return result


class Unavailable(Exception):
    """Redis did not answer: count in the process."""


_shared: Optional[SharedRedis] = None
_read = False


def shared_redis() -> Optional[SharedRedis]:
    """The process's Redis for the counters (None without `REDIS_HOST`), read from the
    environment on first use."""
    global _shared, _read
    if not _read:
        _shared, _read = SharedRedis.from_environment(), True
    return _shared
