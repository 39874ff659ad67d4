"""Operators correct the customer card (name, phone, address, note); every change keeps who made it,
when, and what the card said before; the changes go with the customer's data export and erasure."""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
from sqlalchemy import func, select

from core.kinds import OperatorRole
from core.models import CustomerCardChange, utcnow
from core.privacy import erase_customer, export_customer
from core.settings import Settings
from handoff.operators import save_operator
from tests.chat import FrontLine
from tests.integration.test_operator_api import add_operator, escalated_customer, log_in


async def _claimed_ticket(front_line: FrontLine, auth: dict[str, str], text: str) -> tuple[int, str]:
    customer = await escalated_customer(front_line, text)
    ticket = await front_line.ticket(customer.last["session_id"])
    assert ticket is not None
    claimed = await front_line.http.post(f"/api/operator/tickets/{ticket.id}/claim", headers=auth)
    assert claimed.status_code == 200, claimed.text
    return ticket.id, f"web:{customer.id}"


async def _patch(
    http: httpx.AsyncClient, auth: dict[str, str], ticket_id: int, **fields: str | None
) -> httpx.Response:
    return await http.patch(f"/api/operator/tickets/{ticket_id}/customer", headers=auth, json=fields)


async def _change_rows(front_line: FrontLine) -> int:
    async with front_line.db() as db:
        return int(await db.scalar(select(func.count()).select_from(CustomerCardChange)) or 0)


async def test_an_operator_corrects_the_card_and_the_history_says_who_when_and_what_it_was(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    await add_operator(settings_without_bot, "omid", "Omid")
    anna, omid = await log_in(http, "anna"), await log_in(http, "omid")
    ticket_id, _ = await _claimed_ticket(front_line, anna, "سلام، اینترنتم قطعه، مودم چراغش قرمزه")
    before = utcnow()

    first = await _patch(
        http, anna, ticket_id, full_name="رضا احمدی", phone="+۹۸ ۹۱۲ ۳۴۵ ۶۷۸۹",
        address="تهران، خیابان ولیعصر، پلاک ۱۲", note="فقط عصرها",
    )  # fmt: skip
    assert first.status_code == 200, first.text
    card = first.json()
    # Persian digits with spaces are stored as the one phone form the project uses everywhere.
    assert card["phone"] == "+989123456789"
    assert card["full_name"] == "رضا احمدی" and card["note"] == "فقط عصرها"
    assert {c["field"] for c in card["changes"]} == {"full_name", "phone", "address", "note"}
    assert all(c["old_value"] is None and c["operator_name"] == "Anna" for c in card["changes"])

    # Omid takes the conversation over from Anna and corrects the name once more.
    moved = await http.post(
        f"/api/operator/tickets/{ticket_id}/transfer", headers=anna, json={"to_operator": "omid"}
    )
    assert moved.status_code == 200, moved.text
    second = await _patch(http, omid, ticket_id, full_name="Reza Ahmadi", phone="+989123456789")
    assert second.status_code == 200, second.text

    history = (await http.get(f"/api/operator/tickets/{ticket_id}/customer", headers=omid)).json()
    newest = history["changes"][0]
    assert newest["field"] == "full_name" and newest["operator_name"] == "Omid"
    assert (newest["old_value"], newest["new_value"]) == ("رضا احمدی", "Reza Ahmadi")
    assert before <= datetime.fromisoformat(newest["at"]) <= utcnow() + timedelta(seconds=1)
    # The same phone written again is no change, so it is not in the history twice.
    assert [c["field"] for c in history["changes"]].count("phone") == 1
    assert len(history["changes"]) == 5
    # The ticket's context card shows the corrected values from now on.
    details = (await http.get(f"/api/operator/tickets/{ticket_id}", headers=omid)).json()
    assert details["card"]["customer"]["full_name"] == "Reza Ahmadi"
    assert details["card"]["customer"]["phone"] == "+989123456789"


async def test_a_national_number_is_read_in_the_customers_country_and_a_blank_field_clears_it(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    anna = await log_in(http, "anna")
    ticket_id, _ = await _claimed_ticket(front_line, anna, "здравствуйте, интернет не работает третий день")

    set_phone = await _patch(http, anna, ticket_id, phone="8 (916) 123-45-67", note="звонить после 18")
    assert set_phone.status_code == 200, set_phone.text
    assert set_phone.json()["phone"] == "+79161234567"

    cleared = await _patch(http, anna, ticket_id, note="  ")
    assert cleared.status_code == 200 and cleared.json()["note"] is None
    assert cleared.json()["phone"] == "+79161234567"  # a field left out stays as it is
    assert cleared.json()["changes"][0] == {
        **cleared.json()["changes"][0], "field": "note", "old_value": "звонить после 18", "new_value": None,
    }  # fmt: skip


async def test_an_invalid_phone_is_refused_and_changes_nothing(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    anna = await log_in(http, "anna")
    ticket_id, _ = await _claimed_ticket(front_line, anna, "my router is blinking red")

    for phone in ("12ab45", "+1 555", "٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠٠"):
        refused = await _patch(http, anna, ticket_id, full_name="Jo Smith", phone=phone)
        assert refused.status_code == 422, (phone, refused.text)
        assert "phone" in refused.text
    unknown_field = await _patch(http, anna, ticket_id, email="jo@example.com")
    assert unknown_field.status_code == 422

    card = (await http.get(f"/api/operator/tickets/{ticket_id}/customer", headers=anna)).json()
    assert card["full_name"] is None and card["changes"] == []  # the valid name did not go in alone
    assert await _change_rows(front_line) == 0


async def test_only_the_operator_handling_the_ticket_or_a_supervisor_reads_or_corrects_the_card(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    await add_operator(settings_without_bot, "reza", "Reza")
    anna, reza = await log_in(http, "anna"), await log_in(http, "reza")
    ticket_id, _ = await _claimed_ticket(front_line, anna, "my router is blinking red")
    queued = await escalated_customer(front_line, "nobody has claimed me yet")
    waiting = await front_line.ticket(queued.last["session_id"])
    assert waiting is not None

    assert (await _patch(http, reza, ticket_id, full_name="Mallory")).status_code == 403
    assert (await http.get(f"/api/operator/tickets/{ticket_id}/customer", headers=reza)).status_code == 403
    assert (await _patch(http, anna, waiting.id, full_name="Mallory")).status_code == 403  # claim first
    assert (await _patch(http, anna, 987654, full_name="Mallory")).status_code == 404
    assert (await _patch(http, {}, ticket_id, full_name="Mallory")).status_code == 401
    assert await _change_rows(front_line) == 0

    # A supervisor corrects any conversation's card, handled by someone or not.
    await save_operator(
        settings_without_bot, "sam", "sam-secret-pw", display_name="Sam",
        skills=["general"], languages=["en"], max_sessions=3, role=OperatorRole.SUPERVISOR,
    )  # fmt: skip
    sam = await log_in(http, "sam")
    by_supervisor = await _patch(http, sam, ticket_id, note="threatened to cancel; offer a discount")
    assert by_supervisor.status_code == 200 and by_supervisor.json()["changes"][0]["operator_name"] == "Sam"
    assert (await _patch(http, sam, waiting.id, note="VIP")).status_code == 200

    closed = await http.post(
        f"/api/operator/tickets/{ticket_id}/close", headers=anna, json={"disposition": "resolved"}
    )
    assert closed.status_code == 204
    assert (await _patch(http, anna, ticket_id, full_name="Too Late")).status_code == 403


async def test_the_export_holds_the_changes_and_erasure_removes_them(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    anna = await log_in(http, "anna")
    ticket_id, key = await _claimed_ticket(front_line, anna, "صار لي يومين بلا نت")
    other_id, other_key = await _claimed_ticket(front_line, anna, "النت عندي بطيء كتير")
    await _patch(http, anna, ticket_id, full_name="سارة", address="عمّان، جبل الحسين")
    await _patch(http, anna, ticket_id, full_name="سارة خالد", phone="+962 7 9123 4567")
    await _patch(http, anna, other_id, full_name="ليلى")

    async with front_line.db() as db:
        exported = await export_customer(db, key)
    assert exported is not None
    assert exported["customer"]["full_name"] == "سارة خالد"
    assert exported["customer"]["address"] == "عمّان، جبل الحسين"
    names = [(c["old_value"], c["new_value"]) for c in exported["card_changes"] if c["field"] == "full_name"]
    assert names == [(None, "سارة"), ("سارة", "سارة خالد")]
    assert all(c["at"] for c in exported["card_changes"])

    async with front_line.db() as db, db.begin():
        assert await erase_customer(db, key) is not None
    async with front_line.db() as db:
        left = list(await db.scalars(select(CustomerCardChange.new_value)))
    assert left == ["ليلى"]  # the other customer's history stays
    async with front_line.db() as db:
        assert await export_customer(db, other_key) is not None
