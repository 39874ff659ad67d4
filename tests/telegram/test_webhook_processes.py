"""Telegram's webhook behind two app processes on one PostgreSQL database: the customer's updates
reach one process while the other (holding the lease) relays the operator's replies to the same
chat, and the chat gets every message once, in the order stored."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager

import pytest
from pydantic import SecretStr
from sqlalchemy import select

from core.lease import THIS_PROCESS
from core.models import ConversationSession, Customer, Message
from core.settings import Settings
from testing.ports import free_port
from testing.telegram.fake_bot_api import FakeBotApi, SentMessage
from tests.chat import FrontLine
from tests.telegram.conftest import TelegramCustomer, operator, serving, telegram_settings

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("stack_settings", ["postgresql"], indirect=True)]

SECRET = "webhook-secret-for-two-processes"
LEASE_LIMIT_S = 30.0  # a bound for a loaded machine, not a timing under test
ROUNDS = 6


class WebhookCustomer(TelegramCustomer):
    """A customer whose updates Telegram posts to the process a load balancer picks (`to`)."""

    def __init__(self, fake: FakeBotApi, front_line: FrontLine, to: str) -> None:
        super().__init__(fake, front_line)
        self.to = to

    async def deliver(self, update_id: int) -> None:
        self.fake.webhook_url, self.fake.webhook_secret = self.to, SECRET
        assert await self.fake.deliver_webhook(update_id) == 200

    async def settle(self, update_id: int) -> list[SentMessage]:
        await self.deliver(update_id)
        return await super().settle(update_id)


@asynccontextmanager
async def two_processes(base: Settings, fake: FakeBotApi) -> AsyncIterator[tuple[FrontLine, FrontLine]]:
    """(the process without the lease, the lease holder), both in webhook mode."""
    async with AsyncExitStack() as stack:
        apps = []
        for _ in range(2):
            port = free_port()
            settings = telegram_settings(
                base, fake, mode="webhook", webhook_secret=SecretStr(SECRET)
            ).model_copy(update={"port": port})
            apps.append(await stack.enter_async_context(serving(settings)))
        async with asyncio.timeout(LEASE_LIMIT_S):
            while True:
                held = [(await a.http.get("/healthz")).json().get("singletons") == THIS_PROCESS for a in apps]
                if any(held):
                    break
                await asyncio.sleep(0.2)
        yield (apps[1], apps[0]) if held[0] else (apps[0], apps[1])


def webhook_of(front_line: FrontLine) -> str:
    return str(front_line.http.base_url.join("/telegram/webhook"))


async def stored_out(front_line: FrontLine, customer: TelegramCustomer) -> list[str]:
    async with front_line.db() as db:
        rows = await db.scalars(
            select(Message.text)
            .join(ConversationSession, ConversationSession.id == Message.session_id)
            .join(Customer, Customer.id == ConversationSession.customer_id)
            .where(Customer.key == customer.key, Message.direction == "out")
            .order_by(Message.id)
        )
        return list(rows)


async def test_a_chat_gets_each_message_once_in_order_when_two_processes_deliver_to_it(
    fake: FakeBotApi, stack_settings: Settings
) -> None:
    async with two_processes(stack_settings, fake) as (receiving, relaying):
        customer = WebhookCustomer(fake, receiving, webhook_of(receiving))
        await customer.say("I want to talk to a real person")
        await customer.press("Yes, an operator please")
        assert "in the queue" in customer.text
        dana = await operator(relaying, stack_settings, "Dana")
        ticket = await dana.ticket_of(customer)
        await dana.post(f"{ticket}/claim")

        # Slow sends, so the two processes' deliveries to the chat overlap.
        fake.set_delay("sendMessage", 0.05)

        async def operator_writes() -> None:
            for n in range(ROUNDS):
                await dana.post(f"{ticket}/messages", text=f"operator reply {n}")
                await asyncio.sleep(0.03)

        async def customer_writes() -> list[int]:
            pushed = []
            for n in range(ROUNDS):
                pushed.append(fake.push_message(customer.chat_id, f"customer message {n}"))
                await customer.deliver(pushed[-1])  # handled (and delivered) by `receiving`
                await asyncio.sleep(0.03)
            return pushed

        _, pushed = await asyncio.gather(operator_writes(), customer_writes())
        for update_id in pushed:
            await TelegramCustomer.settle(customer, update_id)
        await asyncio.sleep(1.0)  # a second copy would be under way by now

        stored = await stored_out(receiving, customer)
        assert [f"operator reply {n}" for n in range(ROUNDS)] == [
            t for t in stored if t.startswith("operator")
        ]
        assert [m.text for m in customer.received] == stored
