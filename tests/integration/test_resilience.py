"""A slow bot and a database that goes away: the customer gets a clear answer and loses nothing."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from core.settings import DbSettings, RasaSettings, Settings
from tests.chat import running_front_line
from tests.support import (
    create_postgres_database,
    drop_postgres_database,
    free_port,
    postgres_available,
    require,
    terminate_connections,
)


@pytest.fixture
async def silent_server() -> AsyncIterator[str]:
    """Accepts connections and reads requests but never answers: a hung Rasa."""
    held: list[asyncio.StreamWriter] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        await reader.read(65536)

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    yield f"http://127.0.0.1:{port}"
    for writer in held:
        writer.close()
    server.close()


async def test_a_bot_that_does_not_answer_in_time_hands_over_to_a_person(
    silent_server: str, tmp_path: Path
) -> None:
    settings = Settings(
        db=DbSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'slow.db'}"),
        rasa=RasaSettings(url=silent_server, reply_timeout=1.0),
    )
    async with running_front_line(settings) as front_line:
        customer = front_line.customer()
        reply = await customer.say("where is my technician?")
        assert reply["state"] == "queued"
        assert "operator" in customer.text
        ticket = await front_line.ticket(reply["session_id"])
        assert ticket is not None and ticket.reason == "bot_unavailable"
        assert await front_line.customer_texts(reply["session_id"]) == ["where is my technician?"]


@pytest.mark.postgres
async def test_database_restart_is_survived_and_an_outage_answers_503() -> None:
    """Connections killed by a restart are replaced; while the database is gone a turn is refused
    (503 with Retry-After), never acknowledged and then lost."""
    require(await asyncio.to_thread(postgres_available), "PostgreSQL on 127.0.0.1:5432")
    name = f"frontline_restart_{os.getpid()}"
    url = await asyncio.to_thread(create_postgres_database, name)
    settings = Settings(
        db=DbSettings(url=url),
        rasa=RasaSettings(url=f"http://127.0.0.1:{free_port()}", connect_retries=0),
    )
    try:
        async with running_front_line(settings) as front_line:
            customer = front_line.customer()
            first = await customer.say("first message")

            await asyncio.to_thread(terminate_connections, name)  # what a server restart does
            await customer.say("sent after the restart")
            assert await front_line.customer_texts(first["session_id"]) == [
                "first message",
                "sent after the restart",
            ]

            await asyncio.to_thread(drop_postgres_database, name)
            response = await front_line.http.post(
                "/api/chat",
                json={"customer": customer.id, "text": "sent while the database is down"},
                headers=customer.auth,
            )
            assert response.status_code == 503
            assert "retry" in response.json()["detail"]
            assert response.headers["retry-after"] == "5"
    finally:
        await asyncio.to_thread(drop_postgres_database, name)
