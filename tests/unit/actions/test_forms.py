"""A form takes the answer as the value asked for unless the message clearly says something else."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from actions.forms import extract_answer
from actions.parsing import parse_address


def asked_for_address(text: str, intent: str, confidence: float) -> Tracker:
    message: dict[str, Any] = {"text": text, "intent": {"name": intent, "confidence": confidence}}
    return Tracker("web:1:1", {"requested_slot": "address"}, message, [], False, None, {}, "")


def answer(text: str, intent: str, confidence: float) -> dict[str, Any]:
    return extract_answer(
        asked_for_address(text, intent, confidence), "address", lambda t: parse_address(t) is not None
    )


def test_an_address_that_looks_a_little_like_a_correction_is_the_address() -> None:
    assert answer("7 Elm Street, flat 1", "correct_field", 0.55) == {"address": "7 Elm Street, flat 1"}


def test_a_sure_correction_or_cancel_leaves_the_question_to_the_rules() -> None:
    assert answer("change the address", "correct_field", 0.99) == {}
    assert answer("stop, cancel the order", "cancel", 0.95) == {}


def test_an_unsure_interruption_that_is_no_address_is_not_taken_as_one() -> None:
    assert answer("operator", "request_human", 0.6) == {}


def test_a_question_the_classifier_is_sure_of_is_answered_not_stored() -> None:
    assert answer("what are your opening hours", "faq", 0.95) == {}
