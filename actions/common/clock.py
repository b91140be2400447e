"""The insurer's calendar: dates are the customer's local dates in mainland France."""

import datetime as dt
from zoneinfo import ZoneInfo

PARIS = ZoneInfo("Europe/Paris")


def today() -> dt.date:
    return dt.datetime.now(PARIS).date()
