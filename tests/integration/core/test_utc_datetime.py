"""Every datetime column stores UTC and reads back aware UTC, on SQLite and PostgreSQL alike."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic import command
from sqlalchemy import func, select
from sqlalchemy.exc import StatementError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import create_engine, create_session_factory
from core.migrate import alembic_config
from core.models import Customer
from core.settings import DbSettings

Sessions = async_sessionmaker[AsyncSession]
TEHRAN = timezone(timedelta(hours=3, minutes=30))


@pytest.fixture
async def sessions(db_url: str) -> AsyncIterator[Sessions]:
    engine = create_engine(DbSettings(url=db_url))
    yield create_session_factory(engine)
    await engine.dispose()


async def _add(sessions: Sessions, key: str, at: datetime) -> None:
    async with sessions() as db, db.begin():
        db.add(Customer(key=key, created_at=at))


async def test_a_moment_written_in_any_zone_reads_back_as_the_same_moment_in_utc(sessions: Sessions) -> None:
    written = datetime(2024, 3, 20, 9, 30, tzinfo=TEHRAN)
    await _add(sessions, "web:a", written)
    async with sessions() as db:
        read = await db.scalar(select(Customer.created_at).where(Customer.key == "web:a"))
    assert read is not None
    assert read.tzinfo is UTC
    assert read == written
    assert (read.hour, read.minute) == (6, 0)


async def test_comparisons_and_aggregates_work_on_moments_not_wall_clocks(sessions: Sessions) -> None:
    # 06:00 UTC written from Tehran, 07:00 UTC written as UTC: on wall clocks the first looks later.
    await _add(sessions, "web:early", datetime(2024, 3, 20, 9, 30, tzinfo=TEHRAN))
    await _add(sessions, "web:late", datetime(2024, 3, 20, 7, 0, tzinfo=UTC))
    after = datetime(2024, 3, 20, 10, 0, tzinfo=TEHRAN)  # 06:30 UTC
    async with sessions() as db:
        later = list(await db.scalars(select(Customer.key).where(Customer.created_at > after)))
        newest = await db.scalar(select(func.max(Customer.created_at)))
    assert later == ["web:late"]
    assert newest == datetime(2024, 3, 20, 7, 0, tzinfo=UTC)
    assert newest is not None and newest.tzinfo is UTC


async def test_a_naive_moment_is_refused_rather_than_guessed(sessions: Sessions) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        await _add(sessions, "web:naive", datetime(2024, 3, 20, 9, 30))


async def test_the_migrated_schema_matches_the_declared_column_types(db_url: str) -> None:
    await asyncio.to_thread(command.check, alembic_config(db_url))
