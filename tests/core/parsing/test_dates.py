import datetime as dt

import pytest

from core.parsing.dates import resolve_french_date

TUESDAY_24_NOV_2026 = dt.date(2026, 11, 24)


@pytest.mark.parametrize(
    "said, meant",
    [
        ("hier", "2026-11-23"),
        ("avant-hier", "2026-11-22"),
        ("c'était hier vers 18h", "2026-11-23"),
        ("hier soir", "2026-11-23"),
        ("ce matin", "2026-11-24"),
        ("aujourd'hui", "2026-11-24"),
        ("samedi dernier", "2026-11-21"),
        ("samedi", "2026-11-21"),
        ("euh alors voilà samedi soir", "2026-11-21"),
        ("mardi dernier", "2026-11-17"),
        ("le 3 novembre", "2026-11-03"),
        ("le trois novembre", "2026-11-03"),
        ("il y a deux jours", "2026-11-22"),
        ("12/11/2026", "2026-11-12"),
        ("3/11", "2026-11-03"),
        ("2026-11-20", "2026-11-20"),
        ("dimanche 22 novembre", "2026-11-22"),
        ("12031985", "1985-03-12"),  # typed on a phone's keypad
    ],
)
def test_french_dates_resolve_to_the_calendar_date_meant(said, meant):
    assert resolve_french_date(said, TUESDAY_24_NOV_2026) == dt.date.fromisoformat(meant)


def test_a_day_of_the_month_still_to_come_this_year_means_last_year():
    assert resolve_french_date("le 30 novembre", TUESDAY_24_NOV_2026) == dt.date(2025, 11, 30)


def test_a_weekday_said_on_that_weekday_means_today_and_dernier_a_week_ago():
    assert resolve_french_date("mardi", TUESDAY_24_NOV_2026) == TUESDAY_24_NOV_2026
    assert resolve_french_date("mardi dernier", TUESDAY_24_NOV_2026) == dt.date(2026, 11, 17)


@pytest.mark.parametrize("said", ["", "   ", "banane", "le 31 février", "je ne sais pas", "31021985"])
def test_text_without_a_date_is_not_understood(said):
    assert resolve_french_date(said, TUESDAY_24_NOV_2026) is None


def test_future_dates_are_resolved_so_that_validation_can_refuse_them():
    assert resolve_french_date("demain", TUESDAY_24_NOV_2026) == dt.date(2026, 11, 25)
