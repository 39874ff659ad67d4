"""The only code that changes a session's or a ticket's state: one function per transition.

Each transition runs inside the caller's transaction: it locks its rows, checks the state it starts
from against `ALLOWED`, applies the change, writes the `session_events` row and returns a `Result`.
`live_event(result)` is the one place live events about tickets are made: the caller writes it to
the outbox (core/outbox.py) in the same transaction, and consoles hear of it once that commits."""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.events import LiveEvent
from core.kinds import Disposition, LiveEventKind, SessionEventKind
from core.models import (
    Base,
    ConversationSession,
    HandoffTicket,
    Operator,
    SessionState,
    TicketKind,
    TicketStatus,
    utcnow,
)
from core.repo.sessions import record_event

S, T, K = SessionState, TicketStatus, TicketKind


class Action(enum.StrEnum):
    QUEUE = "queue"  # the bot (or the phone menu) hands the session to people
    OFFER = "offer"  # auto-offer: reserve a waiting ticket for one operator for a few seconds
    CLAIM = "claim"
    TRANSFER_TO_OPERATOR = "transfer_to_operator"
    TRANSFER_TO_TOPIC = "transfer_to_topic"
    LEAVE_QUEUE = "leave_queue"  # the waiting customer goes back to the bot
    RETURN_TO_BOT = "return_to_bot"  # the operator hands the conversation back
    ABANDON = "abandon"  # nobody claimed the wait in time
    CONVERT_TO_CALLBACK = "convert_to_callback"
    CLOSE = "close"  # the operator closes the ticket
    END_BOT_SESSION = "end_bot_session"  # idle, or the call ended, while with the bot
    OFFER_CALLBACK = "offer_callback"  # no state change, but only while the customer still waits
    TAKE_OVER = "take_over"  # a supervisor becomes the operator of a colleague's conversation
    REASSIGN = "reassign"  # a supervisor gives a conversation to another operator


class Outcome(enum.StrEnum):
    DONE = "done"
    ALREADY = "already"  # the wanted state held already (a repeated request): nothing written
    NOT_ALLOWED = "not_allowed"
    NOT_YOURS = "not_yours"  # an operator acting on a ticket somebody else holds
    NOT_FOUND = "not_found"


# Where a transition may start: (session state, ticket status, ticket kind); None for the ticket
# parts of transitions on a session alone.
Start = tuple[SessionState, TicketStatus | None, TicketKind | None]
WAITING: Start = (S.QUEUED, T.QUEUED, K.SESSION)
TALKING: Start = (S.OPERATOR, T.ASSIGNED, K.SESSION)
CALLBACK_DUE: Start = (S.CLOSED, T.QUEUED, K.CALLBACK)
CALLBACK_TAKEN: Start = (S.CLOSED, T.ASSIGNED, K.CALLBACK)
WITH_BOT: Start = (S.BOT, None, None)

ALLOWED: dict[Action, frozenset[Start]] = {
    Action.QUEUE: frozenset({WITH_BOT}),
    Action.END_BOT_SESSION: frozenset({WITH_BOT}),
    Action.OFFER: frozenset({WAITING}),
    Action.CLAIM: frozenset({WAITING, CALLBACK_DUE}),
    Action.TRANSFER_TO_OPERATOR: frozenset({TALKING, CALLBACK_TAKEN}),
    Action.TRANSFER_TO_TOPIC: frozenset({TALKING, CALLBACK_TAKEN}),
    Action.LEAVE_QUEUE: frozenset({WAITING}),
    Action.RETURN_TO_BOT: frozenset({TALKING}),
    Action.ABANDON: frozenset({WAITING}),
    Action.CONVERT_TO_CALLBACK: frozenset({WAITING}),
    Action.CLOSE: frozenset({TALKING, CALLBACK_TAKEN}),
    Action.OFFER_CALLBACK: frozenset({WAITING}),
    Action.TAKE_OVER: frozenset({TALKING}),
    Action.REASSIGN: frozenset({TALKING}),
}
# Transitions an operator makes on a ticket they hold.
OPERATOR_ACTIONS = frozenset(
    {Action.TRANSFER_TO_OPERATOR, Action.TRANSFER_TO_TOPIC, Action.RETURN_TO_BOT, Action.CLOSE}
)


@dataclass(frozen=True)
class Result:
    action: Action
    outcome: Outcome
    session: ConversationSession | None = None
    ticket: HandoffTicket | None = None
    why: str = ""  # for NOT_ALLOWED and NOT_FOUND: a sentence for the operator or the log
    operator_id: int | None = None  # who claimed or was offered the ticket

    @property
    def done(self) -> bool:
        return self.outcome is Outcome.DONE


# --- Transitions of a session alone -------------------------------------------------------------


async def queue(
    db: AsyncSession,
    session_id: int,
    *,
    reason: str,
    topic: str,
    summary: str,
    card: Callable[[ConversationSession], Awaitable[dict[str, Any]]],
) -> Result:
    """A new ticket for a session with the bot. Asked again while that ticket still waits (a caller
    pressing 0 twice), the same ticket comes back: a second one would later count as abandoned."""
    session = await _locked(db, ConversationSession, session_id)
    if session is None:
        return Result(Action.QUEUE, Outcome.NOT_FOUND, why=f"no session {session_id}")
    if session.state == S.QUEUED:
        waiting = await _latest_ticket(db, session_id)
        if waiting is not None and _start(session, waiting) == WAITING:
            return Result(Action.QUEUE, Outcome.ALREADY, session, waiting)
    refused = _refusal(Action.QUEUE, session, None)
    if refused is not None:
        return refused
    ticket = HandoffTicket(
        session_id=session.id,
        reason=reason,
        topic=topic,
        summary=summary,
        language=session.language,
        card=await card(session),
    )
    db.add(ticket)
    await db.flush()
    detail = {"reason": reason, "topic": topic, "ticket_id": ticket.id}
    await _move(db, session, S.QUEUED, SessionEventKind.HANDOFF_REQUESTED, detail)
    return Result(Action.QUEUE, Outcome.DONE, session, ticket)


async def end_bot_session(db: AsyncSession, session_id: int, kind: SessionEventKind, by: str) -> Result:
    """A session with the bot ends (idle, or its call is over); a queued one waits on for people."""
    session = await _locked(db, ConversationSession, session_id)
    if session is None:
        return Result(Action.END_BOT_SESSION, Outcome.NOT_FOUND, why=f"no session {session_id}")
    refused = _refusal(Action.END_BOT_SESSION, session, None)
    if refused is not None:
        return refused
    await _move(db, session, S.CLOSED, kind, {"by": by})
    return Result(Action.END_BOT_SESSION, Outcome.DONE, session)


async def close_idle(db: AsyncSession, session: ConversationSession) -> ConversationSession | None:
    """None when the idle bot session closed; the session as it is now when it changed meanwhile."""
    result = await end_bot_session(db, session.id, SessionEventKind.CLOSED, "idle")
    return None if result.done else result.session


# --- Transitions of a waiting ticket ----------------------------------------------------------------


async def offer(db: AsyncSession, ticket_id: int, operator_id: int) -> Result:
    """Reserve a waiting ticket for one operator (auto-offer); they still have to claim it."""
    found = await _ticket_and_session(db, Action.OFFER, ticket_id)
    if isinstance(found, Result):
        return found
    ticket, session = found
    ticket.offered_to, ticket.offered_at = operator_id, utcnow()
    await _note(db, session, SessionEventKind.OFFERED, {"ticket_id": ticket.id, "operator_id": operator_id})
    return Result(Action.OFFER, Outcome.DONE, session, ticket, operator_id=operator_id)


async def claim(
    db: AsyncSession, ticket_id: int, operator: Operator, offer_expired_before: datetime
) -> Result:
    """Of several operators claiming at once exactly one wins; a ticket offered to a colleague less
    than the offer timeout ago is theirs; nobody takes more than their session limit."""
    found = await _ticket_and_session(db, Action.CLAIM, ticket_id, operator)
    if isinstance(found, Result):
        return found
    ticket, session = found
    colleagues_offer = ticket.offered_at if ticket.offered_to not in (None, operator.id) else None
    if colleagues_offer is not None and colleagues_offer >= offer_expired_before:
        why = "offered to a colleague for a few seconds; try again if they do not take it"
        return Result(Action.CLAIM, Outcome.NOT_ALLOWED, session, ticket, why)
    full = await _at_limit(db, operator.id)
    if full is not None:
        return Result(
            Action.CLAIM, Outcome.NOT_ALLOWED, session, ticket, f"you already handle {full} sessions"
        )
    ticket.status, ticket.operator_id, ticket.claimed_at = T.ASSIGNED, operator.id, utcnow()
    ticket.offered_to = ticket.offered_at = None
    detail = {"ticket_id": ticket.id, "operator_id": operator.id}
    if ticket.kind == K.CALLBACK:
        # A task, not a live conversation: the customer hears from the operator by phone.
        await _note(db, session, SessionEventKind.CALLBACK_CLAIMED, detail)
    else:
        await _move(db, session, S.OPERATOR, SessionEventKind.CLAIMED, detail)
    return Result(Action.CLAIM, Outcome.DONE, session, ticket, operator_id=operator.id)


async def leave_queue(db: AsyncSession, session_id: int) -> Result:
    """The waiting customer goes back to the bot: the wait counts as abandoned."""
    found = await _waiting_ticket(db, Action.LEAVE_QUEUE, session_id)
    if isinstance(found, Result):
        return found
    ticket, session = found
    _finish(ticket, Disposition.ABANDONED)
    detail = {"ticket_id": ticket.id, "by": "customer"}
    await _note(db, session, SessionEventKind.ABANDONED, detail)
    await _move(db, session, S.BOT, SessionEventKind.RETURNED_TO_BOT, {"ticket_id": ticket.id})
    return Result(Action.LEAVE_QUEUE, Outcome.DONE, session, ticket)


async def abandon(db: AsyncSession, ticket_id: int) -> Result:
    """Nobody claimed the wait in time: the ticket and the session close as abandoned."""
    found = await _ticket_and_session(db, Action.ABANDON, ticket_id)
    if isinstance(found, Result):
        return found
    ticket, session = found
    _finish(ticket, Disposition.ABANDONED)
    detail = {"ticket_id": ticket.id, "by": "timeout"}
    await _move(db, session, S.CLOSED, SessionEventKind.ABANDONED, detail)
    return Result(Action.ABANDON, Outcome.DONE, session, ticket)


async def convert_to_callback(db: AsyncSession, session_id: int, phone: str, due: datetime) -> Result:
    """The waiting ticket becomes a task to call the customer back; the conversation ends."""
    found = await _waiting_ticket(db, Action.CONVERT_TO_CALLBACK, session_id)
    if isinstance(found, Result):
        return found
    ticket, session = found
    ticket.kind, ticket.callback_phone = K.CALLBACK, phone
    # UTC: SQLite keeps no offset, and every other time in the store is UTC too.
    ticket.callback_after = due.astimezone(UTC)
    ticket.offered_to = ticket.offered_at = None
    detail = {"ticket_id": ticket.id, "due": due.isoformat()}
    await _move(db, session, S.CLOSED, SessionEventKind.CALLBACK_REQUESTED, detail)
    return Result(Action.CONVERT_TO_CALLBACK, Outcome.DONE, session, ticket)


async def offer_callback(db: AsyncSession, session_id: int, why: str) -> Result:
    """Record a callback offer, only if the customer still waits (not claimed a moment ago)."""
    found = await _waiting_ticket(db, Action.OFFER_CALLBACK, session_id)
    if isinstance(found, Result):
        return found
    ticket, session = found
    await _note(db, session, SessionEventKind.CALLBACK_OFFERED, {"ticket_id": ticket.id, "why": why})
    return Result(Action.OFFER_CALLBACK, Outcome.DONE, session, ticket)


# --- Transitions an operator makes on their own ticket ------------------------------------------


async def transfer_to_operator(
    db: AsyncSession, ticket_id: int, operator: Operator, colleague_login: str
) -> Result:
    """To a named colleague, assigned at once: not to oneself, and not beyond their session limit."""
    act = Action.TRANSFER_TO_OPERATOR
    found = await _ticket_and_session(db, act, ticket_id, operator)
    if isinstance(found, Result):
        return found
    ticket, session = found
    colleague_id = await db.scalar(select(Operator.id).where(Operator.login == colleague_login))
    if colleague_id is None:
        return Result(act, Outcome.NOT_FOUND, session, ticket, f"no operator {colleague_login!r}")
    if colleague_id == operator.id:
        return Result(act, Outcome.NOT_ALLOWED, session, ticket, "the ticket is already yours")
    full = await _at_limit(db, colleague_id)
    if full is not None:
        why = f"{colleague_login} already handles {full} sessions"
        return Result(act, Outcome.NOT_ALLOWED, session, ticket, why)
    ticket.operator_id = colleague_id
    ticket.offered_to = ticket.offered_at = None
    detail = {"ticket_id": ticket.id, "from_operator_id": operator.id, "to_operator_id": colleague_id}
    await _transferred(db, ticket, session, S.OPERATOR, detail)
    return Result(act, Outcome.DONE, session, ticket, operator_id=colleague_id)


async def transfer_to_topic(db: AsyncSession, ticket_id: int, operator: Operator, topic: str) -> Result:
    """Back to the queue, for operators with another skill."""
    found = await _ticket_and_session(db, Action.TRANSFER_TO_TOPIC, ticket_id, operator)
    if isinstance(found, Result):
        return found
    ticket, session = found
    ticket.status, ticket.operator_id, ticket.topic = T.QUEUED, None, topic
    ticket.offered_to = ticket.offered_at = None
    detail = {"ticket_id": ticket.id, "from_operator_id": operator.id, "to_topic": topic}
    await _transferred(db, ticket, session, S.QUEUED, detail)
    return Result(Action.TRANSFER_TO_TOPIC, Outcome.DONE, session, ticket)


async def return_to_bot(db: AsyncSession, ticket_id: int, operator: Operator) -> Result:
    """The operator hands the conversation back to the bot."""
    found = await _ticket_and_session(db, Action.RETURN_TO_BOT, ticket_id, operator)
    if isinstance(found, Result):
        return found
    ticket, session = found
    _finish(ticket, Disposition.RETURNED_TO_BOT)
    detail = {"ticket_id": ticket.id, "operator_id": operator.id}
    await _move(db, session, S.BOT, SessionEventKind.RETURNED_TO_BOT, detail)
    return Result(Action.RETURN_TO_BOT, Outcome.DONE, session, ticket)


async def close(db: AsyncSession, ticket_id: int, operator: Operator, disposition: Disposition) -> Result:
    """The operator is done: a conversation closes; a callback task is marked done (its
    conversation ended when the callback was booked)."""
    found = await _ticket_and_session(db, Action.CLOSE, ticket_id, operator)
    if isinstance(found, Result):
        return found
    ticket, session = found
    _finish(ticket, disposition)
    detail = {"ticket_id": ticket.id, "operator_id": operator.id, "disposition": disposition.value}
    if ticket.kind == K.CALLBACK:
        await _note(db, session, SessionEventKind.CALLBACK_CLOSED, detail)
    else:
        detail = {"by": "operator", "ticket_id": ticket.id, "disposition": disposition.value}
        await _move(db, session, S.CLOSED, SessionEventKind.CLOSED, detail)
    return Result(Action.CLOSE, Outcome.DONE, session, ticket)


# --- Transitions a supervisor makes on a colleague's ticket --------------------------------------


async def take_over(db: AsyncSession, ticket_id: int, supervisor: Operator) -> Result:
    """The supervisor becomes the conversation's operator. Their own session limit does not hold
    them back: stepping in is the exception the limit is not meant to stop."""
    found = await _ticket_and_session(db, Action.TAKE_OVER, ticket_id)
    if isinstance(found, Result):
        return found
    ticket, session = found
    if ticket.operator_id == supervisor.id:
        return Result(Action.TAKE_OVER, Outcome.ALREADY, session, ticket, "the ticket is already yours")
    detail = {"ticket_id": ticket.id, "from_operator_id": ticket.operator_id, "to_operator_id": supervisor.id}
    ticket.operator_id = supervisor.id
    await _note(db, session, SessionEventKind.TAKEN_OVER, {**detail, "by": supervisor.id})
    return Result(Action.TAKE_OVER, Outcome.DONE, session, ticket, operator_id=supervisor.id)


async def reassign(db: AsyncSession, ticket_id: int, supervisor: Operator, to_operator_id: int) -> Result:
    """To another operator, assigned at once, within that operator's session limit."""
    act = Action.REASSIGN
    found = await _ticket_and_session(db, act, ticket_id)
    if isinstance(found, Result):
        return found
    ticket, session = found
    if await db.get(Operator, to_operator_id) is None:
        return Result(act, Outcome.NOT_FOUND, session, ticket, f"no operator {to_operator_id}")
    if ticket.operator_id == to_operator_id:
        return Result(act, Outcome.NOT_ALLOWED, session, ticket, "the ticket is already theirs")
    full = await _at_limit(db, to_operator_id)
    if full is not None:
        return Result(act, Outcome.NOT_ALLOWED, session, ticket, f"they already handle {full} sessions")
    detail = {
        "ticket_id": ticket.id,
        "from_operator_id": ticket.operator_id,
        "to_operator_id": to_operator_id,
        "by": supervisor.id,
    }
    ticket.operator_id = to_operator_id
    await _note(db, session, SessionEventKind.REASSIGNED, detail)
    return Result(act, Outcome.DONE, session, ticket, operator_id=to_operator_id)


# --- The live event of a result ---------------------------------------------------------------------

_LIVE_KIND = {
    Action.QUEUE: LiveEventKind.TICKET_QUEUED,
    Action.CONVERT_TO_CALLBACK: LiveEventKind.TICKET_QUEUED,
    Action.TRANSFER_TO_TOPIC: LiveEventKind.TICKET_QUEUED,
    Action.OFFER: LiveEventKind.TICKET_OFFERED,
    Action.CLAIM: LiveEventKind.TICKET_CLAIMED,
    Action.TRANSFER_TO_OPERATOR: LiveEventKind.TICKET_CLAIMED,
    Action.TAKE_OVER: LiveEventKind.TICKET_CLAIMED,
    Action.REASSIGN: LiveEventKind.TICKET_CLAIMED,
    Action.LEAVE_QUEUE: LiveEventKind.TICKET_CLOSED,
    Action.RETURN_TO_BOT: LiveEventKind.TICKET_CLOSED,
    Action.ABANDON: LiveEventKind.TICKET_CLOSED,
    Action.CLOSE: LiveEventKind.TICKET_CLOSED,
}


def live_event(result: Result) -> LiveEvent | None:
    """What consoles hear of a transition; None when it changed nothing they show."""
    kind = _LIVE_KIND.get(result.action)
    if not result.done or kind is None or result.ticket is None:
        return None
    data: dict[str, Any] = {"ticket_id": result.ticket.id}
    if kind in (LiveEventKind.TICKET_QUEUED, LiveEventKind.TICKET_OFFERED):
        data["session_id"] = result.ticket.session_id
    if result.action in (Action.CLAIM, Action.OFFER):
        data["operator_id"] = result.operator_id
    elif result.action in (Action.TRANSFER_TO_OPERATOR, Action.TAKE_OVER, Action.REASSIGN):
        # No operator id: every console refreshes, the colleague's lists it under their own.
        data["session_id"] = result.ticket.session_id
    return LiveEvent(kind, data)


# --- Helpers ----------------------------------------------------------------------------------------

Row = TypeVar("Row", bound=Base)


async def _locked(db: AsyncSession, model: type[Row], key: int) -> Row | None:
    """The row, locked until the transaction ends. PostgreSQL: SELECT ... FOR UPDATE. SQLite has no
    row locks: a no-op write first takes its database-wide write lock, so what is read next stays."""
    if db.get_bind().dialect.name == "sqlite":
        table = model.__table__
        await db.execute(update(table).where(table.c.id == key).values(id=table.c.id))
    return await db.get(model, key, with_for_update=True, populate_existing=True)


async def _ticket_and_session(
    db: AsyncSession, action: Action, ticket_id: int, operator: Operator | None = None
) -> tuple[HandoffTicket, ConversationSession] | Result:
    """Both rows locked (always the ticket first), or the Result that says why not."""
    ticket = await _locked(db, HandoffTicket, ticket_id)
    if ticket is None:
        return Result(action, Outcome.NOT_FOUND, why=f"no ticket {ticket_id}")
    session = await _locked(db, ConversationSession, ticket.session_id)
    assert session is not None  # a foreign key
    if action in OPERATOR_ACTIONS and operator is not None and _held_by_other(ticket, operator):
        why = "claim the ticket first; only its operator can act on it"
        return Result(action, Outcome.NOT_YOURS, session, ticket, why)
    refused = _refusal(action, session, ticket)
    return refused if refused is not None else (ticket, session)


async def _waiting_ticket(
    db: AsyncSession, action: Action, session_id: int
) -> tuple[HandoffTicket, ConversationSession] | Result:
    ticket = await _latest_ticket(db, session_id)
    if ticket is None:
        return Result(action, Outcome.NOT_FOUND, why=f"no ticket for session {session_id}")
    return await _ticket_and_session(db, action, ticket.id)


async def _latest_ticket(db: AsyncSession, session_id: int) -> HandoffTicket | None:
    return await db.scalar(
        select(HandoffTicket)
        .where(HandoffTicket.session_id == session_id)
        .order_by(HandoffTicket.id.desc())
        .limit(1)
    )


def _held_by_other(ticket: HandoffTicket, operator: Operator) -> bool:
    return ticket.status != T.ASSIGNED or ticket.operator_id != operator.id


def _start(session: ConversationSession, ticket: HandoffTicket | None) -> Start:
    if ticket is None:
        return (S(session.state), None, None)
    return (S(session.state), T(ticket.status), K(ticket.kind))


def _refusal(action: Action, session: ConversationSession, ticket: HandoffTicket | None) -> Result | None:
    start = _start(session, ticket)
    if start in ALLOWED[action]:
        return None
    return Result(action, Outcome.NOT_ALLOWED, session, ticket, _describe(start))


def _describe(start: Start) -> str:
    state, status, kind = start
    if status is None:
        return f"the session is {state}"
    if status == T.CLOSED:
        return "the ticket is closed"
    if status == T.ASSIGNED:
        return "already claimed by another operator"
    return f"the {kind} ticket is {status} and its session {state}"


async def _at_limit(db: AsyncSession, operator_id: int) -> int | None:
    """The operator's session limit if they are at it. Their row is locked, so two claims at once
    cannot both take the last place."""
    operator = await _locked(db, Operator, operator_id)
    assert operator is not None
    held = await db.scalar(
        select(func.count())
        .select_from(HandoffTicket)
        .where(HandoffTicket.operator_id == operator_id, HandoffTicket.status == T.ASSIGNED)
    )
    return operator.max_sessions if int(held or 0) >= operator.max_sessions else None


def _finish(ticket: HandoffTicket, disposition: Disposition) -> None:
    ticket.status, ticket.closed_at, ticket.disposition = T.CLOSED, utcnow(), disposition


async def _transferred(
    db: AsyncSession,
    ticket: HandoffTicket,
    session: ConversationSession,
    to_state: SessionState,
    detail: dict[str, Any],
) -> None:
    if ticket.kind == K.CALLBACK:
        await _note(db, session, SessionEventKind.CALLBACK_TRANSFERRED, detail)
    else:
        await _move(db, session, to_state, SessionEventKind.TRANSFERRED, detail)


async def _move(
    db: AsyncSession,
    session: ConversationSession,
    to_state: SessionState,
    kind: SessionEventKind,
    detail: dict[str, Any],
) -> None:
    """Change the session's state and record the change, with its time, in one go."""
    from_state = session.state
    session.state = to_state
    if to_state is S.CLOSED:
        session.closed_at = utcnow()
    await record_event(db, session, kind, from_state, to_state, detail)


async def _note(
    db: AsyncSession, session: ConversationSession, kind: SessionEventKind, detail: dict[str, Any]
) -> None:
    """An event that leaves the session's state as it is."""
    await record_event(db, session, kind, session.state, session.state, detail)
