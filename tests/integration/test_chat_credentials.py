"""Only the holder of a web conversation's token reads or writes it; a guessed customer id is not enough."""

from __future__ import annotations

from tests.chat import FrontLine


async def test_a_stranger_who_knows_the_customer_id_can_neither_read_nor_write(
    front_line_without_bot: FrontLine,
) -> None:
    front_line, http = front_line_without_bot, front_line_without_bot.http
    anna = front_line.customer("anna")
    first = await anna.say("my name is Anna Petrova, my router is blinking red")
    assert first["token"] and len(first["token"]) >= 22  # at least 128 random bits, URL-safe
    second = await anna.say("still blinking")
    assert "token" not in second  # given once, with the first turn
    assert (await anna.messages())["messages"]

    for auth in ({}, {"Authorization": "Bearer guessed"}):
        read = await http.get(f"/api/chat/{anna.id}/messages", headers=auth)
        assert read.status_code == 401 and "token" in read.json()["detail"]
        written = await http.post("/api/chat", json={"customer": anna.id, "text": "it is me"}, headers=auth)
        assert written.status_code == 401
    assert "it is me" not in await front_line.customer_texts(first["session_id"])


async def test_a_customer_id_never_used_reads_nothing(front_line_without_bot: FrontLine) -> None:
    response = await front_line_without_bot.http.get("/api/chat/nobody-yet/messages")
    assert response.status_code == 401


async def test_a_first_turn_whose_response_was_lost_can_be_sent_again(
    front_line_without_bot: FrontLine,
) -> None:
    """The widget retries with the same message id and gets a (new) token instead of a locked chat."""
    http = front_line_without_bot.http
    body = {"customer": "lost-response-lena", "text": "hello", "message_id": "5f0c8a6e-first"}
    lost = (await http.post("/api/chat", json=body)).json()["token"]
    retried = await http.post("/api/chat", json=body)
    assert retried.status_code == 200
    token = retried.json()["token"]
    assert token != lost
    assert (await front_line_without_bot.customer_texts(retried.json()["session_id"])) == ["hello"]
    ok = await http.get("/api/chat/lost-response-lena/messages", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200
    old = await http.get("/api/chat/lost-response-lena/messages", headers={"Authorization": f"Bearer {lost}"})
    assert old.status_code == 401
    # Another message id is not that first turn: no new token for it.
    other = await http.post("/api/chat", json={**body, "message_id": "someone-else"})
    assert other.status_code == 401
