"""Orders: created by the bot's actions, looked up by number, phone or customer."""

from __future__ import annotations

import secrets
from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Order

ORDER_NUMBER_DIGITS = 7


def new_order_number() -> str:
    """Seven random digits, never starting with 0 (it gets lost when read aloud or typed)."""
    first = str(secrets.randbelow(9) + 1)
    rest = "".join(str(secrets.randbelow(10)) for _ in range(ORDER_NUMBER_DIGITS - 1))
    return first + rest


async def create_order(
    db: AsyncSession,
    *,
    customer_id: int | None,
    session_id: int | None,
    channel: str | None,
    full_name: str,
    phone: str,
    address: str,
    tariff_code: str,
    visit_date: date,
    attempts: int = 5,
) -> Order:
    """Store an order under a fresh unique number; retries on the rare number collision."""
    for _ in range(attempts):
        order = Order(
            number=new_order_number(),
            customer_id=customer_id,
            session_id=session_id,
            channel=channel,
            full_name=full_name,
            phone=phone,
            address=address,
            tariff_code=tariff_code,
            visit_date=visit_date,
        )
        try:
            async with db.begin_nested():
                db.add(order)
            return order
        except IntegrityError:
            continue
    raise RuntimeError("could not allocate a unique order number")


async def order_by_number(db: AsyncSession, number: str) -> Order | None:
    return await db.scalar(select(Order).where(Order.number == number))


async def orders_of_customer(db: AsyncSession, customer_id: int, limit: int = 20) -> list[Order]:
    """Newest first."""
    return list(
        await db.scalars(
            select(Order).where(Order.customer_id == customer_id).order_by(Order.id.desc()).limit(limit)
        )
    )


def phone_variants(phone: str) -> list[str]:
    """The same number with and without the leading +: channels report it either way."""
    digits = phone.lstrip("+")
    return [digits, f"+{digits}"]


async def orders_of_customer_or_phone(
    db: AsyncSession, customer_id: int, phone: str | None, limit: int = 20
) -> list[Order]:
    """Newest first: the customer's own orders and those placed with their phone number on any
    channel (a caller's orders show up in their Telegram chat once the number is linked)."""
    match = Order.customer_id == customer_id
    if phone:
        match = match | Order.phone.in_(phone_variants(phone))
    return list(await db.scalars(select(Order).where(match).order_by(Order.id.desc()).limit(limit)))


async def latest_order(db: AsyncSession, customer_id: int, phone: str | None) -> Order | None:
    """The customer's newest order, also through the phone number when it is known."""
    orders = await orders_of_customer(db, customer_id, limit=1)
    if orders:
        return orders[0]
    if phone:
        return await db.scalar(select(Order).where(Order.phone == phone).order_by(Order.id.desc()).limit(1))
    return None
