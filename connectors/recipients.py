"""Who an adviser's message goes to on a messaging app.

A messaging conversation is named by a pseudonym (connectors.messaging.pseudonym): its
stored events never hold the user's number or account id. An adviser who takes the
conversation over needs that address to write to the customer, so each message that
arrives remembers it, with when it arrived, for as long as the platform lets a business
write back: WhatsApp and Messenger 24 hours after the customer's last message (their
customer-service window), Telegram a week (no window; a week is what an adviser's
call-back takes at most). Past that, nothing is kept: the address is personal data.

Kept in the replicas' Redis (connectors.shared_state; the key expires with the window)
so that the Rasa replica that receives the console's call finds the address another one
saw; in the process without Redis (`make run`, one Rasa server) or while Redis fails.
"""

import json
import time
from dataclasses import dataclass
from typing import Any, Callable, Dict, Optional, Tuple

from connectors.shared_state import KEY_PREFIX, SharedRedis, Unavailable, shared_redis

# How long after the customer's last message the platform accepts a business's message.
WINDOW_SECONDS = {"whatsapp": 24 * 3600, "messenger": 24 * 3600}
KEPT_WITHOUT_WINDOW_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Recipient:
    platform: str
    address: str  # the WhatsApp number or user id, the Telegram chat id, the Messenger PSID
    last_message_at: float  # Unix time of the customer's last message

    def writable_at(self, now: float) -> bool:
        """Whether the platform still takes a free-form message from the business."""
        return now - self.last_message_at < kept_seconds(self.platform)


def kept_seconds(platform: str) -> int:
    return WINDOW_SECONDS.get(platform, KEPT_WITHOUT_WINDOW_SECONDS)


_FROM_ENVIRONMENT: Any = object()


class Recipients:
    def __init__(self, shared: Optional[SharedRedis] = _FROM_ENVIRONMENT,
                 clock: Callable[[], float] = time.time) -> None:
        self._shared = shared_redis() if shared is _FROM_ENVIRONMENT else shared
        self._clock = clock
        self._here: Dict[str, Tuple[str, str, float]] = {}

    async def remember(self, conversation_id: str, platform: str, address: str) -> None:
        """The customer of `conversation_id` just wrote from `address`."""
        now = self._clock()
        self._here[conversation_id] = (platform, address, now)
        self._forget_expired(now)
        if self._shared is not None and self._shared.available():
            value = json.dumps([platform, address, now])
            try:
                await self._shared.run(lambda client: client.set(
                    _key(conversation_id), value, ex=kept_seconds(platform)))
            except Unavailable:
                pass

    async def find(self, conversation_id: str) -> Optional[Recipient]:
        """The address of the conversation's customer while it is kept, else None."""
        found = None
        if self._shared is not None and self._shared.available():
            try:
                stored = await self._shared.run(lambda client: client.get(_key(conversation_id)))
                found = tuple(json.loads(stored)) if stored else None
            except (Unavailable, ValueError, TypeError):
                found = None
        found = found or self._here.get(conversation_id)
        if not found:
            return None
        recipient = Recipient(*found)
        return recipient if recipient.writable_at(self._clock()) else None

    def _forget_expired(self, now: float) -> None:
        expired = [key for key, (platform, _, at) in self._here.items() if now - at >= kept_seconds(platform)]
        for key in expired:
            del self._here[key]


def _key(conversation_id: str) -> str:
    return f"{KEY_PREFIX}recipient:{conversation_id}"


_recipients: Optional[Recipients] = None


def recipients() -> Recipients:
    """The process's recipients (Redis of the environment), made on first use."""
    global _recipients
    if _recipients is None:
        _recipients = Recipients()
    return _recipients
