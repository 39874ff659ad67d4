"""Rasa stops in the middle of a conversation: a holding reply, a queued session, nothing lost."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.chat import FrontLine
from tests.e2e.conftest import RasaStack

pytestmark = pytest.mark.e2e


@pytest.fixture
def rasa_restarted_after(rasa_stack: RasaStack) -> Iterator[RasaStack]:
    yield rasa_stack
    rasa_stack.stop()
    rasa_stack.start()


async def test_rasa_stopped_mid_conversation(front_line: FrontLine, rasa_restarted_after: RasaStack) -> None:
    customer = front_line.customer()
    await customer.say("hi")
    assert customer.last["state"] == "bot" and "Demo Telecom" in customer.text

    rasa_restarted_after.stop()
    reply = await customer.say("my internet has been down since yesterday")
    assert reply["state"] == "queued"
    assert "operator" in customer.text and "lost" in customer.text
    await customer.say("hello?")
    assert customer.last["state"] == "queued"

    said = await front_line.customer_texts(reply["session_id"])
    ticket = await front_line.ticket(reply["session_id"])
    assert said == ["hi", "my internet has been down since yesterday", "hello?"]
    assert ticket is not None and ticket.reason == "bot_unavailable"
    assert [m["text"] for m in ticket.card["transcript"] if m["direction"] == "in"] == said[:2]
