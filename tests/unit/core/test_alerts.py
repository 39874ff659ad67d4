"""The keyword alert matcher: the shipped phrases in the forms customers write them, and not in the words
that merely look like them."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.alerts import KeywordAlerts, WatchedPhrase, load_keyword_alerts

SHIPPED = load_keyword_alerts()


def _found(text: str, alerts: KeywordAlerts = SHIPPED) -> list[tuple[str, str]]:
    return [(p.phrase, p.language) for p in alerts.match(text)]


@pytest.mark.parametrize(
    ("text", "phrase", "language"),
    [
        ("я на вас в суд подам!!!", "суд", "ru"),
        ("Засужу вас, вот увидите", "суд", "ru"),
        ("ПОЖАЛУЮСЬ куда надо", "жалоба", "ru"),
        ("напишу жалобу в 3 инстанции", "жалоба", "ru"),
        ("щас позвоню своему адвокату", "юрист", "ru"),
        ("в роспотреб напишу", "роспотребнадзор", "ru"),
        ("والله رح اشتكي عليكم", "شكوى", "ar"),
        ("بشتكي عليكم للشركة الام", "شكوى", "ar"),  # Levantine present with b-
        ("حشتكيكم", "شكوى", "ar"),  # Egyptian future with a suffix
        ("بدي اقدم شكوى رسمية", "شكوى", "ar"),
        ("رح اوكل محامي", "محامي", "ar"),
        ("بنروح عالمحكمة", "محكمة", "ar"),
        ("ازتون شکایت می‌کنم", "شکایت", "fa"),
        ("ازتون شكايت ميكنم", "شکایت", "fa"),  # typed on an Arabic keyboard
        ("ازتون شکایت می کنم", "شکایت", "fa"),
        ("دادگاهیتون میکنم", "دادگاه", "fa"),
        ("میرم به روزنامه میگم", "روزنامه", "fa"),
        ("به رگولاتوری گزارش میدم", "سازمان حمایت", "fa"),
        ("I will call my LAWYER", "lawyer", "en"),
        ("we'll sue you", "court", "en"),
        ("I want to complain", "complaint", "en"),
    ],
)
def test_colloquial_forms_are_found(text: str, phrase: str, language: str) -> None:
    assert (phrase, language) in _found(text)


@pytest.mark.parametrize(
    "text",
    [
        "пожалуйста, помогите",  # shares its start with "пожалуюсь"
        "судьба у меня такая",  # "суд" is matched as a word, not as a start
        "судно пришло",
        "искать роутер",
        "а телевидение у вас есть?",  # a provider sells TV: a question, not a threat
        "شكرا كتير",
        "what a great service",
        "سلام، اینترنتم از دیروز قطعه",
        "",
    ],
)
def test_words_that_only_look_alike_are_not(text: str) -> None:
    assert _found(text) == []


def test_digits_of_any_script_around_a_phrase_do_not_hide_it() -> None:
    assert _found("٣ ايام بلا نت، ٢٠٠٠ مرة رح اشتكي ١٢٣") == [("شكوى", "ar")]
    assert _found("۴ روزه قطعه، شکایت ۱۲۳") == [("شکایت", "fa")]
    assert _found("۴ روزه قطعه،شکایت۱۲۳") == [("شکایت", "fa")]  # "*شکایت*": inside a longer run too


def test_in_a_conversation_a_phrase_of_another_language_in_its_script_does_not_count() -> None:
    # Normalised, Persian "وکیل" (lawyer) is Arabic "وكيل" (agent, and a common pious exclamation).
    assert SHIPPED.match("حسبي الله ونعم الوكيل", "ar") == ()
    assert SHIPPED.match("بدي احكي مع وكيل خدمة العملاء", "ar") == ()
    assert SHIPPED.match("میرم پیش وکیل، دیگه بسه", "fa") == (WatchedPhrase("وکیل", "fa"),)
    # Another script is another language the customer switched to: it counts.
    assert SHIPPED.match("я на вас в суд подам", "en") == (WatchedPhrase("суд", "ru"),)
    assert SHIPPED.match("حسبي الله ونعم الوكيل", "de") != ()  # a language without phrases: all count


def test_each_phrase_is_reported_once_in_order_of_appearance() -> None:
    assert _found("суд, суд и ещё раз суд, и жалоба") == [("суд", "ru"), ("жалоба", "ru")]


def test_phrases_of_several_words_keep_their_order() -> None:
    alerts = KeywordAlerts({"en": {"legal action": ["legal action*"]}})
    assert _found("we will take legal actions", alerts) == [("legal action", "en")]
    assert _found("action, legal", alerts) == []
    assert alerts.match("LEGAL-action") == (WatchedPhrase("legal action", "en"),)


@pytest.mark.parametrize("form", ["с*", "*", "ab*cd", "", "x$"])
def test_a_form_that_would_match_too_much_or_nothing_is_refused_at_load(form: str) -> None:
    with pytest.raises(ValueError):
        KeywordAlerts({"ru": {"жалоба": [form]}})


def test_a_centre_configures_its_own_file(tmp_path: Path) -> None:
    path = tmp_path / "alerts.yml"
    path.write_text("en:\n  refund: [refund*, chargeback]\nfa:\n  پول: ['*پولم*']\n", encoding="utf-8")
    alerts = load_keyword_alerts(path)
    assert len(alerts) == 2
    assert _found("I want a REFUND now", alerts) == [("refund", "en")]
    assert _found("پولمو پس بدید", alerts) == [("پول", "fa")]
    assert _found("lawyer", alerts) == []
