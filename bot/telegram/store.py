"""Database side of the channel: the inbox of updates and the chats with their delivery cursor."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram.logsafe import kind_of
from bot.telegram.models import TelegramChat, TelegramUpdate
from core.models import ConversationSession, Customer, Message, utcnow

FINGERPRINT_LENGTH = 120


def chat_of(update: dict[str, Any]) -> int | None:
    """The chat an update belongs to: updates of one chat are handled strictly in order."""
    try:
        for kind in ("message", "edited_message"):
            if isinstance(update.get(kind), dict):
                return int(update[kind]["chat"]["id"])
        query = update.get("callback_query")
        if isinstance(query, dict):
            message = query.get("message")
            return int(message["chat"]["id"]) if isinstance(message, dict) else int(query["from"]["id"])
    except (KeyError, TypeError, ValueError):
        pass  # malformed: stored all the same, and found unreadable when handled
    return None


def fingerprint(update: dict[str, Any]) -> str:
    """What tells this update from another with the same update_id: after a week without updates
    Telegram picks the next id at random, so an id may come again for a new message."""
    kind = kind_of(update)
    body = update.get(kind)
    if isinstance(body, dict) and kind in ("message", "edited_message"):
        when = body.get("edit_date") or body.get("date")
        return f"{kind}:{chat_of(update)}:{body.get('message_id')}:{when}"[:FINGERPRINT_LENGTH]
    if isinstance(body, dict) and kind == "callback_query":
        return f"{kind}:{body.get('id')}"[:FINGERPRINT_LENGTH]
    content = json.dumps(body, sort_keys=True, ensure_ascii=False).encode("utf-8")
    return f"{kind[:60]}:{hashlib.sha256(content).hexdigest()[:40]}"


@dataclass(frozen=True)
class StoredUpdate:
    row_id: int  # telegram_updates.id: the update_id alone may not be unique
    update_id: int
    payload: dict[str, Any]
    recovered: bool = False  # found unhandled at start: handled before a crash, perhaps


async def store_updates(
    sessions: async_sessionmaker[AsyncSession], updates: list[dict[str, Any]]
) -> list[StoredUpdate]:
    """Write the updates in one transaction (committed on return); one delivered before is skipped.

    Returns the new ones, in order: only those are to be handled.
    """
    if not updates:
        return []
    rows: dict[tuple[int, str], dict[str, Any]] = {}
    for u in updates:  # the same update twice in one batch is still one update
        key = (int(u["update_id"]), fingerprint(u))
        rows.setdefault(key, {"update_id": key[0], "fingerprint": key[1], "chat_id": chat_of(u),
                              "payload": u, "status": "received", "received_at": utcnow()})  # fmt: skip
    async with sessions() as db, db.begin():
        insert = postgresql.insert if db.bind.dialect.name == "postgresql" else sqlite.insert
        statement = (
            insert(TelegramUpdate)
            .values(list(rows.values()))
            .on_conflict_do_nothing(index_elements=["update_id", "fingerprint"])
            .returning(TelegramUpdate.id, TelegramUpdate.update_id, TelegramUpdate.fingerprint)
        )
        new = {(update_id, print_): row_id for row_id, update_id, print_ in await db.execute(statement)}
    return [StoredUpdate(new[key], key[0], row["payload"]) for key, row in rows.items() if key in new]


async def pending_updates(sessions: async_sessionmaker[AsyncSession]) -> list[StoredUpdate]:
    """Stored but not yet handled (the process stopped in between): handled first on start, in
    the order they arrived (update ids may jump back)."""
    async with sessions() as db:
        rows = await db.scalars(
            select(TelegramUpdate).where(TelegramUpdate.status == "received").order_by(TelegramUpdate.id)
        )
        return [StoredUpdate(r.id, r.update_id, r.payload, recovered=True) for r in rows]


async def mark_update(sessions: async_sessionmaker[AsyncSession], row_id: int, status: str) -> None:
    async with sessions() as db, db.begin():
        await db.execute(
            update(TelegramUpdate)
            .where(TelegramUpdate.id == row_id)
            .values(status=status, handled_at=utcnow())
        )


@dataclass
class ChatState:
    customer_key: str
    delivered_message_id: int
    unreachable: bool


class Chats:
    """The chats and their delivery cursors. With one app process (SQLite) that process is their
    only writer, so they are cached and the hot path of a turn reads none of it from the database.
    `shared` (several processes on PostgreSQL): any process may have moved a cursor or marked a chat
    unreachable, so each delivery reads its chat afresh, under the chat's delivery lock."""

    def __init__(self, sessions: async_sessionmaker[AsyncSession], *, shared: bool = False) -> None:
        self._sessions = sessions
        self._shared = shared
        self._cache: dict[int, ChatState] = {}

    async def ensure(self, chat_id: int, customer_key: str) -> None:
        """Register a chat on first contact; a customer known from before gets no replay of old
        messages. Writing again means they unblocked the bot."""
        known = self._cache.get(chat_id)
        if known is not None and not known.unreachable and not self._shared:
            return
        async with self._sessions() as db, db.begin():
            chat = await db.get(TelegramChat, chat_id)
            if chat is None:
                chat = TelegramChat(
                    chat_id=chat_id,
                    customer_key=customer_key,
                    delivered_message_id=await _last_outgoing_id(db, customer_key),
                )
                db.add(chat)
            chat.unreachable_at = None
        self._cache[chat_id] = ChatState(chat.customer_key, chat.delivered_message_id, False)

    async def get(self, chat_id: int) -> ChatState | None:
        if chat_id not in self._cache or self._shared:
            async with self._sessions() as db:
                chat = await db.get(TelegramChat, chat_id)
            if chat is None:
                return None
            self._cache[chat_id] = ChatState(
                chat.customer_key, chat.delivered_message_id, chat.unreachable_at is not None
            )
        return self._cache[chat_id]

    async def advance(self, chat_id: int, message_id: int) -> None:
        async with self._sessions() as db, db.begin():
            await db.execute(
                update(TelegramChat)
                .where(TelegramChat.chat_id == chat_id, TelegramChat.delivered_message_id < message_id)
                .values(delivered_message_id=message_id)
            )
        state = self._cache.get(chat_id)
        if state is not None:
            state.delivered_message_id = max(state.delivered_message_id, message_id)

    async def mark_unreachable(self, chat_id: int) -> None:
        async with self._sessions() as db, db.begin():
            await db.execute(
                update(TelegramChat).where(TelegramChat.chat_id == chat_id).values(unreachable_at=utcnow())
            )
        state = self._cache.get(chat_id)
        if state is not None:
            state.unreachable = True


async def _last_outgoing_id(db: AsyncSession, customer_key: str) -> int:
    last = await db.scalar(
        select(func.max(Message.id))
        .join(ConversationSession, ConversationSession.id == Message.session_id)
        .join(Customer, Customer.id == ConversationSession.customer_id)
        .where(Customer.key == customer_key, Message.direction == "out")
    )
    return int(last or 0)


async def outgoing_after(
    sessions: async_sessionmaker[AsyncSession], customer_key: str, after_id: int
) -> list[Message]:
    """What the customer should see after a message id, over all their sessions, in order."""
    async with sessions() as db:
        rows = await db.scalars(
            select(Message)
            .join(ConversationSession, ConversationSession.id == Message.session_id)
            .join(Customer, Customer.id == ConversationSession.customer_id)
            .where(Customer.key == customer_key, Message.direction == "out", Message.id > after_id)
            .order_by(Message.id)
        )
        return list(rows)


async def chat_of_session(sessions: async_sessionmaker[AsyncSession], session_id: int) -> int | None:
    """The Telegram chat behind a session, or None when the session is on another channel."""
    async with sessions() as db:
        return await db.scalar(
            select(TelegramChat.chat_id)
            .join(Customer, Customer.key == TelegramChat.customer_key)
            .join(ConversationSession, ConversationSession.customer_id == Customer.id)
            .where(ConversationSession.id == session_id)
        )


async def chats_with_backlog(sessions: async_sessionmaker[AsyncSession]) -> list[int]:
    """Chats with outgoing messages newer than their cursor (written while the channel was down)."""
    async with sessions() as db:
        rows = await db.scalars(
            select(TelegramChat.chat_id)
            .join(Customer, Customer.key == TelegramChat.customer_key)
            .join(ConversationSession, ConversationSession.customer_id == Customer.id)
            .join(Message, Message.session_id == ConversationSession.id)
            .where(
                Message.direction == "out",
                Message.id > TelegramChat.delivered_message_id,
                TelegramChat.unreachable_at.is_(None),
            )
            .distinct()
        )
        return list(rows)
