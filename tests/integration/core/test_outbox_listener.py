"""Live events across app processes on PostgreSQL: two "processes" (each its own engine, bus and
outbox listener) on one database hear every committed event once, in id order, nothing of a
rolled-back change, and what committed while a listener's connection was down."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from core import outbox, outbox_listener
from core.db import create_engine, create_session_factory
from core.events import EventBus, LiveEvent
from core.kinds import LiveEventKind
from core.migrate import upgrade_async
from core.outbox_listener import OutboxListener
from core.settings import DbSettings
from tests.support import create_postgres_database, drop_postgres_database, postgres_available, require

pytestmark = pytest.mark.postgres

# Nothing more may arrive within this long after the expected events did.
QUIET_S = 0.5


@dataclass
class Process:
    """What one app process holds: its engine, its bus and the listener feeding it."""

    engine: AsyncEngine
    db_sessions: async_sessionmaker[AsyncSession]
    bus: EventBus
    listener: OutboxListener
    task: asyncio.Task[None]

    async def write(self, *events: LiveEvent) -> None:
        async with self.db_sessions() as db, db.begin():
            await outbox.write(db, self.bus, *events)

    async def stop(self) -> None:
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        await self.engine.dispose()


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    require(await asyncio.to_thread(postgres_available), "PostgreSQL on 127.0.0.1:5432")
    name = f"frontline_listener_{os.getpid()}"
    url = await asyncio.to_thread(create_postgres_database, name)
    try:
        await upgrade_async(url)
        yield url
    finally:
        await asyncio.to_thread(drop_postgres_database, name)


async def _process(url: str) -> Process:
    engine = create_engine(DbSettings(url=url))
    bus = EventBus(fed_by_listener=True)
    listener = OutboxListener(url, bus)
    await listener.start()
    task = asyncio.create_task(listener.run())
    return Process(engine, create_session_factory(engine), bus, listener, task)


@pytest.fixture
async def processes(pg_url: str) -> AsyncIterator[tuple[Process, Process]]:
    a, b = await _process(pg_url), await _process(pg_url)
    yield a, b
    await a.stop()
    await b.stop()


def _queued(ticket_id: int) -> LiveEvent:
    return LiveEvent(LiveEventKind.TICKET_QUEUED, {"ticket_id": ticket_id, "session_id": 1})


async def _heard(queue: asyncio.Queue[LiveEvent], count: int) -> list[LiveEvent]:
    """`count` events, then proof that no more (no second copy) follow."""
    async with asyncio.timeout(15):
        events = [await queue.get() for _ in range(count)]
    await asyncio.sleep(QUIET_S)
    assert queue.empty(), f"more than {count} events: {queue.get_nowait()}"
    return events


async def test_events_committed_by_either_process_reach_both_once_in_id_order(
    processes: tuple[Process, Process],
) -> None:
    a, b = processes
    async with a.bus.subscribe() as on_a, b.bus.subscribe() as on_b:
        await a.write(_queued(1))
        # Both processes write at once, some transactions with several events.
        await asyncio.gather(
            *(a.write(_queued(10 + n), _queued(20 + n)) for n in range(5)),
            *(b.write(_queued(30 + n)) for n in range(5)),
        )
        heard_on_a, heard_on_b = await _heard(on_a, 16), await _heard(on_b, 16)
    ids = [e.id for e in heard_on_b]
    assert ids == sorted(ids) and len(set(ids)) == 16
    assert [(e.id, e.data) for e in heard_on_a] == [(e.id, e.data) for e in heard_on_b]
    assert heard_on_b[0].data["ticket_id"] == 1
    assert {e.data["ticket_id"] for e in heard_on_b} == {1, *range(10, 15), *range(20, 25), *range(30, 35)}
    async with a.db_sessions() as db:  # what they heard is what the table holds
        stored = await outbox.events_after(db, heard_on_b[0].id or 0, 100)
    assert stored == heard_on_b[1:]


async def test_a_rolled_back_change_notifies_nothing(pg_url: str, processes: tuple[Process, Process]) -> None:
    a, b = processes
    raw = await asyncpg.connect(pg_url.replace("postgresql+asyncpg://", "postgresql://"))
    notified: list[str] = []
    await raw.add_listener(outbox_listener.CHANNEL, lambda *args: notified.append(args[-1]))
    try:
        async with b.bus.subscribe() as on_b:
            with pytest.raises(RuntimeError):
                async with a.db_sessions() as db, db.begin():
                    await outbox.write(db, a.bus, _queued(1))
                    raise RuntimeError("the change fails after its event was written")
            await a.write(_queued(2))
            (heard,) = await _heard(on_b, 1)
    finally:
        await raw.close()
    assert heard.data["ticket_id"] == 2
    assert notified == [str(heard.id)]


async def test_events_committed_while_a_listener_was_cut_off_arrive_after_it_reconnects(
    pg_url: str, processes: tuple[Process, Process], monkeypatch: pytest.MonkeyPatch
) -> None:
    a, b = processes
    # Long enough that the writes below surely fall in the gap; no idle read to find them instead.
    monkeypatch.setattr(outbox_listener, "RECONNECT_MIN_S", 2.0)
    monkeypatch.setattr(outbox_listener, "IDLE_CHECK_S", 60.0)
    async with b.bus.subscribe() as on_b:
        await a.write(_queued(1))
        (before,) = await _heard(on_b, 1)
        await _kill_listener_connection(pg_url)
        async with asyncio.timeout(10):
            while b.listener.connected:
                await asyncio.sleep(0.02)
        await a.write(_queued(2))
        await a.write(_queued(3), _queued(4))
        assert not b.listener.connected  # written while nobody on B listened
        after = await _heard(on_b, 3)
    assert b.listener.connected
    assert [e.data["ticket_id"] for e in after] == [2, 3, 4]
    assert (before.id or 0) < (after[0].id or 0) < (after[1].id or 0) < (after[2].id or 0)


async def _kill_listener_connection(url: str) -> None:
    """What a database restart does to the listening connections (the pools' go too)."""
    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        killed = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE datname = current_database() AND application_name = $1",
            outbox_listener.APPLICATION_NAME,
        )
    finally:
        await conn.close()
    assert killed == 2
