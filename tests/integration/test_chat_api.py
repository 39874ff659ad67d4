"""The HTTP chat API's contract: clear 4xx for bad input, and nothing lost when the bot is away."""

from unittest.mock import patch

import pytest
from sqlalchemy import func, select

from core.models import HandoffTicket
from tests.chat import FrontLine


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"customer": "a"}, "text"),
        ({"text": "hi"}, "customer"),
        ({"customer": "a", "text": ""}, "text"),
        ({"customer": "a", "text": "   \n "}, "blank"),
        ({"customer": "a", "text": "x" * 4001}, "4000"),
        ({"customer": "", "text": "hi"}, "customer"),
        ({"customer": "a", "text": 5}, "text"),
        ({"customer": "a", "text": "hi", "language": "english please"}, "language"),
        ({"customer": "a", "text": "hi\x00there"}, "NUL"),
    ],
)
async def test_bad_requests_get_a_4xx_that_names_the_problem(
    front_line_without_bot: FrontLine, body: dict[str, object], problem: str
) -> None:
    response = await front_line_without_bot.http.post("/api/chat", json=body)
    assert response.status_code == 422
    assert problem in str(response.json()["detail"])


async def test_malformed_json_is_a_4xx_not_a_500(front_line_without_bot: FrontLine) -> None:
    response = await front_line_without_bot.http.post(
        "/api/chat", content=b'{"customer": "a", "text": ', headers={"content-type": "application/json"}
    )
    assert response.status_code == 422
    assert "JSON" in str(response.json()["detail"])


async def test_longest_allowed_message_is_accepted(front_line_without_bot: FrontLine) -> None:
    reply = await front_line_without_bot.customer().say("я" * 4000)
    assert reply["state"] == "queued"  # the bot is away, but the message is taken


async def test_unreachable_bot_gives_a_holding_reply_and_queues_with_nothing_lost(
    front_line_without_bot: FrontLine,
) -> None:
    customer = front_line_without_bot.customer()
    first = await customer.say("hello, my internet is down")
    assert first["state"] == "queued"
    assert "operator" in customer.text
    second = await customer.say("are you there?")
    assert second["state"] == "queued" and "queue" in customer.text

    session_id = first["session_id"]
    texts = await front_line_without_bot.customer_texts(session_id)
    ticket = await front_line_without_bot.ticket(session_id)
    events = await front_line_without_bot.event_kinds(session_id)
    async with front_line_without_bot.db() as db:
        tickets = await db.scalar(
            select(func.count()).select_from(HandoffTicket).where(HandoffTicket.session_id == session_id)
        )
    assert texts == ["hello, my internet is down", "are you there?"]
    assert ticket is not None and ticket.reason == "bot_unavailable"
    assert ticket.card["transcript"][0]["text"] == "hello, my internet is down"
    assert ticket.card["dialogue_error"]
    assert events == ["opened", "handoff_requested"]
    assert tickets == 1  # the second message joins the queue, it does not queue again


async def test_openapi_documents_the_chat_endpoint(front_line_without_bot: FrontLine) -> None:
    spec = (await front_line_without_bot.http.get("/openapi.json")).json()
    assert "/api/chat" in spec["paths"]
    assert "ChatRequest" in spec["components"]["schemas"]


async def test_a_message_id_too_large_for_the_database_is_a_4xx(front_line_without_bot: FrontLine) -> None:
    http = front_line_without_bot.http
    response = await http.get("/api/chat/a/messages", params={"after": 2**64})
    assert response.status_code == 422, response.text


async def test_a_retried_turn_is_stored_once_and_gets_the_replies_it_missed(
    front_line_without_bot: FrontLine,
) -> None:
    """A widget whose response was lost sends the same message again with the same message id."""
    front_line = front_line_without_bot
    body = {"customer": "retrying-rita", "text": "my router is blinking red", "message_id": "m-0001"}
    first = await front_line.http.post("/api/chat", json=body)
    again = await front_line.http.post("/api/chat", json=body)
    assert first.status_code == again.status_code == 200
    same = ("replies", "state", "session_id")
    assert [again.json()[k] for k in same] == [first.json()[k] for k in same] and first.json()["replies"]
    stored = await front_line.customer_texts(first.json()["session_id"])
    assert stored.count("my router is blinking red") == 1
    # Another message id is another turn, even with the same words.
    auth = {"Authorization": f"Bearer {again.json()['token']}"}
    third = await front_line.http.post("/api/chat", json={**body, "message_id": "m-0002"}, headers=auth)
    assert third.status_code == 200
    stored = await front_line.customer_texts(first.json()["session_id"])
    assert stored.count("my router is blinking red") == 2


async def test_a_body_over_the_limit_is_refused_before_it_is_read(front_line_without_bot: FrontLine) -> None:
    http = front_line_without_bot.http
    huge = b'{"customer": "a", "text": "' + b"x" * 10_000_000 + b'"}'
    declared = await http.post("/api/chat", content=huge, headers={"content-type": "application/json"})
    assert declared.status_code == 413 and "larger than" in declared.json()["detail"]

    async def chunks():  # no Content-Length: counted as it arrives
        for _ in range(200):
            yield b"x" * 10_000

    streamed = await http.post("/api/chat", content=chunks(), headers={"content-type": "application/json"})
    assert streamed.status_code == 413
    assert (await front_line_without_bot.customer().say("still here")).get("replies")


async def test_one_address_cannot_open_endless_new_conversations(front_line_without_bot: FrontLine) -> None:
    front_line = front_line_without_bot
    per_minute = front_line.app.state.settings.new_conversations_per_minute
    customers = [front_line.customer() for _ in range(per_minute)]
    for customer in customers:
        await customer.say("hi")
    refused = await front_line.http.post("/api/chat", json={"customer": "one-too-many", "text": "hi"})
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) <= 60
    # Conversations already open go on.
    assert (await customers[0].say("still there?"))["replies"]


async def test_a_turn_stored_but_cut_off_before_its_answer_is_answered_when_retried(
    front_line_without_bot: FrontLine,
) -> None:
    """The process stops between storing a turn and answering it: the widget's retry (same message
    id) used to get 200 with no reply at all, and the customer waited for ever."""
    front_line = front_line_without_bot
    service = front_line.app.state.conversations
    body = {"customer": "cut-off-carl", "text": "my router is blinking red", "message_id": "m-0001"}

    async def stopped(*args: object) -> None:
        raise RuntimeError("the process stopped here")

    with patch.object(service, "_ask_bot", stopped), pytest.raises(RuntimeError):
        await front_line.http.post("/api/chat", json=body)
    again = await front_line.http.post("/api/chat", json=body)

    assert again.status_code == 200 and again.json()["replies"]  # the bot is down here: a holding reply
    stored = await front_line.customer_texts(again.json()["session_id"])
    assert stored.count("my router is blinking red") == 1
