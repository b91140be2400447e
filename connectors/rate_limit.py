"""Per-sender and per-IP rate limiting, for every channel: token buckets.

Limits come from the environment as `<messages>/<seconds>`: that many messages at
once, then refilled evenly over that many seconds.

- `RATE_LIMIT_PER_SENDER`: default 20/60 (one conversation);
- `RATE_LIMIT_PER_IP`: default 300/60 (an office or a mobile network shares one
  address; a load test from one machine needs it raised).

The channel pipeline (connectors.pipeline) awaits `check_rate(ip=..., sender=...)` before
handling a message: None lets it through, otherwise it is the number of seconds to wait,
and the customer is told to wait that long (a webhook: HTTP 429 with `Retry-After`).

In production the buckets are in Redis, shared by every Rasa replica (one limit
however many replicas the balancer spreads a client over); without Redis, and while
it fails, each process keeps its own (connectors.shared_state).
"""
import math
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, Mapping, Optional, Tuple

from connectors.shared_state import KEY_PREFIX, SharedRedis, Unavailable, shared_redis
from core.settings import default, read

DEFAULT_PER_SENDER = default("RATE_LIMIT_PER_SENDER")
DEFAULT_PER_IP = default("RATE_LIMIT_PER_IP")
# Beyond this many keys, buckets that have refilled completely are forgotten.
MAX_TRACKED_KEYS = 100_000


@dataclass(frozen=True)
class Limit:
    messages: int
    seconds: float

    @classmethod
    def parse(cls, text: str, variable: str) -> "Limit":
        """`20/60` -> 20 per 60 seconds (messages here, files or megabytes for the upload
        allowances); ValueError naming `variable` otherwise."""
        count, _, seconds = text.strip().partition("/")
        try:
            limit = cls(int(count), float(seconds))
        except ValueError:
            limit = None
        if limit is None or limit.messages < 1 or not 0 < limit.seconds < math.inf:
            raise ValueError(f"{variable} must read <count>/<seconds>, e.g. 20/60 (got {text!r})")
        return limit


class TokenBuckets:
    """One bucket per key: `limit.messages` tokens, refilled over `limit.seconds`."""

    def __init__(self, limit: Limit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._clock = clock
        self._rate = limit.messages / limit.seconds
        self._buckets: Dict[str, Tuple[float, float]] = {}  # key -> (tokens, at)
        self._lock = threading.Lock()

    def take(self, key: str) -> Optional[float]:
        """Takes a token for `key`: None when there was one, else seconds until there is."""
        with self._lock:
            now = self._clock()
            tokens, at = self._buckets.get(key, (float(self.limit.messages), now))
            tokens = min(float(self.limit.messages), tokens + (now - at) * self._rate)
            if tokens < 1:
                self._buckets[key] = (tokens, now)
                return (1 - tokens) / self._rate
            self._buckets[key] = (tokens - 1, now)
            if len(self._buckets) > MAX_TRACKED_KEYS:
                self._forget_full_buckets(now)
            return None

    def _forget_full_buckets(self, now: float) -> None:
        full = [key for key, (tokens, at) in self._buckets.items()
                if tokens + (now - at) * self._rate >= self.limit.messages]
        for key in full:
            del self._buckets[key]


# Takes a token from a bucket kept in Redis, atomically (one script: no other replica
# reads the bucket between the refill and the take), with Redis's clock (the replicas'
# may differ). KEYS[1]: the bucket; ARGV: capacity, tokens per second, lifetime (ms:
# the time to refill, after which a full bucket and no bucket are the same). Answers
# the seconds to wait, "0" when a token was taken.
TAKE_TOKEN_SCRIPT = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local capacity, rate = tonumber(ARGV[1]), tonumber(ARGV[2])
local bucket = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens, at = tonumber(bucket[1]), tonumber(bucket[2])
if tokens == nil or at == nil then tokens, at = capacity, now end
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local wait = 0
if tokens < 1 then wait = (1 - tokens) / rate else tokens = tokens - 1 end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', tostring(now))
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return tostring(wait)
"""


class SharedTokenBuckets:
    """TokenBuckets kept in Redis for every replica; those of the process while it fails."""

    def __init__(self, kind: str, in_process: TokenBuckets, shared: SharedRedis) -> None:
        self.limit = in_process.limit
        self.in_process = in_process
        self._shared = shared
        self._prefix = f"{KEY_PREFIX}rate:{kind}:"
        self._lifetime_ms = str(math.ceil(self.limit.seconds * 1000))
        self._script = shared.client.register_script(TAKE_TOKEN_SCRIPT)

    async def take(self, key: str) -> Optional[float]:
        if self._shared.available():
            try:
                wait = float(await self._shared.run(lambda _: self._script(
                    keys=[self._prefix + key],
                    args=[self.limit.messages, repr(self.limit.messages / self.limit.seconds), self._lifetime_ms],
                )))
                return wait if wait > 0 else None
            except Unavailable:
                pass
        return self.in_process.take(key)


class InProcessBuckets:
    """TokenBuckets behind the same awaitable `take` as SharedTokenBuckets."""

    def __init__(self, in_process: TokenBuckets) -> None:
        self.limit = in_process.limit
        self.in_process = in_process

    async def take(self, key: str) -> Optional[float]:
        return self.in_process.take(key)


class RateLimiter:
    """The per-IP and per-sender buckets: in Redis when `shared` is given, else in process."""

    def __init__(self, per_sender: Limit, per_ip: Limit,
                 clock: Callable[[], float] = time.monotonic, shared: Optional[SharedRedis] = None) -> None:
        def buckets(kind: str, limit: Limit):
            in_process = TokenBuckets(limit, clock)
            return SharedTokenBuckets(kind, in_process, shared) if shared else InProcessBuckets(in_process)

        self.senders = buckets("sender", per_sender)
        self.ips = buckets("ip", per_ip)

    @classmethod
    def from_environment(cls, environ: Optional[Mapping[str, str]] = None) -> "RateLimiter":
        """Limits from `RATE_LIMIT_PER_SENDER` and `RATE_LIMIT_PER_IP`, in the Redis of
        `REDIS_HOST` when set (the process's own connection when `environ` is os.environ)."""
        shared = shared_redis() if environ is None else SharedRedis.from_environment(environ)
        return cls(
            Limit.parse(read("RATE_LIMIT_PER_SENDER", environ), "RATE_LIMIT_PER_SENDER"),
            Limit.parse(read("RATE_LIMIT_PER_IP", environ), "RATE_LIMIT_PER_IP"),
            shared=shared,
        )

    async def check(self, *, ip: Optional[str] = None, sender: Optional[str] = None) -> Optional[float]:
        """None when a message from this address and sender may go through, else the
        seconds to wait. Pass what is known: the address first, the sender once read."""
        if ip:
            wait = await self.ips.take(ip)
            if wait is not None:
                return wait
        if sender:
            return await self.senders.take(sender)
        return None


def retry_after(wait_seconds: float) -> str:
    """The `Retry-After` header value (whole seconds)."""
    return str(max(1, math.ceil(wait_seconds)))


_limiter: Optional[RateLimiter] = None


def rate_limiter() -> RateLimiter:
    """The process-wide limiter, built from the environment on first use (a channel
    calls it when its blueprint is built, so that a bad setting stops the start)."""
    global _limiter
    if _limiter is None:
        _limiter = RateLimiter.from_environment()
    return _limiter


async def check_rate(*, ip: Optional[str] = None, sender: Optional[str] = None) -> Optional[float]:
    """`RateLimiter.check` on the process-wide limiter."""
    return await rate_limiter().check(ip=ip, sender=sender)
