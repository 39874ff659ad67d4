"""The customer's mood through the real app and database: stored with each message, shown with its
trend in the queue and the card, an angry wait moved up the queue, and the mood figures."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import select

from core.conversation import PERSON_NOW
from core.kinds import LiveEventKind
from core.models import Message, OutboxEvent
from core.settings import Settings
from tests.chat import Customer, FrontLine, running_front_line
from tests.integration.test_operator_api import add_operator, escalated_customer, log_in


async def _queue(front_line: FrontLine, auth: dict[str, str]) -> list[dict[str, Any]]:
    response = await front_line.http.get("/api/operator/queue", headers=auth)
    assert response.status_code == 200, response.text
    return list(response.json())


async def test_moods_are_stored_and_an_angry_wait_moves_up_the_queue(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    front_line = front_line_without_bot
    await add_operator(settings_without_bot, "anna", "Anna")
    anna = await log_in(front_line.http, "anna")

    # With no bot, each first message goes to the queue: a calm one, then an angry one in Russian.
    calm = await escalated_customer(front_line, "hello, my router is blinking red, can you check?")
    angry = await escalated_customer(front_line, "ВЫ ВОРЫ, ВЕРНИТЕ МОИ ДЕНЬГИ!!!")
    # A third customer waits calmly, then loses patience in Persian while still waiting.
    late = await escalated_customer(front_line, "سلام، اینترنتم از صبح قطعه")
    queue = await _queue(front_line, anna)
    assert [t["session_id"] for t in queue][:1] == [angry.last["session_id"]]

    await late.say("دزدا!!! سه روزه اینترنت ندارم، کلاهبردارا")
    queue = await _queue(front_line, anna)
    by_session = {t["session_id"]: t for t in queue}
    # Angry waits first (the earlier one first among them), then the calm one that came before.
    assert [t["session_id"] for t in queue] == [
        angry.last["session_id"],
        late.last["session_id"],
        calm.last["session_id"],
    ]
    assert by_session[calm.last["session_id"]]["mood"] == "calm"
    assert by_session[calm.last["session_id"]]["mood_trend"] == "steady"
    assert by_session[late.last["session_id"]]["mood"] == "angry"
    assert by_session[late.last["session_id"]]["mood_trend"] == "rising"

    async with front_line.db() as db:
        stored = (
            await db.execute(
                select(Message.author, Message.mood).where(Message.session_id == late.last["session_id"])
            )
        ).all()
        moved = list(
            await db.scalars(select(OutboxEvent.payload).where(OutboxEvent.kind == LiveEventKind.TICKET_MOOD))
        )
    # Customer messages carry their mood; the front line's own replies carry none.
    assert [m for a, m in stored if a == "customer"] == ["calm", "angry"]
    assert {m for a, m in stored if a != "customer"} == {None}
    # Consoles hear that the late customer's ticket moved (the angry first one was queued so).
    assert [p["session_id"] for p in moved] == [late.last["session_id"]]

    ticket_id = by_session[late.last["session_id"]]["id"]
    details = (await front_line.http.get(f"/api/operator/tickets/{ticket_id}", headers=anna)).json()
    assert details["ticket"]["mood"] == "angry" and details["ticket"]["mood_trend"] == "rising"
    assert [m["mood"] for m in details["messages"] if m["author"] == "customer"] == ["calm", "angry"]


async def test_mood_figures_count_tickets_that_ended_calmer(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    anna = await log_in(http, "anna")

    async def handled(first: str, last: str | None) -> None:
        customer = await escalated_customer(front_line, first)
        ticket = await front_line.ticket(customer.last["session_id"])
        assert ticket is not None
        assert (await http.post(f"/api/operator/tickets/{ticket.id}/claim", headers=anna)).status_code == 200
        if last is not None:
            await customer.say(last)
        closed = await http.post(
            f"/api/operator/tickets/{ticket.id}/close", headers=anna, json={"disposition": "resolved"}
        )
        assert closed.status_code == 204, closed.text

    # Angry at the start, thankful at the close; upset and still upset; calm and never a word more.
    await handled("это просто издевательство, мошенники!!!", "спасибо большое, всё заработало")
    await handled("really disappointed, the internet is down again", "still not working, this is bad")
    await handled("hi, how much is the 100 mbit tariff?", None)

    report = await http.get("/api/operator/kpi/moods", headers=anna, params={"group_by": "language"})
    assert report.status_code == 200, report.text
    body = report.json()
    total = body["total"]
    assert total["tickets"] == 3
    assert total["at_start"] == {"calm": 1, "negative": 1, "angry": 1}
    assert total["at_close"] == {"calm": 2, "negative": 1, "angry": 0}
    assert total["ended_calmer"] == 1 and total["ended_more_upset"] == 0
    assert total["upset_calmed_rate"] == 0.5
    by_language = {g["key"]: g for g in body["groups"]}
    assert by_language["ru"]["ended_calmer"] == 1 and by_language["en"]["ended_calmer"] == 0


@pytest.fixture
async def front_line_with_bot(stack_settings: Settings) -> AsyncIterator[FrontLine]:
    async with running_front_line(stack_settings) as front_line:
        yield front_line


async def test_a_customer_angry_with_the_bot_twice_is_offered_a_person_and_may_stay(
    front_line_with_bot: FrontLine,
) -> None:
    front_line = front_line_with_bot
    stays = front_line.customer(language="en")
    await stays.say("WHAT ARE YOUR TARIFFS, YOU THIEVES???")
    assert PERSON_NOW not in _payloads(stays)
    await stays.say("HOW MUCH IS 100 MBIT, THIEVES!!!")
    assert stays.last["state"] == "bot"
    assert PERSON_NOW in _payloads(stays)
    # Not taken: the bot goes on, and the offer is not repeated at the next angry message.
    await stays.say("WHAT ARE YOUR TARIFFS, THIEVES!!!")
    assert stays.last["state"] == "bot" and PERSON_NOW not in _payloads(stays)

    takes = front_line.customer(language="ru")
    await takes.say("КАКИЕ У ВАС ТАРИФЫ, ВОРЫ???")
    await takes.say("СКОЛЬКО СТОИТ 100 МБИТ, ВОРЫ!!!")
    assert PERSON_NOW in _payloads(takes)
    taken = await takes.say(PERSON_NOW)
    assert taken["state"] == "queued"
    ticket = await front_line.ticket(takes.last["session_id"])
    assert ticket is not None
    # Queued at once, as an upset customer, ahead of calm waits.
    assert ticket.reason == "customer_upset" and ticket.priority > 0


def _payloads(customer: Customer) -> list[str]:
    return [b["payload"] for b in customer.buttons]
