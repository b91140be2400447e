"""Calls to the action server over connections kept open.

Rasa 3.6 opens a new HTTP client session, so a new TCP connection, for every call to
the action server (two or three per turn). The endpoint here hands Rasa one session
per process instead, whose connections are reused from call to call, and which
sends the turn's correlation id (`X-Request-Id`, core/logs.py) and writes each call (the
whole conversation so far) with orjson: the standard library's
encoder took 7 % of the Rasa server's time at saturation (`make bench` under a profiler).
"""
import json
from typing import Any, Optional

import aiohttp
import orjson
from rasa.core.constants import DEFAULT_REQUEST_TIMEOUT
from rasa.utils.endpoints import EndpointConfig

from core.logs import request_id_headers

# Below the action server's keep-alive (sanic: 5 s), so that a connection is never
# reused just as the server closes it.
KEEPALIVE_SECONDS = 4.0


def dumps(payload: Any) -> str:
    """JSON of a call to the action server; what orjson cannot write (an integer beyond
    64 bits, a key that is not a string) is written by the standard library."""
    try:
        return orjson.dumps(payload).decode()
    except TypeError:
        return json.dumps(payload)


class _Lent:
    """`async with` on the shared session: lent for one request, not closed after it."""

    def __init__(self, session: aiohttp.ClientSession) -> None:
        self.session = session

    async def __aenter__(self) -> aiohttp.ClientSession:
        return self.session

    async def __aexit__(self, *exc: Any) -> None:
        return None


class KeptAliveEndpoint(EndpointConfig):
    """The action server's EndpointConfig, with one client session for the process."""

    _client: Optional[aiohttp.ClientSession] = None

    @classmethod
    def of(cls, endpoint: EndpointConfig) -> "KeptAliveEndpoint":
        return cls(endpoint.url, endpoint.params, endpoint.headers, endpoint.basic_auth, endpoint.token,
                   endpoint.token_name, endpoint.cafile, type=endpoint.type, **endpoint.kwargs)

    def session(self) -> Any:  # Rasa's request() uses it as `async with self.session()`
        if self._client is None or self._client.closed:
            auth = None
            if self.basic_auth:
                auth = aiohttp.BasicAuth(self.basic_auth["username"], self.basic_auth["password"])
            self._client = aiohttp.ClientSession(
                headers=self.headers, auth=auth, json_serialize=dumps,
                timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
                connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_SECONDS),
            )
        return _Lent(self._client)

    async def request(self, *args: Any, **kwargs: Any) -> Any:
        """Rasa's request, with the turn's correlation id (X-Request-Id, core/logs.py)."""
        kwargs["headers"] = {**(kwargs.get("headers") or {}), **request_id_headers()}
        return await super().request(*args, **kwargs)


def keep_action_connections_alive(agent: Any) -> None:
    """Gives `agent` and its processor a KeptAliveEndpoint (once)."""
    endpoint = getattr(agent, "action_endpoint", None)
    if type(endpoint) is not EndpointConfig:  # none, already kept alive, or wrapped
        return
    kept = KeptAliveEndpoint.of(endpoint)
    for holder in (agent, getattr(agent, "processor", None)):
        if holder is not None and getattr(holder, "action_endpoint", None) is endpoint:
            holder.action_endpoint = kept
