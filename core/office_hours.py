"""When advisers answer: `OFFICE_HOURS`, default the insurer's hours.

    OFFICE_HOURS="lun-ven 08:30-18:00, sam 09:00-12:00"   (the default)
    OFFICE_HOURS="24/7"                                    (advisers at any time)

Days (lun mar mer jeu ven sam dim, or mon … sun) alone or as a range, then one or more
time ranges (« lun-ven 08:30-12:00 13:30-18:00 »); entries separated by commas or
semicolons. Times are the insurer's (Europe/Paris). A value that does not read so
stops the action server and the web process at start (actions/server.py, web.site) rather
than promising advisers at the wrong hours, or showing the advisers wrong ones.
"""

import datetime as dt
import re
from dataclasses import dataclass
from typing import Dict, List, Optional, Tuple

from core.settings import default, read

VARIABLE = "OFFICE_HOURS"
DEFAULT = default(VARIABLE)
ALWAYS = "24/7"

_DAYS = {name: index for index, names in enumerate(
    [("lun", "lundi", "mon"), ("mar", "mardi", "tue"), ("mer", "mercredi", "wed"), ("jeu", "jeudi", "thu"),
     ("ven", "vendredi", "fri"), ("sam", "samedi", "sat"), ("dim", "dimanche", "sun")]) for name in names}
_DAY_NAMES = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
_ENTRY = re.compile(r"([a-z]+)(?:-([a-z]+))?((?:\s+[0-9]{2}:[0-9]{2}-[0-9]{2}:[0-9]{2})+)")
_RANGE = re.compile(r"([0-9]{2}):([0-9]{2})-([0-9]{2}):([0-9]{2})")

Hours = Tuple[dt.time, dt.time]


@dataclass(frozen=True)
class OfficeHours:
    """Opening ranges per weekday (0 = Monday); `always` for 24/7."""

    days: Dict[int, Tuple[Hours, ...]]
    always: bool = False

    def open_at(self, moment: dt.datetime) -> bool:
        if self.always:
            return True
        return any(start <= moment.time() < end for start, end in self.days.get(moment.weekday(), ()))

    def label(self) -> str:
        """« du lundi au vendredi de 8 h 30 à 18 h et le samedi de 9 h à 12 h »."""
        if self.always:
            return "24 h sur 24, 7 jours sur 7"
        groups: List[Tuple[int, int, Tuple[Hours, ...]]] = []
        for day in sorted(self.days):
            if groups and groups[-1][1] == day - 1 and groups[-1][2] == self.days[day]:
                groups[-1] = (groups[-1][0], day, self.days[day])
            else:
                groups.append((day, day, self.days[day]))
        parts = []
        for first, last, hours in groups:
            days = f"le {_DAY_NAMES[first]}" if first == last else f"du {_DAY_NAMES[first]} au {_DAY_NAMES[last]}"
            parts.append(days + " " + " et ".join(f"de {_time(start)} à {_time(end)}" for start, end in hours))
        return ", ".join(parts[:-1]) + " et " + parts[-1] if len(parts) > 1 else "".join(parts)


def _time(moment: dt.time) -> str:
    if moment == dt.time.max:
        return "minuit"
    return f"{moment.hour} h" + (f" {moment.minute:02d}" if moment.minute else "")


def _clock(hours: str, minutes: str) -> Optional[dt.time]:
    hour, minute = int(hours), int(minutes)
    if (hour, minute) == (24, 0):
        return dt.time.max
    if hour > 23 or minute > 59:
        return None
    return dt.time(hour, minute)


def parse_office_hours(value: str) -> OfficeHours:
    """The schedule `value` describes; ValueError when it does not read."""
    text = " ".join(value.strip().lower().split())
    if text == ALWAYS:
        return OfficeHours({}, always=True)
    days: Dict[int, Tuple[Hours, ...]] = {}
    for entry in filter(None, (part.strip() for part in re.split(r"[,;]", text))):
        match = _ENTRY.fullmatch(entry)
        if match is None or match[1] not in _DAYS or (match[2] and match[2] not in _DAYS):
            raise ValueError(f"{VARIABLE}: « {entry} » is not « days HH:MM-HH:MM » (e.g. « {DEFAULT} » or « {ALWAYS} »)")
        first, last = _DAYS[match[1]], _DAYS[match[2] or match[1]]
        if last < first:
            raise ValueError(f"{VARIABLE}: « {entry} »: the days go from Monday to Sunday")
        ranges = []
        for start_h, start_m, end_h, end_m in _RANGE.findall(match[3]):
            start, end = _clock(start_h, start_m), _clock(end_h, end_m)
            if start is None or end is None or not start < end:
                raise ValueError(f"{VARIABLE}: « {entry} »: a time range must go forward within one day")
            ranges.append((start, end))
        for day in range(first, last + 1):
            if day in days:
                raise ValueError(f"{VARIABLE}: {_DAY_NAMES[day]} is given twice")
            days[day] = tuple(sorted(ranges))
    if not days:
        raise ValueError(f"{VARIABLE} is empty: give the advisers' hours (e.g. « {DEFAULT} ») or « {ALWAYS} »")
    return OfficeHours(days)


def office_hours(environ: Optional[Dict[str, str]] = None) -> OfficeHours:
    """The schedule of OFFICE_HOURS (the insurer's hours when unset)."""
    return parse_office_hours(read(VARIABLE, environ))
