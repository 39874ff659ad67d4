"""One customer's quick turns, alternating between two app processes on one PostgreSQL database, are
handled one at a time and in the order they were sent. The two apps run in this process, each with
its own engine and its own in-process locks, as two processes would; the bot is a slow stand-in."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

import pytest
import uvicorn
from sqlalchemy import select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from core.models import Message
from core.settings import DbSettings, RasaSettings, Settings
from tests.chat import running_front_line
from tests.support import (
    create_postgres_database,
    drop_postgres_database,
    free_port,
    postgres_available,
    require,
)

TURNS = 10
# The bot takes this long per turn; the next turn is sent long before it answers.
BOT_DELAY_S = 0.3
SEND_EVERY_S = 0.05


@dataclass
class SlowBot:
    """Rasa's REST channel, answering "re: <text>" after a delay; notes what overlapped."""

    heard: list[str] = field(default_factory=list)
    busy: set[str] = field(default_factory=set)
    overlaps: list[str] = field(default_factory=list)

    async def webhook(self, request: Request) -> JSONResponse:
        body = await request.json()
        sender, text = body["sender"], body["message"]
        if sender in self.busy:
            self.overlaps.append(text)
        self.busy.add(sender)
        self.heard.append(text)
        try:
            await asyncio.sleep(BOT_DELAY_S)
        finally:
            self.busy.discard(sender)
        return JSONResponse([{"recipient_id": sender, "text": f"re: {text}"}])


@asynccontextmanager
async def serving(bot: SlowBot) -> AsyncIterator[str]:
    app = Starlette(routes=[Route("/webhooks/rest/webhook", bot.webhook, methods=["POST"])])
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    while not server.started:
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def postgres_url() -> AsyncIterator[str]:
    require(await asyncio.to_thread(postgres_available), "PostgreSQL on 127.0.0.1:5432")
    name = f"frontline_turn_order_{os.getpid()}"
    url = await asyncio.to_thread(create_postgres_database, name)
    try:
        yield url
    finally:
        await asyncio.to_thread(drop_postgres_database, name)


@pytest.mark.postgres
async def test_one_customers_quick_turns_alternating_between_two_processes_are_handled_in_order(
    postgres_url: str,
) -> None:
    bot = SlowBot()
    async with serving(bot) as bot_url:
        settings = Settings(db=DbSettings(url=postgres_url), rasa=RasaSettings(url=bot_url, rollover_turns=0))
        async with running_front_line(settings) as a, running_front_line(settings) as b:
            customer = a.customer()
            first = await customer.say("hello")  # its token opens the conversation in either process

            async def send(i: int) -> str:
                await asyncio.sleep(i * SEND_EVERY_S)
                front_line = a if i % 2 == 0 else b
                response = await front_line.http.post(
                    "/api/chat", json={"customer": customer.id, "text": f"turn {i}"}, headers=customer.auth
                )
                assert response.status_code == 200, response.text
                return "\n".join(r["text"] for r in response.json()["replies"])

            answers = await asyncio.gather(*(send(i) for i in range(TURNS)))

            sent = ["hello", *(f"turn {i}" for i in range(TURNS))]
            assert answers == [f"re: turn {i}" for i in range(TURNS)]
            assert bot.overlaps == []  # never two of the customer's turns at the bot at once
            assert bot.heard == sent
            async with a.db() as db:
                stored = list(
                    await db.scalars(
                        select(Message.text)
                        .where(Message.session_id == first["session_id"])
                        .order_by(Message.id)
                    )
                )
            assert stored == [line for text in sent for line in (text, f"re: {text}")]
