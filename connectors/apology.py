"""An apology, not silence, when the action server fails.

Rasa 3.6 logs a custom action that could not run and goes on without its events:
the customer gets no answer, or half of one. The action server's endpoint is
wrapped so that when the call fails (refused connection, timeout, 5xx), the
answer comes from here instead: the apology of the domain, the customer's message
set aside (`rewind`: the conversation is as it was before it, so the same message
can be sent again later) and a wait for the next message.

A form validation refused by the action server (400) goes through unchanged. A
session that the action server cannot start is started here the way it would have
(core.slots.session_start_events), and the next action apologizes. An
action server that refuses the Rasa server's token (401, 403: ACTION_SERVER_TOKEN
differs between the two) is a failure too, logged as such.
"""
import asyncio
import logging
from typing import Any, Dict, Optional

import aiohttp

from core.settings import default, read
from core.slots import session_start_events

logger = logging.getLogger(__name__)

APOLOGY_RESPONSE = "utter_assistant_unavailable"
DEFAULT_TIMEOUT_SECONDS = default("ACTION_SERVER_TIMEOUT_SECONDS")
SESSION_START = "action_session_start"
REFUSED_CREDENTIALS = (401, 403)


def started_session(tracker: Dict[str, Any]) -> Dict[str, Any]:
    """What action_session_start would have answered for this tracker (as sent to the action server)."""
    return {"events": session_start_events(tracker.get("slots") or {}), "responses": []}


def apology() -> Dict[str, Any]:
    """What the action server would have answered: the apology, and nothing done."""
    return {
        "events": [{"event": "rewind"}, {"event": "followup", "name": "action_listen"}],
        "responses": [{"response": APOLOGY_RESPONSE}],
    }


class ApologizingActionEndpoint:
    """The action server's EndpointConfig, answering with an apology when it fails."""

    def __init__(self, endpoint: Any, timeout_seconds: float) -> None:
        self.wrapped = endpoint
        self.timeout_seconds = timeout_seconds

    def __getattr__(self, name: str) -> Any:
        return getattr(self.wrapped, name)

    async def request(self, *args: Any, **kwargs: Any) -> Optional[Any]:
        # Rasa waits 5 minutes by default: far too long for someone waiting for an answer.
        kwargs["timeout"] = min(kwargs.get("timeout") or self.timeout_seconds, self.timeout_seconds)
        call = kwargs.get("json") or {}
        action = call.get("next_action")
        try:
            return await self.wrapped.request(*args, **kwargs)
        except (aiohttp.ClientError, asyncio.TimeoutError) as error:
            status = getattr(error, "status", None)
            if status in REFUSED_CREDENTIALS:
                logger.error("the action server refused the Rasa server's token (%s): check that "
                             "ACTION_SERVER_TOKEN is the same for both", status)
            elif status is not None and status < 500:
                raise
            else:
                logger.error("action %s failed (%s)", action, status or type(error).__name__)
            if action == SESSION_START:
                return started_session(call.get("tracker") or {})
            return apology()


def answer_when_actions_fail(agent: Any) -> None:
    """Wraps the action endpoint of `agent` and of its processor (once)."""
    timeout = read("ACTION_SERVER_TIMEOUT_SECONDS")
    for holder in (agent, getattr(agent, "processor", None)):
        endpoint = getattr(holder, "action_endpoint", None)
        if endpoint is not None and not isinstance(endpoint, ApologizingActionEndpoint):
            holder.action_endpoint = ApologizingActionEndpoint(endpoint, timeout)
