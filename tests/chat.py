"""A customer talking to the front line through the HTTP chat API, in-process."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from app.factory import create_app
from core.db import create_engine, create_session_factory
from core.models import HandoffTicket, Message, SessionEvent
from core.settings import Settings


class Customer:
    def __init__(self, http: httpx.AsyncClient, name: str, language: str | None = None) -> None:
        self.http = http
        self.id = name
        self.language = language  # what a web widget set to a language would send
        self.last: dict[str, Any] = {}
        self.token: str | None = None  # issued by the first turn, sent with every later request

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"} if self.token else {}

    async def say(self, text: str) -> dict[str, Any]:
        body = {"customer": self.id, "text": text}
        if self.language:
            body["language"] = self.language
        response = await self.http.post("/api/chat", json=body, headers=self.auth)
        assert response.status_code == 200, response.text
        self.last = response.json()
        self.token = self.last.get("token") or self.token
        return self.last

    async def messages(self, after: int = 0) -> dict[str, Any]:
        """What the widget polls: the messages sent to this customer after a message id."""
        response = await self.http.get(
            f"/api/chat/{self.id}/messages", params={"after": after}, headers=self.auth
        )
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    @property
    def text(self) -> str:
        """All reply texts of the last turn, joined."""
        return "\n".join(r["text"] for r in self.last.get("replies", []))

    @property
    def buttons(self) -> list[dict[str, str]]:
        return [b for r in self.last.get("replies", []) for b in r["buttons"]]


class FrontLine:
    """The app running in-process against real Rasa and a real database."""

    def __init__(self, app: FastAPI, http: httpx.AsyncClient, db: async_sessionmaker[AsyncSession]) -> None:
        self.app = app
        self.http = http
        self.db = db

    def customer(self, prefix: str = "c", language: str | None = None) -> Customer:
        return Customer(self.http, f"{prefix}-{uuid.uuid4().hex[:10]}", language)

    async def customer_texts(self, session_id: int) -> list[str]:
        """What the customer wrote in a session, as stored, in order."""
        async with self.db() as db:
            rows = await db.scalars(
                select(Message.text)
                .where(Message.session_id == session_id, Message.direction == "in")
                .order_by(Message.id)
            )
            return list(rows)

    async def ticket(self, session_id: int) -> HandoffTicket | None:
        async with self.db() as db:
            return await db.scalar(select(HandoffTicket).where(HandoffTicket.session_id == session_id))

    async def event_kinds(self, session_id: int) -> list[str]:
        async with self.db() as db:
            rows = await db.scalars(
                select(SessionEvent.kind)
                .where(SessionEvent.session_id == session_id)
                .order_by(SessionEvent.id)
            )
            return list(rows)


@asynccontextmanager
async def running_front_line(settings: Settings) -> AsyncIterator[FrontLine]:
    app = create_app(settings)
    engine = create_engine(settings.db)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://front.line", timeout=60) as http:
            yield FrontLine(app, http, create_session_factory(engine))
    await engine.dispose()
