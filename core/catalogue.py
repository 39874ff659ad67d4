"""The business catalogue (tariffs, visit rules, holidays), read from a data file."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class Tariff:
    code: str
    name: str  # in the catalogue's default language
    speed_mbit: int
    monthly_price: float
    description: str
    mobile_data_gb: int | None = None
    # Name and description per language; a language without its own falls back to the default.
    names: Mapping[str, str] = field(default_factory=dict)
    descriptions: Mapping[str, str] = field(default_factory=dict)

    def name_in(self, language: str) -> str:
        return self.names.get(language) or self.name

    def description_in(self, language: str) -> str:
        return self.descriptions.get(language) or self.description


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
    # Countries whose national numbering a phone typed without a country code is read in.
    phone_regions: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def tariff(self, code: str) -> Tariff | None:
        return next((t for t in self.tariffs if t.code == code), None)

    def regions_for(self, language: str) -> tuple[str, ...]:
        """The language's countries first, then the centre's own (`default`)."""
        own = self.phone_regions.get(language, ())
        return tuple(dict.fromkeys((*own, *self.phone_regions.get("default", ("US",)))))

    def is_visit_day(self, day: date) -> bool:
        return day.isoweekday() in self.visits.weekdays and day not in self.holidays


def load_catalogue(path: Path) -> Catalogue:
    """Parse the catalogue file; a malformed file fails loudly at start-up, not mid-conversation."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    default_language = str(raw.get("default_language", "en"))
    tariffs = tuple(_tariff(t, default_language) for t in raw["tariffs"])
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
        phone_regions={
            str(k): tuple(str(r).upper() for r in v) for k, v in (raw.get("phone_regions") or {}).items()
        },
    )


def _tariff(raw: dict[str, Any], default_language: str) -> Tariff:
    names = _per_language(raw["name"], default_language)
    descriptions = _per_language(raw.get("description", ""), default_language)
    return Tariff(
        code=str(raw["code"]),
        name=names[default_language],
        speed_mbit=int(raw["speed_mbit"]),
        monthly_price=float(raw["monthly_price"]),
        description=descriptions[default_language],
        mobile_data_gb=raw.get("mobile_data_gb"),
        names=names,
        descriptions=descriptions,
    )


def _per_language(value: object, default_language: str) -> dict[str, str]:
    """`Home 100` or `{en: Home 100, ru: Домашний 100}`; the default language must be there."""
    if isinstance(value, dict):
        texts = {str(k): str(v) for k, v in value.items()}
        if default_language not in texts:
            raise ValueError(f"catalogue text without its {default_language!r} version: {value!r}")
        return texts
    return {default_language: str(value)}


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
