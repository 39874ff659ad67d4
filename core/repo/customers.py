"""Customers: one row per channel identity, linked to orders and sessions."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from core.models import Customer


async def get_or_create_customer(db: AsyncSession, key: str, language: str) -> Customer:
    """The customer behind a channel identity, created on first contact."""
    customer = await db.scalar(select(Customer).where(Customer.key == key))
    if customer is None:
        customer = Customer(key=key, language=language)
        db.add(customer)
        await db.flush()
    return customer


async def fill_customer_card(
    db: AsyncSession, customer_id: int, full_name: str | None, *, verified_phone: str | None = None
) -> None:
    """Remember a name the customer gave, and a phone someone vouches for (the caller id an
    exchange delivers), without overwriting known ones.

    A phone the customer merely typed (an order form, a callback number) never goes on the card:
    the card's phone links orders and history placed with it, so a typed one would let anyone who
    knows a victim's number read their orders. It stays on the order or callback it was given for.
    """
    customer = await db.get(Customer, customer_id)
    if customer is None:
        return
    if full_name and not customer.full_name:
        customer.full_name = full_name
    if verified_phone and not customer.phone:
        customer.phone = verified_phone


async def set_verified_phone(db: AsyncSession, key: str, phone: str, language: str) -> Customer:
    """A phone the messenger vouches for (the customer shared their own contact): it replaces
    a typed one, so orders placed by phone are found for this customer."""
    customer = await get_or_create_customer(db, key, language)
    customer.phone = phone
    return customer
