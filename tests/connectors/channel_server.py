"""A channel served for real: Rasa registers it on a sanic app running in its own thread.

The agent behind it is a small stand-in: it keeps real trackers (Rasa's in-memory
tracker store, so the `/intent` check reads what the assistant offered) and answers
each message with the replies a test scripts, through the channel's output channel.
"""

import asyncio
import threading
import time
import uuid
from typing import Any, Callable, Dict, List, Optional

import requests
from rasa.core.channels.channel import InputChannel, UserMessage, register
from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import BotUttered, UserUttered
from sanic import Sanic

from tests.processes import free_port

Reply = Dict[str, Any]  # a bot message as Rasa hands it to output channels


class ScriptedAgent:
    """Records the messages; answers each with `replies(message)`, recorded in the tracker."""

    def __init__(self) -> None:
        self.tracker_store = InMemoryTrackerStore(Domain.empty())
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

    async def offer(self, sender: str, buttons: List[Dict[str, str]]) -> None:
        """As if the assistant's last answer to `sender` offered these buttons."""
        tracker = await self.tracker_store.get_or_create_tracker(sender)
        tracker.update(BotUttered("Choisissez :", data={"buttons": buttons}))
        await self.tracker_store.save(tracker)


class ChannelServer:
    def __init__(self, channel: InputChannel) -> None:
        self.channel = channel
        self.agent = ScriptedAgent()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/webhooks/{channel.name()}/webhook"
        self._loop = asyncio.new_event_loop()
        self._thread: Optional[threading.Thread] = None

    def start(self) -> "ChannelServer":
        app = Sanic(f"test_{self.channel.name()}_{uuid.uuid4().hex[:8]}")
        app.ctx.agent = self.agent
        register([self.channel], app, route="/webhooks/")
        ready = threading.Event()

        def serve() -> None:
            asyncio.set_event_loop(self._loop)
            self._server = self._loop.run_until_complete(
                app.create_server(host="127.0.0.1", port=self.port, return_asyncio_server=True)
            )
            self._loop.run_until_complete(self._server.startup())
            ready.set()
            self._loop.run_forever()

        self._thread = threading.Thread(target=serve, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def stop(self) -> None:
        self.run(self.channel.in_order.drain())
        self._loop.call_soon_threadsafe(self._server.close)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)

    def run(self, coroutine: Any) -> Any:
        """Runs a coroutine on the server's loop (e.g. to prepare a tracker)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(10)

    def post(self, body: bytes, headers: Dict[str, str]) -> requests.Response:
        return requests.post(self.url, data=body, headers={"Content-Type": "application/json", **headers}, timeout=10)

    def settle(self) -> None:
        """Waits until every message received so far has been handled."""
        time.sleep(0.05)
        self.run(self.channel.in_order.drain())
