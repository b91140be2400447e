"""Drives the conversations through the REST channel: closed loops of `concurrency`
customers, each starting a fresh conversation (new sender id) when the last one
ends, for a fixed time; and the NLU parse alone through Rasa's HTTP API."""
import asyncio
import itertools
import math
import time
import uuid
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import aiohttp

from bench.conversations import CONVERSATIONS, Conversation, parse_texts
from devtools.espace_client import issue_session_token

REQUEST_TIMEOUT_SECONDS = 30
MAX_ERROR_SAMPLES = 10


def percentile(values: Sequence[float], fraction: float) -> Optional[float]:
    """The value below which `fraction` of `values` fall (nearest rank)."""
    if not values:
        return None
    ordered = sorted(values)
    rank = min(len(ordered), max(1, math.ceil(fraction * len(ordered))))
    return ordered[rank - 1]


def latency_summary(seconds: Sequence[float]) -> Dict[str, Optional[float]]:
    """Count and p50/p95/p99/mean in milliseconds."""
    def ms(value: Optional[float]) -> Optional[float]:
        return None if value is None else round(value * 1000, 1)

    return {
        "count": len(seconds),
        "p50_ms": ms(percentile(seconds, 0.50)),
        "p95_ms": ms(percentile(seconds, 0.95)),
        "p99_ms": ms(percentile(seconds, 0.99)),
        "mean_ms": ms(sum(seconds) / len(seconds)) if seconds else None,
    }


@dataclass
class Tally:
    """What one load level measured."""

    turns: List[float] = field(default_factory=list)  # latency of every answered turn
    by_conversation: Dict[str, List[float]] = field(default_factory=dict)
    documents: List[float] = field(default_factory=list)  # the attestation PDFs
    conversations: int = 0
    errors: int = 0
    error_samples: List[str] = field(default_factory=list)

    def error(self, what: str) -> None:
        self.errors += 1
        if len(self.error_samples) < MAX_ERROR_SAMPLES and what not in self.error_samples:
            self.error_samples.append(what)


class RestClient:
    """Customers talking to the REST channel at `url`."""

    def __init__(self, url: str, jwt_secret: str, session: aiohttp.ClientSession) -> None:
        self.webhook = url.rstrip("/") + "/webhooks/rest/webhook"
        self.jwt_secret = jwt_secret
        self.session = session

    async def converse(self, conversation: Conversation, tally: Tally, deadline: float) -> None:
        """One conversation with a fresh sender id, turn after turn, until its end or the
        deadline; a failed turn ends it (what follows would not make sense)."""
        sender = f"bench-{uuid.uuid4()}"
        metadata = {}
        if conversation.customer:
            metadata["auth_token"] = issue_session_token(conversation.customer, self.jwt_secret)
        for turn in conversation.turns:
            if time.monotonic() >= deadline:
                return
            started = time.perf_counter()
            try:
                async with self.session.post(
                    self.webhook, json={"sender": sender, "message": turn.text, "metadata": metadata}
                ) as answer:
                    status = answer.status
                    messages = await answer.json(content_type=None) if status == 200 else None
            except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
                tally.error(f"{conversation.name}: {type(error).__name__} {error}".strip())
                return
            elapsed = time.perf_counter() - started
            if status != 200:
                tally.error(f"{conversation.name}: HTTP {status}")
                return
            text = "\n".join(message.get("text") or "" for message in messages or [])
            if not turn.expect.search(text):
                tally.error(f"{conversation.name}: {turn.text!r} answered {text[:160]!r}")
                return
            tally.turns.append(elapsed)
            tally.by_conversation.setdefault(conversation.name, []).append(elapsed)
            if turn.fetch is not None and not await self.fetch_document(turn.fetch.search(text).group(0), tally):
                return
        tally.conversations += 1

    async def fetch_document(self, link: str, tally: Tally) -> bool:
        started = time.perf_counter()
        try:
            async with self.session.get(link) as document:
                body = await document.read()
                ok = document.status == 200 and body.startswith(b"%PDF")
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            tally.error(f"document: {type(error).__name__}")
            return False
        if not ok:
            tally.error(f"document: HTTP {document.status}, not a PDF")
            return False
        tally.documents.append(time.perf_counter() - started)
        return True


def new_session(concurrency: int) -> aiohttp.ClientSession:
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=concurrency * 2 + 4),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
    )


async def run_level(url: str, jwt_secret: str, concurrency: int, seconds: float) -> Dict:
    """`concurrency` customers for `seconds`: throughput, latency, errors."""
    tally = Tally()
    async with new_session(concurrency) as session:
        client = RestClient(url, jwt_secret, session)
        started = time.monotonic()
        deadline = started + seconds

        async def customer(offset: int) -> None:
            # Each customer goes through the conversations in its own order.
            for index in itertools.count(offset):
                if time.monotonic() >= deadline:
                    return
                await client.converse(CONVERSATIONS[index % len(CONVERSATIONS)], tally, deadline)

        await asyncio.gather(*(customer(n) for n in range(concurrency)))
        elapsed = time.monotonic() - started
    return {
        "concurrency": concurrency,
        "seconds": round(elapsed, 2),
        "conversations": tally.conversations,
        "turns_per_second": round(len(tally.turns) / elapsed, 1),
        **latency_summary(tally.turns),
        "errors": tally.errors,
        "error_samples": tally.error_samples,
        "by_conversation_p50_ms": {
            name: latency_summary(values)["p50_ms"] for name, values in sorted(tally.by_conversation.items())
        },
        "documents": latency_summary(tally.documents),
    }


async def warm_up(url: str, jwt_secret: str) -> Dict:
    """Each conversation once: the first predictions of a fresh server are slower."""
    tally = Tally()
    async with new_session(1) as session:
        client = RestClient(url, jwt_secret, session)
        for conversation in CONVERSATIONS:
            await client.converse(conversation, tally, deadline=float("inf"))
    return {"conversations": tally.conversations, "errors": tally.errors, "error_samples": tally.error_samples}


async def measure_parse(url: str, api_token: str, seconds: float) -> Dict:
    """The NLU alone: `POST /model/parse` of the conversations' texts, one at a time."""
    latencies: List[float] = []
    errors = 0
    texts = itertools.cycle(parse_texts())
    async with new_session(1) as session:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            started = time.perf_counter()
            try:
                async with session.post(f"{url.rstrip('/')}/model/parse", params={"token": api_token},
                                        json={"text": next(texts)}) as answer:
                    await answer.read()
                    ok = answer.status == 200
            except (aiohttp.ClientError, asyncio.TimeoutError):
                ok = False
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                errors += 1
    return {**latency_summary(latencies), "errors": errors}
