"""Shared slot extraction for forms: a question asked mid-form is answered, not taken as a value."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rasa_sdk import Tracker

# Intents that leave the current question to the rules (cancel, fix a field, a person) when the
# classifier is sure of them, or when the text is no valid answer anyway: "7 Elm Street, flat 1" can
# look a little like "change the flat number", and is still the address asked for.
INTERRUPTING_INTENTS = frozenset({"cancel", "correct_field", "request_human"})
INTERRUPT_CONFIDENCE = 0.8
# Questions the bot answers mid-form before asking again, when the classifier is sure of them.
QUESTION_INTENTS = frozenset({"faq", "ask_tariffs"})
QUESTION_CONFIDENCE = 0.7


def extract_answer(tracker: Tracker, slot: str, looks_valid: Callable[[str], bool]) -> dict[str, Any]:
    """The latest message as the value of the requested slot, unless it is clearly something else.

    A valid-looking value wins over the intent ("Ivan Petrov" is a name even when the classifier
    guesses a question); an invalid one is still taken, so the validator can say what is wrong.
    """
    if tracker.get_slot("requested_slot") != slot:
        return {}
    text = str(tracker.latest_message.get("text") or "").strip()
    intent = tracker.latest_message.get("intent") or {}
    name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
    if not text or text.startswith("/"):
        return {}
    valid = looks_valid(text)
    if name in INTERRUPTING_INTENTS and (confidence >= INTERRUPT_CONFIDENCE or not valid):
        return {}
    if valid:
        return {slot: text}
    if name in QUESTION_INTENTS and confidence >= QUESTION_CONFIDENCE:
        return {}
    return {slot: text}
