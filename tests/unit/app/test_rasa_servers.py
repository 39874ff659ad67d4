"""`serve --rasa-servers M`: M Rasa servers on consecutive ports, their lock store, the app told of all."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pydantic import SecretStr

from app.launcher import (
    LaunchError,
    app_service,
    lock_store_env,
    main,
    rasa_services,
    with_rasa_servers,
)
from core.settings import DbSettings, RasaSettings, Settings
from testing.ports import free_port


def _settings(
    lock_store: str = "redis://127.0.0.1:6379/1", db: str = "postgresql+asyncpg://front:pw@db/frontline"
) -> Settings:
    rasa = RasaSettings(url="http://127.0.0.1:6005", lock_store_url=SecretStr(lock_store))
    return Settings(db=DbSettings(url=db), rasa=rasa)


def test_servers_on_consecutive_ports_and_the_app_is_handed_them_all() -> None:
    settings = with_rasa_servers(_settings(), 3)
    urls = [f"http://127.0.0.1:{port}" for port in (6005, 6006, 6007)]
    services = rasa_services(settings)
    assert [s.name for s in services] == ["rasa", "rasa-2", "rasa-3"]
    assert [s.health_url for s in services] == [f"{url}/status" for url in urls]
    assert [s.argv[s.argv.index("--port") + 1] for s in services] == ["6005", "6006", "6007"]
    app_env = app_service(settings).env
    assert json.loads(app_env["FRONTLINE_RASA__URLS"]) == urls
    assert app_env["FRONTLINE_RASA__URL"] == urls[0]


def test_one_server_locks_in_memory_and_is_handed_over_alone() -> None:
    settings = with_rasa_servers(_settings(), 1)
    (service,) = rasa_services(settings)
    assert service.env["FRONTLINE_RASA_LOCK_TYPE"] == "in_memory"
    assert json.loads(app_service(settings).env["FRONTLINE_RASA__URLS"]) == ["http://127.0.0.1:6005"]


def test_several_servers_lock_in_redis_its_password_in_the_environment_not_argv() -> None:
    settings = with_rasa_servers(_settings("redis://:s3cret%21@10.0.0.7:6380/4"), 2)
    for service in rasa_services(settings):
        assert {k: v for k, v in service.env.items() if k.startswith("FRONTLINE_RASA_LOCK_")} == {
            "FRONTLINE_RASA_LOCK_TYPE": "redis",
            "FRONTLINE_RASA_LOCK_HOST": "10.0.0.7",
            "FRONTLINE_RASA_LOCK_PORT": "6380",
            "FRONTLINE_RASA_LOCK_DB": "4",
            "FRONTLINE_RASA_LOCK_PASSWORD": "s3cret!",
        }
        assert not any("s3cret" in arg for arg in service.argv)


def test_a_lock_store_that_is_not_redis_or_not_there_stops_the_start(tmp_path: Path) -> None:
    with pytest.raises(LaunchError, match="redis://"):
        lock_store_env(with_rasa_servers(_settings("memcached://127.0.0.1:11211"), 2))
    db = f"sqlite+aiosqlite:///{tmp_path / 'frontline.db'}"
    absent = with_rasa_servers(_settings(f"redis://127.0.0.1:{free_port()}/1", db), 2)
    service = rasa_services(absent)[0]
    assert service.prepare is not None
    with pytest.raises(LaunchError, match="start Redis"):
        service.prepare()


def test_the_number_of_servers_is_one_or_more(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["serve", "--rasa-servers", "0"])
    assert "--rasa-servers" in capsys.readouterr().err
