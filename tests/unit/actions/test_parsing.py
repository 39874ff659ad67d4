"""What customers type into the order form, as the bot must understand it."""

from datetime import date

import pytest

from actions.parsing import (
    find_order_number,
    match_tariff,
    next_visit_days,
    parse_address,
    parse_full_name,
    parse_phone,
    parse_visit_date,
    visit_date_problem,
)
from core.catalogue import load_catalogue
from core.settings import Settings

CATALOGUE = load_catalogue(Settings().catalogue_path)
SUNDAY = date(2026, 11, 22)


@pytest.mark.parametrize(
    ("typed", "language", "expected"),
    [
        ("+7 (916) 123-45-67", "en", "+79161234567"),
        ("8 916 123 45 67", "ru", "+79161234567"),  # national Russian form
        ("0044 20 7946 0958", "en", "+442079460958"),
        ("+1 415 555 0134", "en", "+14155550134"),
        ("۰۹۱۲ ۳۴۵ ۶۷۸۹", "fa", "+989123456789"),  # Persian digits, Iranian mobile
        ("٠٥٠١٢٣٤٥٦٧", "ar", "+971501234567"),  # Arabic-Indic digits, Emirati mobile
        ("+7 916 123", "ru", None),  # too short for the Russian plan
        ("+7 000 000 00 00", "ru", None),  # no such numbers in the Russian plan
        ("1234567", "en", None),  # seven digits, but no number in any of the regions
        ("12345", "en", None),
        ("call me maybe", "en", None),
        ("+7 916 12a 45 67", "ru", None),
    ],
)
def test_phone_numbers_in_any_script_checked_against_the_numbering_plans(
    typed: str, language: str, expected: str | None
) -> None:
    assert parse_phone(typed, CATALOGUE.regions_for(language)) == expected


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("Ivan   Petrov", "Ivan Petrov"),
        ("Jean-Luc O'Neil", "Jean-Luc O'Neil"),
        ("محمد رضایی", "محمد رضایی"),
        ("Анна Смирнова", "Анна Смирнова"),
        ("ivan", None),
        ("R2 D2", None),
        ("+7 916 123 45 67", None),
    ],
)
def test_full_names_need_two_words_of_letters(typed: str, expected: str | None) -> None:
    assert parse_full_name(typed) == expected


def test_addresses_need_a_house_number() -> None:
    assert parse_address("12 Park Lane, flat 4") == "12 Park Lane, flat 4"
    assert parse_address("خیابان آزادی ۱۲") == "خیابان آزادی ۱۲"
    assert parse_address("Park Lane") is None
    assert parse_address("12") is None


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("Home 300", "home_300"),
        ("home300", "home_300"),
        ("HOME GIGABIT", "home_gigabit"),
        ("gigabit", "home_gigabit"),
        ("home 300 + mobile please", "home_300_mobile"),
        ("Домашний 300", "home_300"),
        ("хочу домашний гигабит", "home_gigabit"),
        ("المنزل 300", "home_300"),
        ("المنزل ٣٠٠ + موبايل", "home_300_mobile"),
        ("home_100", "home_100"),
        ("the cheapest one", None),
        ("home", None),  # every tariff is a "home" tariff: ambiguous
    ],
)
def test_tariffs_by_name(typed: str, code: str | None) -> None:
    tariff = match_tariff(typed, CATALOGUE.tariffs)
    assert (tariff.code if tariff else None) == code


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-11-25", date(2026, 11, 25)),
        ("25.11", date(2026, 11, 25)),
        ("25/11/2026", date(2026, 11, 25)),
        ("٢٥/١١", date(2026, 11, 25)),
        ("tomorrow", date(2026, 11, 23)),
        ("next wednesday", date(2026, 11, 25)),
        ("on Friday please", date(2026, 11, 27)),
        ("25 november", date(2026, 11, 25)),
        ("Dec 1st, 2026", date(2026, 12, 1)),
        ("10.01", date(2027, 1, 10)),  # January written in November: next year
        ("31.02", None),
        ("whenever", None),
    ],
)
def test_visit_dates_as_customers_write_them(typed: str, expected: date | None) -> None:
    assert parse_visit_date(typed, SUNDAY) == expected


@pytest.mark.parametrize(
    ("typed", "language", "expected"),
    [
        ("завтра", "ru", date(2026, 11, 23)),
        ("давайте послезавтра", "ru", date(2026, 11, 24)),
        ("в пятницу", "ru", date(2026, 11, 27)),
        ("можно в ср", "ru", date(2026, 11, 25)),
        ("5 декабря", "ru", date(2026, 12, 5)),
        ("25.11", "ru", date(2026, 11, 25)),
        ("غدا", "ar", date(2026, 11, 23)),
        ("بكرة", "ar", date(2026, 11, 23)),
        ("بعد غد", "ar", date(2026, 11, 24)),
        ("يوم الجمعة", "ar", date(2026, 11, 27)),
        ("الخميس الجاي", "ar", date(2026, 11, 26)),
        ("٢٥/١١", "ar", date(2026, 11, 25)),
        ("فردا", "fa", date(2026, 11, 23)),
        ("پس‌فردا", "fa", date(2026, 11, 24)),  # with a zero-width non-joiner
        ("پس فردا", "fa", date(2026, 11, 24)),
        ("جمعه", "fa", date(2026, 11, 27)),
        ("سه شنبه", "fa", date(2026, 11, 24)),  # Tuesday, not Saturday (شنبه)
        ("شنبه", "fa", date(2026, 11, 28)),
        ("۱۴۰۵/۰۹/۰۵", "fa", date(2026, 11, 26)),  # Solar Hijri, Persian digits
        ("1405-09-05", "fa", date(2026, 11, 26)),
        ("۵ آذر", "fa", date(2026, 11, 26)),
        ("۵/۹", "fa", date(2026, 11, 26)),  # day/month in the Solar Hijri calendar
        ("2026-11-26", "fa", date(2026, 11, 26)),  # a suggestion button's payload
        ("tomorrow", "fa", date(2026, 11, 23)),  # English words work in every language
        ("۳۱/۱۲/۱۴۰۵", "fa", None),
        ("هر وقت", "fa", None),
    ],
)
def test_visit_dates_in_each_language(typed: str, language: str, expected: date | None) -> None:
    assert parse_visit_date(typed, SUNDAY, language) == expected


def test_visit_date_rules_come_from_the_catalogue() -> None:
    assert visit_date_problem(SUNDAY, SUNDAY, CATALOGUE) == "past"
    assert visit_date_problem(date(2026, 11, 28), SUNDAY, CATALOGUE) == "day_off"  # Saturday
    assert visit_date_problem(date(2026, 12, 25), date(2026, 12, 1), CATALOGUE) == "day_off"  # holiday
    assert visit_date_problem(date(2027, 1, 4), SUNDAY, CATALOGUE) == "too_far"
    assert visit_date_problem(date(2026, 11, 23), SUNDAY, CATALOGUE) is None


def test_suggested_visit_days_skip_weekends_and_holidays() -> None:
    days = next_visit_days(date(2026, 12, 23), CATALOGUE, 3)  # a Wednesday before Christmas
    assert days == [date(2026, 12, 24), date(2026, 12, 28), date(2026, 12, 29)]


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("where is order 4827163?", "4827163"),
        ("482 71 63", "4827163"),
        ("سفارش ۴۸۲۷۱۶۳", "4827163"),
        ("+7 916 123 45 67", None),
        ("89161234567", None),
        ("12345", None),
    ],
)
def test_order_numbers_in_free_text(typed: str, expected: str | None) -> None:
    assert find_order_number(typed) == expected
