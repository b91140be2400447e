"""How many files, and how many megabytes, a conversation and a client address may send.

Every file a channel receives is counted (connectors.attachments, before it is stored)
against four allowances, each `<amount>/<seconds>`: that much at once, then refilled
evenly over that many seconds (the form of RATE_LIMIT_*):

- `UPLOAD_FILES_PER_CONVERSATION`: default 10/86400 (10 files a day);
- `UPLOAD_MEGABYTES_PER_CONVERSATION`: default 30/86400 (30 MB a day);
- `UPLOAD_FILES_PER_ADDRESS`: default 30/3600 (30 files an hour);
- `UPLOAD_MEGABYTES_PER_ADDRESS`: default 100/3600 (100 MB an hour).

A conversation is the channel's conversation id (on a messaging app, one user of the
app). The address is the client's network address where the channel has one (the
widget; the messaging apps' files come from the platforms' servers): an IPv6
address counts by its /64, the block one subscriber gets. A file is taken only when
every allowance has room for it, and then counts against all of them; otherwise
nothing is counted and the customer is told how long to wait. A file the claims
service could not store (the service down) is given back.

Where they are counted is connectors.shared_state's choice, as for the rate limits: in
production (`REDIS_HOST`) in Redis, one allowance for every Rasa replica, checked and
taken against every allowance at once in one Lua script (UploadAllowances); without
Redis, and while it fails, in the process (InProcessUploadAllowances), each replica
counting the files it receives.
"""

import ipaddress
import math
import threading
import time
from dataclasses import dataclass
from typing import Callable, Dict, List, Mapping, Optional, Tuple

from connectors.rate_limit import Limit
from connectors.shared_state import KEY_PREFIX, SharedRedis, Unavailable, shared_redis
from core.settings import read

MEGABYTE = 1024 * 1024
ALLOWANCE_VARIABLES = ("UPLOAD_FILES_PER_CONVERSATION", "UPLOAD_MEGABYTES_PER_CONVERSATION",
                       "UPLOAD_FILES_PER_ADDRESS", "UPLOAD_MEGABYTES_PER_ADDRESS")  # core.settings
# Beyond this many keys per allowance, those refilled completely are forgotten.
MAX_TRACKED_KEYS = 100_000
IPV6_SUBSCRIBER_PREFIX = 64


@dataclass(frozen=True)
class Allowance:
    """`amount` (files or megabytes) at once, refilled evenly over `seconds`."""

    amount: int
    seconds: float

    @classmethod
    def parse(cls, text: str, variable: str) -> "Allowance":
        """`10/86400` -> 10 per day; read as the rate limits are."""
        limit = Limit.parse(text, variable)
        return cls(limit.messages, limit.seconds)


class Buckets:
    """One bucket per key holding up to `capacity`, refilled at `capacity / seconds` per second;
    `name` says what it counts, for whom (`files:conversation`...)."""

    def __init__(self, name: str, capacity: float, seconds: float) -> None:
        self.name = name
        self.capacity = capacity
        self.seconds = seconds
        self.rate = capacity / seconds
        self._buckets: Dict[str, Tuple[float, float]] = {}  # key → (level, at)

    def level(self, key: str, now: float) -> float:
        level, at = self._buckets.get(key, (self.capacity, now))
        return min(self.capacity, level + (now - at) * self.rate)

    def wait(self, key: str, amount: float, now: float) -> float:
        """Seconds until `amount` fits (0: now)."""
        return max(0.0, (amount - self.level(key, now)) / self.rate)

    def take(self, key: str, amount: float, now: float) -> None:
        self._buckets[key] = (self.level(key, now) - amount, now)
        if len(self._buckets) > MAX_TRACKED_KEYS:
            full = [k for k in self._buckets if self.level(k, now) >= self.capacity]
            for k in full:
                del self._buckets[k]

    def give_back(self, key: str, amount: float, now: float) -> None:
        self._buckets[key] = (min(self.capacity, self.level(key, now) + amount), now)


def allowances_from_environment(environ: Optional[Mapping[str, str]] = None,
                                largest_file: int = 0) -> Dict[str, Allowance]:
    """The four allowances of the environment (default: os.environ), by variable; ValueError
    naming the variable when one is malformed, or too small for a file of `largest_file`
    bytes ever to pass."""
    given = {variable: read(variable, environ) for variable in ALLOWANCE_VARIABLES}
    allowances = {variable: Allowance.parse(text, variable) for variable, text in given.items()}
    for variable in ("UPLOAD_MEGABYTES_PER_CONVERSATION", "UPLOAD_MEGABYTES_PER_ADDRESS"):
        if allowances[variable].amount * MEGABYTE < largest_file:
            raise ValueError(
                f"{variable} allows {allowances[variable].amount} MB at once: less than one file "
                f"of UPLOAD_MAX_BYTES ({largest_file} bytes)"
            )
    return allowances


class InProcessUploadAllowances:
    """The four allowances, counted in this process."""

    def __init__(self, allowances: Mapping[str, Allowance], clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.files_per_conversation = _file_buckets("files:conversation", allowances["UPLOAD_FILES_PER_CONVERSATION"])
        self.bytes_per_conversation = _byte_buckets("bytes:conversation",
                                                    allowances["UPLOAD_MEGABYTES_PER_CONVERSATION"])
        self.files_per_address = _file_buckets("files:address", allowances["UPLOAD_FILES_PER_ADDRESS"])
        self.bytes_per_address = _byte_buckets("bytes:address", allowances["UPLOAD_MEGABYTES_PER_ADDRESS"])

    def take(self, conversation: str, address: Optional[str], size: int) -> Optional[float]:
        """Counts a file of `size` bytes: None when every allowance had room, else the
        seconds to wait (and nothing is counted)."""
        wanted = self.wanted(conversation, address, size)
        with self._lock:
            now = self._clock()
            wait = max(buckets.wait(key, amount, now) for buckets, key, amount in wanted)
            if wait > 0:
                return wait
            for buckets, key, amount in wanted:
                buckets.take(key, amount, now)
            return None

    def give_back(self, conversation: str, address: Optional[str], size: int) -> None:
        """Uncounts a file that could not be stored through no fault of the sender's."""
        with self._lock:
            now = self._clock()
            for buckets, key, amount in self.wanted(conversation, address, size):
                buckets.give_back(key, amount, now)

    def wanted(self, conversation: str, address: Optional[str], size: int) -> List[Tuple[Buckets, str, float]]:
        """What a file of `size` bytes takes: (buckets, key, amount) for each allowance it counts against."""
        wanted = [(self.files_per_conversation, conversation, 1.0),
                  (self.bytes_per_conversation, conversation, float(size))]
        key = address_key(address)
        if key:
            wanted += [(self.files_per_address, key, 1.0), (self.bytes_per_address, key, float(size))]
        return wanted


def _file_buckets(name: str, allowance: Allowance) -> Buckets:
    return Buckets(name, allowance.amount, allowance.seconds)


def _byte_buckets(name: str, allowance: Allowance) -> Buckets:
    return Buckets(name, allowance.amount * MEGABYTE, allowance.seconds)


# Takes a file from every bucket it counts against, or from none: one script, so that no
# other replica reads a bucket between the check and the take, on Redis's clock (the
# replicas' may differ). KEYS: the buckets; ARGV, four per bucket: capacity, refill per
# second, amount, lifetime (ms: the time to refill from empty, after which a full bucket
# and no bucket are the same). Answers the seconds to wait, "0" when the file was taken.
TAKE_SCRIPT = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
local levels, wait = {}, 0
for i, key in ipairs(KEYS) do
  local capacity, rate, amount = tonumber(ARGV[4 * i - 3]), tonumber(ARGV[4 * i - 2]), tonumber(ARGV[4 * i - 1])
  local bucket = redis.call('HMGET', key, 'level', 'at')
  local level, at = tonumber(bucket[1]), tonumber(bucket[2])
  if level == nil or at == nil then level, at = capacity, now end
  levels[i] = math.min(capacity, level + math.max(0, now - at) * rate)
  wait = math.max(wait, (amount - levels[i]) / rate)
end
if wait > 0 then return tostring(wait) end
for i, key in ipairs(KEYS) do
  redis.call('HSET', key, 'level', tostring(levels[i] - tonumber(ARGV[4 * i - 1])), 'at', tostring(now))
  redis.call('PEXPIRE', key, ARGV[4 * i])
end
return '0'
"""

# Gives a file back to every bucket it was taken from (never beyond full: a full bucket
# is no bucket). Same KEYS and ARGV as TAKE_SCRIPT.
GIVE_BACK_SCRIPT = """
local now = redis.call('TIME')
now = tonumber(now[1]) + tonumber(now[2]) / 1000000
for i, key in ipairs(KEYS) do
  local capacity, rate, amount = tonumber(ARGV[4 * i - 3]), tonumber(ARGV[4 * i - 2]), tonumber(ARGV[4 * i - 1])
  local bucket = redis.call('HMGET', key, 'level', 'at')
  local level, at = tonumber(bucket[1]), tonumber(bucket[2])
  if level ~= nil and at ~= nil then
    level = level + math.max(0, now - at) * rate + amount
    if level >= capacity then
      redis.call('DEL', key)
    else
      redis.call('HSET', key, 'level', tostring(level), 'at', tostring(now))
      redis.call('PEXPIRE', key, ARGV[4 * i])
    end
  end
end
return 0
"""


class UploadAllowances:
    """The four allowances: in Redis for every replica when `shared` is given (a Redis of
    connectors.shared_state), in this process without it and while Redis fails."""

    def __init__(self, allowances: Mapping[str, Allowance], clock: Callable[[], float] = time.monotonic,
                 shared: Optional[SharedRedis] = None) -> None:
        self.in_process = InProcessUploadAllowances(allowances, clock)
        self._shared = shared
        if shared is not None:
            self._take_script = shared.client.register_script(TAKE_SCRIPT)
            self._give_back_script = shared.client.register_script(GIVE_BACK_SCRIPT)

    @classmethod
    def from_environment(
        cls, environ: Optional[Mapping[str, str]] = None, largest_file: int = 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> "UploadAllowances":
        """The allowances of the environment (allowances_from_environment), in the Redis of
        `REDIS_HOST` when set (the process's own connection when `environ` is os.environ)."""
        shared = shared_redis() if environ is None else SharedRedis.from_environment(environ)
        allowances = allowances_from_environment(environ, largest_file)
        return cls(allowances, clock, shared)

    @property
    def shared(self) -> bool:
        """Whether the replicas count together (in Redis, while it answers)."""
        return self._shared is not None

    async def take(self, conversation: str, address: Optional[str], size: int) -> Optional[float]:
        """Counts a file of `size` bytes: None when every allowance had room, else the
        seconds to wait (and nothing is counted)."""
        if self._shared is not None and self._shared.available():
            keys, args = self._in_redis(conversation, address, size)
            try:
                wait = float(await self._shared.run(lambda _: self._take_script(keys=keys, args=args)))
                return wait if wait > 0 else None
            except Unavailable:
                pass
        return self.in_process.take(conversation, address, size)

    async def give_back(self, conversation: str, address: Optional[str], size: int) -> None:
        """Uncounts a file that could not be stored through no fault of the sender's (where
        Redis's state says now: a file taken in the process while Redis failed and given back
        once it answers again makes room of one file in Redis, never beyond full)."""
        if self._shared is not None and self._shared.available():
            keys, args = self._in_redis(conversation, address, size)
            try:
                await self._shared.run(lambda _: self._give_back_script(keys=keys, args=args))
                return
            except Unavailable:
                pass
        self.in_process.give_back(conversation, address, size)

    def _in_redis(self, conversation: str, address: Optional[str], size: int) -> Tuple[List[str], List[str]]:
        keys, args = [], []
        for buckets, key, amount in self.in_process.wanted(conversation, address, size):
            keys.append(f"{KEY_PREFIX}upload:{buckets.name}:{key}")
            args += [repr(float(buckets.capacity)), repr(buckets.rate), repr(amount),
                     str(math.ceil(buckets.seconds * 1000))]
        return keys, args


def address_key(address: Optional[str]) -> Optional[str]:
    """What an address counts as: itself for IPv4 (an IPv4-mapped IPv6 address too), its
    /64 for IPv6; anything else as given."""
    if not address:
        return None
    try:
        parsed = ipaddress.ip_address(address.strip())
    except ValueError:
        return address
    if isinstance(parsed, ipaddress.IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ipaddress.IPv6Network((parsed, IPV6_SUBSCRIBER_PREFIX), strict=False))
    return str(parsed)


def wait_label(wait_seconds: float) -> str:
    """`wait_seconds` as the customer reads it: « 5 minutes », « 3 heures »..."""
    minutes = max(1, math.ceil(wait_seconds / 60))
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes > 1 else ''}"
    hours = math.ceil(minutes / 60)
    return f"{hours} heure{'s' if hours > 1 else ''}"


_allowances: Optional[UploadAllowances] = None


def upload_allowances(largest_file: int) -> UploadAllowances:
    """The process-wide allowances, built from the environment on first use (a channel
    that takes files builds them with its blueprint, so that a bad setting stops the start)."""
    global _allowances
    if _allowances is None:
        _allowances = UploadAllowances.from_environment(largest_file=largest_file)
    return _allowances
