"""What a call asks of the conversation core and the business data, in one place."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.callbacks import CallbackFlow
from core.calls import CallSessions
from core.catalogue import Catalogue
from core.conversation import ConversationService
from core.digits import to_ascii_digits
from core.escalation import Escalation
from core.models import Order
from core.phones import normalise_phone
from core.repo.orders import order_by_number
from core.schemas import InboundTurn, TurnResult

logger = logging.getLogger(__name__)
CHANNEL = "phone"


def caller_key(number: str, call_id: str, *, verified: bool) -> str:
    """`tel:<number>` when an allowed PBX delivered the caller id; otherwise a key of the call's own,
    so strangers never share a history. An unvouched caller id is whatever the calling peer put
    in From: it must not name a customer (a `tel:` key is read as the customer's phone, which
    links their orders, cards and other channels)."""
    digits = "".join(ch for ch in to_ascii_digits(number) if ch.isdigit())
    if not digits:
        return f"tel:anonymous:{call_id[:40]}"
    if not verified:
        return f"call:{call_id[:40]}"
    return f"tel:+{digits}" if number.startswith("+") else f"tel:{digits}"


def caller_phone(number: str) -> str | None:
    """The number in the form the core compares (orders, customer cards); None for extensions."""
    return normalise_phone(number)


@dataclass(frozen=True)
class CallCore:
    """The core's use cases a call needs, as the composition root built them."""

    conversations: ConversationService
    calls: CallSessions
    callbacks: CallbackFlow
    escalation: Escalation


class CallContacts:
    """The core as a call sees it: one session per call, turns, handoff, callbacks, order look-ups."""

    def __init__(
        self,
        core: CallCore,
        db_sessions: async_sessionmaker[AsyncSession],
        catalogue: Catalogue,
    ) -> None:
        self.core = core
        self.catalogue = catalogue
        self._db = db_sessions

    async def start(self, key: str, language: str, phone: str | None, *, verified: bool) -> int:
        """The call's session. Only a verified caller id goes on the customer card; an unverified
        one is still the number the caller gave for a callback (like a typed one in a chat)."""
        card_phone = phone if verified else None
        return await self.core.calls.start_call(key, channel=CHANNEL, language=language, phone=card_phone)

    async def note(
        self,
        session_id: int,
        *,
        heard: str | None = None,
        said: str | None = None,
        meta: dict[str, Any] | None = None,
    ) -> None:
        await self.core.calls.note_call_exchange(session_id, heard=heard, said=said, metadata=meta)

    async def turn(self, key: str, text: str, language: str, call_id: str) -> TurnResult:
        return await self.core.conversations.handle_turn(
            InboundTurn(
                customer_key=key, channel=CHANNEL, text=text, language=language, metadata={"call_id": call_id}
            )
        )

    async def order(self, number: str) -> Order | None:
        async with self._db() as db:
            return await order_by_number(db, number)

    async def escalate(self, session_id: int, summary: str, reason: str = "customer_request") -> int:
        return await self.core.escalation.escalate(
            session_id, reason=reason, topic="general", summary=summary
        )

    async def callback(self, session_id: int, phone: str, reason: str, topic: str, summary: str) -> int:
        return await self.core.callbacks.request_callback(
            session_id, phone=phone, reason=reason, topic=topic, summary=summary
        )

    async def end(self, session_id: int, *, abandoned: bool, by: str) -> None:
        await self.core.calls.end_call(session_id, abandoned=abandoned, by=by)
