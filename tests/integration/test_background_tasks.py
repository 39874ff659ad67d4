"""A background task that fails is logged with its traceback, restarted, and named by /healthz."""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from core.models import OutboxEvent, utcnow
from core.settings import Settings
from tests.chat import FrontLine, running_front_line

LIMIT_S = 60.0  # a bound for a loaded machine, not a timing under test


async def _health(front_line: FrontLine) -> tuple[int, dict[str, object]]:
    response = await front_line.http.get("/healthz")
    return response.status_code, response.json()


async def _until(front_line: FrontLine, status: int) -> dict[str, object]:
    async with asyncio.timeout(LIMIT_S):
        while True:
            code, body = await _health(front_line)
            if code == status:
                return body
            await asyncio.sleep(0.05)


async def test_the_app_starts_healthy_with_its_background_tasks(front_line_without_bot: FrontLine) -> None:
    # One app process per SQLite database: it runs the singleton work (sweeps, offers) itself.
    assert await _health(front_line_without_bot) == (200, {"status": "ok", "singletons": "this process"})


async def test_a_failing_task_is_logged_restarted_and_reported_until_it_runs_again(
    front_line_without_bot: FrontLine, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    runs = 0
    healed = asyncio.Event()

    async def stock_sync() -> None:
        nonlocal runs
        runs += 1
        if not healed.is_set():
            raise ConnectionError("stock database went away")
        await asyncio.Event().wait()  # a healthy loop runs for as long as the app does

    front_line_without_bot.app.state.supervisor.start("stock-sync", stock_sync)

    body = await _until(front_line_without_bot, 503)
    assert body == {"status": "degraded", "tasks": {"stock-sync": "restarting"}, "singletons": "this process"}
    failure = next(r for r in caplog.records if "stock-sync" in r.getMessage())
    assert failure.exc_info is not None
    assert "stock database went away" in caplog.text and "Traceback" in caplog.text

    healed.set()
    assert await _until(front_line_without_bot, 200) == {"status": "ok", "singletons": "this process"}
    assert runs >= 2  # restarted, not just reported


async def test_the_app_prunes_live_events_older_than_their_retention(settings_without_bot: Settings) -> None:
    """Consoles can catch up on a day of events; older ones go when the app starts (then hourly)."""
    async with running_front_line(settings_without_bot) as front_line:
        reply = await front_line.customer("pruned").say("hello")
        async with front_line.db() as db, db.begin():
            await db.execute(update(OutboxEvent).values(created_at=utcnow() - timedelta(hours=25)))
        await front_line.customer("kept").say("hello")

    async with running_front_line(settings_without_bot) as front_line:
        async with asyncio.timeout(LIMIT_S):
            while True:
                async with front_line.db() as db:
                    payloads = list(await db.scalars(select(OutboxEvent.payload)))
                if not any(p.get("session_id") == reply["session_id"] for p in payloads):
                    break
                await asyncio.sleep(0.05)
    assert payloads  # the recent customer's events stay
