"""A Telegram customer with an operator: live relay both ways, files, joined/left, survey, blocking."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import select

from bot.telegram.models import TelegramChat
from core.settings import Settings
from testing.telegram.fake_bot_api import FakeBotApi
from tests.chat import FrontLine
from tests.telegram.conftest import TelegramCustomer, operator, sends_to

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("stack_settings", ["sqlite"], indirect=True)]


async def queued(customer: TelegramCustomer) -> None:
    await customer.say("I want to talk to a real person")
    await customer.press("Yes, an operator please")
    assert "in the queue" in customer.text
    assert "Back to the virtual assistant" in customer.buttons


async def test_operator_relay_files_joined_left_and_survey(
    fake: FakeBotApi, front_line: FrontLine, stack_settings: Settings
) -> None:
    customer = TelegramCustomer(fake, front_line)
    await queued(customer)
    dana = await operator(front_line, stack_settings, "Dana")
    ticket = await dana.ticket_of(customer)
    await dana.post(f"{ticket}/claim")
    joined = await fake.wait_sent(customer.chat_id, customer.seen + 1)
    assert joined[-1].text == "Dana from our team has joined the conversation."
    customer.seen = len(joined)

    await customer.say("my modem shows a red light")
    assert customer.last == []  # no bot in between: the operator answers
    await customer.settle(fake.push_photo(customer.chat_id, caption="the lights"))
    assert customer.text == "Thank you, it's saved: the operator will see it."

    details = (await dana.get(f"/api/operator/tickets/{ticket}")).json()
    said = [m for m in details["messages"] if m["direction"] == "in"]
    assert said[-2]["text"] == "my modem shows a red light"
    media = said[-1]["payload"]["media"]
    assert said[-1]["text"] == "[photo] the lights" and media["kind"] == "photo"
    photo = await dana.get(media["url"])  # the operator opens the file, fetched through the bot
    assert photo.content == fake.world.files[media["file_id"]].data

    await dana.post(f"{ticket}/messages", text="Please switch the modem off and on again.")
    relayed = await fake.wait_sent(customer.chat_id, customer.seen + 1)
    assert relayed[-1].text == "Please switch the modem off and on again."
    customer.seen = len(relayed)

    # Longer than one Telegram message (emoji count twice): two messages, cut between paragraphs.
    paragraphs = ["🙂" * 1500, "📶" * 1500, "Is it better now?"]
    await dana.post(f"{ticket}/messages", text="\n\n".join(paragraphs))
    relayed = await fake.wait_sent(customer.chat_id, customer.seen + 2)
    assert [m.text for m in relayed[-2:]] == [paragraphs[0], "\n\n".join(paragraphs[1:])]
    customer.seen = len(relayed)

    await dana.post(f"{ticket}/close", disposition="resolved")
    closing = await fake.wait_sent(customer.chat_id, customer.seen + 2)
    assert closing[-2].text == "Dana has left the conversation. Thank you for contacting us!"
    survey = closing[-1]
    assert "from 1 (poor) to 5 (excellent)" in (survey.text or "")
    assert [b[0]["text"] for b in survey.reply_markup["inline_keyboard"]] == ["1", "2", "3", "4", "5"]
    customer.seen = len(closing)
    await customer.press("5")
    assert customer.text == "Thank you for your rating!"


async def test_a_customer_who_blocked_the_bot_is_marked_unreachable_without_endless_retries(
    fake: FakeBotApi, front_line: FrontLine, stack_settings: Settings
) -> None:
    customer = TelegramCustomer(fake, front_line)
    await queued(customer)
    fake.block_chat(customer.chat_id)
    lena = await operator(front_line, stack_settings, "Lena")
    ticket = await lena.ticket_of(customer)
    await lena.post(f"{ticket}/claim")
    await lena.post(f"{ticket}/messages", text="Hello, are you there?")
    await lena.post(f"{ticket}/messages", text="I will wait a little.")

    async with front_line.db() as db:
        for _ in range(500):
            chat = await db.get(TelegramChat, customer.chat_id, populate_existing=True)
            if chat is not None and chat.unreachable_at is not None:
                break
            await asyncio.sleep(0.02)
    assert chat is not None and chat.unreachable_at is not None
    sent_before = len(customer.received)
    tried = sends_to(fake, customer.chat_id)
    await lena.post(f"{ticket}/messages", text="Still there?")
    await asyncio.sleep(1.0)
    assert sends_to(fake, customer.chat_id) == tried  # not retried, not tried again while blocked
    assert len(customer.received) == sent_before

    # The customer unblocks the bot and writes: reachable again, the operator's next reply arrives.
    fake.world.chats[customer.chat_id].blocked = False
    await customer.say("sorry, I am back")
    async with front_line.db() as db:
        unreachable = await db.scalar(
            select(TelegramChat.unreachable_at).where(TelegramChat.chat_id == customer.chat_id)
        )
    assert unreachable is None
    await lena.post(f"{ticket}/messages", text="Welcome back!")
    relayed = await fake.wait_sent(customer.chat_id, sent_before + 1)
    assert relayed[-1].text == "Welcome back!"
