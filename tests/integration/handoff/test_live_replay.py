"""A console whose live stream drops gets what it missed when it reconnects, in order, exactly once;
one that was away too long (or names an id the stream never sent) is told to reload its lists.
On PostgreSQL, a console hears what happens through any app process.

The app runs behind a real HTTP server, and the console reads Server-Sent Events as a browser does."""

from __future__ import annotations

import asyncio
import json
import os
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from sqlalchemy import select

from app.factory import create_app
from core import outbox
from core.events import LiveEvent
from core.kinds import LiveEventKind
from core.models import OutboxEvent, utcnow
from core.settings import DbSettings, RasaSettings, Settings
from handoff.operators import save_operator
from handoff.routes import live
from tests.chat import Customer
from tests.support import (
    create_postgres_database,
    drop_postgres_database,
    free_port,
    postgres_available,
    require,
)

Event = tuple[int | None, str, dict[str, Any]]  # (id, kind, data) as the console reads them


@dataclass
class FrontLine:
    http: httpx.AsyncClient
    app: Any
    auth: dict[str, str] = field(default_factory=dict)

    customers: dict[str, Customer] = field(default_factory=dict)

    async def say(self, customer: str, text: str) -> dict[str, Any]:
        return await self.customers.setdefault(customer, Customer(self.http, customer)).say(text)

    async def operator(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(f"/api/operator{path}", json=body or {}, headers=self.auth)
        assert response.status_code in (200, 204), response.text
        return response.json() if response.content else {}

    async def stored(self, after: int = 0) -> list[Event]:
        """The outbox as the stream should replay it: every stored event after an id."""
        async with self.app.state.db_sessions() as db:
            rows = await db.execute(
                select(OutboxEvent.id, OutboxEvent.kind, OutboxEvent.payload)
                .where(OutboxEvent.id > after)
                .order_by(OutboxEvent.id)
            )
            return [(i, k, p) for i, k, p in rows]


class Console:
    """One open live stream, read line by line the way EventSource does."""

    def __init__(self, lines: AsyncIterator[str]) -> None:
        self._lines = lines

    async def next(self) -> Event:
        async with asyncio.timeout(10):
            fields: dict[str, str] = {}
            async for line in self._lines:
                if not line:
                    if "event" in fields:
                        event_id = int(fields["id"]) if "id" in fields else None
                        return event_id, fields["event"], json.loads(fields["data"])
                    fields = {}
                elif not line.startswith(":"):  # comments: connected, keep-alive
                    name, _, value = line.partition(": ")
                    fields[name] = value
        raise AssertionError("the stream ended")

    async def take(self, count: int) -> list[Event]:
        return [await self.next() for _ in range(count)]


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[FrontLine]:
    port = free_port()
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(60):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
            front_line = FrontLine(http, app)
            await save_operator(
                settings, "anna", "anna-secret-pw",
                display_name="Anna", skills=["general"], languages=["en", "fa"], max_sessions=3,
            )  # fmt: skip
            credentials = {"login": "anna", "password": "anna-secret-pw"}
            login = await http.post("/api/operator/login", json=credentials)
            front_line.auth = {"Authorization": f"Bearer {login.json()['token']}"}
            yield front_line
    finally:
        server.should_exit = True
        await task


@asynccontextmanager
async def console(
    front_line: FrontLine, *, header: str | None = None, query: str | None = None
) -> AsyncIterator[Console]:
    """A console's stream, opened with a fresh ticket; `header` is what EventSource sends by itself
    when it reconnects, `query` what the console passes when it opens a new EventSource."""
    ticket = (await front_line.operator("/events/ticket"))["ticket"]
    params = {"ticket": ticket, **({"last_event_id": query} if query is not None else {})}
    headers = {"Last-Event-ID": header} if header is not None else {}
    opened = front_line.http.stream("GET", "/api/operator/events", params=params, headers=headers)
    async with opened as response:
        assert response.status_code == 200
        yield Console(response.aiter_lines())


@pytest.fixture
def postgres_settings() -> Iterator[Settings]:
    """The app on a scratch PostgreSQL database, with no bot."""
    require(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    name = f"frontline_live_{os.getpid()}"
    url = create_postgres_database(name)
    try:
        yield Settings(
            db=DbSettings(url=url),
            rasa=RasaSettings(url=f"http://127.0.0.1:{free_port()}", connect_retries=0),
        )
    finally:
        drop_postgres_database(name)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def live_settings(request: pytest.FixtureRequest, settings_without_bot: Settings) -> Settings:
    """On PostgreSQL the stream hears even the app's own events through its outbox listener."""
    if request.param == "postgresql":
        return request.getfixturevalue("postgres_settings")  # type: ignore[no-any-return]
    return settings_without_bot


@pytest.fixture
async def front_line(live_settings: Settings) -> AsyncIterator[FrontLine]:
    async with serving(live_settings) as running:
        yield running


async def test_a_console_that_reconnects_gets_what_it_missed_in_order_exactly_once(
    front_line: FrontLine,
) -> None:
    async with console(front_line) as first:
        queued = await front_line.say("web:layla", "my router is blinking red")
        assert queued["state"] == "queued"  # no bot here: the customer waits for a person
        heard = await first.take(len(await front_line.stored()))
        assert heard == await front_line.stored()
        assert {"message", "ticket_queued"} <= {kind for _, kind, _ in heard}
    seen = heard[1][0]  # the connection dropped after the console had handled two events
    assert seen is not None

    # While it is away: the ticket is claimed, answered, and the customer writes again.
    ticket_id = next(data["ticket_id"] for _, kind, data in heard if kind == "ticket_queued")
    await front_line.operator(f"/tickets/{ticket_id}/claim")
    await front_line.operator(f"/tickets/{ticket_id}/messages", {"text": "Hello, I am Anna"})
    await front_line.say("web:layla", "سلام، هنوز قرمز است")

    async with console(front_line, header=str(seen)) as again:
        missed = await front_line.stored(after=seen)
        assert len(missed) >= 6  # two left from before, the claim, the join note, two messages
        assert await again.take(len(missed)) == missed
        kinds = [kind for _, kind, _ in missed]
        assert kinds.index("ticket_claimed") < len(kinds) - 2  # in the order they happened
        assert missed[-1][2]["message"]["text"] == "سلام، هنوز قرمز است"
        # Then live ones, without a repeat of the replay.
        await front_line.operator(f"/tickets/{ticket_id}/messages", {"text": "Let me check"})
        live_one = await again.next()
        assert live_one[2]["message"]["text"] == "Let me check"
        assert live_one[0] == (await front_line.stored())[-1][0]

    # A new EventSource (the console's own reconnect) names the last id in its URL instead.
    newest = live_one[0]
    async with console(front_line, query=str(newest)) as third:
        await front_line.say("web:layla", "thanks")
        assert (await third.next())[2]["message"]["text"] == "thanks"


async def test_an_event_committed_while_the_replay_is_read_arrives_once(front_line: FrontLine) -> None:
    await front_line.say("web:omar", "I need a person")
    seen = (await front_line.stored())[0][0]
    assert seen is not None
    handoff, app = front_line.app.state.handoff, front_line.app.state

    async def commit(ticket_id: int) -> None:
        async with app.db_sessions() as db, db.begin():
            event = LiveEvent(LiveEventKind.TICKET_CLOSED, {"ticket_id": ticket_id})
            await outbox.write(db, app.bus, event)

    replay = handoff.live_events_after

    async def replay_between_two_commits(last_id: int, limit: int) -> list[LiveEvent] | None:
        await commit(101)  # committed before the replay is read: in it, and heard live too
        missed = await replay(last_id, limit)
        await commit(102)  # committed after: heard live only
        return missed

    handoff.live_events_after = replay_between_two_commits
    try:
        before = await front_line.stored(after=seen)
        async with console(front_line, header=str(seen)) as stream:
            heard = await stream.take(len(before) + 2)
            assert heard == await front_line.stored(after=seen)
            assert [data.get("ticket_id") for _, _, data in heard[-2:]] == [101, 102]
            await front_line.say("web:omar", "still there?")
            assert (await stream.next())[2]["message"]["text"] == "still there?"  # no repeat before it
    finally:
        del handoff.live_events_after


@pytest.mark.parametrize("why", ["pruned", "unknown", "garbage", "too many"])
async def test_a_console_away_too_long_is_told_to_reload(
    front_line: FrontLine, monkeypatch: pytest.MonkeyPatch, why: str
) -> None:
    await front_line.say("web:sara", "I need a person")
    stored = await front_line.stored()
    last_id = {
        "pruned": str(stored[0][0]),
        "unknown": str((stored[-1][0] or 0) + 1000),
        "garbage": "yesterday",
        "too many": str(stored[0][0]),
    }[why]
    if why == "pruned":
        async with front_line.app.state.db_sessions() as db, db.begin():
            await outbox.prune(db, utcnow() + timedelta(seconds=1))
    if why == "too many":
        monkeypatch.setattr(live, "REPLAY_LIMIT", len(stored) - 2)
    async with console(front_line, header=last_id) as stream:
        assert await stream.next() == (None, "resync", {})
        await front_line.say("web:sara", "hello?")
        after = await stream.next()  # live events carry on after the reload
        assert after[1] == "message" and after[2]["message"]["text"] == "hello?"


@pytest.mark.postgres
async def test_a_console_hears_what_happens_through_another_app_process(postgres_settings: Settings) -> None:
    """Two app processes on one database: each console hears every event once, in id order,
    whichever process the customer or the operator went through."""
    async with (
        serving(postgres_settings) as a,
        serving(postgres_settings) as b,
        console(b) as on_b,
        console(a) as on_a,
    ):
        queued = await a.say("web:nadia", "I need a person")
        assert queued["state"] == "queued"
        stored = await a.stored()
        assert await on_b.take(len(stored)) == stored

        ticket_id = next(data["ticket_id"] for _, kind, data in stored if kind == "ticket_queued")
        await b.operator(f"/tickets/{ticket_id}/claim")
        await b.operator(f"/tickets/{ticket_id}/messages", {"text": "Hello, I am Anna"})
        heard_on_a = await on_a.take(len(await a.stored()))
        assert heard_on_a == await a.stored()
        assert heard_on_a[len(stored)][1] == "ticket_claimed"

        # B's console, after the events A's customer caused, hears B's own operator's and then
        # A's customer's again, each once: no copy of its own process's events.
        await a.say("web:nadia", "thank you")
        rest = (await b.stored())[len(stored) :]
        assert await on_b.take(len(rest)) == rest
        assert rest[-1][2]["message"]["text"] == "thank you"
