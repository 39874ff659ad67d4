"""The context card an operator gets with an escalated session: nothing to ask the customer again."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from core.dialogue import RasaClient
from core.errors import DialogueUnavailable
from core.models import ConversationSession, Customer
from core.repo.orders import orders_of_customer_or_phone, phone_variants
from core.repo.sessions import transcript

# Slots Rasa keeps for its own bookkeeping; they mean nothing to an operator.
_INTERNAL_SLOTS = frozenset({"requested_slot", "session_started_metadata"})


async def build_card(
    db: AsyncSession,
    session: ConversationSession,
    dialogue: dict[str, Any],
    *,
    reason: str,
    topic: str,
    summary: str,
) -> dict[str, Any]:
    """Transcript from our store, slots and intents from Rasa, customer card with past orders."""
    customer = await db.get(Customer, session.customer_id)
    assert customer is not None
    card: dict[str, Any] = {
        "reason": reason,
        "topic": topic,
        "summary": summary,
        "session": {
            "id": session.id,
            "channel": session.channel,
            "language": session.language,
            "started_at": session.started_at.isoformat(),
        },
        "customer": await _customer_card(db, customer),
        "transcript": [
            {
                "at": m.created_at.isoformat(),
                "direction": m.direction,
                "author": m.author,
                "text": m.text,
                "buttons": (m.payload or {}).get("buttons", []),
            }
            for m in await transcript(db, session.id)
        ],
    }
    card.update(dialogue)
    return card


async def _customer_card(db: AsyncSession, customer: Customer) -> dict[str, Any]:
    phone = customer.phone or (customer.key.removeprefix("tel:") if customer.key.startswith("tel:") else None)
    orders = await orders_of_customer_or_phone(db, customer.id, phone)
    return {
        "key": customer.key,
        "full_name": customer.full_name,
        "phone": phone,
        "other_channels": await _same_phone_elsewhere(db, customer, phone),
        "language": customer.language,
        "since": customer.created_at.isoformat(),
        "orders": [
            {
                "number": o.number,
                "status": o.status,
                "tariff": o.tariff_code,
                "visit_date": o.visit_date.isoformat(),
                "address": o.address,
                "created_at": o.created_at.isoformat(),
            }
            for o in orders
        ],
    }


async def _same_phone_elsewhere(
    db: AsyncSession, customer: Customer, phone: str | None
) -> list[dict[str, Any]]:
    """The same person on other channels (same phone): their identity, sessions and last contact."""
    if not phone:
        return []
    variants = phone_variants(phone)
    keys = [f"tel:{v}" for v in variants]
    rows = await db.execute(
        select(Customer.key, func.count(ConversationSession.id), func.max(ConversationSession.started_at))
        .outerjoin(ConversationSession, ConversationSession.customer_id == Customer.id)
        .where(Customer.id != customer.id, Customer.phone.in_(variants) | Customer.key.in_(keys))
        .group_by(Customer.key)
    )
    return [
        {"key": key, "sessions": count, "last_contact": last.isoformat() if last else None}
        for key, count, last in rows
    ]


async def dialogue_state(rasa: RasaClient, sender_id: str) -> dict[str, Any]:
    """Slots and the intent history from Rasa; a card is still built when Rasa is down."""
    try:
        tracker = await rasa.tracker(sender_id)
    except DialogueUnavailable as exc:
        return {"slots": {}, "intents": [], "dialogue_error": str(exc)}
    slots = {
        name: value
        for name, value in (tracker.get("slots") or {}).items()
        if value is not None and name not in _INTERNAL_SLOTS
    }
    intents = []
    for event in tracker.get("events") or []:
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        intent = parse.get("intent") or {}
        intents.append(
            {
                "text": event.get("text"),
                "intent": intent.get("name"),
                "confidence": intent.get("confidence"),
                "ranking": [
                    {"intent": r.get("name"), "confidence": r.get("confidence")}
                    for r in (parse.get("intent_ranking") or [])[:3]
                ],
            }
        )
    return {"slots": slots, "intents": intents, "dialogue_error": None}
