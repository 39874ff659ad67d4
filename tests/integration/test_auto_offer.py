"""Auto-offer: a waiting session goes to the longest-idle online operator who has the skill and language."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack

import pytest
from sqlalchemy import select

from core.models import Operator, SessionEvent
from core.settings import Settings
from handoff.operators import save_operator
from tests.chat import FrontLine, running_front_line
from tests.integration.test_operator_api import escalated_customer, log_in


async def add(settings: Settings, login: str, languages: list[str], skills: list[str] | None = None) -> None:
    await save_operator(
        settings, login, f"{login}-secret-pw", display_name=login.title(),
        skills=skills or ["general"], languages=languages, max_sessions=2,
    )  # fmt: skip


async def operator_ids(front_line: FrontLine) -> dict[str, int]:
    async with front_line.db() as db:
        return {o.login: o.id for o in await db.scalars(select(Operator))}


@pytest.fixture
async def short_offers(settings_without_bot: Settings) -> AsyncIterator[FrontLine]:
    settings = settings_without_bot.model_copy(update={"offer_timeout_seconds": 1})
    async with running_front_line(settings) as front_line:
        yield front_line


async def test_offers_go_to_the_longest_idle_able_operator_and_move_on_when_not_taken(
    short_offers: FrontLine, settings_without_bot: Settings
) -> None:
    front_line, http = short_offers, short_offers.http
    handoff, offers = front_line.app.state.handoff, front_line.app.state.auto_offers
    for login, languages in (("anna", ["en"]), ("boris", ["en", "ru"]), ("ali", ["ar", "fa"])):
        await add(settings_without_bot, login, languages)
    ids = await operator_ids(front_line)
    async with AsyncExitStack() as consoles:
        for login in ("anna", "boris", "ali"):  # anna opened her console first: idle longest
            await consoles.enter_async_context(front_line.app.state.presence.online(ids[login]))
            await asyncio.sleep(0.01)
        first = await escalated_customer(front_line)
        second = await escalated_customer(front_line)
        arabic = front_line.customer()
        await http.post(
            "/api/chat", json={"customer": arabic.id, "text": "الإنترنت لا يعمل", "language": "ar"}
        )

        assert await offers.offer_waiting() == 3
        tickets = {c: await front_line.ticket(c.last["session_id"]) for c in (first, second)}
        arabic_ticket = (await handoff.queue())[-1]
        assert tickets[first].offered_to == ids["anna"]  # type: ignore[union-attr]
        assert tickets[second].offered_to == ids["boris"]  # type: ignore[union-attr]
        assert arabic_ticket.offered_to == ids["ali"]

        # While the offer stands, a colleague cannot take the ticket; its operator can.
        first_id = tickets[first].id  # type: ignore[union-attr]
        boris = await log_in(http, "boris")
        taken = await http.post(f"/api/operator/tickets/{first_id}/claim", headers=boris)
        assert taken.status_code == 409 and "offered to a colleague" in taken.json()["detail"]

        # Boris does not answer his offer in time: it passes to someone else who can take it.
        await asyncio.sleep(1.1)
        anna = await log_in(http, "anna")
        assert (await http.post(f"/api/operator/tickets/{first_id}/claim", headers=anna)).status_code == 200
        await offers.offer_waiting()
        second_ticket = await front_line.ticket(second.last["session_id"])
        assert second_ticket is not None and second_ticket.offered_to == ids["anna"]

    async with front_line.db() as db:
        offered = list(await db.scalars(select(SessionEvent.detail).where(SessionEvent.kind == "offered")))
    # The Arabic ticket's offer also ran out: only Ali speaks Arabic, so it is his again.
    assert [(d["ticket_id"], d["operator_id"]) for d in offered][3:] == [
        (second_ticket.id, ids["anna"]),
        (arabic_ticket.id, ids["ali"]),
    ]
    # Nobody online: nothing is offered.
    assert await offers.offer_waiting() == 0


async def test_with_auto_offer_on_a_new_ticket_is_offered_without_anyone_asking(
    settings_without_bot: Settings,
) -> None:
    settings = settings_without_bot.model_copy(update={"auto_offer": True})
    async with running_front_line(settings) as front_line:
        await add(settings, "anna", ["en"])
        anna_id = (await operator_ids(front_line))["anna"]
        async with front_line.app.state.presence.online(anna_id):
            customer = await escalated_customer(front_line)
            for _ in range(50):
                ticket = await front_line.ticket(customer.last["session_id"])
                if ticket is not None and ticket.offered_to == anna_id:
                    break
                await asyncio.sleep(0.05)
            assert ticket is not None and ticket.offered_to == anna_id
