"""Rasa keeps its trackers in a database: a restart loses no slot or form, and a conversation of
before a reset of the front line's own database is never handed to a new customer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import pytest

from app.launcher import actions_service, tracker_store_url
from core.dialogue import RasaClient
from core.migrate import upgrade
from core.models import ConversationSession
from core.settings import ActionsSettings, DbSettings, RasaSettings, Settings
from tests.chat import FrontLine, running_front_line
from tests.stack import RasaStack
from tests.support import (
    create_postgres_database,
    drop_postgres_database,
    free_port,
    postgres_available,
    require,
)

pytestmark = pytest.mark.e2e


async def _sender_of(front_line: FrontLine, session_id: int) -> str:
    async with front_line.db() as db:
        session = await db.get(ConversationSession, session_id)
        assert session is not None
        return session.rasa_sender_id


# Rasa's trackers do not depend on the front line's database: one backend is enough (each restart costs).
@pytest.mark.parametrize("stack_settings", ["sqlite"], indirect=True)
async def test_a_customer_midway_through_the_order_form_goes_on_after_rasa_restarts(
    front_line: FrontLine, rasa_stack: RasaStack
) -> None:
    customer = front_line.customer()
    await customer.say("I'd like to get internet connected at home")
    await customer.say("Ivan Petrov")
    await customer.say("+7 916 123-45-67")
    assert "address for the connection" in customer.text

    rasa_stack.stop()
    rasa_stack.start()

    reply = await customer.say("12 Park Lane, flat 4")
    assert reply["state"] == "bot"
    assert "Home 300" in [b["payload"] for b in customer.buttons]  # the form asks its next question
    await customer.say("Home 300")
    await customer.say(customer.buttons[0]["payload"])
    assert "Please check your order" in customer.text
    assert "Ivan Petrov" in customer.text and "12 Park Lane, flat 4" in customer.text


@pytest.mark.parametrize("stack_settings", ["sqlite"], indirect=True)
async def test_after_the_front_lines_database_is_reset_a_new_customer_starts_afresh(
    stack_settings: Settings, tmp_path: Path
) -> None:
    """Row ids start again at 1 in a new database; Rasa still has the trackers of the old one."""
    senders = []
    for name, first_words in (("before.db", "I want to connect internet at home"), ("after.db", "hi")):
        db = DbSettings(url=f"sqlite+aiosqlite:///{tmp_path / name}")
        async with running_front_line(stack_settings.model_copy(update={"db": db})) as front_line:
            customer = front_line.customer()
            reply = await customer.say(first_words)
            if name == "before.db":
                await customer.say("Ivan Petrov")
                assert "phone" in customer.text
            senders.append(await _sender_of(front_line, reply["session_id"]))
    assert senders[0] != senders[1]
    rasa = RasaClient(stack_settings.rasa)
    try:
        slots = (await rasa.tracker(senders[1]))["slots"]
    finally:
        await rasa.aclose()
    assert slots.get("full_name") is None and slots.get("requested_slot") is None


@pytest.fixture
def postgres_app_db() -> Iterator[str]:
    require(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    name = f"frontline_trackers_{os.getpid()}"
    url = create_postgres_database(name)
    upgrade(url)
    yield url
    drop_postgres_database(f"{name}_rasa")
    drop_postgres_database(name)


async def test_on_postgresql_the_trackers_live_in_a_database_of_their_own_and_survive_a_restart(
    rasa_stack: RasaStack, postgres_app_db: str
) -> None:
    """A Rasa and an action server of their own (the shared Rasa keeps its file), with the tracker
    database the launcher derives from the front line's."""
    settings = rasa_stack.base.model_copy(
        update={
            "db": DbSettings(url=postgres_app_db),
            "rasa": RasaSettings(url=f"http://127.0.0.1:{free_port()}", token=rasa_stack.base.rasa.token),
            "actions": ActionsSettings(port=free_port()),
        }
    )
    actions, rasa = actions_service(settings), RasaStack(settings)
    client = RasaClient(settings.rasa)
    sender = "web:1:1:trackers-on-postgresql"
    try:
        actions.start(log_to_files=True)
        actions.wait_healthy()
        rasa.start()  # creates the `<app db>_rasa` database first
        await client.send(sender, "I want to connect internet at home", {})
        rasa.stop()
        rasa.start()
        tracker = await client.tracker(sender)
    finally:
        await client.aclose()
        rasa.stop()
        actions.stop()
    assert (tracker.get("active_loop") or {}).get("name") == "order_form"
    conn = await asyncpg.connect(tracker_store_url(settings))
    try:
        stored = await conn.fetchval("SELECT count(*) FROM events WHERE sender_id = $1", sender)
    finally:
        await conn.close()
    assert stored > 0
