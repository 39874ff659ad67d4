"""App processes started together on one fresh PostgreSQL database each migrate it at start: they take
turns, and every one of them comes up on the latest schema."""

from __future__ import annotations

import asyncio
import os
import subprocess
from collections.abc import Iterator

import pytest
from alembic.script import ScriptDirectory

from app.launcher import APP_PYTHON
from core.migrate import alembic_config
from core.settings import PROJECT_ROOT
from tests.support import create_postgres_database, drop_postgres_database, postgres_available, require

pytestmark = pytest.mark.postgres

PROCESSES = 4


@pytest.fixture
def fresh_database() -> Iterator[str]:
    require(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    name = f"frontline_migrations_{os.getpid()}"
    url = create_postgres_database(name)
    try:
        yield url
    finally:
        drop_postgres_database(name)


def test_app_processes_starting_together_migrate_one_after_another(fresh_database: str) -> None:
    # Processes, as the app's are (Alembic's context is one per process, not per thread).
    argv = [str(APP_PYTHON), "-m", "core.migrate", fresh_database]
    starting = [
        subprocess.Popen(argv, cwd=PROJECT_ROOT, stderr=subprocess.PIPE, text=True) for _ in range(PROCESSES)
    ]
    for process in starting:
        _, errors = process.communicate(timeout=120)
        assert process.returncode == 0, errors[-2000:]

    import asyncpg

    async def version() -> str:
        conn = await asyncpg.connect(fresh_database.replace("+asyncpg", ""))
        try:
            return str(await conn.fetchval("SELECT version_num FROM alembic_version"))
        finally:
            await conn.close()

    head = ScriptDirectory.from_config(alembic_config(fresh_database)).get_current_head()
    assert asyncio.run(version()) == head
