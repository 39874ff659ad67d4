"""Agent assist through the operator API: suggested answers in the customer's language from the bot's
own model (the real Rasa server with the trained model), order statuses from the order store, and
the figures of replies sent from a suggestion."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import date

import httpx
import pytest

from bot.responses import load_language
from core.models import Customer, Order
from core.settings import Settings
from handoff.operators import save_operator
from tests.chat import Customer as ChatCustomer
from tests.chat import FrontLine, running_front_line

# Bidi isolates around numbers and names in right-to-left texts: invisible, not compared.
ISOLATES = dict.fromkeys(map(ord, "\u2066\u2067\u2068\u2069"))


@pytest.fixture
async def front_line(stack_settings: Settings) -> AsyncIterator[FrontLine]:
    async with running_front_line(stack_settings) as front_line:
        yield front_line


async def log_in(settings: Settings, http: httpx.AsyncClient, login: str) -> dict[str, str]:
    await save_operator(
        settings, login, f"{login}-secret-pw", display_name=login.title(),
        skills=["general"], languages=["en", "ru", "ar", "fa"], max_sessions=3,
    )  # fmt: skip
    response = await http.post("/api/operator/login", json={"login": login, "password": f"{login}-secret-pw"})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


async def queued_through_bot(front_line: FrontLine, language: str) -> ChatCustomer:
    """A customer who asked the bot for a person and confirmed (the buttons' payloads)."""
    customer = front_line.customer(language=language)
    await customer.say("/request_human")
    reply = await customer.say("/affirm")
    assert reply["state"] == "queued", customer.text
    return customer


async def ticket_id(front_line: FrontLine, customer: ChatCustomer) -> int:
    ticket = await front_line.ticket(customer.last["session_id"])
    assert ticket is not None
    return ticket.id


async def suggestions(http: httpx.AsyncClient, auth: dict[str, str], ticket: int) -> dict:
    response = await http.get(f"/api/operator/tickets/{ticket}/suggestions", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("language", "question", "topic"),
    [
        ("fa", "سلام، برای اومدن تکنسین باید پول بدم؟ چقدر میشه", "faq/visit_cost"),
        ("ru", "привет, я уезжаю за границу, телефон там будет работать?", "faq/roaming"),
    ],
)
@pytest.mark.e2e
@pytest.mark.parametrize("stack_settings", ["sqlite"], indirect=True)
async def test_a_question_gets_the_bots_answer_in_the_customers_language(
    front_line: FrontLine,
    stack_settings: Settings,
    language: str,
    question: str,
    topic: str,
) -> None:
    auth = await log_in(stack_settings, front_line.http, "nasrin")
    customer = await queued_through_bot(front_line, language)
    await customer.say(question)  # waiting for a person: stored for the operator, not sent to the bot
    ticket = await ticket_id(front_line, customer)

    found = await suggestions(front_line.http, auth, ticket)

    assert found["reason"] is None and found["language"] == language
    items = found["suggestions"]
    assert 1 <= len(items) <= 3
    assert items[0]["id"] == topic
    answer = load_language(language).responses[f"utter_{topic}"]["text"]  # the bot's own, in its language
    assert items[0]["text"] == answer
    assert [i["confidence"] for i in items] == sorted((i["confidence"] for i in items), reverse=True)
    assert all(0.1 <= i["confidence"] <= 1 for i in items)
    # Only the operator sees them: the customer's conversation holds nothing new.
    seen = await customer.messages()
    assert all(m["text"] != answer for m in seen["messages"])


@pytest.mark.e2e
@pytest.mark.parametrize("stack_settings", ["sqlite"], indirect=True)
async def test_a_greeting_gets_no_faq_answer_but_says_why(
    front_line: FrontLine, stack_settings: Settings
) -> None:
    auth = await log_in(stack_settings, front_line.http, "oleg")
    customer = await queued_through_bot(front_line, "ru")
    await customer.say("ок, жду")
    found = await suggestions(front_line.http, auth, await ticket_id(front_line, customer))
    assert found == {**found, "suggestions": [], "reason": "nothing_confident"}


async def add_order(front_line: FrontLine, number: str, phone: str, status: str) -> None:
    async with front_line.db() as db, db.begin():
        owner = Customer(key=f"web:owner-{number}", full_name="Мария Иванова", phone=phone, language="ru")
        db.add(owner)
        await db.flush()
        db.add(
            Order(
                number=number, customer_id=owner.id, kind="new_connection", status=status,
                full_name="Мария Иванова", phone=phone, address="Казань, ул. Баумана, 5",
                tariff_code="home_100", visit_date=date(2030, 5, 4), channel="web",
            )
        )  # fmt: skip


async def test_an_order_number_in_persian_digits_gets_the_orders_status_even_without_the_bot(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    front_line = front_line_without_bot
    await add_order(front_line, "4820193", "+989120000042", "scheduled")
    auth = await log_in(settings_without_bot, front_line.http, "shirin")
    customer = front_line.customer(language="fa")
    reply = await customer.say("سفارش ۴۸۲۰۱۹۳ من چی شد؟ کی میاین؟")
    assert reply["state"] == "queued"

    found = await suggestions(front_line.http, auth, await ticket_id(front_line, customer))

    assert found["reason"] is None
    [status] = found["suggestions"]  # the bot is down: no FAQ answers, the look-up still works
    assert status["id"] == "order_status" and status["confidence"] == 1.0
    text = status["text"].translate(ISOLATES)
    assert text.startswith("سفارش 4820193 (") and "تأیید شده است" in text
    assert "۱۴۰۹" in text  # the visit day in the Solar Hijri calendar, as the bot writes it for fa


async def test_a_known_phone_gets_the_latest_order_and_an_unknown_number_says_not_found(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    front_line = front_line_without_bot
    await add_order(front_line, "5551234", "+79161234567", "connected")
    auth = await log_in(settings_without_bot, front_line.http, "oleg")
    by_phone = front_line.customer(language="ru")
    await by_phone.say("заявка оформлена на номер 8 (916) 123-45-67, что с ней?")
    unknown = front_line.customer(language="ru")
    await unknown.say("где моя заявка 7654321")

    [status] = (await suggestions(front_line.http, auth, await ticket_id(front_line, by_phone)))[
        "suggestions"
    ]
    assert status["id"] == "order_status"
    assert status["text"] == "Заявка 5551234 (Домашний 100) выполнена, интернет подключен."
    [missing] = (await suggestions(front_line.http, auth, await ticket_id(front_line, unknown)))[
        "suggestions"
    ]
    assert missing["id"] == "order_status" and "7654321" in missing["text"]


async def test_without_the_bot_the_list_is_empty_and_says_why(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    front_line = front_line_without_bot
    auth = await log_in(settings_without_bot, front_line.http, "anna")
    customer = front_line.customer(language="en")
    await customer.say("how much does the technician visit cost?")
    ticket = await ticket_id(front_line, customer)

    found = await suggestions(front_line.http, auth, ticket)

    assert found["suggestions"] == [] and found["reason"] == "bot_unavailable"
    assert found["message_id"] is not None
    missing = await front_line.http.get("/api/operator/tickets/999999/suggestions", headers=auth)
    assert missing.status_code == 404
    anonymous = await front_line.http.get(f"/api/operator/tickets/{ticket}/suggestions")
    assert anonymous.status_code == 401


async def test_the_figures_count_replies_sent_from_a_suggestion_per_operator_and_topic(
    front_line_without_bot: FrontLine, settings_without_bot: Settings
) -> None:
    front_line = front_line_without_bot
    http = front_line.http
    anna = await log_in(settings_without_bot, http, "anna")
    oleg = await log_in(settings_without_bot, http, "oleg")
    first, second = front_line.customer(), front_line.customer()
    await first.say("how do I turn on roaming?")
    await second.say("my order?")
    tickets = [await ticket_id(front_line, first), await ticket_id(front_line, second)]
    for auth, ticket in zip((anna, oleg), tickets, strict=True):
        assert (await http.post(f"/api/operator/tickets/{ticket}/claim", headers=auth)).status_code == 200

    async def reply(auth: dict[str, str], ticket: int, text: str, suggestion: str | None = None) -> None:
        body = {"text": text} if suggestion is None else {"text": text, "suggestion": suggestion}
        response = await http.post(f"/api/operator/tickets/{ticket}/messages", headers=auth, json=body)
        assert response.status_code == 200, response.text

    await reply(anna, tickets[0], "Roaming needs to be switched on in our app.", "faq/roaming")
    await reply(anna, tickets[0], "Anything else?")
    await reply(oleg, tickets[1], "Order 5551234: connected.", "order_status")
    await reply(oleg, tickets[1], "Roaming is in the app, too.", "faq/roaming")
    too_long = await http.post(
        f"/api/operator/tickets/{tickets[1]}/messages",
        headers=oleg,
        json={"text": "x", "suggestion": "f" * 81},
    )
    assert too_long.status_code == 422

    response = await http.get("/api/operator/kpi/suggestions", headers=anna)
    assert response.status_code == 200, response.text
    figures = response.json()
    ids = {login: (await http.get("/api/operator/me", headers=auth)).json()["id"] for login, auth in
           (("anna", anna), ("oleg", oleg))}  # fmt: skip
    assert (figures["replies"], figures["from_suggestion"], figures["share"]) == (4, 3, 0.75)
    assert {u["key"]: u["replies"] for u in figures["by_operator"]} == {
        str(ids["anna"]): 1, str(ids["oleg"]): 2,
    }  # fmt: skip
    assert figures["by_topic"] == [
        {"key": "faq/roaming", "replies": 2},
        {"key": "order_status", "replies": 1},
    ]
    kinds = await front_line.event_kinds(second.last["session_id"])
    assert kinds.count("reply_from_suggestion") == 2
