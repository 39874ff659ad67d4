"""Opening hours and holidays of the contact centre, from a data file (business/hours.yml)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# "24:00" closes a day at midnight; time() has no 24:00, so the end is kept in minutes.
Interval = tuple[int, int]


@dataclass(frozen=True)
class BusinessHours:
    timezone: ZoneInfo
    week: dict[int, tuple[Interval, ...]]  # weekday (0 = Monday) -> open intervals, in minutes
    holidays: frozenset[date]

    def is_open(self, at: datetime) -> bool:
        local = at.astimezone(self.timezone)
        if local.date() in self.holidays:
            return False
        minute = local.hour * 60 + local.minute
        return any(start <= minute < end for start, end in self.week.get(local.weekday(), ()))

    def next_opening(self, at: datetime) -> datetime | None:
        """The first moment at or after `at` when operators answer; None if never in the next 30 days."""
        local = at.astimezone(self.timezone)
        for offset in range(31):
            day = local.date() + timedelta(days=offset)
            if day in self.holidays:
                continue
            for start, end in sorted(self.week.get(day.weekday(), ())):
                opening = datetime.combine(day, time(start // 60, start % 60), self.timezone)
                closing = datetime.combine(day, time(0), self.timezone) + timedelta(minutes=end)
                if closing > local:
                    return max(opening, local)
        return None


def _interval(text: str) -> Interval:
    start, _, end = text.partition("-")
    minutes = [int(h) * 60 + int(m) for h, m in (part.strip().split(":") for part in (start, end))]
    if not 0 <= minutes[0] < minutes[1] <= 24 * 60:
        raise ValueError(f"opening hours {text!r}: expected HH:MM-HH:MM within one day")
    return minutes[0], minutes[1]


def parse_business_hours(raw: dict[str, object]) -> BusinessHours:
    week_raw = raw.get("week") or {}
    assert isinstance(week_raw, dict)
    unknown = set(week_raw) - set(DAYS)
    if unknown:
        raise ValueError(f"unknown day names in opening hours: {sorted(unknown)}; use {', '.join(DAYS)}")
    week = {
        DAYS.index(day): tuple(_interval(str(i)) for i in intervals or ())
        for day, intervals in week_raw.items()
    }
    holidays = frozenset(
        h if isinstance(h, date) else date.fromisoformat(str(h))
        for h in raw.get("holidays") or []  # type: ignore[union-attr]
    )
    return BusinessHours(ZoneInfo(str(raw.get("timezone") or "UTC")), week, holidays)


def load_business_hours(path: Path) -> BusinessHours:
    return parse_business_hours(yaml.safe_load(path.read_text(encoding="utf-8")) or {})


ALWAYS_OPEN = BusinessHours(ZoneInfo("UTC"), {d: ((0, 24 * 60),) for d in range(7)}, frozenset())
