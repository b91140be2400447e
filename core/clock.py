"""Time helpers: the insurer lives in Europe/Paris, the database stores UTC."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")

_FRENCH_MONTHS = (
    "janvier", "février", "mars", "avril", "mai", "juin",
    "juillet", "août", "septembre", "octobre", "novembre", "décembre",
)


def now_utc() -> datetime:
    """The current instant, timezone-aware."""
    return datetime.now(timezone.utc)


def today() -> date:
    """Today's date for the insurer (a claim at 23:30 in Niort is dated today)."""
    return now_utc().astimezone(PARIS).date()


def paris_time(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware datetime given in Paris wall-clock time."""
    return datetime(year, month, day, hour, minute, tzinfo=PARIS)


def isoformat_paris(moment: datetime | None) -> str | None:
    """ISO 8601 with the Paris offset (what the API returns), or None."""
    if moment is None:
        return None
    return moment.astimezone(PARIS).isoformat(timespec="seconds")


def add_years(day: date, years: int) -> date:
    """`day` shifted by whole years; 29 February becomes 28 February."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def french_date(day: date) -> str:
    """« 1er mars 2027 », « 28 février 2027 »."""
    number = "1er" if day.day == 1 else str(day.day)
    return f"{number} {_FRENCH_MONTHS[day.month - 1]} {day.year}"


def days_after(day: date, days: int) -> date:
    """`day` plus a number of calendar days."""
    return day + timedelta(days=days)
