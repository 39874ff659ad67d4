"""The bot's chat replies as the phone reads them out."""

from __future__ import annotations

from ivr.spoken_text import speakable


def test_order_and_phone_numbers_are_said_digit_by_digit_in_any_script() -> None:
    assert speakable("Your order number is 3141592.") == "Your order number is 3 1 4 1 5 9 2."
    assert speakable("شماره سفارش شما \u2066۳۱۴۱۵۹۲\u2069 است") == "شماره سفارش شما ۳ ۱ ۴ ۱ ۵ ۹ ۲ است"
    # Quantities stay numbers: "300 megabits", "1000", a price.
    assert speakable("1000 megabits, 35 US dollars") == "1000 megabits, 35 US dollars"


def test_a_list_is_read_as_sentences_without_bullets() -> None:
    listed = "Our tariffs:\n• Home 100: 100 megabits\n• Home 300: 300 megabits\nWhich one?"
    assert speakable(listed) == "Our tariffs: Home 100: 100 megabits. Home 300: 300 megabits. Which one?"
