"""The business catalogue (tariffs, visit rules, holidays), read from a data file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

import yaml


@dataclass(frozen=True)
class Tariff:
    code: str
    name: str
    speed_mbit: int
    monthly_price: float
    description: str
    mobile_data_gb: int | None = None


@dataclass(frozen=True)
class VisitRules:
    weekdays: frozenset[int]  # ISO weekdays, 1 = Monday
    hours: str
    max_days_ahead: int


@dataclass(frozen=True)
class Catalogue:
    company: str
    currency: str
    tariffs: tuple[Tariff, ...]
    visits: VisitRules
    holidays: frozenset[date]

    def tariff(self, code: str) -> Tariff | None:
        return next((t for t in self.tariffs if t.code == code), None)

    def is_visit_day(self, day: date) -> bool:
        return day.isoweekday() in self.visits.weekdays and day not in self.holidays


def load_catalogue(path: Path) -> Catalogue:
    """Parse the catalogue file; a malformed file fails loudly at start-up, not mid-conversation."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    tariffs = tuple(
        Tariff(
            code=str(t["code"]),
            name=str(t["name"]),
            speed_mbit=int(t["speed_mbit"]),
            monthly_price=float(t["monthly_price"]),
            description=str(t.get("description", "")),
            mobile_data_gb=t.get("mobile_data_gb"),
        )
        for t in raw["tariffs"]
    )
    visits = raw["visits"]
    return Catalogue(
        company=str(raw["company"]),
        currency=str(raw["currency"]),
        tariffs=tariffs,
        visits=VisitRules(
            weekdays=frozenset(int(d) for d in visits["weekdays"]),
            hours=str(visits["hours"]),
            max_days_ahead=int(visits["max_days_ahead"]),
        ),
        holidays=frozenset(_as_date(d) for d in raw.get("holidays", [])),
    )


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
