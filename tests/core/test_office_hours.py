import datetime as dt

import pytest

from core.clock import PARIS
from core.office_hours import DEFAULT, office_hours, parse_office_hours

MONDAY_8_AM = dt.datetime(2026, 11, 23, 8, 0, tzinfo=PARIS)
SUNDAY_3_AM = dt.datetime(2026, 11, 29, 3, 0, tzinfo=PARIS)


def test_unset_the_insurers_hours_apply():
    assert office_hours({}) == parse_office_hours(DEFAULT)
    assert office_hours({"OFFICE_HOURS": "  "}).label() == "du lundi au vendredi de 8 h 30 à 18 h et le samedi de 9 h à 12 h"


def test_around_the_clock():
    hours = office_hours({"OFFICE_HOURS": "24/7"})
    assert hours.open_at(SUNDAY_3_AM) and hours.open_at(MONDAY_8_AM)
    assert hours.label() == "24 h sur 24, 7 jours sur 7"


@pytest.mark.parametrize("moment, open_", [
    (dt.datetime(2026, 11, 24, 12, 30, tzinfo=PARIS), False),  # the lunch break
    (dt.datetime(2026, 11, 24, 13, 30, tzinfo=PARIS), True),
    (dt.datetime(2026, 11, 27, 17, 59, tzinfo=PARIS), True),
    (dt.datetime(2026, 11, 28, 10, 0, tzinfo=PARIS), False),  # Saturday
])
def test_several_ranges_a_day(moment, open_):
    hours = parse_office_hours("Lun-Ven 09:00-12:30 13:30-18:00")
    assert hours.open_at(moment) is open_
    assert hours.label() == "du lundi au vendredi de 9 h à 12 h 30 et de 13 h 30 à 18 h"


def test_english_day_names_and_midnight():
    hours = parse_office_hours("mon 00:00-24:00; sun 10:00-11:00")
    assert hours.open_at(MONDAY_8_AM) and not hours.open_at(SUNDAY_3_AM)
    assert hours.label() == "le lundi de 0 h à minuit et le dimanche de 10 h à 11 h"


@pytest.mark.parametrize("value", [
    "lundi au vendredi", "lun-ven 8h30-18h", "ven-lun 09:00-12:00", "lun 18:00-09:00", "lun 25:00-26:00",
    "lun 09:00-12:00, lun 14:00-18:00", "xyz 09:00-10:00", ",", "tous les jours",
])
def test_a_value_that_does_not_read_is_refused(value):
    with pytest.raises(ValueError, match="OFFICE_HOURS"):
        parse_office_hours(value)
