"""Presence across app processes: two Presence objects on one database stand for two processes."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import create_engine, create_session_factory
from core.migrate import upgrade
from core.models import Operator
from core.settings import DbSettings, RasaSettings, Settings
from handoff.presence import Presence
from tests.integration.handoff.test_live_replay import FrontLine, console, serving
from tests.support import (
    create_postgres_database,
    drop_postgres_database,
    free_port,
    postgres_available,
    require,
)

Sessions = Callable[[], async_sessionmaker[AsyncSession]]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A migrated scratch PostgreSQL database (the apps under test would migrate it too)."""
    require(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    name = f"frontline_presence_{os.getpid()}"
    url = create_postgres_database(name)
    try:
        upgrade(url)
        yield url
    finally:
        drop_postgres_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_url")  # type: ignore[no-any-return]
    url = f"sqlite+aiosqlite:///{tmp_path / 'presence.db'}"
    upgrade(url)
    return url


@pytest.fixture
async def process_db(db_url: str) -> AsyncIterator[Sessions]:
    """A fresh engine per call: each "process" has connections of its own."""
    engines = []

    def sessions() -> async_sessionmaker[AsyncSession]:
        engines.append(engine := create_engine(DbSettings(url=db_url)))
        return create_session_factory(engine)

    yield sessions
    for engine in engines:
        await engine.dispose()


async def add_operator(sessions: async_sessionmaker[AsyncSession], login: str) -> int:
    async with sessions() as db, db.begin():
        operator = Operator(
            login=login, display_name=login.title(), password_hash="-", skills=[], languages=[]
        )
        db.add(operator)
        await db.flush()
        return operator.id


class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 12, 1, 12, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now


async def test_a_console_on_one_process_is_online_for_the_other_until_its_last_stream_closes(
    process_db: Sessions,
) -> None:
    a, b = Presence(process_db()), Presence(process_db())
    anna = await add_operator(process_db(), "anna")
    async with a.online(anna):
        first = await b.since()
        assert set(first) == {anna} and await a.since() == first
        async with b.online(anna):  # a second tab, served by the other process
            assert await a.since() == first  # online since the first tab opened
        assert await b.since() == first  # one tab still open, on A
    assert await a.since() == {} and await b.since() == {}


async def test_a_process_that_stops_renewing_drops_out_after_the_ttl_and_a_live_one_does_not(
    process_db: Sessions,
) -> None:
    clock = Clock()
    a = Presence(process_db(), clock=clock)
    b = Presence(process_db(), clock=clock)
    anna, boris = await add_operator(process_db(), "anna"), await add_operator(process_db(), "boris")
    async with a.online(anna), b.online(boris):
        clock.now += a.ttl - timedelta(seconds=1)
        await b.renew()  # B is alive; A has stopped renewing (killed, say)
        assert set(await b.since()) == {anna, boris}
        clock.now += timedelta(seconds=2)
        assert set(await b.since()) == {boris}  # A's console no longer counts
        assert set(await a.since()) == {boris}

        await b.renew()  # deletes A's stale row
        await a.renew()  # A was only slow: its stream is still open, so its row comes back
        assert set(await b.since()) == {anna, boris}


async def test_the_heartbeat_keeps_a_console_online_and_takes_it_along_when_the_process_stops(
    process_db: Sessions,
) -> None:
    a, b = Presence(process_db(), heartbeat_s=0.05), Presence(process_db(), heartbeat_s=0.05)
    anna = await add_operator(process_db(), "anna")
    heartbeat = asyncio.create_task(a.keep_fresh())
    async with a.online(anna):
        await asyncio.sleep(a.ttl.total_seconds() * 3)
        assert set(await b.since()) == {anna}  # renewed all along
        heartbeat.cancel()
        await asyncio.gather(heartbeat, return_exceptions=True)
        assert await b.since() == {}  # a process that stops takes its consoles' presence along


async def test_a_cancelled_stream_still_removes_its_row(process_db: Sessions) -> None:
    a, b = Presence(process_db()), Presence(process_db())
    anna = await add_operator(process_db(), "anna")
    opened = asyncio.Event()

    async def console() -> None:
        async with a.online(anna):
            opened.set()
            await asyncio.Event().wait()

    stream = asyncio.create_task(console())
    await opened.wait()
    assert set(await b.since()) == {anna}
    stream.cancel()  # how a server ends the stream of a console that went away
    await asyncio.gather(stream, return_exceptions=True)
    assert await b.since() == {}


async def anna_online_in(front_line: FrontLine) -> bool:
    response = await front_line.http.get("/api/operator/operators", headers=front_line.auth)
    assert response.status_code == 200, response.text
    return {o["login"]: o["online"] for o in response.json()}["anna"]


async def until(front_line: FrontLine, online: bool) -> None:
    """The stream registers once its body starts (after the headers), and is removed once the
    server notices the closed connection: either follows soon, not at once."""
    async with asyncio.timeout(10):
        while await anna_online_in(front_line) != online:
            await asyncio.sleep(0.05)


@pytest.mark.postgres
async def test_a_console_on_one_app_process_gets_offers_and_transfers_from_another(postgres_url: str) -> None:
    settings = Settings(
        db=DbSettings(url=postgres_url),
        rasa=RasaSettings(url=f"http://127.0.0.1:{free_port()}", connect_retries=0),
    )
    async with serving(settings) as a, serving(settings) as b:
        assert not await anna_online_in(b)
        async with console(a):
            await until(b, online=True)  # the transfer dialog served by B lists her
            queued = await b.say("web:nadia", "I need a person")
            assert queued["state"] == "queued"  # no bot here
            assert await b.app.state.auto_offers.offer_waiting() == 1  # B offers her the ticket
        await until(b, online=False)
