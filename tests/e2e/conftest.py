"""The real stack for end-to-end tests: one Rasa server per run, an action server per database."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.launcher import APP_PYTHON, RASA_BIN, Service, actions_service, rasa_service
from core.migrate import upgrade
from core.settings import ActionsSettings, DbSettings, RasaSettings, Settings
from tests.chat import FrontLine, running_front_line
from tests.support import (
    create_postgres_database,
    drop_postgres_database,
    free_port,
    postgres_available,
    require,
)

pytestmark = pytest.mark.e2e


class RasaStack:
    """Rasa and its settings; tests may stop and restart Rasa (the Rasa-down test does)."""

    def __init__(self, base: Settings) -> None:
        self.base = base
        self.rasa = rasa_service(base)

    def start(self) -> None:
        self.rasa.start(log_to_files=True)
        self.rasa.wait_healthy()

    def stop(self) -> None:
        self.rasa.stop()


@pytest.fixture(scope="session")
def rasa_stack() -> Iterator[RasaStack]:
    base = Settings(
        rasa=RasaSettings(url=f"http://127.0.0.1:{free_port()}", token=SecretStr("e2e-token")),
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
    else:
        url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('db') / 'frontline.db'}"
    upgrade(url)
    settings = rasa_stack.base.model_copy(update={"db": DbSettings(url=url)})
    actions: Service = actions_service(settings)
    actions.start(log_to_files=True)
    try:
        actions.wait_healthy()
        yield settings
    finally:
        actions.stop()
        if request.param == "postgresql":
            drop_postgres_database(pg_name)


@pytest.fixture
async def front_line(stack_settings: Settings) -> AsyncIterator[FrontLine]:
    async with running_front_line(stack_settings) as front_line:
        yield front_line
