"""Numbers, prices and dates the way each language writes and says them (CLDR via Babel).

Persian readers get the Solar Hijri calendar (persiantools) and Persian digits; every other language
gets the Gregorian calendar in its own CLDR format. Used by the bot's actions and the phone menu.
"""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_skeleton
from babel.numbers import format_currency, format_decimal, get_currency_name
from persiantools.jdatetime import JalaliDate

DEFAULT_LANGUAGE = "en"
SOLAR_HIJRI_LANGUAGES = frozenset({"fa"})


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


def spoken_number(value: float, language: str) -> str:
    """A number for speech: no group separators, which synthesisers read as a pause or a comma
    ("1 000" in Russian and "۱٬۰۰۰" in Persian were read as "one, zero zero zero")."""
    text = format_decimal(value, locale=_locale(language), numbering_system="default", group_separator=False)
    return localise_digits(text, language)


def price(amount: float, currency: str, language: str) -> str:
    """A price as the language writes it: "$35.00", "35,00 $", "۳۵٫۰۰ ‎$"."""
    text = format_currency(amount, currency, locale=_locale(language), numbering_system="default")
    return localise_digits(text, language)


def spoken_price(amount: float, currency: str, language: str) -> str:
    """A price as the language says it, for the phone: "35 US dollars", "35 долларов США".

    The currency's name in the plural form the amount needs (CLDR), not a symbol that a speech
    synthesiser would spell out or skip; no ".00" to be read as "point zero zero".
    """
    return f"{spoken_number(amount, language)} {currency_name(currency, amount, language)}"


def currency_name(currency: str, amount: float, language: str) -> str:
    """The currency's name in the plural form the amount needs: "доллар США", "долларов США"."""
    return get_currency_name(currency, count=amount, locale=_locale(language))


def full_date(day: date, language: str) -> str:
    """ "Friday, December 4, 2026", "пятница, 4 декабря 2026 г.", "جمعه ۱۳ آذر ۱۴۰۵"."""
    if language in SOLAR_HIJRI_LANGUAGES:
        return localise_digits(f"{_solar(day)} {JalaliDate(day).year}", language)
    return localise_digits(format_date(day, "full", locale=_locale(language)), language)


def short_date(day: date, language: str) -> str:
    """A button title: "Fri 4 Dec", "пт 4 дек.", "جمعه ۱۳ آذر"."""
    if language in SOLAR_HIJRI_LANGUAGES:
        return localise_digits(_solar(day), language)
    return localise_digits(format_date(day, "EEE d MMM", locale=_locale(language)), language)


def day_and_month(day: date, language: str) -> str:
    """What a caller hears for a visit day: "December 4", "4 декабря", "۱۳ آذر" (Solar Hijri)."""
    if language in SOLAR_HIJRI_LANGUAGES:
        solar = JalaliDate(day, locale="fa")
        return localise_digits(f"{solar.day} {solar.strftime('%B')}", language)
    return localise_digits(format_skeleton("MMMMd", day, locale=_locale(language)), language)


def _solar(day: date) -> str:
    """Weekday, day and month in the Solar Hijri calendar, in Persian: "جمعه 13 آذر"."""
    solar = JalaliDate(day, locale="fa")
    return f"{solar.strftime('%A')} {solar.day} {solar.strftime('%B')}"
