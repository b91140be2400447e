"""The console's pages: Jinja2 templates (web/console/templates), every value escaped.

The words advisers read are in the templates; Python passes codes and values.
"""

from datetime import date, datetime, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any, Optional

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from core.clock import PARIS
from core.labels import CLAIM_TYPE_LABELS, PRODUCT_LABELS

TEMPLATES = Path(__file__).resolve().parent / "templates"


def _moment(value: Any) -> Optional[datetime]:
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:  # the services' times are UTC
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(PARIS)


def paris_time(value: Any) -> str:
    """« 14:05 » today (Paris), « 03/12 14:05 » another day."""
    moment = _moment(value)
    if moment is None:
        return ""
    if moment.date() == datetime.now(PARIS).date():
        return moment.strftime("%H:%M")
    return moment.strftime("%d/%m/%Y %H:%M")


def day(value: Any) -> str:
    return value.strftime("%d/%m/%Y") if isinstance(value, date) else ""


def iso(value: Any) -> str:
    moment = _moment(value)
    return moment.isoformat(timespec="seconds") if moment else ""


def field(value: Any, name: str, default: Any = None) -> Any:
    """`value.name` for a model, `value[name]` for a dict: the services' answers are
    models, the Rasa routes' are JSON."""
    if isinstance(value, dict):
        return value.get(name, default)
    return getattr(value, name, default)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(["html"], default_for_string=True, default=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(paris_time=paris_time, day=day, iso=iso)
    env.globals.update(field=field, claim_types=CLAIM_TYPE_LABELS, products=PRODUCT_LABELS)
    return env


def render(template: str, **values: Any) -> str:
    return environment().get_template(template).render(**values)
