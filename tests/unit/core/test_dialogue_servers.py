"""The Rasa client over several servers, against stand-ins on real sockets: a conversation keeps to
its server, a refusing server's conversations go to another, and a request sent is never sent again."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest

from core.dialogue import RasaClient
from core.errors import DialogueUnavailable
from core.rasa_servers import ranked
from core.settings import RasaSettings
from testing.ports import free_port

SENDERS = [f"web:customer-{n}:{n}" for n in range(12)]
LISTENING = [{"event": "action", "name": "action_listen"}]


class StandIn:
    """Answers Rasa's REST channel and tracker API with `status`, or holds every request unanswered."""

    def __init__(self, status: int = 200, hold: bool = False) -> None:
        self.status, self.hold = status, hold
        self.requests: list[tuple[str, str, Any]] = []  # method, path, JSON body
        self._release = asyncio.Event()
        self._server: asyncio.Server | None = None
        self.url = ""

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    async def close(self) -> None:
        self._release.set()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def senders(self) -> set[str]:
        return {body["sender"] for method, path, body in self.requests if path.endswith("/webhook")}

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        head = (await reader.readuntil(b"\r\n\r\n")).decode().split("\r\n")
        method, path, _ = head[0].split(" ")
        length = next((int(h.split(":")[1]) for h in head if h.lower().startswith("content-length")), 0)
        body = json.loads(await reader.readexactly(length)) if length else None
        self.requests.append((method, path, body))
        if self.hold:
            await self._release.wait()
        answer = json.dumps(self._answer(method, path, body)).encode()
        writer.write(
            f"HTTP/1.1 {self.status} X\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(answer)}\r\nConnection: close\r\n\r\n".encode()
            + answer
        )
        await writer.drain()
        writer.close()

    def _answer(self, method: str, path: str, body: Any) -> Any:
        if path.endswith("/webhook"):
            return [{"text": f"hello {body['sender']}"}]
        if method == "GET":
            return {"events": LISTENING, "slots": {"language": "en"}}
        return {}


@pytest.fixture
async def stand_ins() -> AsyncIterator[list[StandIn]]:
    made: list[StandIn] = []
    yield made
    for stand_in in made:
        await stand_in.close()


async def _started(stand_ins: list[StandIn], **kwargs: Any) -> StandIn:
    stand_in = StandIn(**kwargs)
    await stand_in.start()
    stand_ins.append(stand_in)
    return stand_in


def _client(*urls: str, **settings: Any) -> RasaClient:
    return RasaClient(RasaSettings(urls=list(urls), **{"connect_retries": 0, **settings}))


async def test_each_conversation_keeps_to_one_server(stand_ins: list[StandIn]) -> None:
    a, b = await _started(stand_ins), await _started(stand_ins)
    rasa = _client(a.url, b.url)
    for _ in range(3):
        for sender in SENDERS:
            assert await rasa.send(sender, "hi", {}) == [{"text": f"hello {sender}"}]
    await rasa.aclose()
    assert a.senders() and b.senders() and not a.senders() & b.senders()
    assert len(a.requests) + len(b.requests) == 3 * len(SENDERS)
    assert all(ranked([a.url, b.url], s)[0] == a.url for s in a.senders())


async def test_a_refusing_servers_conversations_go_to_another(stand_ins: list[StandIn]) -> None:
    refusing = f"http://127.0.0.1:{free_port()}"  # nothing listens: the connection is refused
    b = await _started(stand_ins)
    rasa = _client(refusing, b.url)
    moved = [s for s in SENDERS if ranked([refusing, b.url], s)[0] == refusing]
    assert moved  # some conversations belong to the refusing server
    for sender in SENDERS:
        assert await rasa.send(sender, "hi", {}) == [{"text": f"hello {sender}"}]
    # Every other call moves the same way (the tracker store is shared).
    sender = moved[0]
    assert (await rasa.tracker(sender))["slots"] == {"language": "en"}
    await rasa.resume(sender)
    assert await rasa.roll_over(sender, f"{sender}.2") is True
    await rasa.aclose()
    assert b.senders() == set(SENDERS)
    assert len(b.requests) == len(SENDERS) + 4  # the turns, a tracker, a resume, a tracker and its copy


async def test_a_request_that_timed_out_is_not_sent_again(stand_ins: list[StandIn]) -> None:
    holding, answering = await _started(stand_ins, hold=True), await _started(stand_ins)
    rasa = _client(holding.url, answering.url, reply_timeout=0.3, connect_retries=2)
    sender = next(s for s in SENDERS if ranked([holding.url, answering.url], s)[0] == holding.url)
    with pytest.raises(DialogueUnavailable, match="timed out"):
        await rasa.send(sender, "hi", {})
    with pytest.raises(DialogueUnavailable, match="timed out"):
        await rasa.append_events(sender, LISTENING)
    await rasa.aclose()
    assert [method for method, _, _ in holding.requests] == ["POST", "POST"]
    assert answering.requests == []


async def test_a_server_error_is_not_sent_again(stand_ins: list[StandIn]) -> None:
    failing, answering = await _started(stand_ins, status=500), await _started(stand_ins)
    rasa = _client(failing.url, answering.url, connect_retries=2)
    sender = next(s for s in SENDERS if ranked([failing.url, answering.url], s)[0] == failing.url)
    with pytest.raises(DialogueUnavailable, match="HTTP 500"):
        await rasa.send(sender, "hi", {})
    await rasa.aclose()
    assert len(failing.requests) == 1 and answering.requests == []


async def test_every_server_refusing_is_tried_again_then_unavailable() -> None:
    urls = [f"http://127.0.0.1:{free_port()}" for _ in range(2)]
    rasa = _client(*urls, connect_retries=1)
    with pytest.raises(DialogueUnavailable, match="Rasa unreachable: connection failed"):
        await rasa.send(SENDERS[0], "hi", {})
    await rasa.aclose()
