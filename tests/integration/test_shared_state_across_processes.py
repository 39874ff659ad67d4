"""Two app processes on one PostgreSQL database share what a load balancer may spread over them:
a console's stream ticket from one opens the stream on the other (once), a colleague's console
coming online or a log-in ending reaches consoles on the other, and the limits on failed log-ins and
on new web conversations count the tries made through both."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

import pytest

from core.settings import DbSettings, RasaSettings, Settings
from handoff.operators import save_operator
from tests.integration.handoff.test_live_replay import Console, Event, FrontLine, console, serving
from tests.support import (
    create_postgres_database,
    drop_postgres_database,
    free_port,
    postgres_available,
    require,
)

pytestmark = pytest.mark.postgres

NEW_PER_MINUTE = 3


@pytest.fixture
def postgres_settings() -> Iterator[Settings]:
    require(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    name = f"frontline_shared_{os.getpid()}"
    url = create_postgres_database(name)
    try:
        yield Settings(
            db=DbSettings(url=url),
            rasa=RasaSettings(url=f"http://127.0.0.1:{free_port()}", connect_retries=0),
            new_conversations_per_minute=NEW_PER_MINUTE,
        )
    finally:
        drop_postgres_database(name)


async def _open(front_line: FrontLine, ticket: str) -> int:
    async with front_line.http.stream("GET", "/api/operator/events", params={"ticket": ticket}) as response:
        return response.status_code


async def test_a_ticket_from_one_process_opens_the_stream_on_the_other_once(
    postgres_settings: Settings,
) -> None:
    async with serving(postgres_settings) as a, serving(postgres_settings) as b:
        ticket = (await a.operator("/events/ticket"))["ticket"]
        assert await _open(b, ticket) == 200
        assert await _open(a, ticket) == 401  # used: on neither process again
        assert await _open(b, ticket) == 401


async def _until(stream: Console, kind: str, data: dict[str, Any] | None = None) -> Event:
    """The stream's next event of a kind (and data), other events skipped; within Console's timeout."""
    while True:
        event = await stream.next()
        if event[1] == kind and (data is None or event[2] == data):
            return event


async def test_a_console_hears_a_colleague_come_online_and_its_own_log_in_end_on_another_process(
    postgres_settings: Settings,
) -> None:
    async with serving(postgres_settings) as a, serving(postgres_settings) as b:
        await save_operator(
            postgres_settings, "boris", "boris-secret-pw",
            display_name="Boris", skills=["general"], languages=["en"], max_sessions=3,
        )  # fmt: skip
        login = await b.http.post(
            "/api/operator/login", json={"login": "boris", "password": "boris-secret-pw"}
        )
        on_b = FrontLine(b.http, b.app, auth={"Authorization": f"Bearer {login.json()['token']}"})
        boris_id = login.json()["operator"]["id"]
        async with console(a) as annas:
            async with console(on_b):  # Boris opens his console, served by B
                event_id, _, _ = await _until(annas, "operator_online", {"operator_id": boris_id})
                assert event_id is None  # not stored: nothing to replay
            # Anna's log-in ends through B: her stream on A says so and ends.
            response = await b.http.post("/api/operator/logout", headers=a.auth)
            assert response.status_code == 204
            await _until(annas, "logged_out")


async def test_failed_log_ins_through_both_processes_count_together(postgres_settings: Settings) -> None:
    async with serving(postgres_settings) as a, serving(postgres_settings) as b:
        answers = []
        for attempt in range(6):
            http = (a, b)[attempt % 2].http
            answer = await http.post("/api/operator/login", json={"login": "anna", "password": "a guess"})
            answers.append(answer.status_code)
        assert answers == [401] * 5 + [429]
        refused = await a.http.post(
            "/api/operator/login", json={"login": "anna", "password": "anna-secret-pw"}
        )
        assert refused.status_code == 429  # even the right password waits: the guesses were too many
        assert 0 < int(refused.headers["retry-after"]) <= 300


async def test_new_conversations_from_one_address_through_both_processes_count_together(
    postgres_settings: Settings,
) -> None:
    async with serving(postgres_settings) as a, serving(postgres_settings) as b:
        for n in range(NEW_PER_MINUTE):
            opened = await (a, b)[n % 2].http.post(
                "/api/chat", json={"customer": f"visitor-{n}", "text": "hi"}
            )
            assert opened.status_code == 200, opened.text
        refused = await asyncio.gather(
            *(
                front_line.http.post("/api/chat", json={"customer": "one-too-many", "text": "hi"})
                for front_line in (a, b)
            )
        )
        assert [r.status_code for r in refused] == [429, 429]
