"""A form takes the answer as the value asked for unless the message clearly says something else."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker

from actions.forms import extract_answer
from actions.orders import ORDER_FIELDS
from actions.parsing import parse_address, parse_full_name


def asked_for(slot: str, text: str, intent: str, confidence: float, field: str | None) -> Tracker:
    entities = [{"entity": "field", "value": field}] if field else []
    message: dict[str, Any] = {
        "text": text,
        "intent": {"name": intent, "confidence": confidence},
        "entities": entities,
    }
    return Tracker("web:1:1", {"requested_slot": slot}, message, [], False, None, {}, "")


def answer(text: str, intent: str, confidence: float, field: str | None = None) -> dict[str, Any]:
    return extract_answer(
        asked_for("address", text, intent, confidence, field), "address",
        lambda t: parse_address(t) is not None, fields=ORDER_FIELDS,
    )  # fmt: skip


def name_answer(text: str, intent: str, confidence: float) -> dict[str, Any]:
    return extract_answer(
        asked_for("full_name", text, intent, confidence, None), "full_name",
        lambda t: parse_full_name(t) is not None, fields=ORDER_FIELDS, free_text=True,
    )  # fmt: skip


def test_an_address_that_looks_a_little_like_a_correction_is_the_address() -> None:
    assert answer("7 Elm Street, flat 1", "correct_field", 0.55) == {"address": "7 Elm Street, flat 1"}


def test_a_well_formed_address_is_the_address_however_sure_the_correction_guess() -> None:
    assert answer("7 Elm Street, flat 1", "correct_field", 0.93) == {"address": "7 Elm Street, flat 1"}
    said = "no, the address is 7 Elm Street"
    assert answer(said, "correct_field", 0.97, field="address") == {"address": said}


def test_a_sure_correction_of_another_field_leaves_the_question_even_with_a_number_in_it() -> None:
    assert answer("change the phone to 0912 345 6789", "correct_field", 0.95, field="phone") == {}


def test_a_sure_correction_shaped_like_a_name_is_no_name() -> None:
    assert name_answer("change the name", "correct_field", 0.95) == {}
    assert name_answer("Ivan Petrov", "correct_field", 0.6) == {"full_name": "Ivan Petrov"}


def test_a_sure_correction_or_cancel_leaves_the_question_to_the_rules() -> None:
    assert answer("change the address", "correct_field", 0.99) == {}
    assert answer("stop, cancel the order", "cancel", 0.95) == {}


def test_an_unsure_interruption_that_is_no_address_is_not_taken_as_one() -> None:
    assert answer("operator", "request_human", 0.6) == {}


def test_a_question_the_classifier_is_sure_of_is_answered_not_stored() -> None:
    assert answer("what are your opening hours", "faq", 0.95) == {}
