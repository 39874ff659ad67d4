"""`serve --app-workers N`: N app processes on consecutive ports with one set of settings, PostgreSQL only."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.launcher import LaunchError, app_ports, app_services, main
from core.settings import DbSettings, IvrSettings, Settings

POSTGRES = "postgresql+asyncpg://front:pw@db/frontline"


def _settings(db: str = POSTGRES) -> Settings:
    ivr = IvrSettings(enabled=True, host="127.0.0.1", port=5070)
    return Settings(db=DbSettings(url=db), port=8100, ivr=ivr)


def test_workers_on_consecutive_ports_with_the_same_settings() -> None:
    services = app_services(_settings(), 3)
    assert [s.name for s in services] == ["app", "app-2", "app-3"]
    assert app_ports(services) == [8100, 8101, 8102]
    assert [s.env["FRONTLINE_PORT"] for s in services] == ["8100", "8101", "8102"]
    same = [
        {k: v for k, v in s.env.items() if k not in ("FRONTLINE_PORT", "FRONTLINE_IVR__ENABLED")}
        for s in services
    ]
    assert same[0]["FRONTLINE_DB__URL"] == POSTGRES
    assert same[1:] == same[:-1]


def test_only_the_first_worker_answers_the_phone() -> None:
    services = app_services(_settings(), 2)
    assert [s.env["FRONTLINE_IVR__ENABLED"] for s in services] == ["true", "false"]


def test_several_workers_on_sqlite_are_refused_with_the_reason(tmp_path: Path) -> None:
    sqlite = _settings(f"sqlite+aiosqlite:///{tmp_path / 'frontline.db'}")
    assert [s.name for s in app_services(sqlite, 1)] == ["app"]
    with pytest.raises(LaunchError, match=r"needs PostgreSQL.*one app process owns the database"):
        app_services(sqlite, 2)


def test_the_number_of_workers_is_one_or_more(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--app-workers", "0"])
    assert "--app-workers" in capsys.readouterr().err
