"""The front line with its Telegram channel (the real aiogram bot) polling the fake Bot API server.

Rasa and the action server come from tests/conftest.py (one Rasa per run). Each test gets a fresh
fake Telegram; the database lives for the run, so chats and update ids never repeat across tests.
"""

from __future__ import annotations

import asyncio
import itertools
import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
import uvicorn
from pydantic import SecretStr
from sqlalchemy import func, select

from app.factory import create_app
from bot.telegram.models import TelegramChat, TelegramUpdate
from core.db import create_engine, create_session_factory
from core.models import ConversationSession, Customer, Message
from core.settings import Settings, TelegramSettings
from handoff.operators import save_operator
from testing.telegram.fake_bot_api import FakeBotApi, SentMessage
from tests.chat import FrontLine, running_front_line

# Update ids and chat ids of one run: each fake starts its ids where the previous one's end.
_UPDATE_ID_BASES = itertools.count(random.randrange(1, 1000) * 1_000_000, 100_000)
_CHAT_IDS = itertools.count(random.randrange(1, 1000) * 1_000_000 + 700_000_001)
SETTLE_TIMEOUT_S = 30.0


def new_fake() -> FakeBotApi:
    fake = FakeBotApi()
    fake.updates.last_update_id = next(_UPDATE_ID_BASES)
    return fake


@pytest.fixture
async def fake() -> AsyncIterator[FakeBotApi]:
    api = new_fake()
    await api.start()
    yield api
    await api.stop()


def telegram_settings(base: Settings, fake: FakeBotApi, **changes: Any) -> Settings:
    telegram = TelegramSettings(
        token=SecretStr(fake.token), api_base_url=fake.base_url, poll_timeout=5, **changes
    )
    return base.model_copy(update={"telegram": telegram})


@pytest.fixture
async def front_line(stack_settings: Settings, fake: FakeBotApi) -> AsyncIterator[FrontLine]:
    async with running_front_line(telegram_settings(stack_settings, fake)) as front_line:
        yield front_line


def sends_to(fake: FakeBotApi, chat_id: int) -> int:
    """sendMessage calls for a chat, refused ones included."""
    return sum(1 for name, p in fake.calls if name == "sendMessage" and str(p.get("chat_id")) == str(chat_id))


def identity(update: dict[str, Any]) -> tuple[Any, ...]:
    """What tells two updates apart when their update_id is the same."""
    message = update.get("message") or {}
    query = update.get("callback_query") or {}
    return (message.get("message_id"), query.get("id"))


class TelegramCustomer:
    """A customer in their private chat with the bot: writes, presses buttons, reads replies."""

    def __init__(self, fake: FakeBotApi, front_line: FrontLine, language: str = "en") -> None:
        self.fake = fake
        self.front_line = front_line
        self.chat_id = next(_CHAT_IDS)
        self.language = language
        self.seen = 0
        self.last: list[SentMessage] = []

    @property
    def key(self) -> str:
        return f"tg:{self.chat_id}"

    async def say(self, text: str) -> list[SentMessage]:
        return await self.settle(self.fake.push_message(self.chat_id, text, language_code=self.language))

    async def press(self, title: str = "") -> list[SentMessage]:
        """Press the first button whose title starts so, on the newest bot message showing one."""
        for message in reversed(self.received):
            for row in ((message.reply_markup or {}).get("inline_keyboard")) or []:
                for button in row:
                    if button["text"].startswith(title):
                        update_id = self.fake.push_callback(
                            self.chat_id, button["callback_data"],
                            message_id=message.message_id, language_code=self.language,
                        )  # fmt: skip
                        return await self.settle(update_id)
        raise AssertionError(f"no button {title!r} in {[m.text for m in self.received]}")

    async def settle(self, update_id: int) -> list[SentMessage]:
        """Wait until the update is handled and everything stored for the chat was sent."""
        async with asyncio.timeout(SETTLE_TIMEOUT_S):
            while not await self._settled(update_id):
                await asyncio.sleep(0.02)
        self.last = self.received[self.seen :]
        self.seen = len(self.received)
        return self.last

    async def _settled(self, update_id: int) -> bool:
        pushed = identity(self.fake.updates.history[update_id])
        async with self.front_line.db() as db:
            rows = await db.execute(
                select(TelegramUpdate.status, TelegramUpdate.payload).where(
                    TelegramUpdate.update_id == update_id
                )
            )
            # Telegram may use an update id twice (after a quiet week): the row of this update.
            status = next((s for s, payload in rows if identity(payload) == pushed), None)
            if status != "handled":
                return False
            cursor = await db.scalar(
                select(TelegramChat.delivered_message_id).where(TelegramChat.chat_id == self.chat_id)
            )
            newest = await db.scalar(
                select(func.max(Message.id))
                .join(ConversationSession, ConversationSession.id == Message.session_id)
                .join(Customer, Customer.id == ConversationSession.customer_id)
                .where(Customer.key == self.key, Message.direction == "out")
            )
        return (cursor or 0) >= (newest or 0)

    @property
    def received(self) -> list[SentMessage]:
        return [m for m in self.fake.sent if m.chat_id == self.chat_id]

    @property
    def text(self) -> str:
        return "\n".join(m.text or "" for m in self.last)

    @property
    def buttons(self) -> list[str]:
        """Titles of the inline buttons under the last replies."""
        return [
            button["text"]
            for message in self.last
            for row in ((message.reply_markup or {}).get("inline_keyboard")) or []
            for button in row
        ]

    async def stored_texts(self) -> list[str]:
        """What the customer wrote, as stored by the core, in order."""
        async with self.front_line.db() as db:
            rows = await db.scalars(
                select(Message.text)
                .join(ConversationSession, ConversationSession.id == Message.session_id)
                .join(Customer, Customer.id == ConversationSession.customer_id)
                .where(Customer.key == self.key, Message.direction == "in")
                .order_by(Message.id)
            )
            return list(rows)


class Operator:
    """An operator using the operator API of the same app."""

    def __init__(self, front_line: FrontLine, token: str) -> None:
        self.http = front_line.http
        self.auth = {"Authorization": f"Bearer {token}"}

    async def ticket_of(self, customer: TelegramCustomer) -> int:
        queue = (await self.http.get("/api/operator/queue", headers=self.auth)).json()
        async with customer.front_line.db() as db:
            sessions = set(
                await db.scalars(
                    select(ConversationSession.id)
                    .join(Customer, Customer.id == ConversationSession.customer_id)
                    .where(Customer.key == customer.key)
                )
            )
        return next(t["id"] for t in queue if t["session_id"] in sessions)

    async def post(self, path: str, **body: Any) -> Any:
        response = await self.http.post(f"/api/operator/tickets/{path}", headers=self.auth, json=body or None)
        assert response.status_code in (200, 204), response.text
        return response.json() if response.status_code == 200 else None

    async def get(self, path: str) -> Any:
        response = await self.http.get(path, headers=self.auth)
        assert response.status_code == 200, response.text
        return response


async def operator(front_line: FrontLine, settings: Settings, name: str = "Dana") -> Operator:
    login = f"{name.lower()}-{random.randrange(10**6)}"
    await save_operator(
        settings, login, "operator-secret-pw", display_name=name,
        skills=["orders", "technical", "general"], languages=["en", "ru", "ar", "fa"], max_sessions=5,
    )  # fmt: skip
    answer = await front_line.http.post(
        "/api/operator/login", json={"login": login, "password": "operator-secret-pw"}
    )
    return Operator(front_line, answer.json()["token"])


@asynccontextmanager
async def serving(settings: Settings) -> AsyncIterator[FrontLine]:
    """The app behind a real HTTP server (uvicorn), so the fake Telegram can call its webhook."""
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=settings.port, lifespan="on", log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    async with asyncio.timeout(60):
        while not server.started:
            if task.done():
                task.result()
            await asyncio.sleep(0.05)
    engine = create_engine(settings.db)
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{settings.port}", timeout=60) as http:
            yield FrontLine(app, http, create_session_factory(engine))
    finally:
        server.should_exit = True
        await task
        await engine.dispose()
