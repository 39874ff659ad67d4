"""Shared slot extraction for forms: a question asked mid-form is answered, not taken as a value."""

from __future__ import annotations

from collections.abc import Callable, Collection
from typing import Any

from rasa_sdk import Tracker

# Intents that leave the current question to the rules (cancel, fix a field, a person) when the
# classifier is sure of them, or when the text is no valid answer anyway: "7 Elm Street, flat 1" can
# look like "change the flat number", and is still the address asked for.
INTERRUPTING_INTENTS = frozenset({"cancel", "correct_field", "request_human"})
INTERRUPT_CONFIDENCE = 0.8
# Questions the bot answers mid-form before asking again, when the classifier is sure of them.
QUESTION_INTENTS = frozenset({"faq", "ask_tariffs"})
QUESTION_CONFIDENCE = 0.7


def extract_answer(
    tracker: Tracker,
    slot: str,
    looks_valid: Callable[[str], bool],
    *,
    fields: Collection[str] = (),
    free_text: bool = False,
) -> dict[str, Any]:
    """The latest message as the value of the requested slot, unless it is clearly something else.

    A valid-looking value wins over the intent ("Ivan Petrov" is a name even when the classifier
    guesses a question); an invalid one is still taken, so the validator can say what is wrong.
    `fields` are the form's slots a correction can name; `free_text` says a valid value can still
    be a command ("change the name" has the shape of a name, "7 Elm Street" no command's).
    """
    if tracker.get_slot("requested_slot") != slot:
        return {}
    text = str(tracker.latest_message.get("text") or "").strip()
    intent = tracker.latest_message.get("intent") or {}
    name, confidence = intent.get("name"), float(intent.get("confidence") or 0.0)
    if not text or text.startswith("/"):
        return {}
    valid = looks_valid(text)
    interrupting = name in INTERRUPTING_INTENTS
    if interrupting and _interrupts(tracker, slot, name, confidence, valid, fields, free_text):
        return {}
    if valid:
        return {slot: text}
    if name in QUESTION_INTENTS and confidence >= QUESTION_CONFIDENCE:
        return {}
    return {slot: text}


def _interrupts(
    tracker: Tracker, slot: str, intent: str, confidence: float, valid: bool,
    fields: Collection[str], free_text: bool,
) -> bool:  # fmt: skip
    """Whether a cancel, correction or call for a person leaves the question to the rules."""
    if not valid:
        return True
    if confidence < INTERRUPT_CONFIDENCE:
        return False
    if intent != "correct_field" or free_text:
        return True
    # A well-formed answer the classifier calls a correction is the answer, unless it names another
    # field: "15 Baker St, flat 2" is the address, "change the phone to 0912 345 6789" is not.
    named = set(tracker.get_latest_entity_values("field")) & set(fields)
    return bool(named - {slot})
