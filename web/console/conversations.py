"""The console's client of the Rasa servers' adviser routes (bot/advisers.py).

Every call shows the console's token and the grant the policy service signed for this
conversation and this adviser: the web process holds no secret that opens a conversation
by itself. Failures come back typed: ConversationRefused (the Rasa server answered 4xx
with a code: `outside_window`, `channel_unreachable`, `grant_expired`...) or
ConversationsUnavailable (no answer, too late, 5xx).
"""

import asyncio
import logging
from typing import Any, Dict, Optional
from urllib.parse import quote

import aiohttp

from core.adviser_grant import HEADER as GRANT_HEADER

logger = logging.getLogger(__name__)


class ConversationsUnavailable(Exception):
    """The Rasa server did not answer, answered too late or failed."""


class ConversationRefused(Exception):
    """The Rasa server refused the call; `code` says why."""

    def __init__(self, status: int, code: str) -> None:
        super().__init__(f"{status} {code}")
        self.status = status
        self.code = code


class AdviserConversations:
    """Reads a conversation, pauses it, writes to the customer, resumes it."""

    def __init__(self, rasa_url: str, console_token: str, timeout_seconds: float) -> None:
        self.rasa_url = rasa_url.rstrip("/")
        self._token = console_token
        self._timeout = aiohttp.ClientTimeout(total=timeout_seconds)
        self._session: Optional[aiohttp.ClientSession] = None

    async def close_client(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def read(self, grant: str, conversation_id: str, after: Optional[float] = None) -> Dict[str, Any]:
        """{conversation_id, channel, paused, messages: [{from, text, at, timestamp}]}: the
        messages after the timestamp `after` (all of them without)."""
        params = {"after": repr(after)} if after is not None else None
        return await self._call("GET", conversation_id, "", grant, params=params)

    async def take(self, grant: str, conversation_id: str) -> Dict[str, Any]:
        return await self._call("POST", conversation_id, "/take", grant)

    async def send(self, grant: str, conversation_id: str, text: str) -> Dict[str, Any]:
        return await self._call("POST", conversation_id, "/messages", grant, json={"text": text})

    async def close(self, grant: str, conversation_id: str) -> Dict[str, Any]:
        return await self._call("POST", conversation_id, "/close", grant)

    async def _call(self, method: str, conversation_id: str, action: str, grant: str, **kwargs: Any) -> Dict[str, Any]:
        url = f"{self.rasa_url}/advisers/conversations/{quote(conversation_id, safe=':')}{action}"
        headers = {"Authorization": f"Bearer {self._token}", GRANT_HEADER: grant}
        try:
            async with self._client().request(method, url, headers=headers, **kwargs) as answer:
                status = answer.status
                body = await answer.json(content_type=None)
        except (aiohttp.ClientError, asyncio.TimeoutError, ValueError) as error:
            logger.warning("adviser route %s %s failed: %s", method, action or "read", type(error).__name__)
            raise ConversationsUnavailable(type(error).__name__) from error
        if status >= 500 or not isinstance(body, dict):
            logger.warning("adviser route %s %s answered %s", method, action or "read", status)
            raise ConversationsUnavailable(f"status {status}")
        if status >= 400:
            error = body.get("error")
            code = error.get("code") if isinstance(error, dict) else None
            raise ConversationRefused(status, str(code or "refused"))
        return body

    def _client(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session
