"""The app in-process with a real database and no Rasa: every bot call is refused."""

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.settings import DbSettings, RasaSettings, Settings
from tests.chat import FrontLine, running_front_line
from tests.support import free_port


@pytest.fixture
def settings_without_bot(tmp_path: Path) -> Settings:
    return Settings(
        db=DbSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'front.db'}"),
        rasa=RasaSettings(url=f"http://127.0.0.1:{free_port()}", connect_retries=0),
    )


@pytest.fixture
async def front_line_without_bot(settings_without_bot: Settings) -> AsyncIterator[FrontLine]:
    async with running_front_line(settings_without_bot) as front_line:
        yield front_line
