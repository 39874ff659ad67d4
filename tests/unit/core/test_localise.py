"""Prices, numbers and dates the way each language writes and says them; Persian gets Solar Hijri dates."""

from __future__ import annotations

from datetime import date

from core.localise import (
    day_and_month,
    full_date,
    number,
    price,
    short_date,
    spoken_number,
    spoken_price,
)

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


def test_spoken_prices_name_the_currency_in_the_form_the_amount_needs() -> None:
    assert spoken_price(35, "USD", "en") == "35 US dollars"
    assert spoken_price(1, "USD", "en") == "1 US dollar"
    assert spoken_price(35, "USD", "ru") == "35 долларов США"
    assert spoken_price(22, "USD", "ru") == "22 доллара США"
    assert spoken_price(21, "USD", "ru") == "21 доллар США"
    assert spoken_price(49.5, "USD", "ru") == "49,5 доллара США"
    assert spoken_price(35, "USD", "fa") == "۳۵ دلار آمریکا"
    assert "$" not in spoken_price(35, "USD", "ar") and "دولار" in spoken_price(35, "USD", "ar")


def test_spoken_numbers_have_no_group_separators_a_synthesiser_would_pause_on() -> None:
    assert spoken_number(1000, "ru") == "1000"
    assert spoken_number(1000, "fa") == "۱۰۰۰"
    assert spoken_number(1000, "en") == "1000"


def test_a_visit_day_as_a_caller_hears_it() -> None:
    assert day_and_month(FRIDAY, "en") == "December 4"
    assert day_and_month(FRIDAY, "ru") == "4 декабря"
    assert day_and_month(FRIDAY, "fa") == "۱۳ آذر"  # the same calendar the Persian chat uses
