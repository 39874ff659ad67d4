"""Operators take escalated sessions through the operator API; customers see them join and leave."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import httpx
import pytest

from core.settings import Settings
from handoff.operators import save_operator
from tests.chat import Customer, FrontLine


async def add_operator(settings: Settings, login: str, name: str, max_sessions: int = 3) -> None:
    await save_operator(
        settings, login, f"{login}-secret-pw", display_name=name,
        skills=["general"], languages=["en"], max_sessions=max_sessions,
    )  # fmt: skip


async def log_in(http: httpx.AsyncClient, login: str) -> dict[str, str]:
    response = await http.post("/api/operator/login", json={"login": login, "password": f"{login}-secret-pw"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def escalated_customer(front_line: FrontLine, text: str = "my router is blinking red") -> Customer:
    """With no bot reachable, the first message goes straight to the queue."""
    customer = front_line.customer()
    reply = await customer.say(text)
    assert reply["state"] == "queued"
    return customer


async def customer_sees(front_line: FrontLine, customer: Customer, after: int = 0) -> list[dict[str, Any]]:
    return list((await customer.messages(after))["messages"])


async def test_every_operator_route_answers_401_without_valid_credentials(
    front_line_without_bot: FrontLine,
) -> None:
    http = front_line_without_bot.http
    spec = (await http.get("/openapi.json")).json()
    routes = [
        (method, path.replace("{ticket_id}", "1"))
        for path, methods in spec["paths"].items()
        if path.startswith("/api/operator") and path != "/api/operator/login"
        for method in methods
    ]
    assert len(routes) >= 8
    for method, path in routes:
        for headers in ({}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Basic abc"}):
            response = await http.request(method.upper(), path, headers=headers, json={})
            assert response.status_code == 401, (method, path, headers, response.text)


async def test_wrong_password_is_refused(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    await add_operator(settings_without_bot, "anna", "Anna")
    response = await front_line_without_bot.http.post(
        "/api/operator/login", json={"login": "anna", "password": "guess"}
    )
    assert response.status_code == 401
    assert "token" not in response.json()


async def test_an_operator_takes_a_session_from_queue_to_close(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    front_line = front_line_without_bot
    http = front_line.http
    await add_operator(settings_without_bot, "anna", "Anna")
    auth = await log_in(http, "anna")
    customer = await escalated_customer(front_line)

    queue = (await http.get("/api/operator/queue", headers=auth)).json()
    mine = [t for t in queue if t["session_id"] == customer.last["session_id"]]
    assert len(mine) == 1 and mine[0]["reason"] == "bot_unavailable" and mine[0]["channel"] == "web"
    ticket_id = mine[0]["id"]

    details = (await http.get(f"/api/operator/tickets/{ticket_id}", headers=auth)).json()
    assert details["card"]["transcript"][0]["text"] == "my router is blinking red"
    assert details["session_state"] == "queued"

    assert (await http.post(f"/api/operator/tickets/{ticket_id}/claim", headers=auth)).status_code == 200
    seen = await customer_sees(front_line, customer)
    assert seen[-1]["text"] == "Anna from our team has joined the conversation."

    await http.post(
        f"/api/operator/tickets/{ticket_id}/messages", headers=auth, json={"text": "Hi, I'm on it"}
    )
    await http.post(f"/api/operator/tickets/{ticket_id}/notes", headers=auth, json={"text": "fibre cut?"})
    seen = await customer_sees(front_line, customer, after=seen[-1]["id"])
    assert [(m["author"], m["text"]) for m in seen] == [("operator", "Hi, I'm on it")]

    reply = await customer.say("thanks, the red light is the second one")
    assert reply["state"] == "operator" and reply["replies"] == []  # the operator answers, not a robot
    details = (await http.get(f"/api/operator/tickets/{ticket_id}", headers=auth)).json()
    assert details["messages"][-1]["text"] == "thanks, the red light is the second one"
    assert [n["text"] for n in details["notes"]] == ["fibre cut?"]

    closed = await http.post(
        f"/api/operator/tickets/{ticket_id}/close", headers=auth, json={"disposition": "resolved"}
    )
    assert closed.status_code == 204
    last = await customer_sees(front_line, customer, after=seen[-1]["id"])
    assert last[-2]["text"].startswith("Anna has left the conversation")
    assert "from 1 (poor) to 5" in last[-1]["text"]
    assert [b["payload"] for b in last[-1]["buttons"]] == ["1", "2", "3", "4", "5"]

    session_id = customer.last["session_id"]
    rated = await customer.say("٥")  # Arabic-Indic five, as typed on an Arabic keyboard
    assert rated["session_id"] == session_id and rated["state"] == "closed"
    assert customer.text == "Thank you for your rating!"
    assert await front_line.event_kinds(session_id) == [
        "opened", "handoff_requested", "claimed", "first_operator_reply", "closed",
        "survey_asked", "survey_answered",
    ]  # fmt: skip
    again = await customer.say("5")  # a second "5" is a new message, not a second rating
    assert again["session_id"] != session_id


async def test_a_waiting_customer_is_told_the_queue_position(front_line_without_bot: FrontLine) -> None:
    first = await escalated_customer(front_line_without_bot)
    assert "number 1 in the queue" in first.text
    second = await escalated_customer(front_line_without_bot)
    assert "number 2 in the queue" in second.text
    assert second.buttons == [{"title": "Back to the virtual assistant", "payload": "/back_to_bot"}]
    # Back to the bot while the bot is down: the customer keeps their place.
    stay = await second.say("/back_to_bot")
    assert stay["state"] == "queued" and "still unavailable" in second.text


async def test_a_claimed_session_is_nobody_elses(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    http = front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    await add_operator(settings_without_bot, "omid", "Omid", max_sessions=1)
    anna, omid = await log_in(http, "anna"), await log_in(http, "omid")
    first = await escalated_customer(front_line_without_bot)
    second = await escalated_customer(front_line_without_bot)
    queue = {t["session_id"]: t["id"] for t in (await http.get("/api/operator/queue", headers=anna)).json()}
    t1, t2 = queue[first.last["session_id"]], queue[second.last["session_id"]]

    assert (await http.post(f"/api/operator/tickets/{t1}/claim", headers=anna)).status_code == 200
    late = await http.post(f"/api/operator/tickets/{t1}/claim", headers=omid)
    assert late.status_code == 409 and "another operator" in late.json()["detail"]
    intrude = await http.post(f"/api/operator/tickets/{t1}/messages", headers=omid, json={"text": "hi"})
    assert intrude.status_code == 403

    assert (await http.post(f"/api/operator/tickets/{t2}/claim", headers=omid)).status_code == 200
    third = await escalated_customer(front_line_without_bot)
    t3 = {t["session_id"]: t["id"] for t in (await http.get("/api/operator/queue", headers=omid)).json()}[
        third.last["session_id"]
    ]
    over = await http.post(f"/api/operator/tickets/{t3}/claim", headers=omid)
    assert over.status_code == 409 and "1 sessions" in over.json()["detail"]
    assert (await http.get("/api/operator/tickets/999999", headers=anna)).status_code == 404


async def _close_claimed_ticket(
    front_line: FrontLine, settings: Settings, disposition: object
) -> tuple[httpx.Response, str]:
    """Anna claims a fresh ticket and closes it; the response and the ticket's status after it."""
    http = front_line.http
    await add_operator(settings, "anna", "Anna")
    auth = await log_in(http, "anna")
    customer = await escalated_customer(front_line)
    ticket_id = {
        t["session_id"]: t["id"] for t in (await http.get("/api/operator/queue", headers=auth)).json()
    }[customer.last["session_id"]]
    await http.post(f"/api/operator/tickets/{ticket_id}/claim", headers=auth)
    response = await http.post(
        f"/api/operator/tickets/{ticket_id}/close", headers=auth, json={"disposition": disposition}
    )
    ticket = (await http.get(f"/api/operator/tickets/{ticket_id}", headers=auth)).json()
    return response, ticket["ticket"]["status"]


# The front line's own endings (abandoned, returned to the bot) are not an operator's to choose:
# a ticket closed as "abandoned" by hand would count in the abandonment figures.
@pytest.mark.parametrize(
    "disposition", ["fixed", "", "RESOLVED", "abandoned", "returned_to_bot", None, ["spam"]]
)
async def test_close_needs_a_known_disposition(
    front_line_without_bot: FrontLine, settings_without_bot: Settings, disposition: object
) -> None:
    response, status = await _close_claimed_ticket(front_line_without_bot, settings_without_bot, disposition)
    assert response.status_code == 422
    assert "resolved" in response.text  # says which ones an operator may give
    assert status == "assigned"


@pytest.mark.parametrize("disposition", ["not_resolved", "callback_needed", "spam"])
async def test_close_takes_every_disposition_an_operator_may_give(
    front_line_without_bot: FrontLine, settings_without_bot: Settings, disposition: str
) -> None:
    response, status = await _close_claimed_ticket(front_line_without_bot, settings_without_bot, disposition)
    assert response.status_code == 204
    assert status == "closed"


async def test_transfer_to_a_colleague_or_back_to_the_queue_under_another_skill(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    http = front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    await save_operator(
        settings_without_bot, "reza", "reza-secret-pw", display_name="Reza",
        skills=["billing"], languages=["fa", "en"], max_sessions=3,
    )  # fmt: skip
    anna, reza = await log_in(http, "anna"), await log_in(http, "reza")
    customer = await escalated_customer(front_line_without_bot)
    ticket_id = {
        t["session_id"]: t["id"] for t in (await http.get("/api/operator/queue", headers=anna)).json()
    }[customer.last["session_id"]]
    await http.post(f"/api/operator/tickets/{ticket_id}/claim", headers=anna)

    both = await http.post(
        f"/api/operator/tickets/{ticket_id}/transfer",
        headers=anna,
        json={"to_operator": "reza", "to_topic": "x"},
    )
    assert both.status_code == 422
    moved = await http.post(
        f"/api/operator/tickets/{ticket_id}/transfer", headers=anna, json={"to_topic": "billing"}
    )
    assert moved.status_code == 200 and moved.json()["status"] == "queued"
    assert "colleague" in (await customer_sees(front_line_without_bot, customer))[-1]["text"]

    mine = (await http.get("/api/operator/queue", headers=reza, params={"mine": "true"})).json()
    assert [t["id"] for t in mine] == [ticket_id]  # billing + English: Reza's
    assert (await http.get("/api/operator/queue", headers=anna, params={"mine": "true"})).json() == []
    assert (await http.post(f"/api/operator/tickets/{ticket_id}/claim", headers=reza)).status_code == 200
    kinds = await front_line_without_bot.event_kinds(customer.last["session_id"])
    assert kinds == ["opened", "handoff_requested", "claimed", "transferred", "claimed"]


async def test_an_unanswered_wait_times_out_as_abandoned(front_line_without_bot: FrontLine) -> None:
    customer = await escalated_customer(front_line_without_bot)
    sweeps = front_line_without_bot.app.state.sweeps
    assert await sweeps.abandon_stale_waits(timedelta(minutes=30)) == 0  # still within the limit
    assert await sweeps.abandon_stale_waits(timedelta(0)) == 1
    session_id = customer.last["session_id"]
    assert (await customer_sees(front_line_without_bot, customer))[-1]["text"].startswith(
        "Sorry, all our operators"
    )
    assert await front_line_without_bot.event_kinds(session_id) == [
        "opened",
        "handoff_requested",
        "abandoned",
    ]
    ticket = await front_line_without_bot.ticket(session_id)
    assert ticket is not None and ticket.disposition == "abandoned"


async def test_waiting_customers_hear_when_their_place_changes(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    http = front_line_without_bot.http
    sweeps = front_line_without_bot.app.state.sweeps
    await add_operator(settings_without_bot, "anna", "Anna")
    auth = await log_in(http, "anna")
    first = await escalated_customer(front_line_without_bot)
    second = await escalated_customer(front_line_without_bot)
    assert "number 2 in the queue" in second.text
    assert await sweeps.announce_queue_positions(timedelta(0)) == 0  # nothing changed

    ticket_id = {
        t["session_id"]: t["id"] for t in (await http.get("/api/operator/queue", headers=auth)).json()
    }[first.last["session_id"]]
    await http.post(f"/api/operator/tickets/{ticket_id}/claim", headers=auth)
    assert await sweeps.announce_queue_positions(timedelta(minutes=1)) == 0  # told less than 1 min ago
    assert await sweeps.announce_queue_positions(timedelta(0)) == 1
    assert "number 1 in the queue" in (await customer_sees(front_line_without_bot, second))[-1]["text"]


async def test_log_out_revokes_the_token_at_once(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    http = front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    auth = await log_in(http, "anna")
    assert (await http.get("/api/operator/me", headers=auth)).status_code == 200  # remembered now
    assert (await http.post("/api/operator/logout", headers=auth)).status_code == 204
    assert (await http.get("/api/operator/me", headers=auth)).status_code == 401
    assert (await http.get("/api/operator/queue", headers=auth)).status_code == 401


async def test_a_ticket_id_too_large_for_the_database_is_a_4xx(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    http = front_line_without_bot.http
    await add_operator(settings_without_bot, "vera", "Vera")
    auth = await log_in(http, "vera")
    for path in (f"/api/operator/tickets/{2**64}", f"/api/operator/tickets/{2**63}"):
        assert (await http.get(path, headers=auth)).status_code == 422
    for path in (f"/api/operator/tickets/{2**64}/claim", f"/api/operator/tickets/{2**63}/claim"):
        assert (await http.post(path, headers=auth)).status_code == 422
    # A NUL in an operator's reply would be refused by PostgreSQL: it is a 4xx here.
    reply = await http.post("/api/operator/tickets/1/messages", headers=auth, json={"text": "a\x00b"})
    assert reply.status_code == 422


async def test_guessing_an_operators_password_stops_after_five_tries(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    http = front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    await add_operator(settings_without_bot, "boris", "Boris")
    for guess in ("123456", "password", "anna", "qwerty", "anna2026"):
        response = await http.post("/api/operator/login", json={"login": "anna", "password": guess})
        assert response.status_code == 401
    # Now even the right password waits: the guesser cannot tell a hit from the block.
    blocked = await http.post("/api/operator/login", json={"login": "anna", "password": "anna-secret-pw"})
    assert blocked.status_code == 429 and 0 < int(blocked.headers["retry-after"]) <= 300
    assert "token" not in blocked.json()
    assert (await log_in(http, "boris"))["Authorization"].startswith("Bearer ")  # a colleague is not


async def test_trying_many_logins_from_one_address_is_blocked_too(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    http = front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    for n in range(30):  # unknown logins are answered exactly like wrong passwords
        response = await http.post("/api/operator/login", json={"login": f"user{n}", "password": "x"})
        assert response.status_code == 401 and response.json()["detail"] == "wrong login or password"
    blocked = await http.post("/api/operator/login", json={"login": "anna", "password": "anna-secret-pw"})
    assert blocked.status_code == 429


async def test_the_live_stream_takes_a_single_use_ticket_not_the_log_in_token(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    http = front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    auth = await log_in(http, "anna")
    token = auth["Authorization"].removeprefix("Bearer ")
    refused = await http.get("/api/operator/events", params={"token": token})
    assert refused.status_code == 401  # a log-in token in a URL lands in access logs: not accepted
    ticket = (await http.post("/api/operator/events/ticket", headers=auth)).json()
    assert ticket["ticket"] != token and 0 < ticket["expires_in"] <= 60
    assert (await http.post("/api/operator/events/ticket")).status_code == 401
    # After log-out the ticket opens nothing.
    assert (await http.post("/api/operator/logout", headers=auth)).status_code == 204
    assert (await http.get("/api/operator/events", params={"ticket": ticket["ticket"]})).status_code == 401


async def test_log_ins_arriving_together_cannot_pass_the_limit(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    """Each password check takes about 30 ms, one at a time: guesses sent at once all waited for
    their check before counting, so a burst was never limited (40 of 40 checked)."""
    http = front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")

    async def guess(n: int) -> int:
        body = {"login": "anna", "password": f"guess-{n}"}
        return (await http.post("/api/operator/login", json=body)).status_code

    codes = await asyncio.gather(*(guess(n) for n in range(40)))

    assert codes.count(401) == 5  # the per-login limit, however the guesses arrive
    assert set(codes) <= {401, 429, 503}  # 503: more than a moment's checks queued at once
    right = await http.post("/api/operator/login", json={"login": "anna", "password": "anna-secret-pw"})
    assert right.status_code == 429


async def test_an_operator_who_logs_in_does_not_use_up_the_offices_tries(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    """Colleagues behind one office address log in at the start of a shift."""
    http = front_line_without_bot.http
    for n in range(35):
        await add_operator(settings_without_bot, f"op{n}", f"Op {n}")
    for n in range(35):
        response = await http.post(
            "/api/operator/login", json={"login": f"op{n}", "password": f"op{n}-secret-pw"}
        )
        assert response.status_code == 200, (n, response.text)
