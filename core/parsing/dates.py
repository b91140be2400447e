"""French dates as customers write or say them, resolved to a calendar date.

dateparser handles most forms (« hier », « le 3 novembre », « il y a deux jours »,
« 12/11/2026 ») but not « samedi dernier » nor a time of day around the date
(« hier vers 18h »): those are handled here before handing over to it.
"""

import datetime as dt
import re
from typing import Optional

import dateparser
from text_to_num import alpha2digit

WEEKDAYS = {
    "lundi": 0, "mardi": 1, "mercredi": 2, "jeudi": 3,
    "vendredi": 4, "samedi": 5, "dimanche": 6,
}

_TIME_OF_DAY = re.compile(
    r"\b(?:vers|à|a|aux alentours de|autour de)?\s*\d{1,2}\s*(?:h|heures?)\s*\d{0,2}\b"
    r"|\b(?:en|dans la|dans l')\s*(?:matinée|matinee|soirée|soiree|après-midi|apres-midi|journée|journee|nuit)\b"
    r"|\b(?:au\s+)?(?:matin|soir|midi|minuit)\b",
    re.IGNORECASE,
)
_FILLERS = re.compile(
    r"\b(?:euh+|bah|ben|alors|voilà|voila|c'était|c'etait|cetait|c'est arrivé|c'est arrive|ça s'est passé|ca s'est passe|"
    r"le sinistre a eu lieu|ça date d'|ca date d')\b",
    re.IGNORECASE,
)
_WEEKDAY = re.compile(
    r"\b(lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\b(?!\s+\d)(\s+derni[eè]re?)?",
    re.IGNORECASE,
)
_TODAY = re.compile(r"\b(?:aujourd'hui|aujourdhui|ce matin|ce soir|cet après-midi|cet apres-midi|cette nuit|tout à l'heure|tout a l'heure)\b", re.IGNORECASE)

_KEYPAD_DATE = re.compile(r"([0-9]{2})([0-9]{2})([0-9]{4})")  # matched whole (fullmatch)
# « le 28 », « le 1er », « dimanche 28 »: a day of the month alone (matched whole).
_BARE_DAY = re.compile(
    r"(?:(?:le|du|ce)\s+)?(?:(?:lundi|mardi|mercredi|jeudi|vendredi|samedi|dimanche)\s+)?(1er|premier|[0-9]{1,2})",
    re.IGNORECASE,
)

_SETTINGS = {
    "PREFER_DATES_FROM": "past",
    "DATE_ORDER": "DMY",
    "PREFER_DAY_OF_MONTH": "first",
    "RETURN_AS_TIMEZONE_AWARE": False,
}


def latest_day_of_month(day: str, today: dt.date) -> Optional[dt.date]:
    """« le 28 » said on 24 November: 28 October, the latest 28th that has come (a loss
    is declared after it happened); months without that day are skipped."""
    number = 1 if day.lower() in ("1er", "premier") else int(day)
    if not 1 <= number <= 31:
        return None
    year, month = today.year, today.month
    for _ in range(13):
        try:
            candidate = dt.date(year, month, number)
        except ValueError:
            candidate = None
        if candidate is not None and candidate <= today:
            return candidate
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return None


def resolve_french_date(text: str, today: dt.date) -> Optional[dt.date]:
    """The calendar date meant by `text`, seen from `today`; None when not understood.

    Past dates are preferred: « samedi » means the last Saturday, « le 30 novembre »
    said on 24 November means last year's, « le 28 » the latest 28th.
    """
    if not text or not text.strip():
        return None
    try:  # buttons and other systems send ISO dates
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        pass
    keyed = _KEYPAD_DATE.fullmatch(text.strip())
    if keyed:  # typed on a phone's keypad: day, month, year
        try:
            return dt.date(int(keyed[3]), int(keyed[2]), int(keyed[1]))
        except ValueError:
            return None
    cleaned = alpha2digit(re.sub(r"\bavant\s+hier\b", "avant-hier", text.strip(), flags=re.IGNORECASE), "fr")
    cleaned = _FILLERS.sub(" ", cleaned)
    if _TODAY.search(cleaned) and not re.search(r"\d", _TODAY.sub("", cleaned)):
        return today

    weekday = _WEEKDAY.search(cleaned)
    if weekday:
        target = WEEKDAYS[weekday.group(1).lower()]
        days_back = (today.weekday() - target) % 7
        # « samedi dernier » said on a Saturday is a week ago; « samedi » is today.
        if days_back == 0 and weekday.group(2):
            days_back = 7
        return today - dt.timedelta(days=days_back)

    cleaned = _TIME_OF_DAY.sub(" ", cleaned)
    cleaned = re.sub(r"\s+", " ", cleaned).strip(" ,.;!?")
    if not cleaned:
        return None
    bare_day = _BARE_DAY.fullmatch(cleaned)
    if bare_day:
        return latest_day_of_month(bare_day.group(1), today)
    base = dt.datetime.combine(today, dt.time(12, 0))
    # Not dateparser.search: it reads « je » as jeudi.
    parsed = dateparser.parse(cleaned, languages=["fr"], settings={**_SETTINGS, "RELATIVE_BASE": base})
    return parsed.date() if parsed else None
