"""Where Rasa keeps its trackers: beside the app's data, in a database or file of its own."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from app.launcher import (
    TRACKER_URL_VARIABLE,
    LaunchError,
    prepare_tracker_store,
    rasa_service,
    tracker_store_url,
)
from core.settings import DbSettings, RasaSettings, Settings


def _settings(db_url: str, tracker: str = "") -> Settings:
    return Settings(db=DbSettings(url=db_url), rasa=RasaSettings(tracker_store_url=SecretStr(tracker)))


def test_an_sqlite_front_line_gets_a_tracker_file_beside_its_own(tmp_path: Path) -> None:
    settings = _settings(f"sqlite+aiosqlite:///{tmp_path / 'data' / 'frontline.db'}")
    assert tracker_store_url(settings) == f"sqlite:///{tmp_path / 'data' / 'frontline-rasa.db'}"
    prepare_tracker_store(settings)  # Rasa would wait for ever for a file it cannot create
    assert (tmp_path / "data").is_dir()


def test_a_postgresql_front_line_gets_a_database_of_its_own_on_the_same_server() -> None:
    settings = _settings("postgresql+asyncpg://front:pw@db.internal:5433/frontline")
    assert tracker_store_url(settings) == "postgresql://front:pw@db.internal:5433/frontline_rasa"


def test_a_configured_url_wins_and_travels_in_the_environment_not_argv() -> None:
    url = "postgresql://rasa:secret-pw@10.0.0.5/trackers"
    service = rasa_service(_settings("postgresql+asyncpg://front:pw@db/frontline", tracker=url))
    assert service.env[TRACKER_URL_VARIABLE] == url
    assert not any("secret-pw" in arg for arg in service.argv)


@pytest.mark.parametrize(
    "db_url", ["sqlite+aiosqlite://", "postgresql+asyncpg://front:pw@db/frontline?ssl=require"]
)
def test_no_guess_where_none_can_be_derived(db_url: str) -> None:
    with pytest.raises(LaunchError, match="FRONTLINE_RASA__TRACKER_STORE_URL"):
        tracker_store_url(_settings(db_url))
