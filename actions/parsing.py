"""Pure normalisers for what customers type into the order form; no I/O here."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from datetime import date, timedelta

from core.catalogue import Catalogue, Tariff
from core.digits import to_ascii_digits
from core.phones import normalise_phone as normalise_phone  # re-exported for the order form

_NAME_PART = re.compile(r"^[^\W\d_]+(?:[-'’.][^\W\d_]+)*\.?$")
_ORDER_NUMBER = re.compile(r"(?<!\d)(\d{7})(?!\d)")

WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
MONTHS = [
    "january", "february", "march", "april", "may", "june",
    "july", "august", "september", "october", "november", "december",
]  # fmt: skip


def parse_full_name(text: str) -> str | None:
    """At least two words of letters (any script); spacing tidied, spelling kept."""
    words = text.split()
    if len(words) < 2 or len(" ".join(words)) > 120:
        return None
    if not all(_NAME_PART.match(w) for w in words):
        return None
    return " ".join(words)


def parse_address(text: str) -> str | None:
    """Free text with a letter and a house number, in any script."""
    address = " ".join(text.split())
    if not 5 <= len(address) <= 300:
        return None
    if not any(c.isdigit() for c in address) or not any(c.isalpha() for c in address):
        return None
    return address


def _fold(text: str) -> str:
    text = unicodedata.normalize("NFKC", to_ascii_digits(text)).casefold()
    return "".join(c for c in text if c.isalnum())


def match_tariff(text: str, tariffs: Sequence[Tariff]) -> Tariff | None:
    """The tariff a customer means by its name or code; None when none or several fit."""
    wanted = _fold(text)
    if not wanted:
        return None
    for tariff in tariffs:
        if wanted in (_fold(tariff.name), _fold(tariff.code)):
            return tariff
    # "home 300 + mobile please" names both Home 300 and Home 300 + Mobile: the longest wins.
    contained = [t for t in tariffs if _fold(t.name) in wanted]
    if contained:
        return max(contained, key=lambda t: len(t.name))
    partial = [t for t in tariffs if wanted in _fold(t.name)]
    return partial[0] if len(partial) == 1 else None


def parse_visit_date(text: str, today: date) -> date | None:
    """Dates as customers write them: 2026-11-25, 25.11, 25/11/2026, tomorrow, next monday, 25 nov."""
    raw = to_ascii_digits(text).strip().casefold()
    for parse in (_parse_relative, _parse_numeric, _parse_month_name):
        try:
            found = parse(raw, today)
        except ValueError:  # a day that does not exist, such as 31.02
            return None
        if found is not None:
            return found
    return None


def _parse_relative(raw: str, today: date) -> date | None:
    if "day after tomorrow" in raw:
        return today + timedelta(days=2)
    if "tomorrow" in raw:
        return today + timedelta(days=1)
    if re.search(r"\btoday\b", raw):
        return today
    for index, name in enumerate(WEEKDAYS):
        if re.search(rf"\b({name}|{name[:3]})\b", raw):
            ahead = (index - today.weekday()) % 7 or 7
            return today + timedelta(days=ahead)
    return None


def _parse_numeric(raw: str, today: date) -> date | None:
    iso = re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", raw)
    if iso:
        return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    # Day first, as in most of the world: 25.11, 25/11/2026, 25-11-26.
    dmy = re.search(r"\b(\d{1,2})[./-](\d{1,2})(?:[./-](\d{2}|\d{4}))?\b", raw)
    if not dmy:
        return None
    day, month = int(dmy.group(1)), int(dmy.group(2))
    return _with_year(day, month, dmy.group(3), today)


def _parse_month_name(raw: str, today: date) -> date | None:
    for index, name in enumerate(MONTHS, start=1):
        pattern = rf"({name}|{name[:3]})"
        m = re.search(rf"\b(\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?{pattern}\w*(?:\s+(\d{{4}}))?", raw)
        if m:
            return _with_year(int(m.group(1)), index, m.group(3), today)
        m = re.search(rf"\b{pattern}\w*\s+(\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+(\d{{4}}))?\b", raw)
        if m:
            return _with_year(int(m.group(2)), index, m.group(3), today)
    return None


def _with_year(day: int, month: int, year: str | None, today: date) -> date:
    if year:
        full_year = int(year) + (2000 if len(year) == 2 else 0)
        return date(full_year, month, day)
    found = date(today.year, month, day)
    # "25.01" written in December means next January.
    return found if found >= today else date(today.year + 1, month, day)


def visit_date_problem(day: date, today: date, catalogue: Catalogue) -> str | None:
    """Why a visit cannot be booked on that day: 'past', 'too_far', 'day_off'; None when it can."""
    if day <= today:
        return "past"
    if day > today + timedelta(days=catalogue.visits.max_days_ahead):
        return "too_far"
    if not catalogue.is_visit_day(day):
        return "day_off"
    return None


def next_visit_days(today: date, catalogue: Catalogue, count: int) -> list[date]:
    """The first bookable visit days after today, for suggestion buttons."""
    days: list[date] = []
    day = today
    while len(days) < count and day < today + timedelta(days=catalogue.visits.max_days_ahead):
        day += timedelta(days=1)
        if catalogue.is_visit_day(day):
            days.append(day)
    return days


def find_order_number(text: str) -> str | None:
    """A 7-digit order number in free text, in any digit script, also typed as '482 71 63'."""
    ascii_text = to_ascii_digits(text)
    found = _ORDER_NUMBER.search(ascii_text)
    if found:
        return found.group(1)
    compact = re.sub(r"[\s\-]", "", ascii_text.strip())
    return compact if re.fullmatch(r"\d{7}", compact) else None
