"""The mood classifier on clear cases in each language, negation included, and the mood trend."""

from __future__ import annotations

import pytest

from core.kinds import Mood, MoodTrend
from core.mood import classify, trend

CALM, NEGATIVE, ANGRY = Mood.CALM, Mood.NEGATIVE, Mood.ANGRY


@pytest.mark.parametrize(
    ("language", "text", "mood"),
    [
        ("en", "Hello, my internet stopped working this morning, can you check?", CALM),
        ("en", "thanks, that helped a lot", CALM),
        ("en", "really disappointed, the connection drops again", NEGATIVE),
        ("en", "you are a bunch of thieves, give my money back!!!", ANGRY),
        ("en", "THIS IS THE WORST SERVICE I HAVE EVER HAD", ANGRY),
        ("ru", "здравствуйте, не работает интернет, посмотрите пожалуйста", CALM),
        ("ru", "спасибо большое, всё заработало", CALM),
        ("ru", "опять нет интернета, очень недовольна", NEGATIVE),
        ("ru", "мошенники, верните деньги!!!", ANGRY),
        ("ar", "مرحبا النت فاصل عندي، ممكن تشوفوا؟", CALM),
        ("ar", "شكرا جزيلا، تسلموا", CALM),
        ("ar", "للاسف الخدمة سيئة جدا", NEGATIVE),
        ("ar", "انتو حرامية ونصابين!!!", ANGRY),
        ("fa", "سلام، اینترنتم قطعه، میشه چک کنید؟", CALM),
        ("fa", "مرسی، دستتون درد نکنه", CALM),
        ("fa", "خیلی ناراحتم، بازم قطع شد", NEGATIVE),
        ("fa", "دزدا، کلاهبردارا!!!", ANGRY),
    ],
)
def test_clear_messages_read_as_a_person_would(language: str, text: str, mood: Mood) -> None:
    assert classify(text, language) is mood


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "not bad"),
        ("en", "the speed is not bad at all"),
        ("ru", "не плохо"),
        ("ru", "в целом не плохо, спасибо"),
        ("ar", "مش وحش"),
        ("ar", "الخدمه مش وحشه"),
        ("fa", "بد نیست"),
        ("fa", "سرعتش بد نیست"),
    ],
)
def test_a_negated_complaint_is_not_negative(language: str, text: str) -> None:
    assert classify(text, language) is CALM


@pytest.mark.parametrize(
    ("language", "text"),
    [
        ("en", "not good"),
        ("ru", "не очень хорошо"),
        ("ar", "مو زين ابدا"),
        ("fa", "اصلا خوب نیست"),
    ],
)
def test_a_negated_compliment_is_negative(language: str, text: str) -> None:
    assert classify(text, language) is NEGATIVE


def test_how_a_message_is_typed_counts() -> None:
    assert classify("the internet is down", "en") is CALM
    assert classify("THE INTERNET IS DOWN AGAIN!!!", "en") is ANGRY


def test_stretched_letters_and_softened_swearing() -> None:
    assert classify("thaaaanks", "en") is CALM
    assert classify("ужаааасно", "ru") is not CALM
    assert classify("this is f***ing useless", "en") is ANGRY


def test_arabic_written_with_clitics_and_in_arabizi() -> None:
    assert classify("والخدمه زباله", "ar") is not CALM
    assert classify("inta 7mar walla", "ar") is ANGRY


def test_russian_written_in_latin_letters() -> None:
    assert classify("uzhas kakoi-to", "ru") is NEGATIVE


def test_persian_and_arabic_digits_or_words_in_another_script_do_not_break_it() -> None:
    assert classify("۵ روزه", "fa") is CALM
    assert classify("٤٤١٧٧٣٠", "ar") is CALM


def test_a_negator_does_not_reach_across_a_comma() -> None:
    # "не" belongs to "работает", not to the "сколько можно" after the comma.
    assert classify("опять не работает, сколько можно", "ru") is NEGATIVE


def test_unknown_language_reads_every_lexicon() -> None:
    assert classify("мошенники!!!", None) is ANGRY
    assert classify("حرامية!!!", "de") is ANGRY


@pytest.mark.parametrize(
    ("moods", "expected"),
    [
        ([], MoodTrend.STEADY),
        ([ANGRY], MoodTrend.STEADY),
        ([CALM, CALM, ANGRY], MoodTrend.RISING),
        ([CALM, NEGATIVE], MoodTrend.RISING),
        ([ANGRY, ANGRY, NEGATIVE], MoodTrend.FALLING),
        ([ANGRY, CALM], MoodTrend.FALLING),
        ([NEGATIVE, NEGATIVE, NEGATIVE], MoodTrend.STEADY),
        # Only the latest few count: long-ago anger does not make today's calm a fall.
        ([ANGRY, ANGRY, ANGRY, CALM, CALM, CALM, CALM], MoodTrend.STEADY),
    ],
)
def test_trend_over_the_latest_messages(moods: list[Mood], expected: MoodTrend) -> None:
    assert trend(moods) is expected
