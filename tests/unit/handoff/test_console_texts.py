"""The console's texts: every language says everything English says, with the same placeholders."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from handoff.console_texts import (
    DEFAULT_LANGUAGE,
    LANGUAGES,
    TEXTS_DIR,
    TextsUnreadable,
    load_language,
    placeholders,
    texts_for,
)
from handoff.routes.console import STATIC_DIR

OTHER_LANGUAGES = [code for code in LANGUAGES if code != DEFAULT_LANGUAGE]


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_every_language_has_exactly_the_english_keys(language: str) -> None:
    english = load_language(DEFAULT_LANGUAGE)
    translated = load_language(language)
    assert sorted(english.keys() - translated.keys()) == [], f"{language} lacks these"
    assert sorted(translated.keys() - english.keys()) == [], f"{language} has these English has not"


@pytest.mark.parametrize("language", list(LANGUAGES))
def test_no_text_is_empty_and_placeholders_match_english(language: str) -> None:
    english = load_language(DEFAULT_LANGUAGE)
    for key, text in load_language(language).items():
        assert text.strip(), f"{language}: {key} is empty"
        assert placeholders(text) == placeholders(english.get(key, text)), f"{language}: {key}"


@pytest.mark.parametrize("language", OTHER_LANGUAGES)
def test_translations_are_not_english_left_in_place(language: str) -> None:
    english = load_language(DEFAULT_LANGUAGE)
    words = re.compile(r"[A-Za-z]{4}")  # a text of only numbers, signs and placeholders may stay as it is
    same = [
        key
        for key, text in load_language(language).items()
        if text == english.get(key) and words.search(re.sub(r"\{\w+\}", "", text))
    ]
    assert same == [], f"{language}: still English"


def test_every_console_text_the_page_and_script_ask_for_exists_in_english() -> None:
    english = load_language(DEFAULT_LANGUAGE)
    page = (STATIC_DIR / "console.html").read_text(encoding="utf-8")
    script = (STATIC_DIR / "console.js").read_text(encoding="utf-8")
    asked = set(re.findall(r'data-t(?:-[a-z-]+)?="(console\.\w+)"', page))
    asked |= {f"console.{name}" for name in re.findall(r'\bc\("(\w+)"', script)}
    asked |= set(re.findall(r'\bt\("(console\.\w+)"', script))
    assert len(asked) > 50
    assert sorted(asked - english.keys()) == []


def test_areas_merge_and_an_untranslated_text_shows_in_english(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "ru").mkdir()
    (tmp_path / "en" / "console.yml").write_text("claim: Claim\nclose: Close\n", encoding="utf-8")
    (tmp_path / "en" / "mood.yml").write_text("angry: Angry\n", encoding="utf-8")
    (tmp_path / "ru" / "console.yml").write_text("claim: Взять\n", encoding="utf-8")
    assert texts_for("ru", tmp_path) == {
        "console.claim": "Взять",
        "console.close": "Close",
        "mood.angry": "Angry",
    }


@pytest.mark.parametrize("content", ["- a list\n", "claim: [not, text]\n", "1: number key\n"])
def test_a_file_that_is_not_name_text_is_refused(tmp_path: Path, content: str) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "console.yml").write_text(content, encoding="utf-8")
    with pytest.raises(TextsUnreadable):
        load_language("en", tmp_path)


def test_the_shipped_texts_live_where_the_loader_reads() -> None:
    assert {p.name for p in TEXTS_DIR.iterdir() if p.is_dir()} >= set(LANGUAGES)
