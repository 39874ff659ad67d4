"""Opening hours: open or closed at a moment, and the next opening, across zones and holidays."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from core.hours import load_business_hours, parse_business_hours
from core.settings import PROJECT_ROOT

TEHRAN = {
    "timezone": "Asia/Tehran",
    # Saturday to Wednesday 08:00-17:00 with a lunch break; Thursday morning; Friday closed.
    "week": {
        "sat": ["08:00-12:30", "13:30-17:00"], "sun": ["08:00-12:30", "13:30-17:00"],
        "mon": ["08:00-12:30", "13:30-17:00"], "tue": ["08:00-12:30", "13:30-17:00"],
        "wed": ["08:00-12:30", "13:30-17:00"], "thu": ["08:00-12:00"],
    },
    "holidays": ["2027-03-21"],
}  # fmt: skip


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "is_open", "next_opening_utc"),
    [
        ("2026-11-22 05:00", True, "2026-11-22 05:00"),  # Sunday 08:30 in Tehran (+03:30)
        ("2026-11-22 09:15", False, "2026-11-22 10:00"),  # lunch break: opens again at 13:30 local
        ("2026-11-26 09:00", False, "2026-11-28 04:30"),  # Thursday afternoon -> Saturday 08:00
        ("2027-03-20 14:00", False, "2027-03-22 04:30"),  # Saturday evening; Sunday is a holiday
    ],
)
def test_open_closed_and_next_opening_in_the_centres_zone(
    moment: str, is_open: bool, next_opening_utc: str
) -> None:
    hours = parse_business_hours(TEHRAN)
    assert hours.is_open(utc(moment)) is is_open
    opening = hours.next_opening(utc(moment))
    assert opening is not None and opening.astimezone(UTC) == utc(next_opening_utc)


def test_a_day_open_until_midnight_and_a_timetable_that_never_opens() -> None:
    late = parse_business_hours({"timezone": "UTC", "week": {"mon": ["18:00-24:00"]}})
    assert late.is_open(utc("2026-11-23 23:59"))
    assert not late.is_open(utc("2026-11-24 00:00"))
    assert parse_business_hours({"week": {}}).next_opening(utc("2026-11-23 12:00")) is None


@pytest.mark.parametrize(
    "week", [{"monday": ["09:00-18:00"]}, {"mon": ["18:00-09:00"]}, {"mon": ["09:00-25:00"]}]
)
def test_a_mistyped_timetable_is_refused_with_the_reason(week: dict[str, list[str]]) -> None:
    with pytest.raises(ValueError, match=r"day names|HH:MM"):
        parse_business_hours({"week": week})


def test_the_shipped_timetable_loads(tmp_path: Path) -> None:
    hours = load_business_hours(PROJECT_ROOT / "business" / "hours.yml")
    assert hours.timezone.key == "Europe/Moscow"
    assert not hours.is_open(utc("2026-12-31 10:00"))  # a holiday
    assert hours.is_open(utc("2026-11-23 10:00"))  # Monday 13:00 in Moscow
