"""Turning Rasa's REST messages into customer replies, and spotting the handoff signal."""

from core.conversation import parse_bot_replies
from core.schemas import Button, Reply


def test_text_and_buttons_become_replies() -> None:
    replies, handoff = parse_bot_replies(
        [
            {"recipient_id": "x", "text": "Hello", "buttons": [{"title": "Yes", "payload": "/affirm"}]},
            {"recipient_id": "x", "text": "Second"},
        ]
    )
    assert replies == (Reply("Hello", (Button("Yes", "/affirm"),)), Reply("Second"))
    assert handoff is None


def test_handoff_payload_is_found_and_not_shown_to_the_customer() -> None:
    payload = {"reason": "complaint", "topic": "complaints", "summary": "Complaint: “rude”"}
    replies, handoff = parse_bot_replies(
        [
            {"recipient_id": "x", "text": "Passing you on"},
            {"recipient_id": "x", "custom": {"handoff": payload}},
        ]
    )
    assert replies == (Reply("Passing you on"),)
    assert handoff == payload
