"""The expected wait a customer is told: seconds per place in the queue, from the recent claims."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.db import create_engine, create_session_factory
from core.migrate import upgrade_async
from core.models import ConversationSession, Customer, HandoffTicket, utcnow
from core.repo.tickets import recent_wait_per_position
from core.settings import DbSettings


@pytest.fixture
async def db_sessions(tmp_path: Path) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'tickets.db'}"
    await upgrade_async(url)
    engine = create_engine(DbSettings(url=url))
    yield create_session_factory(engine)
    await engine.dispose()


async def _queue_and_claim(db: AsyncSession, waits_s: list[int], *, joined_ago: timedelta) -> None:
    """Customers who joined together, one after another in line, claimed after `waits_s` seconds."""
    customer = Customer(key="web:wait")
    db.add(customer)
    await db.flush()
    joined = utcnow() - joined_ago
    for n, wait in enumerate(waits_s):
        session = ConversationSession(
            customer_id=customer.id, channel="web", language="en", state="operator", rasa_sender_id=f"w:{n}"
        )
        db.add(session)
        await db.flush()
        db.add(
            HandoffTicket(
                session_id=session.id, reason="asked", language="en", card={}, status="assigned",
                created_at=joined, claimed_at=joined + timedelta(seconds=wait),
            )
        )  # fmt: skip
    await db.flush()


async def test_the_wait_per_place_divides_each_wait_by_the_place_it_started_from(
    db_sessions: async_sessionmaker[AsyncSession],
) -> None:
    # Three customers join at once; an operator takes one a minute. The third waited three minutes
    # from third place: a minute per place, not the two-minute mean of the three whole waits.
    async with db_sessions() as db, db.begin():
        await _queue_and_claim(db, [60, 120, 180], joined_ago=timedelta(hours=1))
    async with db_sessions() as db:
        assert await recent_wait_per_position(db) == pytest.approx(60.0)
