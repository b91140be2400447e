"""Logs of every process: the turn's correlation id, and one JSON object per line.

- The correlation id of a turn (`request_id`) lives in a context variable: the Rasa
  server sets a new one for each customer's message (connectors/pipeline.py, and
  bot/turn_metrics.py for a message from elsewhere), sends it to the action server in
  `X-Request-Id` (bot/action_connections.py), which sets it from that header and sends
  it on to the services (core/service_client.py), which set it from the header too
  (core/observability.py). Every log line written while that turn runs carries it, in
  the three processes. A header that is not a short id is replaced by a new one.
- `LOG_FORMAT=json` (core/settings.py): every handler of the process writes one JSON object
  per line: `time` (UTC, ISO 8601), `level`, `logger`, `message`, `request_id` when in a
  turn, `process` (the process's role), `exception` when there is one. Personal data is
  masked exactly as in plain logs: the MaskingLogFilter (core/masking.py) runs on every
  handler before this formatter, which `use_log_format` makes sure of.
"""
import contextvars
import json
import logging
import re
import uuid
from datetime import datetime, timezone
from typing import Any, Iterable, Optional

from core.masking import MaskingLogFilter, mask_for_logs

REQUEST_ID_HEADER = "X-Request-Id"
LOG_FORMATS = ("plain", "json")
_REQUEST_ID = contextvars.ContextVar("oyat_request_id", default=None)
# What a caller may hand us as an id: short, no spaces, nothing a person wrote.
_VALID_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
# sanic's loggers have their own handlers besides the root logger's.
SANIC_LOGGERS = ("sanic.root", "sanic.error", "sanic.access")


def new_request_id() -> str:
    return uuid.uuid4().hex


def current_request_id() -> Optional[str]:
    return _REQUEST_ID.get()


def set_request_id(request_id: Optional[str] = None) -> contextvars.Token:
    """Makes `request_id` (a new one when missing or not a short id) the current turn's id;
    the token resets it (`reset_request_id`)."""
    if not request_id or not _VALID_ID.fullmatch(request_id):
        request_id = new_request_id()
    return _REQUEST_ID.set(request_id)


def reset_request_id(token: contextvars.Token) -> None:
    try:
        _REQUEST_ID.reset(token)
    except ValueError:  # set in another context (a task that copied it): leave it
        pass


def request_id_headers() -> dict:
    """The header that carries the current turn's id to the next process ({} outside a turn)."""
    request_id = _REQUEST_ID.get()
    return {REQUEST_ID_HEADER: request_id} if request_id else {}


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line (the message as the MaskingLogFilter left it)."""

    def __init__(self, process: str = "") -> None:
        super().__init__()
        self.process = process

    def format(self, record: logging.LogRecord) -> str:
        line: dict = {
            "time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        request_id = getattr(record, "request_id", None) or _REQUEST_ID.get()
        if request_id:
            line["request_id"] = request_id
        if self.process:
            line["process"] = self.process
        if record.exc_info and not record.exc_text:
            record.exc_text = mask_for_logs(self.formatException(record.exc_info))
        if record.exc_text:
            line["exception"] = record.exc_text
        # sanic's access log: the request line (masked by the filter) and the status.
        for extra in ("request", "status"):
            value = getattr(record, extra, None)
            if isinstance(value, (str, int)) and value != "":
                line[extra] = value
        return json.dumps(line, ensure_ascii=False, default=str)


def _handlers(loggers: Iterable[str]) -> list:
    handlers = []
    for logger in [logging.getLogger(), *(logging.getLogger(name) for name in loggers)]:
        handlers += [handler for handler in logger.handlers if handler not in handlers]
    return handlers


_chosen = {"format": "plain", "process": ""}


def use_log_format(log_format: Optional[str] = None, process: Optional[str] = None,
                   loggers: Iterable[str] = SANIC_LOGGERS) -> None:
    """Puts the masking filter on every handler of the root logger and of `loggers`, and with
    `json` the JSON formatter (plain: the handlers keep their format). The format and the
    process's name are remembered: called again without them (once sanic's or Rasa's
    handlers appeared), it changes only the new handlers the same way."""
    if log_format:
        if log_format not in LOG_FORMATS:
            raise ValueError(f"LOG_FORMAT must be one of {', '.join(LOG_FORMATS)}")
        _chosen["format"] = log_format
    if process:
        _chosen["process"] = process
    for handler in _handlers(loggers):
        if not any(isinstance(f, MaskingLogFilter) for f in handler.filters):
            handler.addFilter(MaskingLogFilter())
        if _chosen["format"] == "json" and not isinstance(handler.formatter, JsonLogFormatter):
            handler.setFormatter(JsonLogFormatter(_chosen["process"]))


def after_logging_configured(configure: Any) -> Any:
    """`configure` (a function that sets the logging up, e.g. Rasa's) followed by use_log_format()."""

    def configured(*args: Any, **kwargs: Any) -> Any:
        result = configure(*args, **kwargs)
        use_log_format()
        return result

    return configured


def json_lines(text: str) -> list:
    """The JSON objects of a log (lines that are not one are skipped): for tests and tools."""
    objects = []
    for line in text.splitlines():
        try:
            value: Any = json.loads(line)
        except ValueError:
            continue
        if isinstance(value, dict):
            objects.append(value)
    return objects
