"""Restarts, crashes and Telegram's update-id jumps: every customer message is heard once."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from sqlalchemy import text

from core.db import create_engine
from core.settings import Settings
from testing.telegram.fake_bot_api import FakeBotApi
from tests.chat import FrontLine, running_front_line
from tests.telegram.conftest import TelegramCustomer, telegram_settings

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.parametrize("stack_settings", ["sqlite", "postgresql"], indirect=True),
]


async def test_a_customer_writing_after_a_quiet_week_is_heard_after_a_restart(
    fake: FakeBotApi, stack_settings: Settings
) -> None:
    settings = telegram_settings(stack_settings, fake)
    async with running_front_line(settings) as front_line:
        customer = TelegramCustomer(fake, front_line)
        first = fake.push_message(customer.chat_id, "what are your opening hours")
        await customer.settle(first)

    # A week without updates: Telegram's next id is lower than any before; here even a used one.
    fake.a_week_passes(next_update_id=first)
    again = fake.push_message(customer.chat_id, "how can i pay my bill")
    assert again == first
    async with running_front_line(settings) as front_line:
        customer.front_line = front_line
        await customer.settle(again)
        assert "bank card" in customer.text
        assert await customer.stored_texts() == ["what are your opening hours", "how can i pay my bill"]


async def test_a_customer_writing_after_a_quiet_week_is_heard_while_running(
    fake: FakeBotApi, front_line: FrontLine
) -> None:
    customer = TelegramCustomer(fake, front_line)
    first = fake.push_message(customer.chat_id, "what are your opening hours")
    await customer.settle(first)

    fake.a_week_passes(next_update_id=first - 1000)
    later = fake.push_message(customer.chat_id, "how can i pay my bill")
    await customer.settle(later)
    assert "bank card" in customer.text
    assert await customer.stored_texts() == ["what are your opening hours", "how can i pay my bill"]


async def test_a_crash_after_the_turn_was_stored_stores_and_answers_it_once(
    fake: FakeBotApi, stack_settings: Settings
) -> None:
    settings = telegram_settings(stack_settings, fake)
    async with crash_before_marking_handled(settings), running_front_line(settings) as front_line:
        customer = TelegramCustomer(fake, front_line)
        question = fake.push_message(customer.chat_id, "what are your opening hours")
        answered = len(await fake.wait_sent(customer.chat_id, 1, timeout=30))
        photo = fake.push_photo(customer.chat_id)
        await fake.wait_sent(customer.chat_id, answered + 1, timeout=30)

    async with running_front_line(settings) as front_line:  # handles what was not marked handled
        customer.front_line = front_line
        await customer.settle(question)
        await customer.settle(photo)
        assert await customer.stored_texts() == ["what are your opening hours", "[photo]"]
        texts = [m.text or "" for m in customer.received]
        assert sum("08:00" in t for t in texts) == 1, texts
        assert sum("saved what you sent" in t for t in texts) == 1, texts


@asynccontextmanager
async def crash_before_marking_handled(settings: Settings) -> AsyncIterator[None]:
    """Marking an update handled fails, as if the process died right after the core had the turn."""
    engine = create_engine(settings.db)
    postgres = engine.dialect.name == "postgresql"
    try:
        async with engine.begin() as db:
            for statement in CRASH_TRIGGER_POSTGRES if postgres else CRASH_TRIGGER_SQLITE:
                await db.execute(text(statement))
        yield
    finally:
        async with engine.begin() as db:
            for statement in DROP_POSTGRES if postgres else DROP_SQLITE:
                await db.execute(text(statement))
        await engine.dispose()


CRASH_TRIGGER_SQLITE = [
    "CREATE TRIGGER telegram_crash BEFORE UPDATE ON telegram_updates WHEN NEW.status = 'handled' "
    "BEGIN SELECT RAISE(ABORT, 'crashed before marking'); END"
]
CRASH_TRIGGER_POSTGRES = [
    "CREATE FUNCTION telegram_crash() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'crashed before marking'; END $$",
    "CREATE TRIGGER telegram_crash BEFORE UPDATE ON telegram_updates FOR EACH ROW "
    "WHEN (NEW.status = 'handled') EXECUTE FUNCTION telegram_crash()",
]
DROP_SQLITE = ["DROP TRIGGER IF EXISTS telegram_crash"]
DROP_POSTGRES = [
    "DROP TRIGGER IF EXISTS telegram_crash ON telegram_updates",
    "DROP FUNCTION IF EXISTS telegram_crash()",
]


async def test_a_message_stored_but_not_answered_is_answered_when_handled_again(
    fake: FakeBotApi, front_line: FrontLine, caplog: pytest.LogCaptureFixture
) -> None:
    """Storing the bot's reply fails once (the database went away): the retry found the turn with
    the core and skipped it, so the customer never got an answer."""
    caplog.set_level(logging.WARNING)
    customer = TelegramCustomer(fake, front_line)
    async with refused_replies(front_line):
        question = fake.push_message(customer.chat_id, "what are your opening hours")
        async with asyncio.timeout(60):  # until the first attempt has failed on the bot's reply
            while not any("telegram update failed" in r.getMessage() for r in caplog.records):
                await asyncio.sleep(0.05)
    await customer.settle(question)
    assert "08:00" in customer.text
    assert await customer.stored_texts() == ["what are your opening hours"]


@asynccontextmanager
async def refused_replies(front_line: FrontLine) -> AsyncIterator[None]:
    """The database refuses every outgoing message while inside (the customer's own are stored)."""
    async with front_line.db() as db, db.begin():
        postgres = db.get_bind().dialect.name == "postgresql"
        for statement in REFUSE_POSTGRES if postgres else REFUSE_SQLITE:
            await db.execute(text(statement))
    try:
        yield
    finally:
        async with front_line.db() as db, db.begin():
            for statement in ALLOW_POSTGRES if postgres else ALLOW_SQLITE:
                await db.execute(text(statement))


REFUSE_SQLITE = [
    "CREATE TRIGGER refuse_replies BEFORE INSERT ON messages WHEN NEW.direction = 'out' "
    "BEGIN SELECT RAISE(ABORT, 'database went away'); END"
]
REFUSE_POSTGRES = [
    "CREATE FUNCTION refuse_replies() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'database went away'; END $$",
    "CREATE TRIGGER refuse_replies BEFORE INSERT ON messages FOR EACH ROW "
    "WHEN (NEW.direction = 'out') EXECUTE FUNCTION refuse_replies()",
]
ALLOW_SQLITE = ["DROP TRIGGER IF EXISTS refuse_replies"]
ALLOW_POSTGRES = [
    "DROP TRIGGER IF EXISTS refuse_replies ON messages",
    "DROP FUNCTION IF EXISTS refuse_replies()",
]
