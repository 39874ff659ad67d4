"""One stored update turned into what the customer meant: a turn, a button press, a file, a phone."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

from aiogram import Bot
from aiogram.exceptions import TelegramAPIError, TelegramNetworkError
from aiogram.types import CallbackQuery, Message, Update, User
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bot.telegram import CHANNEL
from bot.telegram.keyboards import payload_of, share_phone_keyboard
from bot.telegram.media import describe_media
from bot.telegram.sender import Sender
from bot.telegram.store import Chats
from core.conversation import ConversationService
from core.errors import InvalidTurn
from core.messages import SystemMessages
from core.models import Customer
from core.phones import normalise_phone
from core.repo.customers import set_verified_phone
from core.repo.sessions import CLIENT_MESSAGE_ID, answered_turn
from core.schemas import InboundTurn

logger = logging.getLogger(__name__)

# /start asks the bot to greet: the greeting carries the main menu as buttons.
START_PAYLOAD = "/greet"

Flush = Callable[[int], Awaitable[None]]


def customer_key(user: User) -> str:
    return f"tg:{user.id}"


def language_of(user: User | None, default: str) -> str:
    """Telegram's IETF tag ("pt-br") reduced to the base language the core's texts are keyed by."""
    code = (user.language_code if user else None) or default
    return code.split("-")[0].lower()


class UpdateHandler:
    def __init__(
        self,
        bot: Bot,
        sessions: async_sessionmaker[AsyncSession],
        conversations: ConversationService,
        messages: SystemMessages,
        sender: Sender,
        chats: Chats,
        flush: Flush,
        *,
        default_language: str,
    ) -> None:
        self._bot = bot
        self._sessions = sessions
        self._conversations = conversations
        self._messages = messages
        self._sender = sender
        self._chats = chats
        self._flush = flush
        self._default_language = default_language

    async def handle(self, raw: dict[str, Any], *, again: bool = False) -> int | None:
        """Store and answer the update through the core; returns the chat whose replies are due.

        `again`: the update may have been handled before (found unhandled at start, or retried);
        a turn the core already has is then not handed to it a second time.
        """
        update = Update.model_validate(raw, context={"bot": self._bot})
        if update.message is not None:
            return await self._on_message(update.message, raw, again)
        if update.callback_query is not None:
            return await self._on_callback(update.callback_query, raw, again)
        logger.debug("telegram update ignored update_id=%s", update.update_id)
        return None

    async def _on_message(self, message: Message, raw: dict[str, Any], again: bool) -> int | None:
        user = message.from_user
        if user is None or message.chat.type != "private":
            return None  # groups and channels are not customer conversations
        chat_id = message.chat.id
        await self._chats.ensure(chat_id, customer_key(user))
        turn = self._turn(user, "", raw, chat_id, message_turn_id(chat_id, message.message_id), again)
        # A text the core stored but never answered (stopped in between) goes to it again: the
        # core answers it once. Files and contacts are acknowledged as they are stored.
        if again and await self._core_has(turn, unless_unanswered=message.text is not None):
            return chat_id
        if message.text is not None:
            await self._on_text(message.text, turn, chat_id)
        elif message.contact is not None:
            await self._on_contact(message, turn)
        else:
            await self._on_media(message, turn)
        return chat_id

    async def _on_text(self, text: str, turn: InboundTurn, chat_id: int) -> None:
        start = text.strip() == "/start" or text.startswith("/start ")
        try:
            await self._conversations.handle_turn(_with_text(turn, START_PAYLOAD if start else text))
        except InvalidTurn:
            lang = await self._language(turn)
            await self._sender.send_text(chat_id, self._messages.get("message_too_long", lang))
            return
        if start:
            await self._flush(chat_id)  # the greeting first, then the offer to share the phone
            await self._offer_phone(turn, chat_id)

    async def _offer_phone(self, turn: InboundTurn, chat_id: int) -> None:
        async with self._sessions() as db:
            phone = await db.scalar(select(Customer.phone).where(Customer.key == turn.customer_key))
        if phone:
            return
        lang = await self._language(turn)
        await self._sender.send_text(
            chat_id,
            self._messages.get("share_phone_prompt", lang),
            share_phone_keyboard(self._messages.get("share_phone_button", lang)),
        )

    async def _on_contact(self, message: Message, turn: InboundTurn) -> None:
        contact = message.contact
        assert contact is not None and message.from_user is not None
        number = contact.phone_number.strip()
        phone = normalise_phone(number if number.startswith("+") else f"+{number}")
        own = contact.user_id == message.from_user.id
        media = {"kind": "contact", "phone": phone or number, "own": own}
        stored = _with_text(turn, f"[contact] {phone or number}", media=media)
        if own and phone:
            # Only the customer's own number, vouched for by Telegram, goes on their card.
            async with self._sessions() as db, db.begin():
                await set_verified_phone(db, turn.customer_key, phone, turn.language)
            await self._conversations.handle_media(stored, "phone_linked")
        else:
            await self._conversations.handle_media(stored, "media_saved")

    async def _on_media(self, message: Message, turn: InboundTurn) -> None:
        described = describe_media(message)
        if described is None:
            text, media = f"[{message.content_type}]", {"kind": str(message.content_type)}
        else:
            text, media = described
        await self._conversations.handle_media(_with_text(turn, text, media=media), "media_saved")

    async def _on_callback(self, query: CallbackQuery, raw: dict[str, Any], again: bool) -> int | None:
        user = query.from_user
        chat_id = query.message.chat.id if query.message is not None else user.id
        turn = self._turn(user, "", raw, chat_id, f"tg:press:{query.id}", again)
        if again and await self._core_has(turn):
            return chat_id
        async with self._sessions() as db:
            payload = await payload_of(db, query.data or "")
        lang = await self._conversations.session_language(customer_key(user)) or language_of(
            user, self._default_language
        )
        # Always answered, so the customer's button stops spinning; an unknown key says why.
        notice = None if payload else self._messages.get("button_expired", lang)
        await self._answer(query, notice)
        if payload is None:
            return None
        await self._chats.ensure(chat_id, customer_key(user))
        try:
            await self._conversations.handle_turn(_with_text(turn, payload))
        except InvalidTurn:
            logger.warning("telegram button payload refused chat_id=%s", chat_id)
        return chat_id

    async def _answer(self, query: CallbackQuery, notice: str | None) -> None:
        try:
            await self._bot.answer_callback_query(query.id, text=notice)
        except (TelegramAPIError, TelegramNetworkError) as exc:
            # Too late or Telegram is down: the press itself is still handled.
            logger.warning("callback query not answered: %s", exc)

    async def _language(self, turn: InboundTurn) -> str:
        """The session's language when there is one, else the Telegram interface language."""
        return (
            await self._conversations.session_language(turn.customer_key)
            or turn.language
            or (self._default_language)
        )

    async def _core_has(self, turn: InboundTurn, *, unless_unanswered: bool = False) -> bool:
        """The core stored this turn already (the process stopped before the update was marked);
        `unless_unanswered`: False when nothing was answered to it yet."""
        async with self._sessions() as db:
            found = await answered_turn(db, turn.customer_key, turn.metadata[CLIENT_MESSAGE_ID])
        if found is None or (unless_unanswered and found.unanswered):
            return False
        update_id = turn.metadata["telegram"]["update_id"]
        logger.info("telegram turn already with the core update_id=%s", update_id)
        return True

    def _turn(
        self, user: User, text: str, raw: dict[str, Any], chat_id: int, turn_id: str, again: bool
    ) -> InboundTurn:
        """`turn_id` names what the customer did (a message, a press) once, whatever update carried
        it. An update handled for the first time is new to the core too (the inbox stored it just
        now; Telegram keeps an update's id when it delivers it again), so the core does not look."""
        return InboundTurn(
            customer_key=customer_key(user),
            channel=CHANNEL,
            text=text,
            language=language_of(user, self._default_language),
            first_delivery=not again,
            metadata={
                "telegram": {
                    "update_id": raw["update_id"],
                    "chat_id": chat_id,
                    "message_id": message_id_of(raw),
                },
                CLIENT_MESSAGE_ID: turn_id,
            },
        )


def message_turn_id(chat_id: int, message_id: int) -> str:
    return f"tg:{chat_id}:{message_id}"  # a message id is never reused within a chat


def message_id_of(raw: dict[str, Any]) -> int | None:
    message = raw.get("message") or (raw.get("callback_query") or {}).get("message") or {}
    return message.get("message_id")


def _with_text(turn: InboundTurn, text: str, *, media: dict[str, Any] | None = None) -> InboundTurn:
    metadata = {**turn.metadata, "media": media} if media is not None else turn.metadata
    return replace(turn, text=text, metadata=metadata)
