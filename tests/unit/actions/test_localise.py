"""Prices, numbers and dates the way each language writes them; Persian readers get Solar Hijri dates."""

from __future__ import annotations

from datetime import date

from actions.localise import full_date, number, price, short_date, tariff_line
from actions.resources import catalogue

FRIDAY = date(2026, 12, 4)


def test_dates_in_each_language() -> None:
    assert full_date(FRIDAY, "en") == "Friday, December 4, 2026"
    assert full_date(FRIDAY, "ru") == "пятница, 4 декабря 2026\u202fг."
    assert full_date(FRIDAY, "ar").startswith("الجمعة")
    assert full_date(FRIDAY, "fa") == "جمعه ۱۳ آذر ۱۴۰۵"  # 13 Azar 1405 in the Solar Hijri calendar
    assert short_date(FRIDAY, "ru") == "пт 4 дек."
    assert short_date(FRIDAY, "fa") == "جمعه ۱۳ آذر"


def test_prices_and_numbers_in_each_language() -> None:
    assert price(35, "USD", "en") == "$35.00"
    assert price(35, "USD", "ru") == "35,00\xa0$"
    assert "۳۵٫۰۰" in price(35, "USD", "fa")  # Persian digits and decimal separator
    assert number(1000, "fa") == "۱٬۰۰۰"
    assert number(1000, "ru") == "1\xa0000"


def test_a_tariff_line_uses_the_catalogue_name_in_the_language() -> None:
    home_300 = catalogue().tariff("home_300")
    assert home_300 is not None
    assert tariff_line(home_300, "en") == "Home 300: 300 Mbit/s, $35.00 a month"
    russian = tariff_line(home_300, "ru")
    assert home_300.name_in("ru") in russian and home_300.name_in("ru") != "Home 300"
    assert "35,00" in russian
    assert "۳۰۰" in tariff_line(home_300, "fa")
