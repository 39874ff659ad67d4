"""The phone menu as data (ivr/data/menu.yml): keys, prompts per language, spoken tariffs and orders."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from core.catalogue import Catalogue
from core.localise import currency_name, day_and_month, spoken_number
from core.models import Order

MENU_FILE = Path(__file__).parent / "data" / "menu.yml"
ENTRIES = ("tariffs", "order_status", "new_connection", "operator")


@dataclass(frozen=True)
class Menu:
    keys: dict[str, str]  # digit -> entry
    prompts: dict[str, dict[str, Any]]  # language -> key -> text
    order_number_digits: int
    default_language: str = "en"
    summaries: dict[str, dict[str, str]] | None = None  # language -> key -> the operator's line

    def summary(self, key: str, language: str) -> str:
        """The operator's one-line summary of a call, in the call's language (else the default)."""
        summaries = self.summaries or {}
        return (summaries.get(language) or {}).get(key) or summaries[self.default_language][key]

    def entry(self, digit: str) -> str | None:
        return self.keys.get(digit)

    def text(self, key: str, language: str, **fields: object) -> str:
        """A prompt in the language, falling back to the default language's text for a missing key."""
        table = self.prompts.get(language) or {}
        template = table.get(key) or self.prompts[self.default_language][key]
        return str(template).format(**fields)

    def choice(self, entry: str, language: str) -> str:
        """A menu entry's name as the menu says it (for "did you ask for ...?")."""
        names = (self.prompts.get(language) or {}).get("choices") or {}
        return str(names.get(entry) or self.prompts[self.default_language]["choices"].get(entry, entry))

    def language_of(self, language: str) -> str:
        return language if language in self.prompts else self.default_language

    def date_text(self, day: date, language: str) -> str:
        """Day and month as the language says them (CLDR); Solar Hijri for Persian, as in the chat."""
        return day_and_month(day, self.language_of(language))

    def tariffs_text(self, catalogue: Catalogue, language: str) -> str:
        lines = [self.text("tariffs_intro", language)]
        spoken_in = self.language_of(language)
        for tariff in catalogue.tariffs:
            lines.append(
                self.text(
                    "tariff_line",
                    language,
                    name=tariff.name_in(language),
                    speed=spoken_number(tariff.speed_mbit, spoken_in),
                    price=spoken_number(tariff.monthly_price, spoken_in),
                    currency=currency_name(catalogue.currency, tariff.monthly_price, spoken_in),
                )
            )
        return " ".join(lines)

    def order_text(self, order: Order, catalogue: Catalogue, language: str) -> str:
        tariff = catalogue.tariff(order.tariff_code)
        status_key = f"status_{order.status}"
        table = self.prompts.get(language) or {}
        fallback = self.prompts[self.default_language]
        if status_key in table or status_key in fallback:
            status = self.text(status_key, language, day=self.date_text(order.visit_date, language))
        else:
            status = order.status
        return self.text(
            "order_status",
            language,
            number=" ".join(order.number),  # read digit by digit, as it was keyed in
            tariff=tariff.name_in(language) if tariff else order.tariff_code,
            status=status,
        )


def load_menu(path: Path = MENU_FILE, default_language: str = "en") -> Menu:
    """Read the menu file; a malformed file fails at start-up, not during a call."""
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    keys = {str(k): str(v) for k, v in raw["keys"].items()}
    unknown = set(keys.values()) - set(ENTRIES)
    if unknown:
        raise ValueError(f"{path}: unknown menu entries {sorted(unknown)}")
    prompts = {str(lang): dict(table) for lang, table in raw["prompts"].items()}
    if default_language not in prompts:
        default_language = "en"
    summaries = {str(lang): dict(table) for lang, table in (raw.get("summaries") or {}).items()}
    return Menu(keys, prompts, int(raw.get("order_number_digits", 7)), default_language, summaries)
