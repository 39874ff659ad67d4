"""Customers talking to the real trained bot through the HTTP chat API, on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import secrets

import pytest
from sqlalchemy import select

from core.models import ConversationSession, Order
from tests.chat import Customer, FrontLine

pytestmark = pytest.mark.e2e

FAQ = [
    ("what are your opening hours", "08:00"),
    ("how can i pay my bill", "bank card"),
    ("forgot my wifi password", "sticker"),
    ("what do i need to have ready for the technician", "passport"),
    ("how do I cancel my contract with you", "30 days"),
]


@pytest.mark.parametrize(("question", "expected"), FAQ)
async def test_frequently_asked_questions_get_their_answer(
    front_line: FrontLine, question: str, expected: str
) -> None:
    customer = front_line.customer()
    reply = await customer.say(question)
    assert reply["state"] == "bot"
    assert expected in customer.text


async def test_tariffs_and_prices_come_from_the_catalogue(front_line: FrontLine) -> None:
    customer = front_line.customer()
    await customer.say("what tariffs do you have and how much are they")
    assert "Home 300: 300 Mbit/s, $35.00 a month" in customer.text
    assert "Home Gigabit" in customer.text


async def place_order(
    customer: Customer, address: str = "12 Park Lane, flat 4", phone: str = "+7 916 123-45-67"
) -> str:
    """A whole order, answered the way a customer would; returns the order number."""
    await customer.say("I'd like to get internet connected at home")
    assert "full name" in customer.text
    await customer.say("Ivan Petrov")
    await customer.say(phone)
    await customer.say(address)
    assert "Home 300" in [b["payload"] for b in customer.buttons]
    await customer.say("Home 300")
    visit_day = customer.buttons[0]["payload"]  # the first day the bot suggests
    await customer.say(visit_day)
    assert "Please check your order" in customer.text
    await customer.say("yes")
    found = re.search(r"order number is (\d{7})", customer.text)
    assert found, customer.text
    return found.group(1)


async def test_order_with_a_correction_then_a_cancelled_second_order(front_line: FrontLine) -> None:
    customer = front_line.customer()
    await customer.say("I want to connect internet")
    await customer.say("Ivan Petrov")
    await customer.say("555 12")  # too short for any numbering plan
    assert "doesn't look like a phone number" in customer.text
    await customer.say("+7 916 123-45-67")
    await customer.say("12 Park Lane, flat 4")
    await customer.say("Home Gigabit")
    await customer.say("a saturday")
    assert "don't visit on that day" in customer.text or "couldn't read that date" in customer.text
    await customer.say(customer.buttons[0]["payload"])
    assert "Address: 12 Park Lane, flat 4" in customer.text

    await customer.say("change the address")
    assert "address for the connection" in customer.text
    await customer.say("15 Baker Street, flat 2")
    assert "Address: 15 Baker Street, flat 2" in customer.text
    await customer.say("yes")
    number = re.search(r"order number is (\d{7})", customer.text)
    assert number, customer.text

    await customer.say("I'd like one more connection, at my parents' place")
    await customer.say("Maria Petrova")
    await customer.say("cancel")
    assert "cancelled this order" in customer.text

    async with front_line.db() as db:
        orders = list(
            await db.scalars(
                select(Order).where(Order.phone == "+79161234567", Order.full_name.like("% Petrov%"))
            )
        )
        mine = [o for o in orders if o.number == number.group(1)]
        maria = [o for o in orders if o.full_name == "Maria Petrova"]
    assert len(mine) == 1 and not maria
    assert mine[0].address == "15 Baker Street, flat 2"
    assert mine[0].tariff_code == "home_gigabit"
    assert mine[0].visit_date.weekday() < 5


async def test_status_of_the_order_just_made(front_line: FrontLine) -> None:
    customer = front_line.customer()
    number = await place_order(customer)

    await customer.say("where is my order?")
    assert f"Order {number}" in customer.text and "received" in customer.text

    stranger = front_line.customer()
    await stranger.say("what's the status of my order")
    assert "7 digits" in stranger.text
    await stranger.say(number)
    assert f"Order {number} (Home 300)" in stranger.text
    await stranger.say("status of order 1000000")
    assert "couldn't find an order with number 1000000" in stranger.text


async def test_two_fallbacks_in_a_row_queue_the_session_with_a_full_card(front_line: FrontLine) -> None:
    customer = front_line.customer()
    await customer.say("hello")
    await customer.say("blorf zzkx qwerty")
    assert customer.last["state"] == "bot" and customer.text  # a clarifying reply, never silence
    await customer.say("xq vvb nnm plok")
    assert "operator" in customer.text
    reply = await customer.say("yes")
    assert reply["state"] == "queued"

    async with front_line.db() as db:
        session = await db.get(ConversationSession, reply["session_id"])
    ticket = await front_line.ticket(reply["session_id"])
    assert session is not None and session.state == "queued"
    assert ticket is not None and ticket.reason == "not_understood"
    card = ticket.card
    assert "blorf zzkx qwerty" in card["summary"] and "xq vvb nnm plok" in card["summary"]
    said = [m["text"] for m in card["transcript"] if m["direction"] == "in"]
    assert said == ["hello", "blorf zzkx qwerty", "xq vvb nnm plok", "yes"]
    assert any(m["author"] == "bot" for m in card["transcript"])
    assert [i["text"] for i in card["intents"]] == said
    assert card["intents"][0]["intent"] == "greet" and card["intents"][-1]["intent"] == "affirm"
    assert all(0 <= i["confidence"] <= 1 for i in card["intents"])
    assert card["customer"]["key"] == f"web:{customer.id}"
    assert card["dialogue_error"] is None
    assert await front_line.event_kinds(reply["session_id"]) == ["opened", "handoff_requested"]

    await customer.say("hello? anyone?")
    assert customer.last["state"] == "queued" and "queue" in customer.text


async def test_customer_card_in_a_handoff_lists_past_orders(front_line: FrontLine) -> None:
    customer = front_line.customer()
    # A number of its own: the card also lists orders placed with the same phone by anyone.
    number = await place_order(customer, phone=f"+7 916 {secrets.randbelow(10**7):07d}")
    await customer.say("I want to talk to a real person")
    assert "operator" in customer.text
    reply = await customer.say("yes please")
    assert reply["state"] == "queued"
    ticket = await front_line.ticket(reply["session_id"])
    assert ticket is not None and ticket.reason == "customer_request"
    assert ticket.card["customer"]["full_name"] == "Ivan Petrov"
    assert [o["number"] for o in ticket.card["customer"]["orders"]] == [number]
