"""KPI figures through the real app and a real migrated SQLite database, from rows written directly."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr

from app.factory import create_app
from core.db import create_engine, create_session_factory
from core.migrate import upgrade
from core.models import ConversationSession, Customer, HandoffTicket, SessionEvent, utcnow
from core.settings import DbSettings, Settings
from handoff.operators import save_operator
from handoff.routes import kpi

NOW = utcnow().replace(microsecond=0)
# The state each kind of event leaves the session in, as the services write it.
NEW_STATE = {
    "opened": "bot",
    "handoff_requested": "queued",
    "claimed": "operator",
    "closed": "closed",
    "returned_to_bot": "bot",
}


METRICS_TOKEN = "scraper-secret"
METRICS_AUTH = {"Authorization": f"Bearer {METRICS_TOKEN}"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = Settings(db=DbSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'kpi.db'}"))
    # Alembic's env runs its own event loop, so the schema is made before the test's loop starts.
    upgrade(settings.db.url)
    return settings


class Rows:
    """Writes customers, sessions, tickets and events the way the services would have."""

    def __init__(self) -> None:
        self.rows: list[Any] = []
        self._next = {"customer": 0, "session": 0, "ticket": 0}

    def _id(self, kind: str) -> int:
        self._next[kind] += 1
        return self._next[kind]

    def customer(self) -> int:
        customer_id = self._id("customer")
        self.rows.append(Customer(id=customer_id, key=f"web:kpi-{customer_id}", language="en"))
        return customer_id

    def session(self, customer_id: int, opened: datetime, language: str = "en") -> int:
        session_id = self._id("session")
        self.rows.append(
            ConversationSession(
                id=session_id, customer_id=customer_id, channel="web", language=language,
                rasa_sender_id=f"web:{customer_id}:{session_id}", started_at=opened, last_activity_at=opened,
            )
        )  # fmt: skip
        self.event(session_id, "opened", opened, channel="web")
        return session_id

    def ticket(self, session_id: int, topic: str, operator_id: int | None = None) -> int:
        ticket_id = self._id("ticket")
        self.rows.append(
            HandoffTicket(
                id=ticket_id, session_id=session_id, reason="asked", topic=topic, language="en",
                card={}, operator_id=operator_id,
            )
        )  # fmt: skip
        return ticket_id

    def event(
        self, session_id: int, kind: str, when: datetime, to_state: str | None = None, **detail: Any
    ) -> None:
        state = to_state or NEW_STATE.get(kind)
        self.rows.append(
            SessionEvent(session_id=session_id, kind=kind, to_state=state, detail=detail, created_at=when)
        )


def write_history(rows: Rows, operator_id: int) -> None:
    # 41 to 30 h ago: only the first-contact resolution of /metrics looks this far back.
    c0 = rows.customer()
    s0 = rows.session(c0, NOW - timedelta(hours=31))
    rows.event(s0, "closed", NOW - timedelta(hours=30), by="bot")  # c0 comes back 25 h later (S1)
    c5 = rows.customer()
    s9 = rows.session(c5, NOW - timedelta(hours=41))
    rows.event(s9, "closed", NOW - timedelta(hours=40), by="bot")
    s10 = rows.session(c5, NOW - timedelta(hours=39))  # back within 24 h: S9 was not resolved
    rows.event(s10, "closed", NOW - timedelta(hours=38), by="bot")

    # The last six hours. S1: the bot alone.
    s1 = rows.session(c0, NOW - timedelta(hours=5))
    rows.event(s1, "closed", NOW - timedelta(hours=5) + timedelta(minutes=2), by="bot")
    # S2: billing, claimed after 15 s, handled 300 s, rated 5.
    handoff = NOW - timedelta(hours=4)
    s2 = rows.session(rows.customer(), handoff - timedelta(minutes=1))
    t1 = rows.ticket(s2, "billing", operator_id)
    rows.event(s2, "handoff_requested", handoff, reason="asked", topic="billing", ticket_id=t1)
    rows.event(s2, "claimed", handoff + timedelta(seconds=15), ticket_id=t1, operator_id=operator_id)
    rows.event(s2, "closed", handoff + timedelta(seconds=315), by="operator", ticket_id=t1)
    rows.event(s2, "survey_answered", handoff + timedelta(seconds=400), rating=5)
    # S3: technical, the customer leaves after 45 s.
    handoff = NOW - timedelta(hours=3)
    s3 = rows.session(rows.customer(), handoff)
    t2 = rows.ticket(s3, "technical")
    rows.event(s3, "handoff_requested", handoff, reason="asked", topic="technical", ticket_id=t2)
    rows.event(s3, "abandoned", handoff + timedelta(seconds=45), "closed", ticket_id=t2, by="timeout")
    # S4: billing, still waiting.
    handoff = NOW - timedelta(hours=2)
    s4 = rows.session(rows.customer(), handoff)
    t3 = rows.ticket(s4, "billing")
    rows.event(s4, "handoff_requested", handoff, reason="asked", topic="billing", ticket_id=t3)
    # S5: technical, the customer goes back to the bot after 30 s: abandoned, but the session goes on.
    handoff = NOW - timedelta(hours=1, minutes=30)
    s5 = rows.session(rows.customer(), handoff)
    t4 = rows.ticket(s5, "technical")
    rows.event(s5, "handoff_requested", handoff, reason="asked", topic="technical", ticket_id=t4)
    left = handoff + timedelta(seconds=30)
    rows.event(s5, "abandoned", left, "queued", ticket_id=t4, by="customer")
    rows.event(s5, "returned_to_bot", left, ticket_id=t4)


async def insert(settings: Settings, rows: Rows) -> None:
    engine = create_engine(settings.db)
    try:
        async with create_session_factory(engine)() as db, db.begin():
            # One kind at a time, in order, so every foreign key finds its row already there.
            for kind in (Customer, ConversationSession, HandoffTicket, SessionEvent):
                db.add_all([row for row in rows.rows if isinstance(row, kind)])
                await db.flush()
    finally:
        await engine.dispose()


def with_kpi_routes(app: FastAPI) -> FastAPI:
    """Adds the KPI routes unless app.factory already does."""
    paths = {getattr(route, "path", None) for route in app.routes}
    if "/api/operator/kpi" not in paths:
        app.include_router(kpi.router)
    if "/metrics" not in paths:
        app.include_router(kpi.metrics_router)
    return app


@pytest.fixture
async def http(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    await save_operator(
        settings, "kira", "kira-secret-pw", display_name="Kira",
        skills=["billing"], languages=["en"], max_sessions=3,
    )  # fmt: skip
    app = with_kpi_routes(create_app(settings.model_copy(update={"metrics_token": SecretStr(METRICS_TOKEN)})))
    engine = create_engine(settings.db)
    async with app.router.lifespan_context(app):
        if not hasattr(app.state, "db_sessions"):  # until app.factory sets it
            app.state.db_sessions = create_session_factory(engine)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://front.line") as client:
            yield client
    await engine.dispose()


async def log_in(http: httpx.AsyncClient) -> tuple[dict[str, str], int]:
    response = await http.post("/api/operator/login", json={"login": "kira", "password": "kira-secret-pw"})
    assert response.status_code == 200, response.text
    body = response.json()
    return {"Authorization": f"Bearer {body['token']}"}, body["operator"]["id"]


def last_six_hours() -> dict[str, str]:
    return {"since": (NOW - timedelta(hours=6)).isoformat(), "until": NOW.isoformat()}


async def test_kpi_needs_an_operator_token(http: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        response = await http.get("/api/operator/kpi", headers=headers)
        assert response.status_code == 401, response.text


async def test_kpi_of_the_last_six_hours(http: httpx.AsyncClient, settings: Settings) -> None:
    auth, operator_id = await log_in(http)
    rows = Rows()
    write_history(rows, operator_id)
    await insert(settings, rows)

    response = await http.get("/api/operator/kpi", headers=auth, params=last_six_hours())
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["groups"] == [] and body["group_by"] == "none"
    assert datetime.fromisoformat(body["since"]) == NOW - timedelta(hours=6)
    assert body["total"] == {
        "queue_length": 1,  # S4
        "average_speed_of_answer_seconds": 15.0,
        "average_handle_time_seconds": 300.0,
        "abandonment_rate": 2 / 3,  # S3, S5 / (S2 + S3 + S5)
        "service_level": 1 / 3,  # S2 within 20 s / (S2 + S3 + S5)
        "bot_containment": 1 / 3,  # S1 of S1, S2, S3 (timed out); S5 is still open
        "first_contact_resolution": None,  # no close of the last six hours has had its 24 h
        "satisfaction_mean": 5.0,
        "satisfaction_count": 1,
        "sessions": 5,
        "handoffs": 4,
        "claimed": 1,
        "abandoned": 2,
        "closed": 3,
    }


async def test_kpi_grouped_by_topic_and_operator(http: httpx.AsyncClient, settings: Settings) -> None:
    auth, operator_id = await log_in(http)
    rows = Rows()
    write_history(rows, operator_id)
    await insert(settings, rows)

    by_topic = await http.get(
        "/api/operator/kpi", headers=auth, params=last_six_hours() | {"group_by": "topic"}
    )
    groups = {g["key"]: g["figures"] for g in by_topic.json()["groups"]}
    assert list(groups) == ["billing", "technical", None]
    assert (groups["billing"]["handoffs"], groups["billing"]["queue_length"]) == (2, 1)
    assert (groups["technical"]["abandoned"], groups["technical"]["abandonment_rate"]) == (2, 1.0)
    assert groups[None]["bot_containment"] == 1.0  # S1

    by_operator = await http.get(
        "/api/operator/kpi", headers=auth, params=last_six_hours() | {"group_by": "operator"}
    )
    groups = {g["key"]: g["figures"] for g in by_operator.json()["groups"]}
    assert groups[str(operator_id)]["claimed"] == 1
    assert groups[str(operator_id)]["satisfaction_mean"] == 5.0


async def test_a_customer_waiting_since_before_the_period_is_in_its_queue(
    http: httpx.AsyncClient, settings: Settings
) -> None:
    auth, operator_id = await log_in(http)
    rows = Rows()
    write_history(rows, operator_id)
    await insert(settings, rows)

    # The last hour saw no event at all; S4 has been waiting for two hours (S5 left the queue).
    params = {"since": (NOW - timedelta(hours=1)).isoformat(), "until": NOW.isoformat()}
    total = (await http.get("/api/operator/kpi", headers=auth, params=params)).json()["total"]
    assert (total["queue_length"], total["handoffs"], total["sessions"]) == (1, 0, 0)
    assert total["abandonment_rate"] is None and total["average_speed_of_answer_seconds"] is None


@pytest.mark.parametrize(
    "params",
    [
        {"since": NOW.isoformat(), "until": (NOW - timedelta(hours=1)).isoformat()},
        {"since": (NOW - timedelta(days=400)).isoformat(), "until": NOW.isoformat()},
        {"group_by": "week"},
        {"since": "yesterday"},
        {"until": "0001-01-01T00:00:00"},  # the default window would start before year 1
        {"since": "9999-12-31T00:00:00", "until": "9999-12-31T23:59:59"},
    ],
)
async def test_kpi_refuses_a_bad_period(http: httpx.AsyncClient, params: dict[str, str]) -> None:
    auth, _ = await log_in(http)
    response = await http.get("/api/operator/kpi", headers=auth, params=params)
    assert response.status_code == 422, response.text


async def test_metrics_in_prometheus_text(http: httpx.AsyncClient, settings: Settings) -> None:
    _, operator_id = await log_in(http)
    rows = Rows()
    write_history(rows, operator_id)
    await insert(settings, rows)

    response = await http.get("/metrics", headers=METRICS_AUTH)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    lines = response.text.splitlines()
    samples = dict(line.split(" ", 1) for line in lines if not line.startswith("#"))
    assert samples == {
        "frontline_queue_length": "1",
        "frontline_average_speed_of_answer_seconds": "15.0",
        "frontline_average_handle_time_seconds": "300.0",
        "frontline_abandonment_ratio": repr(2 / 3),
        "frontline_service_level_ratio": repr(1 / 3),
        "frontline_bot_containment_ratio": repr(1 / 3),
        "frontline_satisfaction_mean": "5.0",
        "frontline_satisfaction_responses": "1",
        "frontline_sessions_opened": "5",
        "frontline_handoffs_requested": "4",
        "frontline_handoffs_claimed": "1",
        "frontline_handoffs_abandoned": "2",
        "frontline_sessions_closed": "3",
        # Closed 24-48 h ago: S0 and S10 were not followed by a new session within 24 h, S9 was.
        "frontline_first_contact_resolution_ratio": repr(2 / 3),
        "frontline_service_level_threshold_seconds": "20.0",
    }
    for name in samples:
        assert f"# HELP {name} " in response.text
        assert f"# TYPE {name} gauge" in lines


async def test_metrics_of_an_empty_database_are_nan(http: httpx.AsyncClient) -> None:
    text = (await http.get("/metrics", headers=METRICS_AUTH)).text
    assert "frontline_queue_length 0" in text.splitlines()
    assert "frontline_average_speed_of_answer_seconds NaN" in text.splitlines()


async def test_metrics_need_their_token_and_are_off_without_one(
    http: httpx.AsyncClient, settings: Settings, tmp_path: Path
) -> None:
    assert (await http.get("/metrics")).status_code == 401
    assert (await http.get("/metrics", headers={"Authorization": "Bearer guess"})).status_code == 401
    auth, _ = await log_in(http)
    assert (await http.get("/metrics", headers=auth)).status_code == 401  # an operator's token is not it
    # No FRONTLINE_METRICS_TOKEN; a database of its own, since one app process serves a SQLite file.
    app = create_app(
        settings.model_copy(update={"db": DbSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'off.db'}")})
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://front.line") as client:
            assert (await client.get("/metrics", headers=METRICS_AUTH)).status_code == 404
