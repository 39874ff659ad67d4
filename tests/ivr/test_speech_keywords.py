"""Menu keywords: a file per language, and matching that survives how people say and spell words."""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.speech.keywords import (
    MENU_ENTRIES,
    KeywordMatch,
    all_phrases,
    find_keyword,
    load_keywords,
    match_keyword,
    recognizer_phrases,
)


@pytest.mark.parametrize("language", ["en", "ru", "ar", "fa", "ko"])
def test_every_language_file_covers_the_whole_menu(language: str) -> None:
    keywords = load_keywords(language)
    assert set(keywords) == set(MENU_ENTRIES)
    assert all(phrases for phrases in keywords.values())


@pytest.mark.parametrize("language", ["en", "ru", "ar", "fa", "ko"])
def test_each_phrase_selects_its_own_entry(language: str) -> None:
    keywords = load_keywords(language)
    for entry, phrases in keywords.items():
        for phrase in phrases:
            assert match_keyword(phrase, keywords) == entry, phrase


@pytest.mark.parametrize(
    ("language", "said", "entry"),
    [
        ("en", "I'd like to speak to an OPERATOR, please", "operator"),
        ("en", "what are your prices", "tariffs"),
        ("en", "where is my order", "order_status"),
        ("ru", "Соедините меня с оператором", "operator"),  # instrumental case
        ("ru", "расскажите о тарифах", "tariffs"),
        ("ru", "какой статус заказа", "order_status"),
        ("ar", "أريد التحدث مع موظف", "operator"),
        ("ar", "ما هي الاسعار", "tariffs"),  # written without the hamza
        ("ar", "حالةُ الطلبِ", "order_status"),  # with vowel marks
        ("fa", "میخواهم با اپراتور صحبت کنم", "operator"),
        ("fa", "تعرفه ها چیست", "tariffs"),
        ("fa", "وضعيت سفارش", "order_status"),  # Arabic yeh typed on an Arabic keyboard
        ("ko", "상담원 연결해 주세요", "operator"),
        ("ko", "요금제를 알려 주세요", "tariffs"),  # with the object particle
    ],
)
def test_real_sentences_select_the_right_entry(language: str, said: str, entry: str) -> None:
    assert match_keyword(said, load_keywords(language)) == entry


def test_nothing_matching_is_none() -> None:
    assert match_keyword("what a lovely day", load_keywords("en")) is None
    assert match_keyword("", load_keywords("en")) is None


def test_a_short_latin_word_must_match_whole() -> None:
    assert match_keyword("plans", {"tariffs": ["plan"]}) == "tariffs"  # 4 letters: an ending may follow
    assert match_keyword("news", {"new_connection": ["new"]}) is None


def test_the_longer_phrase_wins() -> None:
    keywords = {"new_connection": ["connection"], "order_status": ["connection status"]}
    assert match_keyword("my connection status", keywords) == "order_status"


def test_a_caller_asking_for_a_person_gets_one() -> None:
    keywords = load_keywords("en")
    assert match_keyword("prices operator", keywords) == "operator"
    assert match_keyword("operator prices", keywords) == "operator"


def test_a_match_says_which_heard_words_said_the_phrase() -> None:
    # Word confidences of those words decide whether a spoken choice is confirmed first.
    keywords = load_keywords("en")
    heard = ["uh", "where", "is", "my", "order"]
    assert find_keyword(heard, keywords) == KeywordMatch("order_status", (1, 2, 3, 4))
    assert find_keyword(["I'd", "like", "an", "operator"], keywords) == KeywordMatch("operator", (3,))
    assert find_keyword(["thanks"], keywords) is None


def test_a_language_without_a_file_has_no_keywords(tmp_path: Path) -> None:
    assert load_keywords("zz", tmp_path) == {}


def test_a_malformed_file_is_named_in_the_error(tmp_path: Path) -> None:
    (tmp_path / "xx.yml").write_text("operator: just one string\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"xx\.yml.*operator"):
        load_keywords("xx", tmp_path)


def test_all_phrases_lists_each_phrase_once() -> None:
    assert all_phrases({"a": ["x y", "z"], "b": ["z", "w"]}) == ["x y", "z", "w"]


def test_fillers_join_the_grammar_but_select_nothing(tmp_path: Path) -> None:
    (tmp_path / "xx.yml").write_text("operator: [agent]\n_filler: [hello, agents please]\n", encoding="utf-8")

    assert load_keywords("xx", tmp_path) == {"operator": ["agent"]}
    assert recognizer_phrases("xx", tmp_path) == ["agent", "hello", "agents please"]
    assert match_keyword("hello", load_keywords("xx", tmp_path)) is None
