"""Fixtures shared by the test folders: one real Rasa server per run, an action server per database.

They live here (not in tests/e2e) so the e2e and the channel tests share the same Rasa process.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.launcher import APP_PYTHON, RASA_BIN, Service, actions_service
from core.migrate import upgrade
from core.settings import ActionsSettings, DbSettings, RasaSettings, Settings
from tests.stack import RasaStack
from tests.support import (
    create_postgres_database,
    drop_postgres_database,
    free_port,
    postgres_available,
    require,
)


@pytest.fixture(scope="session")
def rasa_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RasaStack]:
    # Trackers in a file of this run's own, as a deployment keeps them (a restart loses none).
    trackers = tmp_path_factory.mktemp("rasa") / "trackers.db"
    base = Settings(
        rasa=RasaSettings(
            url=f"http://127.0.0.1:{free_port()}",
            token=SecretStr("e2e-secret-for-rasa-http-api-0123456789"),  # HS256 wants 32 bytes or more
            tracker_store_url=SecretStr(f"sqlite:///{trackers}"),
        ),
        actions=ActionsSettings(port=free_port()),
    )
    require(RASA_BIN.exists() and APP_PYTHON.exists(), "the two venvs (run `make test`)")
    require(Path(base.model_path).exists(), f"a trained model at {base.model_path} (run `make model`)")
    stack = RasaStack(base)
    stack.start()
    yield stack
    stack.stop()


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def stack_settings(
    request: pytest.FixtureRequest, rasa_stack: RasaStack, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Settings]:
    """Settings for one database backend, with an action server writing to that database."""
    pg_name = f"frontline_e2e_{os.getpid()}"
    if request.param == "postgresql":
        require(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
        url = create_postgres_database(pg_name)
        upgrade(url)
        # Rasa is shared by both backends: start this database's sessions far above SQLite's, so
        # even the row-id part of the sender ids differs (their random part keeps trackers apart).
        asyncio.run(_restart_session_ids(url, 1_000_001))
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'frontline.db'}"
    upgrade(url)
    # Every test's customers come from one address into one database for the whole run: on PostgreSQL
    # the new-conversation limit (shared rows) would refuse them by the clock, not by any test's doing.
    # The limit has tests of its own (tests/integration/test_chat_api.py, ..._across_processes.py).
    settings = rasa_stack.base.model_copy(
        update={"db": DbSettings(url=url), "new_conversations_per_minute": 0}
    )
    actions: Service = actions_service(settings)
    actions.start(log_to_files=True)
    try:
        actions.wait_healthy()
        yield settings
    finally:
        actions.stop()
        if request.param == "postgresql":
            drop_postgres_database(pg_name)


async def _restart_session_ids(url: str, start: int) -> None:
    import asyncpg

    conn = await asyncpg.connect(url.replace("postgresql+asyncpg://", "postgresql://"))
    try:
        await conn.execute(f"ALTER SEQUENCE sessions_id_seq RESTART WITH {start}")
    finally:
        await conn.close()
