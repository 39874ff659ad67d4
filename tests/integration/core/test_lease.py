"""The singleton lease across app processes on PostgreSQL: of two leases on one database only one
runs the work; when the holder's connection is killed or it stops, the other takes over within
seconds and the old holder's work has stopped by then, so the work never runs twice at once."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import asyncpg
import pytest

from core.lease import THIS_PROCESS, AdvisoryLease, AlwaysHeld
from tests.support import (
    POSTGRES_ADMIN_DSN,
    create_postgres_database,
    drop_postgres_database,
    postgres_available,
    require,
)

LIMIT_S = 20.0  # a bound for a loaded machine, not a timing under test


@dataclass
class Worker:
    """The singleton work of one process: counts how many copies run at once across processes."""

    name: str
    running: list[str]
    overlaps: list[list[str]]
    runs: int = 0
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    async def work(self) -> None:
        self.runs += 1
        self.running.append(self.name)
        if len(self.running) > 1:
            self.overlaps.append(list(self.running))
        try:
            await asyncio.Event().wait()
        finally:
            self.running.remove(self.name)


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    require(await asyncio.to_thread(postgres_available), "PostgreSQL on 127.0.0.1:5432")
    name = f"frontline_lease_{os.getpid()}"
    url = await asyncio.to_thread(create_postgres_database, name)
    try:
        yield url
    finally:
        await asyncio.to_thread(drop_postgres_database, name)


def _lease(url: str, identity: str) -> AdvisoryLease:
    return AdvisoryLease(url, identity=identity, try_every_s=0.1, check_every_s=0.3, query_timeout_s=0.3)


async def _until(condition: object) -> None:
    async with asyncio.timeout(LIMIT_S):
        while not condition():  # type: ignore[operator]
            await asyncio.sleep(0.02)


async def _terminate(identity: str) -> int:
    conn = await asyncpg.connect(POSTGRES_ADMIN_DSN)
    try:
        return len(
            await conn.fetch(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1",
                identity,
            )
        )
    finally:
        await conn.close()


@pytest.fixture
async def two(pg_url: str) -> AsyncIterator[tuple[tuple[AdvisoryLease, Worker], ...]]:
    running: list[str] = []
    overlaps: list[list[str]] = []
    pairs = []
    for name in ("a", "b"):
        lease, worker = _lease(pg_url, f"lease test {name}"), Worker(name, running, overlaps)
        worker.tasks = [asyncio.create_task(lease.keep()), asyncio.create_task(lease.while_held(worker.work))]
        pairs.append((lease, worker))
    yield tuple(pairs)
    for _, worker in pairs:
        for task in worker.tasks:
            task.cancel()
        await asyncio.gather(*worker.tasks, return_exceptions=True)
    assert overlaps == []  # never two at once


@pytest.mark.postgres
async def test_of_two_processes_only_one_runs_the_work(two: tuple[tuple[AdvisoryLease, Worker], ...]) -> None:
    (a, work_a), (b, work_b) = two
    await _until(lambda: work_a.running)
    await asyncio.sleep(1.0)  # several tries of the other one
    assert len(work_a.running) == 1 and work_a.runs + work_b.runs == 1
    holder, waiting = (a, b) if a.held else (b, a)
    assert holder.holder == THIS_PROCESS and not waiting.held
    assert waiting.holder.startswith(holder.identity)  # names the process that holds it


@pytest.mark.postgres
@pytest.mark.parametrize("ending", ["connection killed", "holder stopped"])
async def test_the_other_process_takes_over_when_the_holder_goes(
    two: tuple[tuple[AdvisoryLease, Worker], ...], ending: str
) -> None:
    await _until(lambda: two[0][1].running)
    (holder, old), (_, new) = two if two[0][0].held else two[::-1]
    assert old.running == [old.name]
    loop = asyncio.get_running_loop()
    gone_at = loop.time()
    if ending == "connection killed":
        assert await _terminate(holder.identity) == 1
    else:
        for task in old.tasks:
            task.cancel()
        await asyncio.gather(*old.tasks, return_exceptions=True)
    await _until(lambda: new.running == [new.name])
    assert loop.time() - gone_at < 5.0
    assert new.runs == 1 and old.runs == 1  # the old holder's work stopped and did not start again
    if ending == "connection killed":
        assert not holder.held  # it reconnected and waits behind the new holder


@pytest.mark.postgres
async def test_a_lost_connection_stops_the_work_before_anyone_else_may_start(pg_url: str) -> None:
    running: list[str] = []
    lease, worker = _lease(pg_url, "lease test alone"), Worker("alone", running, [])
    keeping = asyncio.create_task(lease.keep())
    working = asyncio.create_task(lease.while_held(worker.work))
    try:
        await _until(lambda: worker.running)
        await _terminate(lease.identity)
        # Nobody else waits here: the work stops because the connection went, then starts again
        # once the lease is taken afresh.
        await _until(lambda: not worker.running)
        await _until(lambda: worker.runs == 2 and worker.running)
    finally:
        keeping.cancel()
        working.cancel()
        await asyncio.gather(keeping, working, return_exceptions=True)


async def test_on_sqlite_the_lease_is_always_held() -> None:
    lease = AlwaysHeld()
    ran = []

    async def work() -> None:
        ran.append(lease.held)

    await lease.while_held(work)
    assert ran == [True] and lease.holder == THIS_PROCESS
