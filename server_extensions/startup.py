"""What the Rasa server sets up once started (registered by the channels as an
`after_server_start` listener; running it twice changes nothing)."""
from typing import Any

from bot.masking import mask_every_log_handler
from server_extensions.action_connections import keep_action_connections_alive
from server_extensions.action_endpoint import answer_when_actions_fail
from server_extensions.action_results import validate_action_results_quickly
from server_extensions.event_types import index_event_types
from server_extensions.two_requests import serve_two_requests

# sanic's loggers have their own handlers besides the root logger's.
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access")


async def prepare_rasa_server(app: Any, _loop: Any = None) -> None:
    """Personal data masked in every log, an apology when the action server fails,
    connections to the action server kept open, its answers validated without
    re-checking their schema, event classes found by their name at once, both requests
    of a message served."""
    mask_every_log_handler(SANIC_LOGGERS)
    validate_action_results_quickly()
    index_event_types()
    serve_two_requests()
    agent = getattr(app.ctx, "agent", None)
    if agent is not None:
        keep_action_connections_alive(agent)
        answer_when_actions_fail(agent)
