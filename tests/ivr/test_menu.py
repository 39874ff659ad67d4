"""The menu file: every language says everything, and spoken texts come out whole."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from core.catalogue import load_catalogue
from core.models import Order
from core.settings import PROJECT_ROOT
from ivr.contacts import caller_key, caller_phone
from ivr.menu import ENTRIES, load_menu

MENU = load_menu()
CATALOGUE = load_catalogue(PROJECT_ROOT / "business" / "catalogue.yml")


@pytest.mark.parametrize("language", sorted(MENU.prompts))
def test_every_language_has_every_prompt(language: str) -> None:
    assert set(MENU.prompts[language]) == set(MENU.prompts["en"])


@pytest.mark.parametrize("language", sorted(MENU.prompts))
def test_every_language_sums_up_a_call_for_the_operator(language: str) -> None:
    assert MENU.summaries is not None
    assert set(MENU.summaries[language]) == set(MENU.summaries["en"])


@pytest.mark.parametrize("language", sorted(MENU.prompts))
def test_every_language_names_every_menu_entry_for_a_confirmation(language: str) -> None:
    assert set(MENU.prompts[language]["choices"]) == set(ENTRIES)
    for entry in ENTRIES:
        asked = MENU.text("confirm_choice", language, choice=MENU.choice(entry, language))
        assert MENU.choice(entry, language) in asked and "{" not in asked


@pytest.mark.parametrize("language", ["en", "ru", "ar", "fa"])
def test_spoken_tariffs_and_order_status(language: str) -> None:
    tariffs = MENU.tariffs_text(CATALOGUE, language)
    assert all(t.name_in(language) in tariffs for t in CATALOGUE.tariffs) and "{" not in tariffs
    order = Order(number="3141592", status="received", tariff_code="home_100", visit_date=date(2027, 2, 3))
    spoken = MENU.order_text(order, CATALOGUE, language)
    home_100 = CATALOGUE.tariff("home_100")
    assert home_100 is not None
    assert "3 1 4 1 5 9 2" in spoken and home_100.name_in(language) in spoken and "{" not in spoken


def test_prices_and_dates_are_said_the_way_the_language_says_them() -> None:
    order = Order(number="3141592", status="received", tariff_code="home_100", visit_date=date(2027, 2, 3))
    assert "February 3" in MENU.order_text(order, CATALOGUE, "en")
    assert "3 февраля" in MENU.order_text(order, CATALOGUE, "ru")
    assert "۱۴ بهمن" in MENU.order_text(order, CATALOGUE, "fa")  # Solar Hijri, as the chat writes it
    assert "25 долларов США" in MENU.tariffs_text(CATALOGUE, "ru")
    assert "1000 мегабит" in MENU.tariffs_text(CATALOGUE, "ru")  # no group separator to pause on
    assert "۲۵ دلار آمریکا" in MENU.tariffs_text(CATALOGUE, "fa")
    assert "USD" not in MENU.tariffs_text(CATALOGUE, "ar")


def test_unknown_language_falls_back_to_the_default_prompts() -> None:
    assert MENU.text("goodbye", "ko") == MENU.text("goodbye", "en")
    assert MENU.language_of("ko") == "en" and MENU.language_of("fa") == "fa"


def test_menu_keys_map_to_known_entries(tmp_path: Path) -> None:
    assert MENU.entry("1") == "tariffs" and MENU.entry("0") == "operator" and MENU.entry("9") is None
    broken = tmp_path / "menu.yml"
    broken.write_text('keys: {"1": coffee}\nprompts: {en: {}}\n')
    with pytest.raises(ValueError, match="coffee"):
        load_menu(broken)


def test_caller_identity() -> None:
    assert caller_key("+4915112345678", "c1", verified=True) == "tel:+4915112345678"
    assert caller_phone("+4915112345678") == "+4915112345678"
    assert caller_key("۰۹۱۲۳۴۵۶۷۸۹", "c1", verified=True) == "tel:09123456789"  # Persian digits from a PBX
    assert caller_key("anonymous", "abc", verified=True) == "tel:anonymous:abc"
    # A number no allowed PBX vouches for names nobody: the call is a customer of its own.
    assert caller_key("+4915112345678", "c1", verified=False) == "call:c1"
    assert caller_phone("anonymous") is None and caller_phone("101") is None
