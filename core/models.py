"""Tables of the conversation core (SQLAlchemy 2). Never lost: messages, orders, session state changes.

Channels keep their own tables on the same `Base` in their package (bot/telegram/models.py);
`app.schema` gathers them all for Alembic.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import JSON, Date, DateTime, Dialect, ForeignKey, Index, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


def utcnow() -> datetime:
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """A moment, stored in UTC and always read back aware in UTC, on every database.

    SQLite keeps no offset in `DateTime(timezone=True)`: it would store an aware local time's
    wall clock as it is and give back naive values. PostgreSQL keeps the moment and gives it back
    aware. Converting on the way in and out makes both behave as PostgreSQL does."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # a naive moment is ambiguous; guessing would shift figures silently
            raise ValueError(f"a naive datetime cannot be stored: {value!r}")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, datetime: UtcDateTime}


class SessionState(enum.StrEnum):
    BOT = "bot"
    QUEUED = "queued"
    OPERATOR = "operator"
    CLOSED = "closed"


class Customer(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Channel-namespaced identity, e.g. "web:alice", "tg:12345", "tel:+14155550134".
    key: Mapped[str] = mapped_column(String(160), unique=True)
    full_name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(32), index=True)
    language: Mapped[str] = mapped_column(String(16), default="en")
    # Kept current by operators (handoff/card_edits.py); every change is a CustomerCardChange row.
    address: Mapped[str | None] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    sessions: Mapped[list[ConversationSession]] = relationship(back_populates="customer")
    orders: Mapped[list[Order]] = relationship(back_populates="customer")


class ConversationSession(Base):
    """One contact: from the first message until it is closed (by the bot, an operator or idleness)."""

    __tablename__ = "sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    channel: Mapped[str] = mapped_column(String(32))
    language: Mapped[str] = mapped_column(String(16))
    state: Mapped[str] = mapped_column(String(16), default=SessionState.BOT.value)
    # One Rasa sender id per session keeps Rasa trackers short (see DESIGN: latency grows with length).
    rasa_sender_id: Mapped[str] = mapped_column(String(200), unique=True)
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_activity_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

    customer: Mapped[Customer] = relationship(back_populates="sessions")
    messages: Mapped[list[Message]] = relationship(back_populates="session", order_by="Message.id")

    __table_args__ = (Index("ix_sessions_customer_state", "customer_id", "state"),)


class Message(Base):
    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    # "in" from the customer, "out" to the customer.
    direction: Mapped[str] = mapped_column(String(3))
    # customer, bot, operator or system (holding replies written by the core itself).
    author: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text, default="")
    payload: Mapped[dict[str, Any] | None]
    # The client's own id of an inbound message (a widget's message id, a Telegram message): a
    # retry is found by it in one indexed lookup instead of a scan of the latest messages.
    client_message_id: Mapped[str | None] = mapped_column(String(80), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # A customer message's mood as core/mood.py read it when it was stored (core.kinds.Mood);
    # None for the front line's own messages and for rows stored before moods were read.
    mood: Mapped[str | None] = mapped_column(String(16))

    session: Mapped[ConversationSession] = relationship(back_populates="messages")


class SessionEvent(Base):
    """Every state change of a session, timestamped: the raw material of contact-centre figures."""

    __tablename__ = "session_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str | None] = mapped_column(String(16))
    detail: Mapped[dict[str, Any] | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(primary_key=True)
    # Seven random digits: easy to read out and to key in on a phone.
    number: Mapped[str] = mapped_column(String(16), unique=True)
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customers.id"), index=True)
    session_id: Mapped[int | None] = mapped_column(ForeignKey("sessions.id"))
    kind: Mapped[str] = mapped_column(String(32), default="new_connection")
    status: Mapped[str] = mapped_column(String(32), default="received")
    full_name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(32), index=True)
    address: Mapped[str] = mapped_column(Text)
    tariff_code: Mapped[str] = mapped_column(String(64))
    visit_date: Mapped[date] = mapped_column(Date)
    channel: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    customer: Mapped[Customer | None] = relationship(back_populates="orders")


class TicketStatus(enum.StrEnum):
    QUEUED = "queued"
    ASSIGNED = "assigned"
    CLOSED = "closed"


class TicketKind(enum.StrEnum):
    SESSION = "session"
    CALLBACK = "callback"


class HandoffTicket(Base):
    """A session waiting for (or handled by) a person, with the context card frozen at escalation."""

    __tablename__ = "handoff_tickets"

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id"), index=True)
    reason: Mapped[str] = mapped_column(String(64))
    topic: Mapped[str] = mapped_column(String(32), default="general")
    summary: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(String(16))
    card: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(String(16), default=TicketStatus.QUEUED.value)
    priority: Mapped[int] = mapped_column(default=0)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("operators.id"), index=True)
    claimed_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    disposition: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "session": a conversation waiting for a person; "callback": a task to call the customer back.
    kind: Mapped[str] = mapped_column(String(16), default=TicketKind.SESSION.value, server_default="session")
    callback_phone: Mapped[str | None] = mapped_column(String(32))
    # A callback requested out of hours is due when the contact centre opens again.
    callback_after: Mapped[datetime | None]
    # Auto-offer: the operator the ticket is reserved for, for a few seconds, and since when.
    offered_to: Mapped[int | None] = mapped_column(ForeignKey("operators.id"))
    offered_at: Mapped[datetime | None]

    __table_args__ = (
        Index("ix_handoff_tickets_status_priority", "status", "priority", "created_at"),
        Index("ix_handoff_tickets_kind_status", "kind", "status"),
    )


class Operator(Base):
    __tablename__ = "operators"

    id: Mapped[int] = mapped_column(primary_key=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(120))
    # scrypt hash with its parameters and salt; never the password itself.
    password_hash: Mapped[str] = mapped_column(String(255))
    skills: Mapped[list[str]] = mapped_column(JSON, default=list)
    languages: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_sessions: Mapped[int] = mapped_column(default=3)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "operator" or "supervisor" (core.kinds.OperatorRole); set by the CLI or a supervisor.
    role: Mapped[str] = mapped_column(String(16), default="operator", server_default="operator")
    # The language of the operator's own console (handoff/texts/<code>/), chosen in the console.
    console_language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")


class OperatorToken(Base):
    """A bearer token for the operator API, stored as its SHA-256 so a database leak is not a log-in."""

    __tablename__ = "operator_tokens"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"), index=True)
    expires_at: Mapped[datetime]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TicketNote(Base):
    """A private note of an operator on a ticket; never shown to the customer."""

    __tablename__ = "ticket_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("handoff_tickets.id"), index=True)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    # "note" (the operator's own) or "whisper" (a supervisor's, for the handling operator).
    kind: Mapped[str] = mapped_column(String(16), default="note", server_default="note")


class CustomerCardChange(Base):
    """One field of a customer card changed by an operator: who, when, and what it said before.
    Personal data: exported and erased with the customer (core/privacy.py)."""

    __tablename__ = "customer_card_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id"), index=True)
    field: Mapped[str] = mapped_column(String(32))
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    operator_id: Mapped[int] = mapped_column(ForeignKey("operators.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)


class OutboxEvent(Base):
    """A live event (a stored message, a ticket change) written in the transaction of the change it
    reports: it exists if and only if that change committed. Consoles replay from it by id.

    On PostgreSQL a trigger (migration 0007) draws the id under a transaction-scoped lock, so ids
    are handed out in commit order and a reader never sees id N+1 before id N."""

    __tablename__ = "outbox"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    # SQLite would reuse the id of a pruned newest row; a console must never see an id twice.
    __table_args__: ClassVar[dict[str, Any]] = {"sqlite_autoincrement": True}
