"""The stand-in assistant of the channel tests, storing each turn the way the Rasa server's
conversation store does (bot.tracker_store: every event masked, then written
as JSON), so that what a channel lets through is proven storable, not only answerable."""
from typing import Any, Dict, List

from rasa.core.channels.channel import UserMessage

from bot.tracker_store import masked_rows
from tests.connectors.channel_server import ScriptedAgent


class StoringAgent(ScriptedAgent):
    def __init__(self) -> None:
        super().__init__()
        self.stored_rows: List[Dict[str, Any]] = []

    async def handle_message(self, message: UserMessage) -> None:
        await super().handle_message(message)
        tracker = await self.tracker_store.retrieve(message.sender_id)
        self.stored_rows += masked_rows(message.sender_id, list(tracker.events), 0, set())
