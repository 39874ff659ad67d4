"""Supervisors: only they use the supervisor routes; take-over and reassignment are lifecycle
transitions; a whisper reaches the handling operator and never the customer; an operator's ask
reaches supervisors live; operators' status decides auto-offers and adds up in the figures. What goes
through a live stream runs on SQLite and on PostgreSQL (where events reach the stream through the
outbox listener)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select, update

from core.kinds import OperatorRole
from core.models import HandoffTicket, Operator, OutboxEvent
from core.settings import Settings, get_settings
from handoff.operator_status import OperatorStatusEvent
from handoff.operators import main as operators_cli
from handoff.operators import save_operator
from handoff.presence import OperatorStream
from tests.chat import Customer, FrontLine
from tests.integration.handoff.test_live_replay import FrontLine as ServedFrontLine
from tests.integration.handoff.test_live_replay import (  # noqa: F401 (fixtures: SQLite and PostgreSQL)
    console,
    live_settings,
    postgres_settings,
    serving,
)
from tests.integration.test_operator_api import customer_sees, escalated_customer, log_in


async def add(
    settings: Settings, login: str, name: str, *, role: OperatorRole | None = None, limit: int = 3
) -> None:
    await save_operator(
        settings, login, f"{login}-secret-pw", display_name=name,
        skills=["general"], languages=["en"], max_sessions=limit, role=role,
    )  # fmt: skip


async def ids(front_line: FrontLine) -> dict[str, int]:
    async with front_line.db() as db:
        return {o.login: o.id for o in await db.scalars(select(Operator))}


async def claimed(front_line: FrontLine, auth: dict[str, str]) -> tuple[Customer, int]:
    """A fresh customer's ticket, claimed by the operator behind `auth`."""
    customer = await escalated_customer(front_line)
    ticket = await front_line.ticket(customer.last["session_id"])
    assert ticket is not None
    response = await front_line.http.post(f"/api/operator/tickets/{ticket.id}/claim", headers=auth)
    assert response.status_code == 200, response.text
    return customer, ticket.id


@pytest.fixture
async def team(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> dict[str, dict[str, str]]:
    """Anna and Omid (operators, Omid with room for one conversation) and Sam (a supervisor)."""
    await add(settings_without_bot, "anna", "Anna")
    await add(settings_without_bot, "omid", "Omid", limit=1)
    await add(settings_without_bot, "sam", "Sam", role=OperatorRole.SUPERVISOR)
    http = front_line_without_bot.http
    return {login: await log_in(http, login) for login in ("anna", "omid", "sam")}


async def test_an_operator_gets_403_on_every_supervisor_route(
    front_line_without_bot: FrontLine, team: dict[str, dict[str, str]]
) -> None:
    http = front_line_without_bot.http
    spec = (await http.get("/openapi.json")).json()
    routes = [
        (method.upper(), _filled(path))
        for path, methods in spec["paths"].items()
        if path.startswith("/api/supervisor") or path == "/api/operator/kpi/operator-time"
        for method in methods
    ]
    assert len(routes) >= 10
    for method, path in routes:
        refused = await http.request(method, path, headers=team["anna"], json={})
        assert refused.status_code == 403, (method, path, refused.text)
        assert "supervisors only" in refused.json()["detail"]
        assert (await http.request(method, path, json={})).status_code == 401
        allowed = await http.request(method, path, headers=team["sam"], json={})
        assert allowed.status_code != 403, (method, path)


def _filled(path: str) -> str:
    for name in ("ticket_id", "session_id", "ask_id", "operator_id"):
        path = path.replace("{" + name + "}", "1")
    return path


async def test_a_supervisor_takes_over_a_conversation_through_the_lifecycle(
    front_line_without_bot: FrontLine, team: dict[str, dict[str, str]]
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    customer, ticket_id = await claimed(front_line, team["anna"])
    seen = await customer_sees(front_line, customer)

    taken = await http.post(f"/api/supervisor/tickets/{ticket_id}/take-over", headers=team["sam"])

    assert taken.status_code == 200 and taken.json()["operator_id"] == (await ids(front_line))["sam"]
    session_id = customer.last["session_id"]
    assert (await front_line.event_kinds(session_id))[-2:] == ["claimed", "taken_over"]
    async with front_line.db() as db:  # consoles hear of it: Anna's drops it, Sam's lists it
        heard = list(await db.scalars(select(OutboxEvent.kind).order_by(OutboxEvent.id.desc()).limit(2)))
    assert heard == ["message", "ticket_claimed"]
    told = await customer_sees(front_line, customer, after=seen[-1]["id"])
    assert [m["text"] for m in told] == ["Sam from our team has joined the conversation."]
    # Anna no longer holds it; Sam answers the customer.
    late = await http.post(
        f"/api/operator/tickets/{ticket_id}/messages", headers=team["anna"], json={"text": "x"}
    )
    assert late.status_code == 403
    sent = await http.post(
        f"/api/operator/tickets/{ticket_id}/messages", headers=team["sam"], json={"text": "Hi"}
    )
    assert sent.status_code == 200
    again = await http.post(f"/api/supervisor/tickets/{ticket_id}/take-over", headers=team["sam"])
    assert again.status_code == 409
    waiting = await front_line.ticket((await escalated_customer(front_line)).last["session_id"])
    assert waiting is not None
    refused = await http.post(f"/api/supervisor/tickets/{waiting.id}/take-over", headers=team["sam"])
    assert refused.status_code == 409  # a waiting conversation is claimed, not taken over


async def test_a_supervisor_reassigns_within_the_colleagues_limit(
    front_line_without_bot: FrontLine, team: dict[str, dict[str, str]]
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    operators = await ids(front_line)
    customer, ticket_id = await claimed(front_line, team["anna"])
    url = f"/api/supervisor/tickets/{ticket_id}/reassign"

    moved = await http.post(url, headers=team["sam"], json={"to_operator_id": operators["omid"]})

    assert moved.status_code == 200 and moved.json()["operator_id"] == operators["omid"]
    assert (await front_line.event_kinds(customer.last["session_id"]))[-1] == "reassigned"
    assert (await customer_sees(front_line, customer))[-1]["text"].startswith("Omid from our team")
    reply = {"text": "hello"}
    mine = f"/api/operator/tickets/{ticket_id}/messages"
    assert (await http.post(mine, headers=team["omid"], json=reply)).status_code == 200
    assert (await http.post(mine, headers=team["anna"], json=reply)).status_code == 403
    # Omid's one place is now taken: a second conversation cannot be given to him.
    _, other = await claimed(front_line, team["anna"])
    full = await http.post(
        f"/api/supervisor/tickets/{other}/reassign",
        headers=team["sam"],
        json={"to_operator_id": operators["omid"]},
    )
    assert full.status_code == 409 and "1 sessions" in full.json()["detail"]
    nobody = await http.post(
        f"/api/supervisor/tickets/{other}/reassign", headers=team["sam"], json={"to_operator_id": 999999}
    )
    assert nobody.status_code == 404


async def test_only_the_conversations_operator_asks_a_supervisor_about_it(
    front_line_without_bot: FrontLine, team: dict[str, dict[str, str]]
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    customer, ticket_id = await claimed(front_line, team["anna"])
    url = f"/api/operator/tickets/{ticket_id}/ask-supervisor"

    assert (await http.post(url, headers=team["omid"], json={"reason": "nosy"})).status_code == 403
    assert (await http.post(url, headers=team["anna"], json={"reason": ""})).status_code == 422
    asked = await http.post(url, headers=team["anna"], json={"reason": "он требует начальника"})

    assert asked.status_code == 200
    assert (await front_line.event_kinds(customer.last["session_id"]))[-1] == "supervisor_asked"
    taken = await http.post(f"/api/supervisor/tickets/{ticket_id}/take-over", headers=team["sam"])
    assert taken.status_code == 200  # taking the conversation over answers the ask
    assert (await http.get("/api/supervisor/asks", headers=team["sam"])).json() == []
    kinds = await front_line.event_kinds(customer.last["session_id"])
    assert kinds[-2:] == ["taken_over", "supervisor_answered"]


async def test_a_whisper_reaches_the_operator_and_never_the_customer(
    front_line_without_bot: FrontLine, team: dict[str, dict[str, str]]
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    customer, ticket_id = await claimed(front_line, team["anna"])
    before = await customer_sees(front_line, customer)
    text = "offer him the 20% loyalty discount — он давний клиент"

    whispered = await http.post(
        f"/api/supervisor/tickets/{ticket_id}/whisper", headers=team["sam"], json={"text": text}
    )

    assert whispered.status_code == 200
    assert await customer_sees(front_line, customer) == before
    async with front_line.db() as db:
        events = list(
            await db.execute(select(OutboxEvent.kind, OutboxEvent.payload).order_by(OutboxEvent.id))
        )
    whispers = [p for k, p in events if k == "whisper"]
    assert len(whispers) == 1 and whispers[0]["note"]["text"] == text
    assert whispers[0]["operator_id"] == (await ids(front_line))["anna"]
    assert not [p for k, p in events if k == "message" and text in str(p)]  # channels relay only these
    listed = (await http.get(f"/api/operator/tickets/{ticket_id}/whispers", headers=team["anna"])).json()
    assert [w["text"] for w in listed] == [text]
    assert (
        await http.post(
            f"/api/operator/tickets/{ticket_id}/notes", headers=team["anna"], json={"text": "own"}
        )
    ).status_code == 200
    listed = (await http.get(f"/api/operator/tickets/{ticket_id}/whispers", headers=team["anna"])).json()
    assert [w["text"] for w in listed] == [text]  # the operator's own note is no whisper


async def test_operators_statuses_and_conversations_for_supervisors(
    front_line_without_bot: FrontLine, team: dict[str, dict[str, str]]
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    customer, ticket_id = await claimed(front_line, team["anna"])
    waiting = await escalated_customer(front_line)
    operators = await ids(front_line)
    presence = front_line.app.state.presence
    async with presence.online(operators["anna"]):
        await http.put("/api/operator/me/status", headers=team["anna"], json={"status": "break"})
        listed = {
            o["login"]: o for o in (await http.get("/api/supervisor/operators", headers=team["sam"])).json()
        }
        colleagues = {
            o["login"]: o for o in (await http.get("/api/operator/operators", headers=team["omid"])).json()
        }
    assert listed["anna"]["status"] == "break" and listed["anna"]["handling"] == 1
    assert listed["omid"]["status"] == "offline" and listed["sam"]["role"] == "supervisor"
    assert colleagues["anna"]["status"] == "break"  # colleagues see it too

    conversations = (await http.get("/api/supervisor/conversations", headers=team["sam"])).json()
    by_session = {c["session_id"]: c for c in conversations}
    assert by_session[customer.last["session_id"]]["state"] == "operator"
    assert by_session[customer.last["session_id"]]["ticket"]["operator_id"] == operators["anna"]
    assert by_session[waiting.last["session_id"]]["state"] == "queued"

    await customer.say("are you still there?")
    along = (
        await http.get(f"/api/supervisor/sessions/{customer.last['session_id']}", headers=team["sam"])
    ).json()
    assert along["messages"][-1]["text"] == "are you still there?"
    assert along["conversation"]["ticket"]["id"] == ticket_id


async def test_an_ask_reaches_supervisors_live_until_one_acknowledges_it(
    live_settings: Settings,  # noqa: F811
) -> None:
    async with serving(live_settings) as front_line:  # Anna is logged in there
        await add(live_settings, "sam", "Sam", role=OperatorRole.SUPERVISOR)
        anna = front_line.auth
        sam = await _log_in(front_line, "sam")
        queued = await front_line.say("web:layla", "I will take you to court")
        ticket_id = await _ticket_of(front_line, queued["session_id"])
        await front_line.operator(f"/tickets/{ticket_id}/claim")
        front_line.auth = sam
        async with console(front_line) as supervisors:
            await _listening(front_line, "sam")
            front_line.auth = anna
            reason = "customer threatens to sue — what can I offer?"
            asked = await front_line.http.post(
                f"/api/operator/tickets/{ticket_id}/ask-supervisor", headers=anna, json={"reason": reason}
            )
            assert asked.status_code == 200, asked.text
            heard = await _until(supervisors, "supervisor_asked")
            assert heard["reason"] == reason and heard["ticket_id"] == ticket_id

            twice = await front_line.http.post(
                f"/api/operator/tickets/{ticket_id}/ask-supervisor", headers=anna, json={"reason": "again"}
            )
            assert twice.status_code == 409
            asks = (await front_line.http.get("/api/supervisor/asks", headers=sam)).json()
            assert [a["reason"] for a in asks] == [reason]
            ask_id = asks[0]["ask_id"]
            acknowledged = await front_line.http.post(
                f"/api/supervisor/asks/{ask_id}/acknowledge", headers=sam
            )
            assert acknowledged.status_code == 200 and acknowledged.json()["answer"] == "acknowledged"
            assert (await _until(supervisors, "supervisor_answered"))["ask_id"] == ask_id
        assert (await front_line.http.get("/api/supervisor/asks", headers=sam)).json() == []
        assert (
            await front_line.http.post(f"/api/supervisor/asks/{ask_id}/acknowledge", headers=sam)
        ).status_code == 409

        report = (await front_line.http.get("/api/operator/kpi/operator-time", headers=sam)).json()
        [today] = report["supervisor_asks"]
        assert (today["asked"], today["acknowledged"], today["still_open"]) == (1, 1, 0)
        assert today["mean_answer_seconds"] >= 0


async def test_a_whisper_appears_live_in_the_handling_operators_console(
    live_settings: Settings,  # noqa: F811
) -> None:
    async with serving(live_settings) as front_line:
        await add(live_settings, "sam", "Sam", role=OperatorRole.SUPERVISOR)
        sam = await _log_in(front_line, "sam")
        queued = await front_line.say("web:ali", "مودمم خاموش روشن میشه")
        ticket_id = await _ticket_of(front_line, queued["session_id"])
        await front_line.operator(f"/tickets/{ticket_id}/claim")
        async with console(front_line) as annas:
            await _listening(front_line, "anna")
            text = "ask him for the modem's serial number"
            await front_line.http.post(
                f"/api/supervisor/tickets/{ticket_id}/whisper", headers=sam, json={"text": text}
            )
            heard = await _until(annas, "whisper")
        assert heard["ticket_id"] == ticket_id and heard["note"]["text"] == text
        assert heard["note"]["author_name"] == "Sam"


async def test_the_console_sets_available_and_closing_it_offline_a_reload_keeps_a_break(
    live_settings: Settings,  # noqa: F811
) -> None:
    async with serving(live_settings) as front_line:
        status = "/api/operator/me/status"
        http, anna = front_line.http, front_line.auth
        assert (await http.get(status, headers=anna)).json()["status"] == "offline"
        async with console(front_line):  # (its stream starts a moment after the response)
            await _eventually(lambda: _status_is(http, anna, "available"))
            assert (await http.put(status, headers=anna, json={"status": "break"})).json()[
                "status"
            ] == "break"
            assert (await http.put(status, headers=anna, json={"status": "lunch"})).status_code == 422
        await _eventually(lambda: _status_is(http, anna, "offline"))
        async with console(front_line):  # a reload: the break goes on
            await asyncio.sleep(0.5)
            assert (await http.get(status, headers=anna)).json()["status"] == "break"
            await http.put(status, headers=anna, json={"status": "available"})
            await http.post("/api/operator/logout", headers=anna)
            anna = await _log_in(front_line, "anna")
            assert (await http.get(status, headers=anna)).json()["status"] == "offline"


async def test_closing_one_of_two_consoles_keeps_the_status(
    live_settings: Settings,  # noqa: F811
) -> None:
    async with serving(live_settings) as front_line:
        http, anna = front_line.http, front_line.auth
        async with console(front_line):
            await _eventually(lambda: _status_is(http, anna, "available"))
            await http.put("/api/operator/me/status", headers=anna, json={"status": "after_call_work"})
            async with console(front_line):  # a second tab
                await _eventually(lambda: _open_streams(front_line, 2))
            await asyncio.sleep(1.5)  # the closed tab's check has run by now
            assert await _status_is(http, anna, "after_call_work")
        await _eventually(lambda: _status_is(http, anna, "offline"))


async def test_an_operator_on_a_break_or_in_after_call_work_gets_no_auto_offer(
    front_line_without_bot: FrontLine, team: dict[str, dict[str, str]]
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    operators = await ids(front_line)
    offers = front_line.app.state.auto_offers
    customers = []
    async with front_line.app.state.presence.online(operators["anna"]):
        for away in ("break", "after_call_work"):
            await http.put("/api/operator/me/status", headers=team["anna"], json={"status": away})
            customers.append(await escalated_customer(front_line))
            assert await offers.offer_waiting() == 0
        await http.put("/api/operator/me/status", headers=team["anna"], json={"status": "available"})
        assert await offers.offer_waiting() == 1
    ticket = await front_line.ticket(customers[0].last["session_id"])
    assert ticket is not None and ticket.offered_to == operators["anna"]


async def test_time_in_each_status_adds_up_per_operator_and_day(
    front_line_without_bot: FrontLine, team: dict[str, dict[str, str]]
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    operators = await ids(front_line)
    day = datetime(2026, 11, 20, tzinfo=UTC)
    at = lambda h, m=0: day + timedelta(hours=h, minutes=m)  # noqa: E731
    anna_day = [("available", at(9)), ("break", at(10)), ("available", at(10, 15)),
                ("after_call_work", at(11)), ("offline", at(11, 5))]  # fmt: skip
    omid_night = [("available", at(23)), ("break", at(23, 30)), ("available", at(24, 30))]
    for login, changes in (("anna", anna_day), ("omid", omid_night)):
        for status, moment in changes:
            await http.put("/api/operator/me/status", headers=team[login], json={"status": status})
            async with front_line.db() as db, db.begin():  # as if set at that moment
                newest = select(OperatorStatusEvent.id).order_by(OperatorStatusEvent.id.desc()).limit(1)
                await db.execute(
                    update(OperatorStatusEvent)
                    .where(OperatorStatusEvent.id == newest.scalar_subquery())
                    .values(at=moment)
                )

    report = (
        await http.get(
            "/api/operator/kpi/operator-time",
            headers=team["sam"],
            params={"since": at(8).isoformat(), "until": at(25).isoformat()},
        )
    ).json()

    spent = {(r["operator_id"], r["day"]): r["seconds"] for r in report["status_time"]}
    anna = spent[(operators["anna"], "2026-11-20")]
    assert anna == {"available": 6300.0, "break": 900.0, "after_call_work": 300.0, "offline": 46500.0}
    assert sum(anna.values()) == (at(24) - at(9)).total_seconds()  # from her first status to midnight
    assert spent[(operators["omid"], "2026-11-20")] == {"available": 1800.0, "break": 1800.0}
    assert spent[(operators["omid"], "2026-11-21")] == {"break": 1800.0, "available": 1800.0}


async def test_roles_from_the_command_line_and_from_a_supervisor(
    front_line_without_bot: FrontLine,
    team: dict[str, dict[str, str]],
    settings_without_bot: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    operators = await ids(front_line)
    assert (await http.get("/api/supervisor/asks", headers=team["omid"])).status_code == 403
    promoted = await http.put(
        f"/api/supervisor/operators/{operators['omid']}/role",
        headers=team["sam"],
        json={"role": "supervisor"},
    )
    assert promoted.status_code == 200
    assert (await http.get("/api/supervisor/asks", headers=team["omid"])).status_code == 200  # at once
    me = (await http.get("/api/operator/me", headers=team["omid"])).json()
    assert me["role"] == "supervisor"
    bad = await http.put(
        f"/api/supervisor/operators/{operators['anna']}/role", headers=team["sam"], json={"role": "boss"}
    )
    assert bad.status_code == 422

    monkeypatch.setenv("FRONTLINE_DB__URL", settings_without_bot.db.url)
    get_settings.cache_clear()
    try:
        assert await asyncio.to_thread(operators_cli, ["role", "anna", "supervisor"]) == 0
        assert await asyncio.to_thread(operators_cli, ["role", "nobody", "supervisor"]) == 1
    finally:
        get_settings.cache_clear()
    assert (await http.get("/api/supervisor/asks", headers=team["anna"])).status_code == 200
    # The last supervisor cannot give the role up: someone must be able to give it back.
    for login in ("anna", "omid"):
        await http.put(
            f"/api/supervisor/operators/{operators[login]}/role",
            headers=team["sam"],
            json={"role": "operator"},
        )
    last = await http.put(
        f"/api/supervisor/operators/{operators['sam']}/role", headers=team["sam"], json={"role": "operator"}
    )
    assert last.status_code == 409


# --- helpers -------------------------------------------------------------------------------------------


async def _ticket_of(front_line: ServedFrontLine, session_id: int) -> int:
    async with front_line.app.state.db_sessions() as db:
        found = await db.scalar(select(HandoffTicket.id).where(HandoffTicket.session_id == session_id))
        assert found is not None
        return found


async def _log_in(front_line: ServedFrontLine, login: str) -> dict[str, str]:
    return await log_in(front_line.http, login)


async def _listening(front_line: ServedFrontLine, login: str) -> None:
    """Once the operator counts as online, their stream hears every event from then on."""
    async with front_line.app.state.db_sessions() as db:
        operator_id = await db.scalar(select(Operator.id).where(Operator.login == login))

    async def online() -> bool:
        return operator_id in await front_line.app.state.presence.since()

    await _eventually(online)


async def _open_streams(front_line: ServedFrontLine, count: int) -> bool:
    async with front_line.app.state.db_sessions() as db:
        return (await db.scalar(select(func.count()).select_from(OperatorStream))) == count


async def _until(stream: Any, kind: str) -> dict[str, Any]:
    while True:
        _, heard, data = await stream.next()
        if heard == kind:
            return data  # type: ignore[no-any-return]


async def _status_is(http: httpx.AsyncClient, auth: dict[str, str], status: str) -> bool:
    return (await http.get("/api/operator/me/status", headers=auth)).json()["status"] == status


async def _eventually(check: Any) -> None:
    async with asyncio.timeout(10):
        while not await check():
            await asyncio.sleep(0.05)
