"""The Telegram channel's life: inbox first, per-chat order, delivery of everything stored for a chat.

Every update is committed to `telegram_updates` before Telegram is told it arrived (the next
getUpdates offset, or the webhook's 200). A worker per chat handles its updates strictly in order.
Everything the customer should see (the bot's replies, operator messages, joined/left notices,
the survey) is read back from the message store after the chat's cursor and sent in order, so a
restart resends nothing already delivered and loses nothing not yet delivered.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiogram import Bot
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram import store
from bot.telegram.delivery_locks import delivery_locks
from bot.telegram.keyboards import KEYED, callback_data, inline_keyboard, remember_long_payloads
from bot.telegram.logsafe import describe, kind_of, log_failure, summary
from bot.telegram.polling import ALLOWED_UPDATES, poll_updates
from bot.telegram.sender import Outcome, Sender
from bot.telegram.updates import UpdateHandler
from bot.telegram.workers import ChatWorkers
from core.conversation import ConversationService
from core.events import EventBus, LiveEvent
from core.kinds import Direction, LiveEventKind, MessageAuthor
from core.lease import Lease
from core.messages import SystemMessages
from core.models import Message
from core.schemas import Button
from core.settings import TelegramSettings

logger = logging.getLogger(__name__)

# Catch-up pass for chats whose delivery failed or whose live event was dropped.
BACKLOG_SWEEP_S = 60.0
DRAIN_TIMEOUT_S = 10.0
# A failing update (database down, say) is retried in place this often before it waits for a restart.
HANDLE_ATTEMPTS = 5
HANDLE_BACKOFF_S = 1.0
# Authors whose messages reach the chat outside a customer's turn (the turn's own replies are
# delivered by the turn's worker).
RELAYED_AUTHORS = frozenset({MessageAuthor.OPERATOR, MessageAuthor.SYSTEM})
SESSION_CACHE_SIZE = 10_000


def create_bot(settings: TelegramSettings) -> Bot:
    session = AiohttpSession(api=TelegramAPIServer.from_base(settings.api_base_url.rstrip("/")))
    return Bot(settings.token.get_secret_value(), session=session)


class TelegramChannel:
    def __init__(
        self,
        settings: TelegramSettings,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        conversations: ConversationService,
        messages: SystemMessages,
        bus: EventBus,
        lease: Lease,
        *,
        default_language: str = "en",
    ) -> None:
        self.settings = settings
        self._lease = lease
        self.bot = bot
        self._sessions = sessions
        self._conversations = conversations
        self._bus = bus
        self._sender = Sender(bot, attempts=settings.send_attempts)
        engine = sessions.kw["bind"]
        # Several app processes (PostgreSQL) may deliver to one chat: one at a time, cursor read afresh.
        self._delivery = delivery_locks(engine, wait_timeout_s=settings.delivery_wait_s)
        self.chats = store.Chats(sessions, shared=engine.dialect.name != "sqlite")
        self._workers = ChatWorkers()
        self._handler = UpdateHandler(
            bot, sessions, conversations, messages, self._sender, self.chats, self.flush,
            default_language=default_language,
        )  # fmt: skip
        self._tasks: list[asyncio.Task[None]] = []
        self._chat_of_session: dict[int, int | None] = {}

    async def start(self) -> None:
        """Every app process runs the channel: it handles the updates it receives and sends their
        replies, and operators open files through its bot. What must happen once for all (receiving
        by long polling, the relay, the backlog) runs in the process holding the lease (`_lead`)."""
        if self.settings.mode == "webhook":
            # Any process receives updates here: each resumes what it left unhandled.
            for stored in await store.pending_updates(self._sessions):
                self._submit(stored)
            if self.settings.webhook_url:
                await self.bot.set_webhook(
                    self.settings.webhook_url,
                    secret_token=self.settings.webhook_secret.get_secret_value(),
                    allowed_updates=ALLOWED_UPDATES,
                )
        self._spawn(self._lease.while_held(self._lead), "telegram-lead")
        logger.info("telegram channel started mode=%s", self.settings.mode)

    @property
    def loops(self) -> tuple[asyncio.Task[None], ...]:
        """The channel's running loops: the app restarts the channel when one ends."""
        return tuple(self._tasks)

    async def _lead(self) -> None:
        """The lease holder's part: operator messages relayed live (every process hears every event,
        so one relays them, or a chat would get them once per process), the backlog, and with long
        polling receiving itself (two pollers would take each other's getUpdates) after resuming
        what the previous holder left. Ends (raises) when one of its loops ends."""
        relay_ready = asyncio.Event()
        loops = [asyncio.create_task(self._relay(relay_ready), name="telegram-relay")]
        try:
            await relay_ready.wait()
            if self.settings.mode == "polling":
                for stored in await store.pending_updates(self._sessions):
                    self._submit(stored)
            for chat_id in await store.chats_with_backlog(self._sessions):
                self._workers.submit(chat_id, lambda c=chat_id: self.flush(c))
            loops.append(asyncio.create_task(self._sweep_backlog(), name="telegram-backlog"))
            if self.settings.mode == "polling":
                polling = poll_updates(self.bot, self.accept, self.settings.poll_timeout)
                loops.append(asyncio.create_task(polling, name="telegram-polling"))
            done, _ = await asyncio.wait(loops, return_when=asyncio.FIRST_COMPLETED)
            ended = done.pop()
            ended.result()  # its error, if it failed
            raise RuntimeError(f"{ended.get_name()} ended")
        finally:
            for task in loops:
                task.cancel()
            await asyncio.gather(*loops, return_exceptions=True)

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self._workers.drain(DRAIN_TIMEOUT_S)
        await self.bot.session.close()

    async def accept(self, updates: list[dict[str, Any]]) -> None:
        """Store (committed) and queue; raises when storing failed, so the update is not confirmed."""
        if updates:
            logger.debug("telegram updates received: %s", describe(updates))
        for stored in await store.store_updates(self._sessions, updates):
            self._submit(stored)

    def _submit(self, stored: store.StoredUpdate) -> None:
        async def job() -> None:
            await self._handle_stored(stored)

        self._workers.submit(store.chat_of(stored.payload) or 0, job)

    async def _handle_stored(self, stored: store.StoredUpdate) -> None:
        """Handle one update, retrying a while in place (the chat's later updates wait, in order).

        Handling again after a crash is safe: the handler hands no turn to the core twice.
        """
        update_id, kind = stored.update_id, kind_of(stored.payload)
        for attempt in range(HANDLE_ATTEMPTS):
            try:
                again = stored.recovered or attempt > 0
                chat_id = await self._handler.handle(stored.payload, again=again)
                break
            except ValidationError as exc:  # aiogram cannot read it: trying again cannot help
                logger.error("telegram update unreadable update_id=%s kind=%s: %s",
                             update_id, kind, summary(exc))  # fmt: skip
                await store.mark_update(self._sessions, stored.row_id, "failed")
                return
            except Exception as exc:
                log_failure(logger, "telegram update failed update_id=%s kind=%s attempt=%s",
                            update_id, kind, attempt + 1, error=exc)  # fmt: skip
                await asyncio.sleep(HANDLE_BACKOFF_S * 2**attempt)
        else:
            return  # left as received: handled again on the next start, not lost
        # The replies go out first, then the update is marked handled (a write of its own, kept off
        # the customer's wait): should a crash come in between, the next start handles it again,
        # and the handler finds the turn already with the core.
        try:
            if chat_id is not None:
                await self.flush(chat_id)
        except Exception as exc:  # the next turn or the backlog sweep delivers it
            logger.error("telegram update_id=%s replies not sent: %s", update_id, summary(exc))
        try:
            await store.mark_update(self._sessions, stored.row_id, "handled")
        except Exception as exc:
            logger.error("telegram update_id=%s not marked handled: %s", update_id, summary(exc))

    async def flush(self, chat_id: int) -> None:
        """Send everything stored for the chat after its cursor, in order; runs in the chat's worker,
        and holds the chat's delivery lock, so no other process sends to the chat meanwhile."""
        async with self._delivery.hold(chat_id):
            await self._send_pending(chat_id)

    async def _send_pending(self, chat_id: int) -> None:
        chat = await self.chats.get(chat_id)
        if chat is None:
            return
        pending = await store.outgoing_after(self._sessions, chat.customer_key, chat.delivered_message_id)
        if not pending:
            return
        if chat.unreachable:
            # Blocked: kept in the store for the operator, not retried; they see new ones if they return.
            await self.chats.advance(chat_id, pending[-1].id)
            return
        for message in pending:
            outcome = await self._deliver(chat_id, message)
            if outcome is Outcome.FAILED:
                return  # the cursor stays: the backlog sweep or the next turn tries again
            if outcome is Outcome.BLOCKED:
                await self.chats.mark_unreachable(chat_id)
                await self.chats.advance(chat_id, pending[-1].id)
                return
            await self.chats.advance(chat_id, message.id)

    async def _deliver(self, chat_id: int, message: Message) -> Outcome:
        buttons = [
            Button(title=str(b.get("title", "")), payload=str(b.get("payload", "")))
            for b in (message.payload or {}).get("buttons", [])
        ]
        if any(callback_data(b.payload).startswith(KEYED) for b in buttons):
            async with self._sessions() as db, db.begin():
                await remember_long_payloads(db, buttons)
        return await self._sender.send_text(chat_id, message.text, inline_keyboard(buttons))

    async def _relay(self, ready: asyncio.Event) -> None:
        """Operator replies and system notices written outside a turn reach the chat live."""
        async with self._bus.subscribe() as queue:
            ready.set()
            while True:
                event = await queue.get()
                try:
                    await self._route(event)
                except Exception:  # the backlog sweep delivers what this missed
                    logger.exception("telegram relay failed for an event kind=%s", event.kind)

    async def _route(self, event: LiveEvent) -> None:
        message = event.data.get("message") or {}
        if event.kind != LiveEventKind.MESSAGE or message.get("direction") != Direction.OUT:
            return
        if message.get("author") not in RELAYED_AUTHORS:
            return
        session_id = int(event.data["session_id"])
        if session_id not in self._chat_of_session:
            if len(self._chat_of_session) >= SESSION_CACHE_SIZE:
                self._chat_of_session.clear()  # cheap bound; a miss costs one query
            self._chat_of_session[session_id] = await store.chat_of_session(self._sessions, session_id)
        chat_id = self._chat_of_session[session_id]
        if chat_id is not None:
            self._workers.submit(chat_id, lambda: self.flush(chat_id))

    async def _sweep_backlog(self) -> None:
        while True:
            await asyncio.sleep(BACKLOG_SWEEP_S)
            try:
                for chat_id in await store.chats_with_backlog(self._sessions):
                    if not self._workers.has(chat_id):
                        self._workers.submit(chat_id, lambda c=chat_id: self.flush(c))
            except Exception:
                logger.exception("telegram backlog sweep failed")

    def _spawn(self, coro: Any, name: str) -> None:
        self._tasks.append(asyncio.create_task(coro, name=name))


async def start_channel(
    settings: TelegramSettings,
    sessions: async_sessionmaker[AsyncSession],
    conversations: ConversationService,
    messages: SystemMessages,
    bus: EventBus,
    lease: Lease,
    *,
    default_language: str,
) -> TelegramChannel:
    """The channel, started: called by the app's lifespan when a bot token is configured."""
    channel = TelegramChannel(
        settings, create_bot(settings), sessions, conversations, messages, bus, lease,
        default_language=default_language,
    )  # fmt: skip
    await channel.start()
    return channel
