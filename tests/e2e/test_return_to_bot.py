"""An operator hands the session back; the bot carries on with what it knew."""

from __future__ import annotations

import pytest

from core.settings import Settings
from handoff.operators import save_operator
from tests.chat import FrontLine

pytestmark = pytest.mark.e2e


async def test_return_to_bot_keeps_the_order_details(front_line: FrontLine, stack_settings: Settings) -> None:
    customer = front_line.customer()
    await customer.say("I want to connect internet at home")
    await customer.say("Ivan Petrov")
    await customer.say("+7 916 123-45-67")
    assert "address" in customer.text
    await customer.say("I want to talk to a real person")
    reply = await customer.say("yes")
    assert reply["state"] == "queued"

    await save_operator(
        stack_settings, "lena", "lena-secret-pw", display_name="Lena",
        skills=["orders"], languages=["en"], max_sessions=3,
    )  # fmt: skip
    http = front_line.http
    token = (
        await http.post("/api/operator/login", json={"login": "lena", "password": "lena-secret-pw"})
    ).json()
    auth = {"Authorization": f"Bearer {token['token']}"}
    ticket = next(
        t for t in (await http.get("/api/operator/queue", headers=auth)).json()
        if t["session_id"] == reply["session_id"]
    )  # fmt: skip
    card = (await http.get(f"/api/operator/tickets/{ticket['id']}", headers=auth)).json()["card"]
    assert card["slots"]["full_name"] == "Ivan Petrov" and card["slots"]["phone"] == "+79161234567"

    assert (await http.post(f"/api/operator/tickets/{ticket['id']}/claim", headers=auth)).status_code == 200
    await http.post(
        f"/api/operator/tickets/{ticket['id']}/messages", headers=auth, json={"text": "Let's go on"}
    )
    back = await http.post(f"/api/operator/tickets/{ticket['id']}/return-to-bot", headers=auth)
    assert back.status_code == 204

    reply = await customer.say("I want to connect internet")
    assert reply["state"] == "bot"
    assert "address for the connection" in customer.text
    assert "full name" not in customer.text.split("\n")[-1]
    assert await front_line.event_kinds(reply["session_id"]) == [
        "opened", "handoff_requested", "claimed", "first_operator_reply", "returned_to_bot",
    ]  # fmt: skip


async def test_a_waiting_customer_can_go_back_to_the_bot(front_line: FrontLine) -> None:
    customer = front_line.customer()
    await customer.say("I want to speak to an operator")
    reply = await customer.say("yes")
    assert reply["state"] == "queued"
    assert "in the queue" in customer.text
    assert customer.buttons[-1]["payload"] == "/back_to_bot"

    back = await customer.say("/back_to_bot")
    assert back["state"] == "bot" and "back with the virtual assistant" in customer.text
    await customer.say("what are your opening hours")
    assert "08:00" in customer.text
    ticket = await front_line.ticket(reply["session_id"])
    assert ticket is not None and ticket.disposition == "abandoned"
    kinds = await front_line.event_kinds(reply["session_id"])
    assert kinds == ["opened", "handoff_requested", "abandoned", "returned_to_bot"]
