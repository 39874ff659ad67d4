"""Two real Rasa servers on one PostgreSQL tracker store: when the server a conversation keeps to is
stopped in the middle of the order form, the next turn goes to the other server, which goes on with
the form where it stood."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from app.launcher import APP_PYTHON, RASA_BIN, Service, actions_service, rasa_services, start_all, stop_all
from core.dialogue import RasaClient
from core.migrate import upgrade
from core.rasa_servers import ranked
from core.settings import ActionsSettings, DbSettings, RasaSettings, Settings
from testing.ports import redis_answers
from tests.support import (
    create_postgres_database,
    drop_postgres_database,
    free_port,
    postgres_available,
    require,
)

pytestmark = pytest.mark.e2e


@pytest.fixture
def two_rasas() -> Iterator[tuple[Settings, list[Service]]]:
    """An action server and two Rasa servers of their own (about 2 GB, a minute or two to start)."""
    require(RASA_BIN.exists() and APP_PYTHON.exists(), "the two venvs (run `make test`)")
    require(Settings().model_path.exists(), "a trained model (run `make model`)")
    require(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    require(redis_answers(), "Redis on 127.0.0.1:6379 (Rasa's lock store)")
    name = f"frontline_failover_{os.getpid()}"
    url = create_postgres_database(name)
    upgrade(url)
    settings = Settings(
        db=DbSettings(url=url),
        rasa=RasaSettings(
            urls=[f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"],
            token=SecretStr("e2e-secret-for-rasa-fail-over-0123456789"),
        ),
        actions=ActionsSettings(port=free_port()),
    )
    rasas = rasa_services(settings)
    services = [actions_service(settings), *rasas]
    try:
        start_all(services, log_to_files=True)
        yield settings, rasas
    finally:
        stop_all(services)
        drop_postgres_database(f"{name}_rasa")
        drop_postgres_database(name)


async def test_a_conversation_whose_server_stops_goes_on_with_its_form_on_the_other(
    two_rasas: tuple[Settings, list[Service]],
) -> None:
    settings, rasas = two_rasas
    first = settings.rasa.servers[0]
    sender = next(
        s for s in (f"web:1:{n}:fail-over" for n in range(50)) if ranked(settings.rasa.servers, s)[0] == first
    )
    rasa = RasaClient(settings.rasa)
    try:
        await rasa.send(sender, "I want to connect internet at home", {})
        await rasa.send(sender, "Ivan Petrov", {})
        rasas[0].stop()  # the conversation's own server
        replies = await rasa.send(sender, "+7 916 123-45-67", {})
        tracker = await rasa.tracker(sender)
    finally:
        await rasa.aclose()
    assert "address for the connection" in " ".join(r.get("text") or "" for r in replies)
    slots = tracker["slots"]
    assert slots["full_name"] == "Ivan Petrov" and slots["phone"] == "+79161234567"
    assert (tracker.get("active_loop") or {}).get("name") == "order_form"
