"""Reading and checking JSON bodies against the contract's request models
(core/service_contract): one French reason per faulty field."""
from __future__ import annotations

import json
from typing import Any, Mapping, Optional, Type, TypeVar

from pydantic import BaseModel, ValidationError

from core.service_contract import field_errors
from reference_services.errors import ServiceError, validation_error

# The routes' bodies are records a few levels deep (a request's `details`); deeper JSON is
# refused as unreadable before any code walks it: the parser, the model's checks, the
# database driver's encoder are recursive, and a few hundred levels exhaust Python's stack.
MAX_BODY_DEPTH = 32

Body = TypeVar("Body", bound=BaseModel)


def nested_deeper_than(value: Any, max_depth: int) -> bool:
    """Whether objects and arrays nest more than `max_depth` levels in `value`."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        if depth > max_depth:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def read_json_object(request: Any) -> dict:
    """The request body as a JSON object; an empty body counts as `{}`.

    Malformed JSON (or binary garbage, or nested deeper than MAX_BODY_DEPTH) ->
    400 invalid_json; any other JSON value than an object -> 422 validation_error.
    """
    raw = request.body or b""
    if not raw.strip():
        return {}
    try:
        value = json.loads(raw)
    except (ValueError, RecursionError):  # JSONDecodeError and UnicodeDecodeError
        raise ServiceError("invalid_json") from None
    if nested_deeper_than(value, MAX_BODY_DEPTH):
        raise ServiceError("invalid_json")
    if not isinstance(value, dict):
        raise validation_error({"body": "un objet JSON est attendu"})
    return value


def read_body(
    request: Any, model: Type[Body], more_errors: Optional[Mapping[str, str]] = None
) -> Body:
    """The request body as `model`, or 422 validation_error naming every faulty field,
    those of `more_errors` too (what the body's model cannot see: a header, the path)."""
    return check_body(read_json_object(request), model, more_errors)


def check_body(body: dict, model: Type[Body], more_errors: Optional[Mapping[str, str]] = None) -> Body:
    """`body` as `model`, or 422 validation_error (see read_body)."""
    errors: dict[str, str] = {}
    try:
        parsed = model.parse_obj(body)
    except ValidationError as error:
        errors = field_errors(error)
    for name, reason in (more_errors or {}).items():
        errors.setdefault(name, reason)
    if errors:
        raise validation_error(errors)
    return parsed
