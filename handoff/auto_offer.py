"""Auto-offer: waiting sessions are reserved for free online operators (the choice is handoff.offers')."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core import lifecycle, outbox
from core.events import EventBus
from core.models import HandoffTicket, Operator, TicketKind, TicketStatus, utcnow
from handoff import operator_status
from handoff.offers import Candidate, idle_since, longest_idle
from handoff.presence import Presence


class AutoOffers:
    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: EventBus,
        presence: Presence,
        *,
        offer_timeout: timedelta = timedelta(seconds=20),
    ) -> None:
        self._sessions = sessions
        self._bus = bus
        self._presence = presence
        self._offer_timeout = offer_timeout

    async def offer_waiting(self) -> int:
        """Auto-offer: each waiting session goes to the longest-idle online operator with the right
        skill and language; an offer nobody took in time goes to the next one. Returns offers made."""
        online = await self._presence.since()
        if not online:
            return 0
        now = utcnow()
        expired = now - self._offer_timeout
        made: list[lifecycle.Result] = []
        async with self._sessions() as db, db.begin():
            candidates = {c.operator_id: c for c in await _offer_candidates(db, online, expired)}
            waiting = await db.scalars(
                select(HandoffTicket)
                .where(
                    HandoffTicket.status == TicketStatus.QUEUED.value,
                    HandoffTicket.kind == TicketKind.SESSION.value,
                    or_(HandoffTicket.offered_to.is_(None), HandoffTicket.offered_at < expired),
                )
                .order_by(HandoffTicket.priority.desc(), HandoffTicket.id)
            )
            for ticket in list(waiting):
                before = frozenset({ticket.offered_to}) if ticket.offered_to else frozenset()
                chosen = longest_idle(candidates.values(), ticket.topic, ticket.language, before)
                chosen = chosen or longest_idle(candidates.values(), ticket.topic, ticket.language)
                if chosen is None:
                    continue
                result = await lifecycle.offer(db, ticket.id, chosen.operator_id)
                if result.done:
                    del candidates[chosen.operator_id]  # one open offer per operator
                    made.append(result)
            await outbox.write(db, self._bus, *map(lifecycle.live_event, made))
        return len(made)


async def _offer_candidates(
    db: AsyncSession, online: dict[int, datetime], reserved_until: datetime
) -> list[Candidate]:
    """Online operators with their free places, skills, languages and how long they have been idle."""
    operators = list(await db.scalars(select(Operator).where(Operator.id.in_(online))))
    # On a break or in after-call work: online, but not to be offered anything.
    away = await operator_status.away(db, online)
    operators = [o for o in operators if o.id not in away]
    busy = dict(
        (
            await db.execute(
                select(HandoffTicket.operator_id, func.count())
                .where(
                    HandoffTicket.operator_id.in_(online), HandoffTicket.status == TicketStatus.ASSIGNED.value
                )
                .group_by(HandoffTicket.operator_id)
            )
        ).all()
    )
    # An operator with an offer still open gets no second one until they answer it.
    holding = set(
        await db.scalars(
            select(HandoffTicket.offered_to).where(
                HandoffTicket.status == TicketStatus.QUEUED.value,
                HandoffTicket.offered_to.in_(online),
                HandoffTicket.offered_at >= reserved_until,
            )
        )
    )
    finished = {
        op: at
        for op, at in (
            await db.execute(
                select(HandoffTicket.operator_id, func.max(HandoffTicket.closed_at))
                .where(HandoffTicket.operator_id.in_(online))
                .group_by(HandoffTicket.operator_id)
            )
        ).all()
        if at is not None
    }
    return [
        Candidate(
            operator_id=o.id,
            skills=frozenset(o.skills),
            languages=frozenset(o.languages),
            free_slots=0 if o.id in holding else o.max_sessions - int(busy.get(o.id, 0)),
            idle_since=idle_since(online[o.id], finished, o.id),
        )
        for o in operators
    ]
