"""A channel served for real: Rasa registers it on a sanic app running in its own thread.

The agent behind it is a small stand-in: it keeps real trackers (Rasa's in-memory
tracker store, so the `/intent` check reads what the assistant offered) and answers
each message with the replies a test scripts, through the channel's output channel.
"""

import functools
import time
import uuid
from pathlib import Path
from types import SimpleNamespace
from typing import Any, Callable, Dict, List, Optional, Sequence

import requests
from rasa.core.channels.channel import InputChannel, UserMessage, register
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActiveLoop, BotUttered, SlotSet, UserUttered
from sanic import Sanic

from connectors.pipeline import Refusal, refusal_words
from harness.servers import LoopThread, free_port

ROOT = Path(__file__).resolve().parents[2]
Reply = Dict[str, Any]  # a bot message as Rasa hands it to output channels


@functools.lru_cache(maxsize=None)
def project_domain() -> Domain:
    """The assistant's domain (the channels' refusals are among its responses)."""
    return Domain.load(str(ROOT / "domain"))


def refusal(code: str, channel: str, wait_seconds: Optional[float] = None) -> str:
    """What a channel answers for a refusal: its response in the project's domain."""
    return refusal_words(SimpleNamespace(domain=project_domain()), Refusal(code, wait_seconds), channel)


class ScriptedAgent:
    """Records the messages; answers each with `replies(message)`, recorded in the tracker."""

    def __init__(self) -> None:
        self.domain = project_domain()
        self.tracker_store = InMemoryTrackerStore(self.domain)
        self.received: List[UserMessage] = []
        self.replies: Callable[[UserMessage], List[Reply]] = lambda message: [{"text": "Bien reçu."}]

    async def handle_message(self, message: UserMessage) -> None:
        self.received.append(message)
        tracker = await self.tracker_store.get_or_create_tracker(message.sender_id)
        tracker.update(UserUttered(message.text, input_channel=message.input_channel, metadata=message.metadata))
        for reply in self.replies(message):
            tracker.update(BotUttered(reply.get("text"), data={k: v for k, v in reply.items() if k != "text"}))
            await message.output_channel.send_response(message.sender_id, dict(reply))
        await self.tracker_store.save(tracker)

    async def open_declaration(self, sender: str, asking: Optional[str] = None) -> None:
        """As if `sender` were declaring a claim (the claim form active, asking the slot
        `asking`): files are taken."""
        tracker = await self.tracker_store.get_or_create_tracker(sender)
        tracker.update(ActiveLoop("claim_form"))
        if asking:
            tracker.update(SlotSet("requested_slot", asking))
        await self.tracker_store.save(tracker)

    async def offer(self, sender: str, buttons: List[Dict[str, str]]) -> None:
        """As if the assistant's last answer to `sender` offered these buttons."""
        tracker = await self.tracker_store.get_or_create_tracker(sender)
        tracker.update(BotUttered("Choisissez :", data={"buttons": buttons}))
        await self.tracker_store.save(tracker)


def serve_channels(thread: LoopThread, port: int, agent: Any, channels: List[InputChannel],
                   blueprints: Sequence[Any] = ()) -> Any:
    """A sanic server on `thread`'s loop with `channels` registered as Rasa registers them
    (`app.ctx.agent` behind them) and any extra `blueprints`; returns the started server."""
    app = Sanic(f"test_channels_{uuid.uuid4().hex[:8]}")
    app.config.TOUCHUP = False
    app.ctx.agent = agent
    register(channels, app, route="/webhooks/")
    for blueprint in blueprints:
        app.blueprint(blueprint)

    async def serve() -> Any:
        server = await app.create_server(host="127.0.0.1", port=port, return_asyncio_server=True)
        await server.startup()
        return server

    return thread.start(serve)


class ChannelServer:
    """`channel` registered as Rasa registers it, `agent` (by default a ScriptedAgent) behind it;
    its webhook is `/webhooks/<channel name>/<endpoint>`."""

    def __init__(self, channel: InputChannel, agent: Optional[Any] = None, endpoint: str = "webhook") -> None:
        self.channel = channel
        self.agent = agent if agent is not None else ScriptedAgent()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhooks/{channel.name()}/{endpoint}"
        self._thread = LoopThread()

    def start(self) -> "ChannelServer":
        self._server = serve_channels(self._thread, self.port, self.agent, [self.channel])
        return self

    def stop(self) -> None:
        in_order = getattr(self.channel, "in_order", None)  # a messaging channel's background work
        if in_order is not None:
            self.run(in_order.drain())
        self._thread.call_soon(self._server.close)
        self._thread.stop()

    def run(self, coroutine: Any) -> Any:
        """Runs a coroutine on the server's loop (e.g. to prepare a tracker)."""
        return self._thread.run(coroutine)

    def post(self, body: bytes, headers: Dict[str, str]) -> requests.Response:
        return requests.post(self.url, data=body, headers={"Content-Type": "application/json", **headers}, timeout=10)

    def deliver(self, body: bytes, headers: Dict[str, str]) -> requests.Response:
        """Posts a webhook, then waits until the messages it brought have been handled."""
        answer = self.post(body, headers)
        self.settle()
        return answer

    def settle(self) -> None:
        """Waits until every message received so far has been handled."""
        time.sleep(0.05)
        self.run(self.channel.in_order.drain())
