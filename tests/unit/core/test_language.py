"""The language a customer writes in, read from the text: clear evidence switches, noise does not."""

from __future__ import annotations

import pytest

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
