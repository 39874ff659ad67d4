"""Long polling through outages and unreadable updates: back quickly, nothing personal in the logs."""

from __future__ import annotations

import asyncio
import itertools
import logging

import pytest

from testing.telegram.fake_bot_api import FakeBotApi
from tests.chat import FrontLine
from tests.telegram.conftest import TelegramCustomer

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("stack_settings", ["sqlite"], indirect=True)]

# aiogram's own polling backs off up to 5 s: a customer never waits longer for the first retry.
BACKOFF_MAX_S = 5.0
# Room for a loaded machine: a retry is late only beyond the cap plus this.
SCHEDULING_SLACK_S = 3.0
OUTAGE_FAILURES = 6  # at 0.5 s doubling, well past the cap


async def test_after_an_outage_polling_retries_within_the_cap(
    fake: FakeBotApi, front_line: FrontLine
) -> None:
    customer = TelegramCustomer(fake, front_line)
    await customer.say("hello")
    before = len(fake.call_times("getUpdates"))
    fake.fail_next("getUpdates", status=502, description="Bad Gateway", times=OUTAGE_FAILURES)

    # The poll waiting now ends within its timeout; then every retry must come within the cap.
    await wait_for_calls(fake, before + 1, within=front_line_poll_timeout() + SCHEDULING_SLACK_S)
    for calls in range(before + 2, before + OUTAGE_FAILURES + 1):
        await wait_for_calls(fake, calls, within=BACKOFF_MAX_S + SCHEDULING_SLACK_S)
    started = fake.push_message(customer.chat_id, "/start")  # written while Telegram still fails
    await wait_for_calls(fake, before + OUTAGE_FAILURES + 1, within=BACKOFF_MAX_S + SCHEDULING_SLACK_S)

    replies = await customer.settle(started)
    assert "virtual assistant" in replies[0].text
    times = fake.call_times("getUpdates")[before:]
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert max(gaps[1:]) <= BACKOFF_MAX_S + SCHEDULING_SLACK_S, gaps


async def test_an_unreadable_update_is_logged_by_id_and_kind_and_blocks_nobody(
    fake: FakeBotApi, front_line: FrontLine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="bot.telegram")
    customer = TelegramCustomer(fake, front_line)
    person = {"id": customer.chat_id, "is_bot": False, "first_name": "Zoya", "last_name": "Lebedeva"}
    chat = {"id": customer.chat_id, "type": "private", "first_name": "Zoya"}
    broken = fake.push_raw(
        {
            "message": {
                "message_id": 1,
                "date": "yesterday",  # not a date: aiogram cannot read this update
                "chat": chat,
                "from": person,
                "text": "I live at 12 Elm Street, call +7 916 555-01-23",
            }
        }
    )
    await customer.say("what are your opening hours")  # the chat is not stuck behind it

    assert "08:00" in customer.text
    formatter = logging.Formatter()
    logged = "\n".join(formatter.format(r) for r in caplog.records if r.name.startswith("bot.telegram"))
    assert str(broken) in logged and "message" in logged
    for private in ("Zoya", "Lebedeva", "Elm Street", "555-01-23", "opening hours"):
        assert private not in logged, logged


def front_line_poll_timeout() -> float:
    return 5.0  # telegram_settings() in conftest


async def wait_for_calls(fake: FakeBotApi, count: int, *, within: float) -> None:
    """Until the fake has seen `count` getUpdates calls; fails when that takes longer than `within`."""
    try:
        async with asyncio.timeout(within):
            while len(fake.call_times("getUpdates")) < count:
                await asyncio.sleep(0.02)
    except TimeoutError:
        raise AssertionError(
            f"getUpdates call {count} did not come within {within} s: {fake.call_times('getUpdates')}"
        ) from None
