"""Two app processes and two Rasa servers on one PostgreSQL database, started with the launcher's own
functions: a console on one process sees a customer who writes to the other live; 20 operators on both
claiming one ticket at once leave exactly one winner; one customer's quick turns alternating between the
processes are stored and answered in order; kill -9 of the process holding the singleton lease under
load loses no acknowledged turn, and the other takes the lease over."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from pydantic import SecretStr
from sqlalchemy import select

from app.launcher import (
    APP_PYTHON,
    RASA_BIN,
    Service,
    actions_service,
    app_services,
    rasa_services,
    start_all,
    stop_all,
)
from core.db import create_engine, create_session_factory
from core.lease import THIS_PROCESS
from core.migrate import upgrade
from core.models import HandoffTicket, Message
from core.settings import ActionsSettings, DbSettings, RasaSettings, Settings
from handoff.operators import save_operator
from testing.ports import consecutive_free_ports, redis_answers
from tests.support import (
    create_postgres_database,
    drop_postgres_database,
    free_port,
    postgres_available,
    require,
)

pytestmark = pytest.mark.e2e

OPERATORS = 20  # half of them logged in on each process
RACES = 3
TAKEOVER_LIMIT_S = 10.0  # the bound for the singletons to move
EVENT_LIMIT_S = 15.0  # a bound for a loaded machine, not a timing under test


@dataclass
class Deployment:
    settings: Settings
    apps: list[Service]

    def url(self, app: Service) -> str:
        return app.health_url.removesuffix("/healthz")


@pytest.fixture(scope="module")
def deployment() -> Iterator[Deployment]:
    """An action server, two Rasa servers and two app processes of their own (about 2.5 GB, a minute
    or two to start on two cores)."""
    require(RASA_BIN.exists() and APP_PYTHON.exists(), "the two venvs (run `make test`)")
    require(Settings().model_path.exists(), "a trained model (run `make model`)")
    require(postgres_available(), "PostgreSQL on 127.0.0.1:5432")
    require(redis_answers(), "Redis on 127.0.0.1:6379 (Rasa's lock store)")
    name = f"frontline_scale_{os.getpid()}"
    url = create_postgres_database(name)
    upgrade(url)
    settings = Settings(
        db=DbSettings(url=url),
        port=consecutive_free_ports(2),
        rasa=RasaSettings(
            urls=[f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"],
            token=SecretStr("e2e-secret-for-two-app-processes-0123456789"),
        ),
        actions=ActionsSettings(port=free_port()),
    )
    apps = app_services(settings, 2)
    for app in apps:
        app.env["FRONTLINE_TELEGRAM__TOKEN"] = ""  # no poller reaching out of the test
    services = [actions_service(settings), *rasa_services(settings), *apps]
    asyncio.run(_save_operator(settings))
    try:
        start_all(services, log_to_files=True)
        yield Deployment(settings, apps)
    finally:
        stop_all(services)
        drop_postgres_database(f"{name}_rasa")
        drop_postgres_database(name)


async def _save_operator(settings: Settings) -> None:
    for login in ["anna", *(f"op{n}" for n in range(OPERATORS))]:
        await save_operator(
            settings, login, f"{login}-secret-pw",
            display_name=login, skills=["general"], languages=["en"], max_sessions=RACES + 2,
        )  # fmt: skip


async def _log_in(http: httpx.AsyncClient, login: str) -> dict[str, str]:
    response = await http.post("/api/operator/login", json={"login": login, "password": f"{login}-secret-pw"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


class Customer:
    """One customer of the HTTP chat API, who may write to any app process (the token works on all)."""

    def __init__(self) -> None:
        self.id = f"scale-{uuid.uuid4().hex[:10]}"
        self.token: str | None = None

    async def say(self, http: httpx.AsyncClient, text: str) -> dict[str, Any]:
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        response = await http.post("/api/chat", json={"customer": self.id, "text": text}, headers=headers)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        self.token = body.get("token") or self.token
        return body


@asynccontextmanager
async def clients(deployment: Deployment) -> AsyncIterator[list[httpx.AsyncClient]]:
    async with (
        httpx.AsyncClient(base_url=deployment.url(deployment.apps[0]), timeout=60) as a,
        httpx.AsyncClient(base_url=deployment.url(deployment.apps[1]), timeout=60) as b,
    ):
        yield [a, b]


@asynccontextmanager
async def console(http: httpx.AsyncClient) -> AsyncIterator[AsyncIterator[tuple[str, dict[str, Any]]]]:
    """An operator's live stream on one process, read as EventSource reads it: (kind, data)."""
    auth = await _log_in(http, "anna")
    ticket = (await http.post("/api/operator/events/ticket", headers=auth)).json()["ticket"]
    async with http.stream("GET", "/api/operator/events", params={"ticket": ticket}) as response:
        assert response.status_code == 200

        async def events() -> AsyncIterator[tuple[str, dict[str, Any]]]:
            fields: dict[str, str] = {}
            async for line in response.aiter_lines():
                if not line and "event" in fields:
                    yield fields["event"], json.loads(fields["data"])
                if not line:
                    fields = {}
                elif not line.startswith(":"):
                    name, _, value = line.partition(": ")
                    fields[name] = value

        yield events()


async def _messages(settings: Settings, session_id: int) -> list[tuple[str, str]]:
    """(direction, text) of a session's stored messages, in order."""
    engine = create_engine(settings.db)
    try:
        async with create_session_factory(engine)() as db:
            rows = await db.execute(
                select(Message.direction, Message.text)
                .where(Message.session_id == session_id)
                .order_by(Message.id)
            )
            return [(direction, text) for direction, text in rows]
    finally:
        await engine.dispose()


async def _stored_texts(settings: Settings) -> set[str]:
    engine = create_engine(settings.db)
    try:
        async with create_session_factory(engine)() as db:
            return set(await db.scalars(select(Message.text).where(Message.direction == "in")))
    finally:
        await engine.dispose()


async def test_a_console_on_one_process_sees_a_customer_who_writes_to_the_other(
    deployment: Deployment,
) -> None:
    async with clients(deployment) as (a, b), console(a) as events:
        customer = Customer()
        await customer.say(b, "I want to talk to a real person")
        queued = await customer.say(b, "yes please")
        assert queued["state"] == "queued"
        async with asyncio.timeout(EVENT_LIMIT_S):
            async for kind, data in events:
                if kind == "ticket_queued" and data.get("session_id") == queued["session_id"]:
                    break


async def _queued_ticket(settings: Settings, http: httpx.AsyncClient) -> int:
    customer = Customer()
    await customer.say(http, "I want to talk to a real person")
    queued = await customer.say(http, "yes please")
    assert queued["state"] == "queued"
    engine = create_engine(settings.db)
    try:
        async with create_session_factory(engine)() as db:
            ticket = await db.scalar(
                select(HandoffTicket.id).where(HandoffTicket.session_id == queued["session_id"])
            )
    finally:
        await engine.dispose()
    assert ticket is not None
    return ticket


async def test_operators_on_both_processes_claiming_one_ticket_at_once_leave_one_winner(
    deployment: Deployment,
) -> None:
    async with clients(deployment) as https:
        operators = [(https[n % 2], await _log_in(https[n % 2], f"op{n}")) for n in range(OPERATORS)]
        for race in range(RACES):
            ticket = await _queued_ticket(deployment.settings, https[race % 2])
            claims = await asyncio.gather(
                *(
                    http.post(f"/api/operator/tickets/{ticket}/claim", headers=auth)
                    for http, auth in operators
                )
            )
            codes = sorted(response.status_code for response in claims)
            assert codes == [200] + [409] * (OPERATORS - 1), codes


async def test_one_customers_quick_turns_alternating_between_processes_are_answered_in_order(
    deployment: Deployment,
) -> None:
    async with clients(deployment) as (a, b):
        customer = Customer()
        first = await customer.say(a, "hello")  # the token for the quick turns
        sent = [f"hello, turn {i}" for i in range(10)]

        async def send(i: int) -> dict[str, Any]:
            await asyncio.sleep(i * 0.05)  # sent long before the previous one is answered
            return await customer.say((a, b)[i % 2], sent[i])

        await asyncio.gather(*(send(i) for i in range(len(sent))))
    stored = await _messages(deployment.settings, first["session_id"])
    assert [text for direction, text in stored if direction == "in"] == ["hello", *sent]
    # Each turn answered before the next was handled: an answer between every two of them.
    directions = "".join("i" if direction == "in" else "o" for direction, _ in stored)
    assert "ii" not in directions and directions.endswith("o"), directions


async def test_kill_9_of_the_lease_holder_under_load_loses_no_acknowledged_turn(
    deployment: Deployment,
) -> None:
    async with clients(deployment) as https:
        health = [(await http.get("/healthz")).json() for http in https]
        holders = [n for n, h in enumerate(health) if h.get("singletons") == THIS_PROCESS]
        assert len(holders) == 1, health
        victim, survivor = holders[0], 1 - holders[0]
        acknowledged: list[str] = []
        stop = asyncio.Event()

        async def load(n: int) -> None:
            customer, turn = Customer(), 0
            while not stop.is_set():
                text = f"hello from {customer.id}, turn {turn}"
                # Half the customers alternate, their first turn (the token's) on the survivor.
                alternating = n % 2 == 0
                http = https[victim if alternating and turn % 2 == 1 else survivor]
                try:
                    await customer.say(http, text)
                except (httpx.HTTPError, AssertionError):
                    if http is https[survivor]:
                        raise  # the survivor must keep serving
                else:
                    acknowledged.append(text)
                turn += 1

        workers = [asyncio.create_task(load(n)) for n in range(4)]
        await asyncio.sleep(2)
        deployment.apps[victim].signal_group(signal.SIGKILL)
        killed_at = time.monotonic()
        taken_over = None
        while time.monotonic() - killed_at < TAKEOVER_LIMIT_S:
            if (await https[survivor].get("/healthz")).json().get("singletons") == THIS_PROCESS:
                taken_over = time.monotonic() - killed_at
                break
            await asyncio.sleep(0.2)
        await asyncio.sleep(1)  # the survivor serves on after the take-over
        stop.set()
        await asyncio.gather(*workers)
    assert taken_over is not None, f"the lease did not move within {TAKEOVER_LIMIT_S} s"
    assert acknowledged
    missing = set(acknowledged) - await _stored_texts(deployment.settings)
    assert not missing, sorted(missing)
