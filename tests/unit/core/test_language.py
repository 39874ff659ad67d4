"""The language a customer writes in, read from the text: clear evidence switches, noise does not."""

from __future__ import annotations

import pytest
import yaml

from actions.date_words import DATA_DIR as DATE_WORDS_DIR
from core.language import detect_language


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("до скольки вы работаете в субботу?", "ru"),
        ("инет не работает второй день", "ru"),
        ("да", "ru"),
        ("ما هي ساعات العمل لديكم؟", "ar"),
        ("النت مش شغال من الصبح", "ar"),  # Egyptian
        ("ابي اكلم موظف", "ar"),  # Gulf
        ("بدي احكي مع حدا", "ar"),  # Levantine
        ("نعم", "ar"),
        ("ساعت کاری شما چیه؟", "fa"),
        ("ساعت كاري شما چيه", "fa"),  # typed on an Arabic keyboard: چ and the words tell
        ("می‌خوام با اپراتور صحبت کنم", "fa"),
        ("بله", "fa"),
        ("what are your working hours", "en"),
    ],
)
def test_clear_text_names_its_language(text: str, language: str) -> None:
    assert detect_language(text) == language


@pytest.mark.parametrize(
    "text", ["ok", "Wi-Fi router", "4827163", "/affirm", "Home 300", "👍", "+7 916 123 45 67"]
)
def test_short_latin_words_numbers_and_payloads_do_not_switch(text: str) -> None:
    assert detect_language(text) is None


def test_the_word_lists_do_not_share_a_word() -> None:
    """A word both languages use would only cancel itself out: the data file must not list it."""
    from core.language import _words

    assert _words("fa") and _words("ar")
    assert not _words("fa") & _words("ar")


def _date_words(language: str) -> list[str]:
    """Every visit-day word the order form accepts in `language`, as customers type them."""
    raw = yaml.safe_load((DATE_WORDS_DIR / f"{language}.yml").read_text(encoding="utf-8"))
    words = [*raw["today"], *raw["tomorrow"], *raw["day_after_tomorrow"]]
    return [w for forms in raw["weekdays"] for w in forms] + words


@pytest.mark.parametrize("language", ["ar", "fa"])
def test_a_visit_day_word_keeps_the_session_in_its_language(language: str) -> None:
    """'جمعه' or 'فردا' alone has no letter or word of its own: a Persian customer stays in Persian."""
    arabic_script = [w for w in _date_words(language) if detect_language(w, current=language)]
    assert arabic_script
    for word in arabic_script:
        assert detect_language(word, current=language) == language, word


def test_clear_evidence_still_switches_an_arabic_script_session() -> None:
    assert detect_language("ابي اكلم موظف", current="fa") == "ar"
    assert detect_language("میخوام با اپراتور صحبت کنم", current="ar") == "fa"
