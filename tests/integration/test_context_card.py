"""The context card finds the same person across channels through their phone number."""

from __future__ import annotations

from datetime import date

from core.models import ConversationSession, Customer, Order
from core.schemas import InboundTurn
from tests.chat import FrontLine


async def test_orders_placed_by_phone_show_up_for_the_messenger_customer_with_that_number(
    front_line_without_bot: FrontLine,
) -> None:
    front_line = front_line_without_bot
    customer = front_line.customer()
    async with front_line.db() as db, db.begin():
        caller = Customer(key="tel:+79161234567", language="ru")
        stranger = Customer(key="tel:+79990000000", language="ru")
        # The messenger vouched for the number (a shared contact), reported without the plus.
        db.add_all([caller, stranger, Customer(key=f"web:{customer.id}", phone="79161234567")])
        await db.flush()
        db.add(
            ConversationSession(customer_id=caller.id, channel="phone", language="ru", rasa_sender_id="p:1")
        )
        for number, owner, phone in (
            ("4815162", caller, "+79161234567"),
            ("2342342", stranger, "+79990000000"),
        ):
            db.add(
                Order(
                    number=number, customer_id=owner.id, full_name="Иван Петров", phone=phone,
                    address="Тверская 1", tariff_code="home_100", visit_date=date(2026, 12, 1),
                )
            )  # fmt: skip

    await customer.say("hello")  # the bot is down: straight to the queue, with a card
    ticket = await front_line.ticket(customer.last["session_id"])
    assert ticket is not None
    card = ticket.card["customer"]
    assert [o["number"] for o in card["orders"]] == ["4815162"]
    assert [(c["key"], c["sessions"]) for c in card["other_channels"]] == [("tel:+79161234567", 1)]


async def test_a_caller_without_a_card_has_the_calling_number_on_it(
    front_line_without_bot: FrontLine,
) -> None:
    conversations = front_line_without_bot.app.state.conversations
    result = await conversations.handle_turn(InboundTurn("tel:+982112345678", "phone", "سلام", "fa"))
    ticket = await front_line_without_bot.ticket(result.session_id)
    assert ticket is not None
    assert ticket.card["customer"]["phone"] == "+982112345678"
    assert ticket.card["session"]["language"] == "fa"
