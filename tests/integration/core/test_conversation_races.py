"""Races between a customer, the queue sweeper and operators: every one goes through the lifecycle,
so the later of two changes sees the earlier one instead of undoing it."""

from __future__ import annotations

from datetime import timedelta

import pytest

from core.settings import Settings
from tests.chat import FrontLine
from tests.integration.test_operator_api import add_operator, customer_sees, escalated_customer, log_in


async def test_leaving_the_queue_while_an_operator_claims_leaves_the_session_with_the_operator(
    front_line_without_bot: FrontLine, settings_without_bot: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    anna = await log_in(http, "anna")
    customer = await escalated_customer(front_line)
    session_id = customer.last["session_id"]
    ticket = await front_line.ticket(session_id)
    assert ticket is not None
    waiting = front_line.app.state.waiting

    async def resume_while_anna_claims(_sender_id: str) -> None:
        # The customer pressed "back to the bot"; while Rasa resumes, Anna's claim goes through.
        claimed = await http.post(f"/api/operator/tickets/{ticket.id}/claim", headers=anna)
        assert claimed.status_code == 200

    monkeypatch.setattr(waiting._rasa, "resume", resume_while_anna_claims)
    await customer.say("/back_to_bot")

    assert customer.last["state"] == "operator"
    after = await front_line.ticket(session_id)
    assert after is not None and after.status == "assigned" and after.disposition is None
    assert await front_line.event_kinds(session_id) == ["opened", "handoff_requested", "claimed"]


async def test_a_long_wait_claimed_meanwhile_is_not_offered_a_callback(
    front_line_without_bot: FrontLine, settings_without_bot: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    anna = await log_in(http, "anna")
    customer = await escalated_customer(front_line)
    session_id = customer.last["session_id"]
    ticket = await front_line.ticket(session_id)
    assert ticket is not None
    callbacks, sweeps = front_line.app.state.callbacks, front_line.app.state.sweeps
    offer = callbacks.offer

    async def anna_claims_first(session_id: int, why: str) -> object:
        # The sweeper found the long wait; Anna claims it before the offer is written.
        assert (await http.post(f"/api/operator/tickets/{ticket.id}/claim", headers=anna)).status_code == 200
        return await offer(session_id, why)

    monkeypatch.setattr(callbacks, "offer", anna_claims_first)
    assert await sweeps.offer_callbacks_to_long_waits(timedelta(0)) == 0

    assert not any("call you back" in m["text"] for m in await customer_sees(front_line, customer))
    assert "callback_offered" not in await front_line.event_kinds(session_id)


async def test_asking_for_a_person_twice_keeps_one_ticket_and_one_wait(
    front_line_without_bot: FrontLine,
) -> None:
    """A caller presses 0, the transfer fails, they decline the callback and press 0 again."""
    front_line = front_line_without_bot
    state = front_line.app.state
    session_id = await state.calls.start_call(
        "tel:+15550100", channel="phone", language="en", phone="+15550100"
    )
    ask = {"reason": "customer_request", "topic": "general", "summary": "0 pressed"}

    first = await state.escalation.escalate(session_id, **ask)
    second = await state.escalation.escalate(session_id, **ask)

    assert second == first
    assert await front_line.event_kinds(session_id) == ["opened", "handoff_requested"]
    # The sweep ends the one real wait once; no second, forgotten ticket is abandoned later.
    assert await state.sweeps.abandon_stale_waits(timedelta(0)) == 1
    assert await state.sweeps.abandon_stale_waits(timedelta(0)) == 0
    assert (await front_line.event_kinds(session_id)).count("abandoned") == 1
