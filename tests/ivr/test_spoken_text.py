"""The bot's chat replies as the phone reads them out."""

from __future__ import annotations

import pytest

from core.conversation import PERSON_NOW
from core.messages import load_system_messages
from core.schemas import Button, Reply
from core.settings import PROJECT_ROOT
from ivr.menu import load_menu
from ivr.spoken_text import speakable, spoken_replies

SYSTEM_MESSAGES = PROJECT_ROOT / "business" / "system_messages.yml"


def test_order_and_phone_numbers_are_said_digit_by_digit_in_any_script() -> None:
    assert speakable("Your order number is 3141592.") == "Your order number is 3 1 4 1 5 9 2."
    assert speakable("شماره سفارش شما \u2066۳۱۴۱۵۹۲\u2069 است") == "شماره سفارش شما ۳ ۱ ۴ ۱ ۵ ۹ ۲ است"
    # Quantities stay numbers: "300 megabits", "1000", a price.
    assert speakable("1000 megabits, 35 US dollars") == "1000 megabits, 35 US dollars"


def test_a_list_is_read_as_sentences_without_bullets() -> None:
    listed = "Our tariffs:\n• Home 100: 100 megabits\n• Home 300: 300 megabits\nWhich one?"
    assert speakable(listed) == "Our tariffs: Home 100: 100 megabits. Home 300: 300 megabits. Which one?"


@pytest.mark.parametrize("language", ["en", "ru", "ar", "fa"])
def test_an_upset_caller_hears_which_key_reaches_a_person_not_the_chats_button(language: str) -> None:
    """The core offers an upset customer a person with a chat button; on the phone the menu's own
    offer (a key to press) is said in its place, and the bot's answer before it is still said."""
    messages = load_system_messages(SYSTEM_MESSAGES, "en")
    offer_text = messages.get("mood_person_offer", language)
    button = Button(messages.get("mood_person_button", language), PERSON_NOW)
    replies = (Reply("Our tariffs start at 10 dollars."), Reply(offer_text, (button,)))
    offer_operator = load_menu().text("offer_operator", language)
    spoken = spoken_replies(replies, offer_operator)
    assert spoken == speakable(f"Our tariffs start at 10 dollars.\n{offer_operator}")
    assert offer_text not in spoken and "0" in spoken
