"""Keyword alerts: a customer who writes a watched phrase ("суд", "رح اشتكي", "شکایت می‌کنم"), in the
forms customers really use and with digits of their own script around it, flags the conversation on
the consoles' live stream, in the list of flagged conversations and in the figures; other messages
do not."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

from sqlalchemy import select

from core.events import LiveEvent
from core.kinds import LiveEventKind, SessionEventKind
from core.models import OutboxEvent
from core.settings import Settings
from tests.chat import Customer, FrontLine
from tests.integration.test_operator_api import add_operator, log_in

# What customers write, and the phrase (and its language) supervisors are told of.
FLAGGED = (
    ("والله صار لي ٣ أيام بلا نت، رح اشتكي عليكم ٢٠٠٠ مرة", "شكوى", "ar"),
    ("۴ روزه اینترنتم قطعه، ازتون شکایت می‌کنم ۱۲۳۴۵۶۷", "شکایت", "fa"),
    ("третий день без интернета!!! пожалуюсь в роспотреб, заказ ٧٦٥٤٣٢١", "жалоба", "ru"),
    ("ХВАТИТ. Засужу вас, вот увидите", "суд", "ru"),
)
CALM = (
    "пожалуйста, помогите, интернет не работает",  # "пожалуйста" is no complaint
    "سلام، اینترنتم از دیروز قطعه ۲ روزه",
    "بدي اعرف سعر باقة ٥٠ ميغا",
    "what is the price of the 300 tariff?",
)


async def _said(front_line: FrontLine, texts: Iterable[str]) -> list[Customer]:
    customers = []
    for text in texts:
        customer = front_line.customer()
        await customer.say(text)
        customers.append(customer)
    return customers


def _drain(queue: asyncio.Queue[LiveEvent]) -> list[LiveEvent]:
    events = []
    while not queue.empty():
        events.append(queue.get_nowait())
    return events


async def test_watched_phrases_flag_the_conversation_live_in_the_list_and_in_the_figures(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    auth = await log_in(http, "anna")

    async with front_line.app.state.bus.subscribe() as queue:  # what every console's stream hears
        flagged = await _said(front_line, (text for text, _, _ in FLAGGED))
        calm = await _said(front_line, CALM)
        heard = [e for e in _drain(queue) if e.kind == LiveEventKind.KEYWORD_ALERT]

    flagged_sessions = [c.last["session_id"] for c in flagged]
    assert [e.data["session_id"] for e in heard] == flagged_sessions
    assert [e.data["phrases"][0]["phrase"] for e in heard] == [phrase for _, phrase, _ in FLAGGED]
    assert all(e.id is not None for e in heard)  # stored: a reconnecting console replays them
    for customer in flagged:
        assert SessionEventKind.KEYWORD_ALERT in await front_line.event_kinds(customer.last["session_id"])
    for customer in calm:
        assert SessionEventKind.KEYWORD_ALERT not in await front_line.event_kinds(customer.last["session_id"])

    listed = (await http.get("/api/operator/alerts", headers=auth)).json()
    assert {f["session_id"] for f in listed} == set(flagged_sessions)
    for entry in listed:
        ticket = await front_line.ticket(entry["session_id"])
        assert ticket is not None and entry["ticket_id"] == ticket.id  # the queue's badge finds it

    by_language = (await http.get("/api/operator/kpi/alerts?group_by=language", headers=auth)).json()
    assert by_language["total"] == {"key": None, "alerts": 4, "conversations": 4}
    assert {g["key"]: g["alerts"] for g in by_language["groups"]} == {"ar": 1, "fa": 1, "ru": 2}
    by_phrase = (await http.get("/api/operator/kpi/alerts?group_by=phrase", headers=auth)).json()
    assert {g["key"]: g["alerts"] for g in by_phrase["groups"]} == {
        "شكوى": 1, "شکایت": 1, "жалоба": 1, "роспотребнадзор": 1, "суд": 1,
    }  # fmt: skip
    by_day = (await http.get("/api/operator/kpi/alerts?group_by=day", headers=auth)).json()
    assert sum(g["alerts"] for g in by_day["groups"]) == 4


async def test_each_message_counts_and_the_conversation_is_counted_once(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    await add_operator(settings_without_bot, "anna", "Anna")
    auth = await log_in(http, "anna")
    customer = front_line.customer()
    await customer.say("الانترنت مقطوع من ٣ ايام")
    await customer.say("بدي محامي، ح اشتكي عليكم للمحكمة")
    await customer.say("شو؟ حدا يرد!!")

    figures = (await http.get("/api/operator/kpi/alerts?group_by=phrase", headers=auth)).json()
    assert figures["total"] == {"key": None, "alerts": 1, "conversations": 1}
    assert {g["key"] for g in figures["groups"]} == {"محامي", "شكوى", "محكمة"}
    await customer.say("والله لاشتكي للصحافة كمان")
    again = (await http.get("/api/operator/kpi/alerts", headers=auth)).json()
    assert again["total"] == {"key": None, "alerts": 2, "conversations": 1}
    async with front_line.db() as db:
        rows = list(
            await db.scalars(select(OutboxEvent).where(OutboxEvent.kind == LiveEventKind.KEYWORD_ALERT))
        )
    assert len(rows) == 2 and all(r.payload["session_id"] == customer.last["session_id"] for r in rows)
