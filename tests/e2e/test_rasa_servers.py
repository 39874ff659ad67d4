"""Two real Rasa servers on one PostgreSQL tracker store and Redis's lock store: a customer whose turns
alternate between them goes through the order form with every slot kept."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from pydantic import SecretStr

from app.launcher import APP_PYTHON, RASA_BIN, actions_service, rasa_services, start_all, stop_all
from core.dialogue import RasaClient
from core.migrate import upgrade
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
def two_rasas() -> Iterator[Settings]:
    """An action server and two Rasa servers of their own (about 2 GB, a minute or two to start)."""
    require(RASA_BIN.exists() and APP_PYTHON.exists(), "the two venvs (run `make test`)")
    require(Settings().model_path.exists(), "a trained model (run `make model`)")
    require(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    require(redis_answers(), "Redis on 127.0.0.1:6379 (Rasa's lock store)")
    name = f"frontline_rasas_{os.getpid()}"
    url = create_postgres_database(name)
    upgrade(url)
    first, second = free_port(), free_port()
    settings = Settings(
        db=DbSettings(url=url),
        rasa=RasaSettings(
            urls=[f"http://127.0.0.1:{first}", f"http://127.0.0.1:{second}"],
            token=SecretStr("e2e-secret-for-two-rasa-servers-0123456789"),
        ),
        actions=ActionsSettings(port=free_port()),
    )
    services = [actions_service(settings), *rasa_services(settings)]
    try:
        start_all(services, log_to_files=True)
        yield settings
    finally:
        stop_all(services)
        drop_postgres_database(f"{name}_rasa")
        drop_postgres_database(name)


async def test_a_customer_alternating_between_two_servers_keeps_the_order_forms_slots(
    two_rasas: Settings,
) -> None:
    # One client per server, so the turns alternate for sure (the front line's client would keep
    # this conversation on one of them).
    clients = [RasaClient(two_rasas.rasa.model_copy(update={"urls": [url]})) for url in two_rasas.rasa.urls]
    sender = "web:1:1:two-rasa-servers"
    turns = ["I want to connect internet at home", "Ivan Petrov", "+7 916 123-45-67"]
    try:
        for n, text in enumerate(turns):
            replies = await clients[n % 2].send(sender, text, {})
        tracker = await clients[len(turns) % 2].tracker(sender)
        events = [e for e in tracker["events"] if e.get("event") == "user"]
    finally:
        for client in clients:
            await client.aclose()
    assert "address for the connection" in " ".join(r.get("text") or "" for r in replies)
    slots = tracker["slots"]
    assert slots["full_name"] == "Ivan Petrov" and slots["phone"] == "+79161234567"
    assert slots["requested_slot"] == "address"
    assert (tracker.get("active_loop") or {}).get("name") == "order_form"
    assert [e["text"] for e in events] == turns  # each turn stored once, in order
