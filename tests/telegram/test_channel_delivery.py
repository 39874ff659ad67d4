"""Nothing lost, doubled or reordered: duplicates, slow replies, Telegram's errors, webhook, restarts."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from pydantic import SecretStr
from sqlalchemy import text

from bot.telegram.store import store_updates
from core.settings import Settings
from testing.telegram.fake_bot_api import FakeBotApi
from tests.chat import FrontLine, running_front_line
from tests.support import free_port
from tests.telegram.conftest import (
    TelegramCustomer,
    sends_to,
    serving,
    telegram_settings,
)

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("stack_settings", ["sqlite", "postgresql"], indirect=True),
]


async def test_the_same_update_delivered_twice_is_handled_once(
    fake: FakeBotApi, front_line: FrontLine
) -> None:
    customer = TelegramCustomer(fake, front_line)
    first = fake.push_message(customer.chat_id, "what are your opening hours")
    await customer.settle(first)
    fake.push_raw(fake.updates.history[first])  # Telegram delivers it again
    await customer.say("how can i pay my bill")

    assert await customer.stored_texts() == ["what are your opening hours", "how can i pay my bill"]
    texts = [m.text or "" for m in customer.received]
    assert sum("08:00" in t for t in texts) == 1
    assert "bank card" in texts[-1]


async def test_two_quick_messages_keep_their_order_when_the_first_reply_is_slow(
    fake: FakeBotApi, front_line: FrontLine
) -> None:
    customer = TelegramCustomer(fake, front_line)
    fake.set_delay("sendMessage", 1.5)
    fake.push_message(customer.chat_id, "what are your opening hours")
    second = fake.push_message(customer.chat_id, "how can i pay my bill")
    await customer.settle(second)

    assert await customer.stored_texts() == ["what are your opening hours", "how can i pay my bill"]
    texts = [m.text or "" for m in customer.received]
    hours = next(i for i, t in enumerate(texts) if "08:00" in t)
    payment = next(i for i, t in enumerate(texts) if "bank card" in t)
    assert hours < payment


async def test_flood_control_429_is_waited_out_and_retried(fake: FakeBotApi, front_line: FrontLine) -> None:
    customer = TelegramCustomer(fake, front_line)
    fake.fail_next("sendMessage", status=429, description="Too Many Requests: retry after 1", retry_after=1)
    await customer.say("what are your opening hours")
    assert "08:00" in customer.text
    assert sends_to(fake, customer.chat_id) == 2  # refused once, then sent


async def test_server_errors_are_retried_with_backoff(fake: FakeBotApi, front_line: FrontLine) -> None:
    customer = TelegramCustomer(fake, front_line)
    fake.fail_next("sendMessage", status=502, description="Bad Gateway", times=2)
    await customer.say("how can i pay my bill")
    assert "bank card" in customer.text
    assert sends_to(fake, customer.chat_id) == 3


async def test_webhook_checks_the_secret_and_stores_before_answering(
    fake: FakeBotApi, stack_settings: Settings
) -> None:
    port = free_port()
    settings = telegram_settings(
        stack_settings, fake, mode="webhook", webhook_secret=SecretStr("s3cret-webhook-token"),
        webhook_url=f"http://127.0.0.1:{port}/telegram/webhook",
    ).model_copy(update={"port": port})  # fmt: skip
    async with serving(settings) as front_line:
        assert fake.webhook_url == settings.telegram.webhook_url  # registered with Telegram on start
        customer = TelegramCustomer(fake, front_line)
        update_id = fake.push_message(customer.chat_id, "what are your opening hours")

        fake.webhook_secret = "wrong"
        assert await fake.deliver_webhook() == 401
        fake.webhook_secret = None
        assert await fake.deliver_webhook() == 401
        assert await customer.stored_texts() == []  # refused updates are not taken in
        assert fake.updates.pending  # ... and Telegram keeps them for later

        fake.webhook_secret = "s3cret-webhook-token"
        assert await fake.deliver_webhook() == 200
        await customer.settle(update_id)
        assert "08:00" in customer.text
        assert await fake.deliver_webhook(update_id) == 200  # delivered again: acknowledged, not redone
        again = fake.push_message(customer.chat_id, "how can i pay my bill")
        async with inbox_unavailable(front_line):
            assert await fake.deliver_webhook() == 503  # not stored: not acknowledged
        assert await fake.deliver_webhook() == 200  # Telegram's next attempt
        await customer.settle(again)
        assert await customer.stored_texts() == ["what are your opening hours", "how can i pay my bill"]


async def test_polling_confirms_no_update_it_could_not_store(fake: FakeBotApi, front_line: FrontLine) -> None:
    customer = TelegramCustomer(fake, front_line)
    await customer.say("hello")
    async with inbox_unavailable(front_line):
        update_id = fake.push_message(customer.chat_id, "what are your opening hours")
        for _ in range(100):  # the channel fetches it (and fails to store it) at least once
            if fake.updates.pending and fake.updates.pending[0].delivered:
                break
            await asyncio.sleep(0.05)
        assert fake.updates.pending and fake.updates.pending[0].delivered
        assert fake.confirmed_offset <= update_id
    await customer.settle(update_id)  # fetched again once the database is back
    assert "08:00" in customer.text
    assert fake.confirmed_offset > update_id


@asynccontextmanager
async def inbox_unavailable(front_line: FrontLine) -> AsyncIterator[None]:
    """The inbox table cannot be written (as when the database fails) until the block ends."""
    async with front_line.db() as db, db.begin():
        await db.execute(text("ALTER TABLE telegram_updates RENAME TO telegram_updates_away"))
    try:
        yield
    finally:
        async with front_line.db() as db, db.begin():
            await db.execute(text("ALTER TABLE telegram_updates_away RENAME TO telegram_updates"))


async def test_a_restart_mid_conversation_loses_and_repeats_nothing(
    fake: FakeBotApi, stack_settings: Settings
) -> None:
    settings = telegram_settings(stack_settings, fake)
    async with running_front_line(settings) as front_line:
        customer = TelegramCustomer(fake, front_line)
        first = fake.push_message(customer.chat_id, "I want to connect internet")
        await customer.settle(first)
        assert "full name" in customer.text, customer.text

    # While the app is down: the customer answers; the last update is delivered once more; and one
    # update was stored and confirmed just before a crash, but never handled.
    name = fake.push_message(customer.chat_id, "Ivan Petrov")
    fake.push_raw(fake.updates.history[first])
    async with running_front_line(settings) as front_line:
        customer.front_line = front_line
        await customer.settle(name)
        assert "phone" in customer.text, customer.text
    phone = fake.push_message(customer.chat_id, "+7 916 123-45-67")
    await store_updates(front_line.db, [fake.updates.history[phone]])
    fake.updates.confirm(phone + 1)

    async with running_front_line(settings) as front_line:
        customer.front_line = front_line
        await customer.settle(phone)
        assert "address" in customer.text, customer.text
        assert await customer.stored_texts() == [
            "I want to connect internet",
            "Ivan Petrov",
            "+7 916 123-45-67",
        ]
        texts = [m.text or "" for m in customer.received]
        assert sum("full name" in t for t in texts) == 1
        assert sum("phone number can the technician" in t for t in texts) == 1
        assert sum("address for the connection" in t for t in texts) == 1
