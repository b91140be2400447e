"""The Rasa server's metrics, turn logs and readiness.

- `count_turns` (a runtime patch, bot/startup.py PATCHES) wraps three methods of Rasa
  3.6's MessageProcessor, the single places every message and every action go through:
  `handle_message` (one customer's message: its correlation id when the channel gave none,
  `oyat_turn_seconds{channel}`, one log line per turn), `_handle_message_with_tracker` (the
  message's intent: `oyat_intents_total{intent}`, `oyat_fallbacks_total{kind="nlu"}`) and
  `_run_action` (`oyat_fallbacks_total{kind="core"}` when action_default_fallback runs).
  Intents outside the model's domain count as "other" (core.metrics.bounded).
- `log_in_the_chosen_format` (a runtime patch too): LOG_FORMAT on the handlers Rasa's
  `main` sets up (rasa.__main__.configure_logging_and_warnings).
- `install_operations(app)`: `/metrics` and `/ready` on the Rasa server's port
  (core/observability.py); ready when the model is loaded, the action server answers its
  `/health`, the conversations' database answers, and Redis (lock store, REDIS_HOST) when
  configured.
"""
import asyncio
import logging
import time
from typing import Any, Dict

from rasa.core.processor import MessageProcessor
from rasa.shared.core.constants import ACTION_DEFAULT_FALLBACK_NAME
from rasa.shared.nlu.constants import INTENT_NAME_KEY

from core.logs import after_logging_configured, current_request_id, reset_request_id, set_request_id
from core.metrics import FALLBACKS, INTENTS, TURN_SECONDS, bounded, channel_label
from core.observability import OK, check, http_check, install_operations_routes, redis_check

logger = logging.getLogger("bot.turns")

NLU_FALLBACK = "nlu_fallback"

_original_handle_message = MessageProcessor.handle_message
_original_handle_with_tracker = MessageProcessor._handle_message_with_tracker
_original_run_action = MessageProcessor._run_action


async def handle_message(self: MessageProcessor, message: Any) -> Any:
    token = None if current_request_id() else set_request_id()  # the channel's id, else one now
    channel = channel_label(getattr(message, "input_channel", None))
    started = time.perf_counter()
    try:
        return await _original_handle_message(self, message)
    finally:
        seconds = time.perf_counter() - started
        TURN_SECONDS.labels(channel).observe(seconds)
        logger.info("turn on %s answered in %.3f s", channel, seconds)
        if token is not None:
            reset_request_id(token)


async def handle_message_with_tracker(self: MessageProcessor, message: Any, tracker: Any) -> None:
    await _original_handle_with_tracker(self, message, tracker)
    intent = ((tracker.latest_message.intent if tracker.latest_message else None) or {}).get(INTENT_NAME_KEY)
    label = bounded(intent, set(self.domain.intents) | {NLU_FALLBACK})
    INTENTS.labels(label).inc()
    if intent == NLU_FALLBACK:
        FALLBACKS.labels("nlu").inc()
    logger.info("message understood as %s", label)


async def run_action(self: MessageProcessor, action: Any, *args: Any, **kwargs: Any) -> bool:
    if action.name() == ACTION_DEFAULT_FALLBACK_NAME:
        FALLBACKS.labels("core").inc()
    return await _original_run_action(self, action, *args, **kwargs)


def count_turns() -> None:
    """Installs the three wrappers (running it again changes nothing)."""
    MessageProcessor.handle_message = handle_message
    MessageProcessor._handle_message_with_tracker = handle_message_with_tracker
    MessageProcessor._run_action = run_action


def log_in_the_chosen_format() -> None:
    """Rasa's `main` sets its logging up (its own handlers): LOG_FORMAT is applied again right
    after (core.logs.use_log_format, which bot.rasa_server called with the setting)."""
    import rasa.__main__ as rasa_entry

    configure = rasa_entry.configure_logging_and_warnings
    if not getattr(configure, "oyat_log_format", False):
        configured = after_logging_configured(configure)
        configured.oyat_log_format = True  # type: ignore[attr-defined]
        rasa_entry.configure_logging_and_warnings = configured


def _action_server_health(agent: Any) -> str:
    endpoint = getattr(agent, "action_endpoint", None)
    url = getattr(endpoint, "url", "") or ""
    if not url:
        return ""
    base = url[: -len("/webhook")] if url.rstrip("/").endswith("/webhook") else url.rstrip("/")
    return base.rstrip("/") + "/health"


async def _in_thread(function: Any) -> None:
    await asyncio.get_running_loop().run_in_executor(None, function)


async def rasa_checks(app: Any) -> Dict[str, str]:
    """What the Rasa server needs to answer a customer."""
    from core.settings import RasaServerSettings

    agent = getattr(app.ctx, "agent", None)
    checks: Dict[str, str] = {"model": OK if agent is not None and agent.is_ready() else "not_loaded"}
    if agent is None:
        return checks
    health = _action_server_health(agent)
    checks["action_server"] = await http_check(health) if health else "not_configured"
    store = getattr(agent, "tracker_store", None)
    store = getattr(store, "_tracker_store", store)  # Rasa's FailSafeTrackerStore wraps ours
    engine = getattr(store, "engine", None)
    if engine is not None:
        from sqlalchemy import text

        def query() -> None:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))

        checks["conversations_database"] = await check(lambda: _in_thread(query))
    red = getattr(getattr(agent, "lock_store", None), "red", None)
    if red is not None:
        checks["lock_store_redis"] = await check(lambda: _in_thread(red.ping))
    settings = RasaServerSettings.from_env(read_dotenv=False)
    if settings.redis_host:
        checks["redis"] = await redis_check(settings.redis_host, settings.redis_port, settings.redis_password)
    return checks


def install_operations(app: Any) -> None:
    install_operations_routes(app, rasa_checks)
