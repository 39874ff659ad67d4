"""Two app processes on one PostgreSQL database: only one runs the queue sweeps (here a stand-in
that records who runs it), /healthz on each says which holds the work, and when that one stops the
other takes the sweeps over within seconds."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from contextlib import AsyncExitStack
from typing import Any

import pytest

from app import factory
from core.lease import THIS_PROCESS
from core.settings import DbSettings, RasaSettings, Settings
from tests.chat import FrontLine, running_front_line
from tests.support import (
    create_postgres_database,
    drop_postgres_database,
    free_port,
    postgres_available,
    require,
)

pytestmark = pytest.mark.postgres

LIMIT_S = 30.0  # a bound for a loaded machine, not a timing under test


@pytest.fixture
def postgres_settings() -> Iterator[Settings]:
    require(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    name = f"frontline_singletons_{os.getpid()}"
    url = create_postgres_database(name)
    try:
        yield Settings(
            db=DbSettings(url=url),
            rasa=RasaSettings(url=f"http://127.0.0.1:{free_port()}", connect_retries=0),
        )
    finally:
        drop_postgres_database(name)


@pytest.fixture
def sweeping(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """The sweeps of each app that is running them now (each app has its own QueueSweeps)."""
    running: list[Any] = []

    async def stand_in(sweeps: Any, settings: Settings) -> None:
        running.append(sweeps)
        try:
            await asyncio.Event().wait()
        finally:
            running.remove(sweeps)

    monkeypatch.setattr(factory, "_sweep_queue", stand_in)
    return running


async def _health(front_line: FrontLine) -> dict[str, Any]:
    response = await front_line.http.get("/healthz")
    assert response.status_code == 200, response.text  # waiting for the lease is healthy
    return response.json()  # type: ignore[no-any-return]


async def _until_one_sweeps(sweeping: list[Any]) -> Any:
    async with asyncio.timeout(LIMIT_S):
        while not sweeping:
            await asyncio.sleep(0.05)
    return sweeping[0]


async def test_one_app_process_sweeps_and_the_other_takes_over_when_it_stops(
    postgres_settings: Settings, sweeping: list[Any]
) -> None:
    async with AsyncExitStack() as stack_a, AsyncExitStack() as stack_b:
        a = await stack_a.enter_async_context(running_front_line(postgres_settings))
        b = await stack_b.enter_async_context(running_front_line(postgres_settings))
        holder_sweeps = await _until_one_sweeps(sweeping)
        await asyncio.sleep(2.0)  # the other keeps trying meanwhile
        assert sweeping == [holder_sweeps]
        pairs = [(a, stack_a), (b, stack_b)]
        if b.app.state.sweeps is holder_sweeps:
            pairs.reverse()
        (holder, holder_stack), (other, _) = pairs
        assert (await _health(holder))["singletons"] == THIS_PROCESS
        assert (await _health(other))["singletons"].startswith("frontline lease")

        loop = asyncio.get_running_loop()
        stopped_at = loop.time()
        await holder_stack.aclose()  # the holder stops: its lease's connection closes
        assert await _until_one_sweeps(sweeping) is other.app.state.sweeps
        assert loop.time() - stopped_at < 10.0
        assert (await _health(other))["singletons"] == THIS_PROCESS
