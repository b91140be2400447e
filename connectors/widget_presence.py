"""Which widget conversations have a page open, on any Rasa replica (E, issue 15: the claim
notices go to the widget only when the customer is there, else by e-mail).

Each replica knows its own sockets (socket.io's rooms). With REDIS_HOST set, every socket
that opens a conversation is also noted in the replicas' Redis (connectors.shared_state),
`oyat:widget:<conversation id>` a set of socket ids, and taken out when the socket leaves
it or disconnects; the set expires PRESENCE_SECONDS after its last arrival, so that the
sockets of a replica that died are not counted for ever. Redis unreachable: each replica
knows its own sockets only (a customer connected to another replica gets an e-mail).
"""
from typing import Any, Optional

from connectors.shared_state import KEY_PREFIX, SharedRedis, Unavailable, shared_redis

PRESENCE_SECONDS = 12 * 3600
_FROM_ENVIRONMENT: Any = object()


class WidgetPresence:
    def __init__(self, shared: Optional[SharedRedis] = _FROM_ENVIRONMENT) -> None:
        self._shared = shared_redis() if shared is _FROM_ENVIRONMENT else shared

    async def arrive(self, conversation_id: str, socket_id: str) -> None:
        async def note(client: Any) -> None:
            await client.sadd(_key(conversation_id), socket_id)
            await client.expire(_key(conversation_id), PRESENCE_SECONDS)
        await self._run(note)

    async def leave(self, conversation_id: str, socket_id: str) -> None:
        await self._run(lambda client: client.srem(_key(conversation_id), socket_id))

    async def elsewhere(self, conversation_id: str) -> bool:
        """Whether a socket of any replica has the conversation open (False without Redis)."""
        return bool(await self._run(lambda client: client.scard(_key(conversation_id))))

    async def _run(self, command: Any) -> Any:
        if self._shared is None or not self._shared.available():
            return None
        try:
            return await self._shared.run(command)
        except Unavailable:
            return None


def _key(conversation_id: str) -> str:
    return f"{KEY_PREFIX}widget:{conversation_id}"


_presence: Optional[WidgetPresence] = None


def widget_presence() -> WidgetPresence:
    """The process's presence (Redis of the environment), made on first use."""
    global _presence
    if _presence is None:
        _presence = WidgetPresence()
    return _presence
