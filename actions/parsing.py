"""Pure normalisers for what customers type into the order form; no I/O here."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta

from persiantools.jdatetime import JalaliDate

from actions.date_words import date_words
from core.catalogue import Catalogue, Tariff
from core.digits import to_ascii_digits
from core.phones import parse_phone as parse_phone  # re-exported for the order form
from core.textnorm import normalise

_NAME_PART = re.compile(r"^[^\W\d_]+(?:[-'’.][^\W\d_]+)*\.?$")
_ORDER_NUMBER = re.compile(r"(?<!\d)(\d{7})(?!\d)")

SOLAR_HIJRI_LANGUAGES = frozenset({"fa"})
# Solar Hijri month names as the normaliser leaves them (Persian letters).
SOLAR_MONTHS = [normalise(name) for name in (
    "فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور",
    "مهر", "آبان", "آذر", "دی", "بهمن", "اسفند",
)]  # fmt: skip
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
    return "".join(c for c in normalise(text) if c.isalnum())


def _folded_names(tariff: Tariff) -> list[str]:
    """The tariff's name in every language of the catalogue, and its code."""
    return [_fold(name) for name in (*tariff.names.values(), tariff.name, tariff.code)]


def match_tariff(text: str, tariffs: Sequence[Tariff]) -> Tariff | None:
    """The tariff a customer means by its name (in any language) or code; None when none or several fit."""
    wanted = _fold(text)
    if not wanted:
        return None
    for tariff in tariffs:
        if wanted in _folded_names(tariff):
            return tariff
    # "home 300 + mobile please" names both Home 300 and Home 300 + Mobile: the longest name wins.
    contained = [(len(n), t) for t in tariffs for n in _folded_names(t) if n in wanted]
    if contained:
        return max(contained, key=lambda found: found[0])[1]
    partial = {t.code: t for t in tariffs for n in _folded_names(t) if wanted in n}
    return next(iter(partial.values())) if len(partial) == 1 else None


def parse_visit_date(text: str, today: date, language: str = "en") -> date | None:
    """Dates as customers write them, in their language and in English: 2026-11-25, 25.11,
    25/11/2026, tomorrow, завтра, بعد غد, پس‌فردا, next monday, в пятницу, 25 nov, 5 декабря,
    and Solar Hijri dates (۱۴۰۵/۰۹/۱۲, ۱۲ آذر) from Persian customers."""
    raw = normalise(text).strip()
    solar = language in SOLAR_HIJRI_LANGUAGES
    parsers = (_parse_relative, _parse_solar_hijri, _parse_numeric, _parse_month_name, _parse_in_words)
    for parse in parsers:
        try:
            found = parse(raw, today, language, solar)
        except ValueError:  # a day that does not exist, such as 31.02
            return None
        if found is not None:
            return found
    return None


def _parse_relative(raw: str, today: date, language: str, solar: bool) -> date | None:
    words = date_words(language)
    for phrase, offset in words.relative:
        if _has_phrase(raw, phrase):
            return today + timedelta(days=offset)
    for phrase, weekday in words.weekdays:
        if _has_phrase(raw, phrase):
            return today + timedelta(days=(weekday - today.weekday()) % 7 or 7)
    return None


def _has_phrase(raw: str, phrase: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(phrase)}(?!\w)", raw) is not None


def _parse_solar_hijri(raw: str, today: date, language: str, solar: bool) -> date | None:
    """1405/09/12 (year first, 13xx or 14xx), and for Persian customers "12 آذر" and "12/9"."""
    ymd = re.search(r"\b(1[34]\d\d)[./-](\d{1,2})[./-](\d{1,2})\b", raw)
    if ymd:
        return jalali_to_date(int(ymd.group(1)), int(ymd.group(2)), int(ymd.group(3)))
    dmy = re.search(r"\b(\d{1,2})[./-](\d{1,2})[./-](1[34]\d\d)\b", raw)
    if dmy:
        return jalali_to_date(int(dmy.group(3)), int(dmy.group(2)), int(dmy.group(1)))
    if not solar:
        return None
    this_year = JalaliDate(today).year
    for month, name in enumerate(SOLAR_MONTHS, start=1):
        named = re.search(rf"\b(\d{{1,2}})\s*{name}(?:\s+(1[34]\d\d))?", raw)
        if named:
            year = int(named.group(2)) if named.group(2) else None
            return _solar_with_year(int(named.group(1)), month, year, this_year, today)
    dm = re.search(r"(?<![\d./-])(\d{1,2})[./-](\d{1,2})(?![./-]?\d)", raw)
    if dm:
        return _solar_with_year(int(dm.group(1)), int(dm.group(2)), None, this_year, today)
    return None


def _solar_with_year(day: int, month: int, year: int | None, this_year: int, today: date) -> date:
    if year is not None:
        return jalali_to_date(year, month, day)
    found = jalali_to_date(this_year, month, day)
    return found if found >= today else jalali_to_date(this_year + 1, month, day)


def jalali_to_date(year: int, month: int, day: int) -> date:
    try:
        return JalaliDate(year, month, day).to_gregorian()
    except ValueError as exc:  # raised for 31 Esfand and the like
        raise ValueError(str(exc)) from exc


def _parse_in_words(raw: str, today: date, language: str, solar: bool) -> date | None:
    """Anything else in the customer's language ("5 декабря", "через неделю"), read by dateparser."""
    if language == "en" or not any(ch.isalpha() for ch in raw):
        return None
    import dateparser  # imported on first use: it takes a second to load its language data

    settings = {
        "PREFER_DATES_FROM": "future",
        "RELATIVE_BASE": datetime.combine(today, time(12)),
        "RETURN_AS_TIMEZONE_AWARE": False,
    }
    found = dateparser.parse(raw, languages=[language, "en"], settings=settings)
    return found.date() if found else None


def _parse_numeric(raw: str, today: date, language: str, solar: bool) -> date | None:
    iso = re.search(r"\b(\d{4})-(\d{1,2})-(\d{1,2})\b", raw)
    if iso:
        return date(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)))
    # Day first, as in most of the world: 25.11, 25/11/2026, 25-11-26.
    dmy = re.search(r"\b(\d{1,2})[./-](\d{1,2})(?:[./-](\d{2}|\d{4}))?\b", raw)
    if not dmy:
        return None
    day, month = int(dmy.group(1)), int(dmy.group(2))
    return _with_year(day, month, dmy.group(3), today)


def _parse_month_name(raw: str, today: date, language: str, solar: bool) -> date | None:
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
