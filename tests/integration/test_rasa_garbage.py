"""A Rasa that answers 200 with something that is not its reply format is a Rasa that is down."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from core.settings import DbSettings, RasaSettings, Settings
from tests.chat import running_front_line


@asynccontextmanager
async def answering_200_with(body: bytes) -> AsyncIterator[str]:
    """An HTTP server on loopback that answers every request with 200 and the given body."""

    async def answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = await reader.readuntil(b"\r\n\r\n")
        length = next(
            (
                int(line.split(b":")[1])
                for line in head.lower().split(b"\r\n")
                if line.startswith(b"content-length")
            ),
            0,
        )
        await reader.readexactly(length)
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            + f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(answer, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()


GARBAGE: dict[str, bytes] = {
    "html": b"<html><body>502 Bad Gateway</body></html>",
    "truncated json": b'[{"recipient_id": "x", "text": "Hel',
    "an object": b'{"error": "busy"}',
    "a list of numbers": b"[1, 2, 3]",
    "buttons that are a string": b'[{"text": "pick one", "buttons": "yes"}]',
}


@pytest.mark.parametrize("body", GARBAGE.values(), ids=GARBAGE.keys())
async def test_garbage_from_the_bot_gets_the_holding_reply_and_a_queue_place(
    body: bytes, tmp_path: Path
) -> None:
    async with answering_200_with(body) as url:
        settings = Settings(
            db=DbSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'garbage.db'}"),
            rasa=RasaSettings(url=url, connect_retries=0),
        )
        async with running_front_line(settings) as front_line:
            customer = front_line.customer()
            reply = await customer.say("my internet is down")
            assert reply["state"] == "queued"
            assert "operator" in customer.text
            ticket = await front_line.ticket(reply["session_id"])
            assert ticket is not None and ticket.reason == "bot_unavailable"
            assert await front_line.customer_texts(reply["session_id"]) == ["my internet is down"]
