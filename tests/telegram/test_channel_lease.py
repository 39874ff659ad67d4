"""The channel runs in every app process, but long polling (with the relay and the backlog) only
in the one holding the lease: two pollers would take each other's updates."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from pydantic import SecretStr

from bot.telegram.channel import TelegramChannel, create_bot
from core.db import create_engine, create_session_factory
from core.events import EventBus
from core.lease import THIS_PROCESS, Tenures
from core.messages import load_system_messages
from core.migrate import upgrade_async
from core.settings import PROJECT_ROOT, DbSettings, TelegramSettings
from testing.telegram.fake_bot_api import FakeBotApi

QUIET_S = 1.5  # with no lease, not one getUpdates within this long
LIMIT_S = 20.0  # a bound for a loaded machine, not a timing under test


class SwitchedLease(Tenures):
    """A lease the test hands out and takes back."""

    @property
    def holder(self) -> str:
        return THIS_PROCESS if self.held else "another process"

    async def keep(self) -> None:
        await asyncio.Event().wait()


def _polls(fake: FakeBotApi) -> int:
    return len(fake.call_times("getUpdates"))


async def _until_polled(fake: FakeBotApi, more_than: int) -> None:
    async with asyncio.timeout(LIMIT_S):
        while _polls(fake) <= more_than:
            await asyncio.sleep(0.05)


async def test_only_the_lease_holder_polls(fake: FakeBotApi, tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'channel.db'}"
    await upgrade_async(url)
    engine = create_engine(DbSettings(url=url))
    settings = TelegramSettings(token=SecretStr(fake.token), api_base_url=fake.base_url, poll_timeout=1)
    messages = load_system_messages(PROJECT_ROOT / "business" / "system_messages.yml", "en")
    lease = SwitchedLease()
    conversations: Any = None  # no update arrives: nothing reaches the core
    channel = TelegramChannel(
        settings, create_bot(settings), create_session_factory(engine), conversations, messages,
        EventBus(), lease,
    )  # fmt: skip
    await channel.start()
    try:
        await asyncio.sleep(QUIET_S)
        assert _polls(fake) == 0
        assert not any(task.done() for task in channel.loops)  # waiting is not failing

        lease.begin()
        await _until_polled(fake, 0)

        lease.end()
        await asyncio.sleep(0.5)  # a poll under way is cancelled
        stopped_at = _polls(fake)
        await asyncio.sleep(QUIET_S)
        assert _polls(fake) == stopped_at
        assert not any(task.done() for task in channel.loops)

        lease.begin()  # taken again: polling resumes
        await _until_polled(fake, stopped_at)
    finally:
        await channel.stop()
        await engine.dispose()
