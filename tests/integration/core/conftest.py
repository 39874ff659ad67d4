"""A migrated scratch database per test, on SQLite and (where it runs) PostgreSQL."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.migrate import upgrade_async
from tests.support import create_postgres_database, drop_postgres_database, postgres_available, require


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """The URL of a database migrated to the latest schema, dropped after the test."""
    if request.param == "sqlite":
        url = f"sqlite+aiosqlite:///{tmp_path / 'core.db'}"
        await upgrade_async(url)
        yield url
        return
    require(await asyncio.to_thread(postgres_available), "PostgreSQL on 127.0.0.1:5432")
    name = f"frontline_core_{os.getpid()}"
    url = await asyncio.to_thread(create_postgres_database, name)
    try:
        await upgrade_async(url)
        yield url
    finally:
        await asyncio.to_thread(drop_postgres_database, name)
