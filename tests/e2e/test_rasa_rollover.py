"""A long conversation moves to a fresh Rasa conversation every few turns, and the customer notices
nothing: the order form goes on where it was, slots and pauses survive, actions find the session."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
from sqlalchemy import select

from core.dialogue import RasaClient
from core.models import ConversationSession, Order
from core.settings import Settings
from handoff.operators import save_operator
from tests.chat import Customer, FrontLine, running_front_line

pytestmark = pytest.mark.e2e

# Every second turn sent to the bot starts a fresh Rasa conversation.
EVERY = 2


@pytest.fixture
def rolling_settings(stack_settings: Settings) -> Settings:
    rasa = stack_settings.rasa.model_copy(update={"rollover_turns": EVERY})
    return stack_settings.model_copy(update={"rasa": rasa})


@pytest.fixture
async def rolling(rolling_settings: Settings) -> AsyncIterator[FrontLine]:
    async with running_front_line(rolling_settings) as front_line:
        yield front_line


async def _sender(front_line: FrontLine, session_id: int) -> str:
    async with front_line.db() as db:
        session = await db.get(ConversationSession, session_id)
        assert session is not None
        return session.rasa_sender_id


class SenderLog:
    """The Rasa sender ids a session went through, one look per customer turn."""

    def __init__(self, front_line: FrontLine, customer: Customer) -> None:
        self.front_line, self.customer, self.seen = front_line, customer, []

    async def say(self, text: str) -> None:
        reply = await self.customer.say(text)
        sender = await _sender(self.front_line, reply["session_id"])
        if sender not in self.seen:
            self.seen.append(sender)


async def test_an_order_goes_on_across_rollovers_and_is_placed_with_every_detail(
    rolling: FrontLine, rolling_settings: Settings
) -> None:
    customer = rolling.customer()
    log = SenderLog(rolling, customer)
    await log.say("I'd like to get internet connected at home")
    assert "full name" in customer.text
    await log.say("Ivan Petrov")  # a rollover before this answer: the form was waiting for it
    await log.say("+7 916 123-45-67")
    assert "address for the connection" in customer.text
    await log.say("12 Park Lane, flat 4")  # and before this one
    assert "Home 300" in [b["payload"] for b in customer.buttons]
    await log.say("Home 300")
    await log.say(customer.buttons[0]["payload"])  # the first day offered; a rollover before it
    assert "Please check your order" in customer.text
    assert "Ivan Petrov" in customer.text and "12 Park Lane, flat 4" in customer.text
    await log.say("yes")
    number = re.search(r"order number is (\d{7})", customer.text)
    assert number, customer.text
    assert len(log.seen) == 4  # the first conversation and three rollovers

    session_id = customer.last["session_id"]
    async with rolling.db() as db:
        order = await db.scalar(select(Order).where(Order.number == number.group(1)))
    assert order is not None
    assert (order.full_name, order.phone, order.address, order.tariff_code) == (
        "Ivan Petrov", "+79161234567", "12 Park Lane, flat 4", "home_300",
    )  # fmt: skip
    # The action that stored it found the session by the conversation's newest id.
    assert order.session_id == session_id


async def test_the_language_and_the_customers_details_move_with_the_conversation(
    rolling: FrontLine, rolling_settings: Settings
) -> None:
    customer = rolling.customer(language="ru")
    await customer.say("хочу провести инет домой")
    first = await _sender(rolling, customer.last["session_id"])
    await customer.say("Ольга Смирнова")
    rolled = await _sender(rolling, customer.last["session_id"])
    assert rolled != first

    rasa = RasaClient(rolling_settings.rasa)
    try:
        tracker = await rasa.tracker(rolled)
    finally:
        await rasa.aclose()
    slots = tracker["slots"]
    assert slots["language"] == "ru" and slots["full_name"] == "Ольга Смирнова"
    assert tracker["active_loop"]["name"] == "order_form" and slots["requested_slot"] == "phone"


async def test_a_handed_off_session_rolls_over_and_comes_back_to_the_bot_with_its_order(
    rolling: FrontLine, rolling_settings: Settings
) -> None:
    customer = rolling.customer()
    log = SenderLog(rolling, customer)
    await log.say("I want to connect internet at home")
    await log.say("Ivan Petrov")
    await log.say("+7 916 123-45-67")
    await log.say("I want to talk to a real person")  # rollovers before turns 2 and 4, mid-form
    await log.say("yes")
    assert customer.last["state"] == "queued"
    await log.say("hello? is anyone there?")  # waiting: the bot is not asked, nothing rolls over
    assert customer.last["state"] == "queued"
    assert len(log.seen) == 3

    await save_operator(
        rolling_settings, "rolf", "rolf-secret-pw", display_name="Rolf",
        skills=["orders"], languages=["en"], max_sessions=3,
    )  # fmt: skip
    http = rolling.http
    login = await http.post("/api/operator/login", json={"login": "rolf", "password": "rolf-secret-pw"})
    auth = {"Authorization": f"Bearer {login.json()['token']}"}
    queue = (await http.get("/api/operator/queue", headers=auth)).json()
    ticket = next(t for t in queue if t["session_id"] == customer.last["session_id"])
    card = (await http.get(f"/api/operator/tickets/{ticket['id']}", headers=auth)).json()["card"]
    assert card["slots"]["full_name"] == "Ivan Petrov" and card["slots"]["phone"] == "+79161234567"
    assert (await http.post(f"/api/operator/tickets/{ticket['id']}/claim", headers=auth)).status_code == 200
    back = await http.post(f"/api/operator/tickets/{ticket['id']}/return-to-bot", headers=auth)
    assert back.status_code == 204

    # The resumed conversation rolls over before this turn: the turns it replays hold the pause.
    await log.say("I want to connect internet")
    assert customer.last["state"] == "bot"
    assert "address for the connection" in customer.text
    await log.say("12 Park Lane, flat 4")
    assert "Home 300" in [b["payload"] for b in customer.buttons]
    assert len(log.seen) == 4
