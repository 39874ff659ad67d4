"""Agent assist: answers the bot's own model and the order store suggest for a customer's latest
message, and the record of replies an operator sent starting from one.

Everything stays on the machine: the message goes to the front line's own Rasa server (its parse
endpoint, which writes nothing to any conversation) and to the database. A suggestion only ever
reaches the customer when the operator sends it as their own reply.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.catalogue import Catalogue
from core.dialogue import RasaClient
from core.digits import to_ascii_digits
from core.errors import DialogueUnavailable
from core.kinds import Direction, MessageAuthor, SessionEventKind
from core.localise import full_date
from core.models import ConversationSession, Customer, HandoffTicket, Message, Operator, Order, SessionEvent
from core.phones import parse_phone
from core.repo.orders import order_by_number, orders_of_customer_or_phone, phone_variants
from core.repo.sessions import record_event
from handoff.kpi import EventRow, Period

logger = logging.getLogger(__name__)

# The language's reply texts by response key ("utter_faq/roaming" -> text): the bot's own answers.
BotTexts = Callable[[str], Mapping[str, str]]

MAX_SUGGESTIONS = 3
# Below this a FAQ answer is noise: the model's probability that the message asks that question.
MIN_CONFIDENCE = 0.1
FAQ_INTENT = "faq"
ORDER_STATUS = "order_status"
# Order states with a reply of their own (as the bot's order-status action uses them).
ORDER_STATES = frozenset({"received", "scheduled", "connected", "cancelled"})
# Why a ticket has no suggestions; the console shows a text for each.
NO_CUSTOMER_MESSAGE = "no_customer_message"
BOT_UNAVAILABLE = "bot_unavailable"
NOTHING_CONFIDENT = "nothing_confident"

_ORDER_NUMBER = re.compile(r"(?<!\d)(\d{7})(?!\d)")
# A phone as typed: an optional +, then digits with spaces, dots, dashes or brackets between them.
_PHONE_LIKE = re.compile(r"\+?\d[\d\s().\-]{5,20}\d")


@dataclass(frozen=True)
class Suggestion:
    id: str  # "faq/<topic>" or "order_status": what the reply records when sent from it
    text: str
    confidence: float


@dataclass(frozen=True)
class Suggestions:
    message_id: int | None  # the customer message they answer
    items: list[Suggestion]
    reason: str | None = None  # why there are none


def faq_ranking(parsed: Mapping[str, Any]) -> list[tuple[str, float]]:
    """FAQ answers by the model's probability that the message asks each of them, best first.

    The response selector's confidences are shares within the FAQ intent; multiplied by the FAQ
    intent's own confidence they become comparable with a message that is no question at all.
    Anything not in Rasa's shape counts as nothing, so odd output means no suggestions, not a 500.
    """
    intents = _rows(parsed.get("intent_ranking"))
    faq_share = max((_confidence(i) for i in intents if i.get("name") == FAQ_INTENT), default=0.0)
    selector = parsed.get("response_selector")
    faq = selector.get(FAQ_INTENT) if isinstance(selector, dict) else None
    ranking = [
        (key, _confidence(row) * faq_share)
        for row in _rows(faq.get("ranking") if isinstance(faq, dict) else None)
        if isinstance(key := row.get("intent_response_key"), str) and key.startswith(f"{FAQ_INTENT}/")
    ]
    return sorted(ranking, key=lambda item: -item[1])


def _rows(value: Any) -> list[dict[str, Any]]:
    return [row for row in value if isinstance(row, dict)] if isinstance(value, list) else []


def _confidence(row: Mapping[str, Any]) -> float:
    value = row.get("confidence")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def order_number_in(text: str) -> str | None:
    """A 7-digit order number in free text, in any digit script."""
    found = _ORDER_NUMBER.search(to_ascii_digits(text))
    return found.group(1) if found else None


def phones_in(text: str, regions: Sequence[str]) -> list[str]:
    """Every real phone number in free text (any digit script), in E.164."""
    found = (parse_phone(m.group(0), regions) for m in _PHONE_LIKE.finditer(to_ascii_digits(text)))
    return list(dict.fromkeys(p for p in found if p))


class AgentAssist:
    def __init__(
        self,
        db_sessions: async_sessionmaker[AsyncSession],
        rasa: RasaClient,
        bot_texts: BotTexts,
        catalogue: Catalogue,
    ) -> None:
        self._db_sessions = db_sessions
        self._rasa = rasa
        self._bot_texts = bot_texts
        self._catalogue = catalogue

    async def suggest(self, ticket: HandoffTicket, messages: Sequence[Message]) -> Suggestions:
        """Up to three answers to the customer's latest message, in the ticket's language: the
        order it names first (a look-up, not a guess), then the FAQ answers the bot ranks highest."""
        latest = next((m for m in reversed(messages) if _from_customer(m)), None)
        if latest is None or not latest.text.strip():
            return Suggestions(None, [], NO_CUSTOMER_MESSAGE)
        language = ticket.language.split("-")[0]
        texts = self._bot_texts(language)
        items = await self._order_status(latest.text, language, texts)
        try:
            parsed = await self._rasa.parse(f"assist:{ticket.session_id}", latest.text)
        except DialogueUnavailable as exc:
            logger.warning("suggestions without the bot ticket_id=%s: %s", ticket.id, exc)
            return Suggestions(latest.id, items, None if items else BOT_UNAVAILABLE)
        for key, confidence in faq_ranking(parsed):
            text = texts.get(f"utter_{key}")
            if len(items) >= MAX_SUGGESTIONS or confidence < MIN_CONFIDENCE:
                break
            if text:
                items.append(Suggestion(key, text, round(confidence, 3)))
        return Suggestions(latest.id, items, None if items else NOTHING_CONFIDENT)

    async def _order_status(self, text: str, language: str, texts: Mapping[str, str]) -> list[Suggestion]:
        number = order_number_in(text)
        async with self._db_sessions() as db:
            if number:
                order = await order_by_number(db, number)
            else:
                order = await self._order_of_phone(db, phones_in(text, self._catalogue.regions_for(language)))
        if order is not None:
            return [Suggestion(ORDER_STATUS, self._status_text(order, language, texts), 1.0)]
        if number and "utter_order_not_found" in texts:
            return [Suggestion(ORDER_STATUS, texts["utter_order_not_found"].format(order_number=number), 1.0)]
        return []

    async def _order_of_phone(self, db: AsyncSession, phones: list[str]) -> Order | None:
        """The newest order placed with one of the phones or by the customer who has it."""
        for phone in phones:
            customer = await db.scalar(
                select(Customer).where(Customer.phone.in_(phone_variants(phone))).order_by(Customer.id.desc())
            )
            if customer is not None:
                orders = await orders_of_customer_or_phone(db, customer.id, phone, limit=1)
            else:
                orders = list(
                    await db.scalars(
                        select(Order)
                        .where(Order.phone.in_(phone_variants(phone)))
                        .order_by(Order.id.desc())
                        .limit(1)
                    )
                )
            if orders:
                return orders[0]
        return None

    def _status_text(self, order: Order, language: str, texts: Mapping[str, str]) -> str:
        """The order's state as the bot itself would say it."""
        tariff = self._catalogue.tariff(order.tariff_code)
        state = order.status if order.status in ORDER_STATES else "received"
        return texts[f"utter_order_status_{state}"].format(
            order_number=order.number,
            tariff_name=tariff.name_in(language) if tariff else order.tariff_code,
            visit_date_text=full_date(order.visit_date, language),
        )

    async def record_reply(
        self, ticket_id: int, operator: Operator, message: Message, suggestion: str
    ) -> None:
        """Notes that a sent reply started from a suggestion (the figures count them).

        Written after the reply committed: by then the customer has it, so a failure here is
        logged and costs one count, never the operator's reply."""
        try:
            async with self._db_sessions() as db, db.begin():
                session = await db.get(ConversationSession, message.session_id)
                if session is None:
                    return
                detail = {
                    "ticket_id": ticket_id,
                    "operator_id": operator.id,
                    "suggestion": suggestion,
                    "message_id": message.id,
                }
                kind = SessionEventKind.REPLY_FROM_SUGGESTION
                await record_event(db, session, kind, session.state, session.state, detail)
        except SQLAlchemyError:
            logger.exception("reply from a suggestion not recorded ticket_id=%s", ticket_id)


def _from_customer(message: Message) -> bool:
    return message.direction == Direction.IN and message.author == MessageAuthor.CUSTOMER


async def load_suggestion_uses(db: AsyncSession, period: Period) -> tuple[list[EventRow], int]:
    """The replies sent from a suggestion in the period, and how many operator replies were sent."""
    since, until = period.since.astimezone(UTC), period.until.astimezone(UTC)  # rows are UTC
    rows = await db.execute(
        select(SessionEvent.session_id, SessionEvent.created_at, SessionEvent.detail).where(
            SessionEvent.kind == SessionEventKind.REPLY_FROM_SUGGESTION,
            SessionEvent.created_at >= since,
            SessionEvent.created_at < until,
        )
    )
    kind = SessionEventKind.REPLY_FROM_SUGGESTION
    uses = [EventRow(sid, kind, at, detail if isinstance(detail, dict) else {}) for sid, at, detail in rows]
    replies = await db.scalar(
        select(func.count())
        .select_from(Message)
        .where(
            Message.author == MessageAuthor.OPERATOR, Message.created_at >= since, Message.created_at < until
        )
    )
    return uses, int(replies or 0)
