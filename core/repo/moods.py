"""Customers' moods in the store: a waiting angry customer's priority, the angry streak in the bot that
earns an offer of a person, and the latest moods of sessions for the queue and the context card."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from core.events import LiveEvent
from core.kinds import LiveEventKind, MessageAuthor, Mood
from core.models import HandoffTicket, Message, TicketKind, TicketStatus
from core.mood import TREND_WINDOW

# The queue serves higher priority first: an angry customer's wait goes ahead of calm ones, but
# among angry customers (and anything ranked higher by other rules) the earlier one stays first.
ANGRY_PRIORITY = 10
# Angry customer messages in a row, with the bot, before a person is offered.
ANGRY_STREAK = 2
# How far back an earlier offer of a person counts: once offered, the customer is not asked again
# within this many messages.
OFFER_MEMORY = 30
# How many of a customer's latest messages count when their ticket is queued.
RECENT = 3
# The payload key that marks the front line's offer of a person (a system message).
PERSON_OFFERED = "mood_offer"


async def raise_priority(db: AsyncSession, session_id: int) -> LiveEvent | None:
    """An angry customer who waits: their ticket moves ahead of calmer waits. The live event (for the
    consoles' queues) when the priority changed; None when there is no waiting ticket or it was
    raised already."""
    ticket_id = await db.scalar(
        update(HandoffTicket)
        .where(
            HandoffTicket.session_id == session_id,
            HandoffTicket.status == TicketStatus.QUEUED.value,
            HandoffTicket.kind == TicketKind.SESSION.value,
            HandoffTicket.priority < ANGRY_PRIORITY,
        )
        .values(priority=ANGRY_PRIORITY)
        .returning(HandoffTicket.id)
        .execution_options(synchronize_session=False)
    )
    if ticket_id is None:
        return None
    data: dict[str, Any] = {
        "ticket_id": ticket_id,
        "session_id": session_id,
        "mood": Mood.ANGRY.value,
        "priority": ANGRY_PRIORITY,
    }
    return LiveEvent(LiveEventKind.TICKET_MOOD, data)


async def priority_on_queueing(db: AsyncSession, ticket: HandoffTicket) -> bool:
    """A ticket just queued for a customer angry in their latest messages starts ahead of calm
    waits; True when its priority was raised."""
    recent = (await latest_moods(db, [ticket.session_id])).get(ticket.session_id, [])
    if Mood.ANGRY not in recent[-RECENT:] or ticket.priority >= ANGRY_PRIORITY:
        return False
    ticket.priority = ANGRY_PRIORITY
    return True


async def person_due(db: AsyncSession, message: Message) -> bool:
    """Whether this angry message (stored and flushed) completes a streak of angry messages with the
    bot and the customer was not offered a person lately."""
    rows = await db.execute(
        select(Message.author, Message.mood, Message.payload)
        .where(Message.session_id == message.session_id, Message.id < message.id)
        .order_by(Message.id.desc())
        .limit(OFFER_MEMORY)
    )
    streak = 1
    counting = True
    for author, mood, payload in rows:
        if author == MessageAuthor.SYSTEM and (payload or {}).get(PERSON_OFFERED):
            return False
        if counting and author == MessageAuthor.CUSTOMER:
            if mood != Mood.ANGRY:
                counting = False
            else:
                streak += 1
    return streak >= ANGRY_STREAK


async def latest_moods(db: AsyncSession, session_ids: Sequence[int]) -> dict[int, list[Mood]]:
    """The moods of each session's latest customer messages (up to TREND_WINDOW), oldest first."""
    if not session_ids:
        return {}
    ranked = (
        select(
            Message.session_id,
            Message.mood,
            func.row_number().over(partition_by=Message.session_id, order_by=Message.id.desc()).label("rank"),
        )
        .where(
            Message.session_id.in_(session_ids),
            Message.author == MessageAuthor.CUSTOMER.value,
            Message.mood.is_not(None),
        )
        .subquery()
    )
    rows = await db.execute(
        select(ranked.c.session_id, ranked.c.mood)
        .where(ranked.c.rank <= TREND_WINDOW)
        .order_by(ranked.c.session_id, ranked.c.rank.desc())
    )
    moods: dict[int, list[Mood]] = defaultdict(list)
    for session_id, mood in rows:
        moods[session_id].append(Mood(mood))
    return dict(moods)
