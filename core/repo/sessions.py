"""Contact sessions and their timestamped state changes."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from itertools import takewhile
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.kinds import Direction, MessageAuthor, SessionEventKind
from core.models import ConversationSession, Customer, Message, SessionEvent, SessionState, utcnow
from core.schemas import Reply


async def customer_and_open_session(
    db: AsyncSession, key: str
) -> tuple[Customer | None, ConversationSession | None]:
    """The customer behind a key and their session that is not closed, in one query (hot path)."""
    row = (
        await db.execute(
            select(Customer, ConversationSession)
            .outerjoin(
                ConversationSession,
                (ConversationSession.customer_id == Customer.id)
                & (ConversationSession.state != SessionState.CLOSED.value),
            )
            .where(Customer.key == key)
            .order_by(ConversationSession.id.desc())
            .limit(1)
        )
    ).first()
    return (row[0], row[1]) if row else (None, None)


async def open_session(
    db: AsyncSession, customer: Customer, channel: str, language: str
) -> ConversationSession:
    """A new session in bot mode, with a Rasa sender id of its own."""
    session = ConversationSession(
        customer_id=customer.id,
        channel=channel,
        language=language,
        state=SessionState.BOT.value,
        # Provisional unique id; replaced by one built on the row id right after the insert.
        rasa_sender_id=f"{customer.key}:new:{utcnow().timestamp()}",
    )
    db.add(session)
    await db.flush()
    session.rasa_sender_id = new_rasa_sender_id(session)
    await record_event(db, session, SessionEventKind.OPENED, None, SessionState.BOT, {"channel": channel})
    return session


def new_rasa_sender_id(session: ConversationSession) -> str:
    """A Rasa conversation id never used before, for a new session or one that rolls over."""
    # Built from row ids only, so no customer-typed character reaches a Rasa URL. Rasa keeps its
    # trackers in a database of its own: after ours is reset, row ids repeat, and the random part
    # keeps a new customer from being handed an old conversation.
    return f"{session.channel}:{session.customer_id}:{session.id}:{secrets.token_hex(8)}"


async def switch_rasa_sender(db: AsyncSession, session_id: int, old: str, new: str) -> bool:
    """Point a bot-mode session at its fresh Rasa conversation; False when the session left bot
    mode or moved on meanwhile (then the old conversation stays in use)."""
    result = await db.execute(
        update(ConversationSession)
        .where(
            ConversationSession.id == session_id,
            ConversationSession.rasa_sender_id == old,
            ConversationSession.state == SessionState.BOT.value,
        )
        .values(rasa_sender_id=new)
    )
    return result.rowcount == 1


async def switch_language(db: AsyncSession, session: ConversationSession, language: str) -> None:
    """The customer now writes in another language: replies, the card and routing follow from now on."""
    previous = session.language
    session.language = language
    await record_event(
        db,
        session,
        SessionEventKind.LANGUAGE_CHANGED,
        session.state,
        session.state,
        {"from": previous, "to": language},
    )


async def record_event(
    db: AsyncSession,
    session: ConversationSession,
    kind: SessionEventKind,
    from_state: str | None,
    to_state: str | None,
    detail: dict[str, Any] | None = None,
) -> None:
    """One row of the session's history; a change of state itself goes through core.lifecycle."""
    db.add(
        SessionEvent(
            session_id=session.id,
            kind=kind,
            from_state=from_state,
            to_state=to_state,
            detail=detail,
        )
    )


def is_idle(session: ConversationSession, now: datetime, idle_minutes: int) -> bool:
    """A bot-mode session nobody touched for a while; queued ones wait for an operator instead."""
    idle_for = now - session.last_activity_at
    return session.state == SessionState.BOT.value and idle_for > timedelta(minutes=idle_minutes)


def add_message(
    db: AsyncSession,
    session_id: int,
    direction: Direction,
    author: MessageAuthor,
    text: str,
    payload: dict[str, Any] | None = None,
    *,
    client_message_id: str | None = None,
) -> Message:
    """Queue a message row; it is written with the caller's commit."""
    message = Message(
        session_id=session_id, direction=direction, author=author, text=text, payload=payload,
        client_message_id=client_message_id,
    )  # fmt: skip
    db.add(message)
    return message


def add_system_note(
    db: AsyncSession, session_id: int, text: str, payload: dict[str, Any] | None = None
) -> Message:
    """Queue a message of the front line's own to the customer (the queue, callbacks, the survey)."""
    return add_message(db, session_id, Direction.OUT, MessageAuthor.SYSTEM, text, payload)


def add_replies(
    db: AsyncSession, session_id: int, author: MessageAuthor, replies: Sequence[Reply]
) -> list[Message]:
    """Queue the replies a turn got as message rows, with their buttons."""
    return [
        add_message(
            db, session_id, Direction.OUT, author, reply.text,
            {"buttons": [asdict(b) for b in reply.buttons]} if reply.buttons else None,
        )
        for reply in replies
    ]  # fmt: skip


async def transcript(db: AsyncSession, session_id: int) -> list[Message]:
    return list(
        await db.scalars(select(Message).where(Message.session_id == session_id).order_by(Message.id))
    )


async def session_by_rasa_sender(db: AsyncSession, sender_id: str) -> ConversationSession | None:
    return await db.scalar(select(ConversationSession).where(ConversationSession.rasa_sender_id == sender_id))


# At most this many messages after a retried turn are read back to it.
RETRY_WINDOW_MESSAGES = 50
CLIENT_MESSAGE_ID = "client_message_id"


async def latest_session(db: AsyncSession, customer_key: str) -> ConversationSession | None:
    """The customer's newest session, open or closed."""
    return await db.scalar(
        select(ConversationSession)
        .join(Customer, Customer.id == ConversationSession.customer_id)
        .where(Customer.key == customer_key)
        .order_by(ConversationSession.id.desc())
        .limit(1)
    )


@dataclass(frozen=True)
class StoredTurn:
    """A turn the core has already stored, and what was sent after it."""

    session: ConversationSession
    message: Message
    replies: list[Message]  # what the client did not receive when its request was lost
    unanswered: bool  # nothing at all came after it: the process stopped before the bot answered


async def answered_turn(db: AsyncSession, customer_key: str, client_message_id: str) -> StoredTurn | None:
    """A turn already stored under the client's message id, or None when it is new."""
    found = (
        await db.execute(
            select(ConversationSession, Message)
            .join(Message, Message.session_id == ConversationSession.id)
            .join(Customer, Customer.id == ConversationSession.customer_id)
            .where(
                Customer.key == customer_key,
                Message.client_message_id == client_message_id,
                Message.direction == Direction.IN,
            )
            .order_by(Message.id.desc())
            .limit(1)
        )
    ).first()
    if found is None:
        return None
    session, message = found
    later = list(
        await db.scalars(
            select(Message)
            .where(Message.session_id == session.id, Message.id > message.id)
            .order_by(Message.id)
            .limit(RETRY_WINDOW_MESSAGES)
        )
    )
    replies = list(takewhile(lambda m: m.direction != Direction.IN, later))
    return StoredTurn(session, message, replies, unanswered=not later)
