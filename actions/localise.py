"""Numbers, prices and dates written the way the customer's language writes them (CLDR via Babel).

Persian readers get the Solar Hijri calendar (jdatetime) and Persian digits; every other language
gets the Gregorian calendar in its own CLDR format.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import jdatetime
from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.numbers import format_currency, format_decimal
from rasa_sdk import Tracker

from actions.resources import catalogue
from bot.responses import formats
from core.catalogue import Tariff

DEFAULT_LANGUAGE = "en"
SOLAR_HIJRI_LANGUAGES = frozenset({"fa"})


def language_of(tracker: Tracker) -> str:
    """The session's language as the core last sent it (the `language` slot)."""
    value = tracker.get_slot("language")
    return str(value).split("-")[0].lower() if value else DEFAULT_LANGUAGE


@lru_cache
def _locale(language: str) -> Locale:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return Locale.parse(DEFAULT_LANGUAGE)


# Digits of the numbering systems CLDR names as a locale's default (Babel formats with Latin digits).
_DIGITS = {"arab": "٠١٢٣٤٥٦٧٨٩", "arabext": "۰۱۲۳۴۵۶۷۸۹"}


def localise_digits(text: str, language: str) -> str:
    """Latin digits turned into the language's own ("۱۲" in Persian); Latin-digit locales unchanged."""
    digits = _DIGITS.get(_locale(language).default_numbering_system)
    return text.translate(str.maketrans("0123456789", digits)) if digits else text


def number(value: float, language: str) -> str:
    text = format_decimal(value, locale=_locale(language), numbering_system="default")
    return localise_digits(text, language)


def price(amount: float, currency: str, language: str) -> str:
    text = format_currency(amount, currency, locale=_locale(language), numbering_system="default")
    return localise_digits(text, language)


def full_date(day: date, language: str) -> str:
    """ "Friday, December 4, 2026", "пятница, 4 декабря 2026 г.", "جمعه ۱۳ آذر ۱۴۰۵"."""
    if language in SOLAR_HIJRI_LANGUAGES:
        return localise_digits(f"{_solar(day)} {jdatetime.date.fromgregorian(date=day).year}", language)
    return localise_digits(format_date(day, "full", locale=_locale(language)), language)


def short_date(day: date, language: str) -> str:
    """A button title: "Fri 4 Dec", "пт 4 дек.", "جمعه ۱۳ آذر"."""
    if language in SOLAR_HIJRI_LANGUAGES:
        return localise_digits(_solar(day), language)
    return localise_digits(format_date(day, "EEE d MMM", locale=_locale(language)), language)


def _solar(day: date) -> str:
    """Weekday, day and month in the Solar Hijri calendar, in Persian: "جمعه 13 آذر"."""
    solar = jdatetime.date.fromgregorian(date=day, locale="fa_IR")
    return f"{solar.strftime('%A')} {solar.day} {solar.strftime('%B')}"


def tariff_line(tariff: Tariff, language: str) -> str:
    """One tariff as a line of the list and a button title, from the catalogue and the language's format."""
    texts = formats(language)
    mobile = ""
    if tariff.mobile_data_gb:
        mobile = texts["tariff_mobile"].format(gb=number(tariff.mobile_data_gb, language))
    return texts["tariff_line"].format(
        name=tariff.name_in(language),
        speed=number(tariff.speed_mbit, language),
        mobile=mobile,
        price=price(tariff.monthly_price, catalogue().currency, language),
    )
