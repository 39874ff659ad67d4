"""Out of hours, or after a long wait, a customer can book a callback: a task operators claim and close."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from app.factory import SYSTEM_MESSAGES
from core.messages import load_system_messages
from core.settings import Settings
from tests.chat import FrontLine, running_front_line
from tests.integration.test_operator_api import add_operator, customer_sees, escalated_customer, log_in

MOSCOW = ZoneInfo("Europe/Moscow")
# Open one hour a week, on the weekday three days from now: the test never runs inside it.
OPEN_DAY = (datetime.now(MOSCOW) + timedelta(days=3)).weekday()
DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@pytest.fixture
async def closed_front_line(settings_without_bot: Settings, tmp_path: Path) -> AsyncIterator[FrontLine]:
    hours = tmp_path / "hours.yml"
    hours.write_text(
        f'timezone: Europe/Moscow\nweek: {{{DAYS[OPEN_DAY]}: ["09:00-10:00"]}}\nholidays: []\n',
        encoding="utf-8",
    )
    settings = settings_without_bot.model_copy(update={"hours_path": hours})
    async with running_front_line(settings) as front_line:
        yield front_line


def _is_the_opening(moment: datetime) -> bool:
    local = moment.astimezone(MOSCOW)
    return local.weekday() == OPEN_DAY and (local.hour, local.minute) == (9, 0)


async def test_out_of_hours_the_customer_books_a_callback_and_an_operator_closes_it(
    closed_front_line: FrontLine, settings_without_bot: Settings
) -> None:
    front_line, http = closed_front_line, closed_front_line.http
    customer = front_line.customer()
    await customer.say("my internet is down since the morning")
    offer = customer.last["replies"][-1]
    assert "not at work right now" in offer["text"] and "(Europe/Moscow)" in offer["text"]
    assert [b["payload"] for b in offer["buttons"]] == ["/callback", "/back_to_bot"]

    await customer.say("/callback")
    assert "Which phone number" in customer.text
    await customer.say("call me maybe")
    assert "doesn't look like a phone number" in customer.text
    await customer.say("+7 (916) 123-45-67")
    assert customer.last["state"] == "closed"
    assert "+79161234567" in customer.text and "after we open on" in customer.text

    await add_operator(settings_without_bot, "olga", "Olga")
    auth = await log_in(http, "olga")
    callbacks = (await http.get("/api/operator/callbacks", headers=auth)).json()
    assert len(callbacks) == 1
    task = callbacks[0]
    assert task["kind"] == "callback" and task["callback_phone"] == "+79161234567"
    assert _is_the_opening(datetime.fromisoformat(task["callback_after"]))
    session_id = task["session_id"]
    assert "callback_requested" in await front_line.event_kinds(session_id)
    card = (await http.get(f"/api/operator/tickets/{task['id']}", headers=auth)).json()["card"]
    assert card["transcript"][0]["text"] == "my internet is down since the morning"

    assert (await http.post(f"/api/operator/tickets/{task['id']}/claim", headers=auth)).status_code == 200
    refused = await http.post(
        f"/api/operator/tickets/{task['id']}/messages", headers=auth, json={"text": "hi"}
    )
    assert refused.status_code == 409 and "+79161234567" in refused.json()["detail"]
    closed = await http.post(
        f"/api/operator/tickets/{task['id']}/close", headers=auth, json={"disposition": "resolved"}
    )
    assert closed.status_code == 204
    assert (await http.get("/api/operator/callbacks", headers=auth)).json() == []
    done = (await http.get("/api/operator/callbacks", headers=auth, params={"include_closed": True})).json()
    assert [t["status"] for t in done] == ["closed"]
    kinds = await front_line.event_kinds(session_id)
    assert kinds[-2:] == ["callback_claimed", "callback_closed"]
    # The customer was not sent an operator's goodbye or a survey for a phone call.
    texts = [m["text"] for m in await customer_sees(front_line, customer)]
    assert not any("rate the help" in t for t in texts)


async def test_a_callback_number_is_read_in_the_customers_digits_and_numbering_plan(
    closed_front_line: FrontLine,
) -> None:
    messages = load_system_messages(SYSTEM_MESSAGES, "en")
    customer = closed_front_line.customer()
    await customer.say("سلام اینترنتم از صبح قطعه")
    await customer.say("/callback")
    assert customer.text == messages.get("callback_phone_question", "fa")
    # Seven to fifteen digits are not enough: it must be a number Iran (or a country) could have.
    for not_a_number in ("۱۲۳۴۵۶۷۸", "0912 123"):
        await customer.say(not_a_number)
        assert customer.text == messages.get("callback_phone_invalid", "fa")
    await customer.say("۰۹۱۲ ۳۴۵ ۶۷۸۹")  # a national mobile number in Persian digits
    assert customer.last["state"] == "closed"
    ticket = await closed_front_line.ticket(customer.last["session_id"])
    assert ticket is not None and ticket.callback_phone == "+989123456789"


async def test_a_long_wait_is_offered_a_callback_once_and_the_known_number_is_used(
    front_line_without_bot: FrontLine,
) -> None:
    front_line = front_line_without_bot
    sweeps = front_line.app.state.sweeps
    customer = await escalated_customer(front_line)
    assert "number 1 in the queue" in customer.text

    assert await sweeps.offer_callbacks_to_long_waits(timedelta(0)) == 1
    assert await sweeps.offer_callbacks_to_long_waits(timedelta(0)) == 0
    offers = [m for m in await customer_sees(front_line, customer) if "call you back" in m["text"]]
    assert len(offers) == 1 and offers[0]["buttons"][0]["payload"] == "/callback"

    # A number the customer already gave (for example in an order) is not asked again.
    session_id = customer.last["session_id"]
    async with front_line.db() as db, db.begin():
        from core.models import ConversationSession, Customer

        session = await db.get(ConversationSession, session_id)
        assert session is not None
        (await db.get(Customer, session.customer_id)).phone = "+971501234567"  # type: ignore[union-attr]
    await customer.say("/callback")
    assert customer.last["state"] == "closed"
    assert "+971501234567" in customer.text and "as soon as an operator is free" in customer.text
    ticket = await front_line.ticket(session_id)
    assert ticket is not None and ticket.kind == "callback"
    # A booked callback is not a wait: the timeout sweep leaves it alone.
    assert await sweeps.abandon_stale_waits(timedelta(0)) == 0


async def test_a_channel_books_a_callback_directly(front_line_without_bot: FrontLine) -> None:
    """How the voice menu books one: the card is stored first, the session ends."""
    front_line = front_line_without_bot
    callbacks = front_line.app.state.callbacks
    customer = await escalated_customer(front_line)
    session_id = customer.last["session_id"]
    ticket_id = await callbacks.request_callback(
        session_id, phone="+971501234567", reason="new_connection", topic="orders", summary="new line"
    )
    ticket = await front_line.ticket(session_id)
    assert ticket is not None and ticket.id == ticket_id and ticket.kind == "callback"
    assert ticket.card["transcript"][0]["text"] == "my router is blinking red"


async def test_a_typed_callback_number_does_not_open_someone_elses_orders(
    closed_front_line: FrontLine,
) -> None:
    """Typing a victim's number (here as the callback number) must not link their orders to you."""
    from datetime import date

    from sqlalchemy import select

    from core.models import Customer, Order
    from core.repo.orders import latest_order

    victim_phone = "+79161234567"
    async with closed_front_line.db() as db, db.begin():
        db.add(
            Order(number="2718281", full_name="Vera Victim", phone=victim_phone, address="1 Secret Lane",
                  tariff_code="home_300", visit_date=date(2027, 1, 5))
        )  # fmt: skip
    stranger = closed_front_line.customer()
    await stranger.say("my internet is down")
    await stranger.say("/callback")
    await stranger.say("+7 916 123-45-67")
    ticket = await closed_front_line.ticket(stranger.last["session_id"])
    assert ticket is not None and ticket.callback_phone == victim_phone  # the callback itself is kept
    async with closed_front_line.db() as db:
        card = await db.scalar(select(Customer).where(Customer.key == f"web:{stranger.id}"))
        assert card is not None and card.phone is None
        assert await latest_order(db, card.id, card.phone) is None  # "where is my order" finds nothing
