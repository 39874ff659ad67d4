"""A transfer to a colleague: never to oneself, never beyond the colleague's session limit, and the
ticket is no longer reserved for whoever it was once offered to."""

from __future__ import annotations

import httpx
from sqlalchemy import select, update

from core.models import HandoffTicket, Operator, utcnow
from core.settings import Settings
from tests.chat import FrontLine
from tests.integration.test_operator_api import add_operator, escalated_customer, log_in


async def _claimed_by(front_line: FrontLine, http: httpx.AsyncClient, auth: dict[str, str]) -> int:
    customer = await escalated_customer(front_line)
    ticket = await front_line.ticket(customer.last["session_id"])
    assert ticket is not None
    assert (await http.post(f"/api/operator/tickets/{ticket.id}/claim", headers=auth)).status_code == 200
    return ticket.id


async def _transfer(http: httpx.AsyncClient, auth: dict[str, str], ticket_id: int, to: str) -> httpx.Response:
    return await http.post(
        f"/api/operator/tickets/{ticket_id}/transfer", headers=auth, json={"to_operator": to}
    )


async def test_a_transfer_to_oneself_is_refused(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    http = front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    anna = await log_in(http, "anna")
    ticket_id = await _claimed_by(front_line_without_bot, http, anna)

    refused = await _transfer(http, anna, ticket_id, "anna")

    assert refused.status_code == 409
    assert "transferred" not in await front_line_without_bot.event_kinds(
        (await _ticket(front_line_without_bot, ticket_id)).session_id
    )


async def test_a_transfer_to_a_colleague_at_their_limit_is_refused(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    http = front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    await add_operator(settings_without_bot, "omid", "Omid", max_sessions=1)
    anna, omid = await log_in(http, "anna"), await log_in(http, "omid")
    await _claimed_by(front_line_without_bot, http, omid)  # Omid's one place is taken
    ticket_id = await _claimed_by(front_line_without_bot, http, anna)

    refused = await _transfer(http, anna, ticket_id, "omid")

    assert refused.status_code == 409 and "omid" in refused.json()["detail"]
    ticket = await _ticket(front_line_without_bot, ticket_id)
    assert ticket.operator_id == await _operator_id(front_line_without_bot, "anna")


async def test_a_transferred_ticket_is_no_longer_offered_to_anyone(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    http = front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    await add_operator(settings_without_bot, "reza", "Reza")
    anna = await log_in(http, "anna")
    customer = await escalated_customer(front_line_without_bot)
    ticket = await front_line_without_bot.ticket(customer.last["session_id"])
    assert ticket is not None
    anna_id = await _operator_id(front_line_without_bot, "anna")
    async with front_line_without_bot.db() as db, db.begin():  # auto-offered to Anna, who takes it
        await db.execute(
            update(HandoffTicket)
            .where(HandoffTicket.id == ticket.id)
            .values(offered_to=anna_id, offered_at=utcnow())
        )
    assert (await http.post(f"/api/operator/tickets/{ticket.id}/claim", headers=anna)).status_code == 200

    assert (await _transfer(http, anna, ticket.id, "reza")).status_code == 200

    moved = await _ticket(front_line_without_bot, ticket.id)
    assert moved.operator_id == await _operator_id(front_line_without_bot, "reza")
    assert moved.offered_to is None and moved.offered_at is None


async def _ticket(front_line: FrontLine, ticket_id: int) -> HandoffTicket:
    async with front_line.db() as db:
        ticket = await db.get(HandoffTicket, ticket_id)
        assert ticket is not None
        return ticket


async def _operator_id(front_line: FrontLine, login: str) -> int:
    async with front_line.db() as db:
        found = await db.scalar(select(Operator.id).where(Operator.login == login))
        assert found is not None
        return found
