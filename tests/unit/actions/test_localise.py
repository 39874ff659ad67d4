"""Catalogue lines in the customer's language, written for the chat or said on the phone."""

from __future__ import annotations

from actions.localise import tariff_line
from actions.resources import catalogue


def test_a_tariff_line_uses_the_catalogue_name_in_the_language() -> None:
    home_300 = catalogue().tariff("home_300")
    assert home_300 is not None
    assert tariff_line(home_300, "en") == "Home 300: 300 Mbit/s, $35.00 a month"
    russian = tariff_line(home_300, "ru")
    assert home_300.name_in("ru") in russian and home_300.name_in("ru") != "Home 300"
    assert "35,00" in russian
    assert "۳۰۰" in tariff_line(home_300, "fa")


def test_a_spoken_tariff_line_has_units_and_currency_in_words() -> None:
    gigabit = catalogue().tariff("home_gigabit")
    assert gigabit is not None
    assert tariff_line(gigabit, "en", spoken=True) == (
        "Home Gigabit: 1000 megabits per second, 50 US dollars a month"
    )
    russian = tariff_line(gigabit, "ru", spoken=True)
    assert "1000 мегабит в секунду" in russian and "50 долларов США" in russian
    for language in ("en", "ru", "ar", "fa"):
        spoken = tariff_line(gigabit, language, spoken=True)
        assert "$" not in spoken and "/" not in spoken and "\u2068" not in spoken, spoken
