"""Operators keep the customer card current (name, phone, address, note): each changed field is a
`customer_card_changes` row saying who changed it, when, and what it said before.

Only the operator handling the ticket, or a supervisor, reads or edits the card through it. A phone an
operator enters is checked against the numbering plans (core/phones.py) and stored in E.164, as the
project stores every phone, since the card's phone links the customer's orders and other channels:
an operator vouches for it the way a caller id does.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.kinds import OperatorRole
from core.masking import mask_card_value
from core.models import (
    ConversationSession,
    Customer,
    CustomerCardChange,
    HandoffTicket,
    Operator,
    TicketStatus,
)
from core.phones import parse_phone
from handoff.errors import HandoffError, NotYourTicket, TicketNotFound

logger = logging.getLogger(__name__)

# The card's fields an operator may correct, in the order the console shows them.
FIELDS = ("full_name", "phone", "address", "note")


class InvalidCardValue(HandoffError):
    """A value the card cannot hold (a phone no numbering plan knows); the route answers 422."""


@dataclass(frozen=True)
class CardChange:
    field: str
    old_value: str | None
    new_value: str | None
    operator_id: int
    operator_name: str
    at: datetime


@dataclass(frozen=True)
class CustomerCard:
    """The card as it is now, with every change operators made to it, newest first."""

    customer_id: int
    key: str
    language: str
    values: dict[str, str | None]
    changes: list[CardChange]


class CardEdits:
    def __init__(
        self, sessions: async_sessionmaker[AsyncSession], phone_regions: Callable[[str], Sequence[str]]
    ) -> None:
        self._sessions = sessions
        # The countries whose national numbers a phone without a country code is read as, by language.
        self._phone_regions = phone_regions

    async def card(self, ticket_id: int, operator: Operator) -> CustomerCard:
        async with self._sessions() as db:
            customer = await _customer_of_ticket(db, ticket_id, operator)
            return await _card(db, customer)

    async def edit(
        self, ticket_id: int, operator: Operator, values: Mapping[str, str | None]
    ) -> CustomerCard:
        """Sets the given fields (None or blank clears one); unchanged ones are not recorded."""
        async with self._sessions() as db, db.begin():
            customer = await _customer_of_ticket(db, ticket_id, operator, for_update=True)
            for field, given in values.items():
                new = self._clean(field, given, customer.language)
                old = getattr(customer, field)
                if new == old:
                    continue
                setattr(customer, field, new)
                db.add(
                    CustomerCardChange(
                        customer_id=customer.id,
                        field=field,
                        old_value=old,
                        new_value=new,
                        operator_id=operator.id,
                    )
                )
                logger.info(
                    "customer card changed customer_id=%s field=%s old=%s new=%s operator_id=%s",
                    customer.id, field, mask_card_value(field, old), mask_card_value(field, new), operator.id,
                )  # fmt: skip
            await _refresh_ticket_card(db, ticket_id, customer)
            await db.flush()
            return await _card(db, customer)

    def _clean(self, field: str, value: str | None, language: str) -> str | None:
        if field not in FIELDS:
            raise InvalidCardValue(f"{field}: not a field of the card ({', '.join(FIELDS)})")
        text = (value or "").replace("\x00", "").strip()
        if not text:
            return None
        if field != "phone":
            return text
        phone = parse_phone(text, self._phone_regions(language))
        if phone is None:
            raise InvalidCardValue(f"phone: {text!r} is not a phone number (give the country code)")
        return phone


async def _customer_of_ticket(
    db: AsyncSession, ticket_id: int, operator: Operator, *, for_update: bool = False
) -> Customer:
    ticket = await db.get(HandoffTicket, ticket_id)
    if ticket is None:
        raise TicketNotFound(f"no ticket {ticket_id}")
    handling = ticket.status == TicketStatus.ASSIGNED.value and ticket.operator_id == operator.id
    if not handling and operator.role != OperatorRole.SUPERVISOR:
        raise NotYourTicket("only the operator handling the ticket can read or correct the customer card")
    query = (
        select(Customer)
        .join(ConversationSession, ConversationSession.customer_id == Customer.id)
        .where(ConversationSession.id == ticket.session_id)
    )
    # Two operators correcting one card at once: the second reads the first one's values as "old".
    customer = await db.scalar(query.with_for_update(of=Customer) if for_update else query)
    assert customer is not None
    return customer


async def _card(db: AsyncSession, customer: Customer) -> CustomerCard:
    rows = await db.execute(
        select(CustomerCardChange, Operator.display_name)
        .join(Operator, Operator.id == CustomerCardChange.operator_id)
        .where(CustomerCardChange.customer_id == customer.id)
        .order_by(CustomerCardChange.id.desc())
    )
    return CustomerCard(
        customer_id=customer.id,
        key=customer.key,
        language=customer.language,
        values={field: getattr(customer, field) for field in FIELDS},
        changes=[
            CardChange(c.field, c.old_value, c.new_value, c.operator_id, name, c.at) for c, name in rows
        ],
    )


async def _refresh_ticket_card(db: AsyncSession, ticket_id: int, customer: Customer) -> None:
    """The ticket's context card was frozen at escalation: the open ticket shows the corrected values
    from now on (a new dict, so the JSON column sees the change)."""
    ticket = await db.get(HandoffTicket, ticket_id)
    assert ticket is not None
    card = dict(ticket.card)
    card["customer"] = {**card.get("customer", {}), **{f: getattr(customer, f) for f in FIELDS}}
    ticket.card = card
