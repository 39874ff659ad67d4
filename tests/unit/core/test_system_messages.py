"""The front line's own texts exist in every language it ships, with the same placeholders."""

from __future__ import annotations

import string

import pytest
import yaml

from core.messages import load_system_messages
from core.settings import PROJECT_ROOT

PATH = PROJECT_ROOT / "business" / "system_messages.yml"
RAW: dict[str, dict[str, str]] = yaml.safe_load(PATH.read_text(encoding="utf-8"))


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("language", ["ru", "ar", "fa"])
def test_every_text_is_translated_with_the_same_placeholders(language: str) -> None:
    texts = RAW[language]
    assert set(texts) == set(RAW["en"]), "keys differ from the English block"
    for key, english in RAW["en"].items():
        assert placeholders(texts[key]) == placeholders(english), key


@pytest.mark.parametrize("language", ["ar", "fa"])
def test_numbers_and_names_are_isolated_in_right_to_left_texts(language: str) -> None:
    messages = load_system_messages(PATH, "en")
    confirmed = messages.get("callback_confirmed", language, phone="+971501234567", when="…")
    assert "\u2066+971501234567\u2069" in confirmed
    assert "\u2068Ольга\u2069" in messages.get("operator_joined", language, name="Ольга")


def test_a_regional_variant_falls_back_to_its_language_then_to_english() -> None:
    messages = load_system_messages(PATH, "en")
    assert messages.get("survey_thanks", "ru-RU") == RAW["ru"]["survey_thanks"]
    assert messages.get("survey_thanks", "sw") == RAW["en"]["survey_thanks"]
