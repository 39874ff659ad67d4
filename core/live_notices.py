"""Live events about no stored state (an operator came online, a log-in ended), for every app process.

Unlike the outbox's events they need no id, no replay and no row: a console that reconnects reloads
who is online anyway, and a log-in that ended cannot open a stream again. So they are not written to
the outbox (where each would become a row that every console replays); on PostgreSQL they travel as
a `pg_notify` on their own channel, sent when the caller's transaction commits (and never when it
rolls back), and every process's outbox listener publishes them on its bus, its own process's
included. With one app process (SQLite, a bus not fed by a listener) the bus hears them once the
transaction commits. A notice sent while a listener is reconnecting is lost: both kinds are hints
that something else confirms (presence rows, the stream's periodic log-in check).
"""

from __future__ import annotations

import json
import logging
from typing import Any

from sqlalchemy import event, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.events import EventBus, LiveEvent
from core.kinds import LiveEventKind

logger = logging.getLogger(__name__)

CHANNEL = "live_notices"
# PostgreSQL refuses a notification payload of 8,000 bytes or more.
MAX_PAYLOAD_BYTES = 7900


async def send(db: AsyncSession, bus: EventBus, notice: LiveEvent) -> None:
    """In `db`'s transaction: every app process's bus hears `notice` once it commits."""
    if not bus.fed_by_listener:
        event.listen(db.sync_session, "after_commit", lambda _session: bus.publish(notice), once=True)
        return
    payload = json.dumps({"kind": notice.kind, "data": notice.data}, ensure_ascii=False)
    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
        raise ValueError(f"a live notice must stay small: {notice.kind} has {len(payload)} characters")
    await db.execute(select(func.pg_notify(CHANNEL, payload)))


def heard(payload: str) -> LiveEvent | None:
    """A notice as the listener hears it; None for one this process cannot read (a newer kind)."""
    try:
        body: dict[str, Any] = json.loads(payload)
        return LiveEvent(LiveEventKind(body["kind"]), dict(body["data"]))
    except (ValueError, KeyError, TypeError):
        logger.warning("live notice skipped: %.80s", payload)
        return None
