"""Order status: by the number the customer gives, or the customer's latest order."""

from __future__ import annotations

import logging
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.forms import extract_answer
from actions.localise import full_date, language_of
from actions.parsing import find_order_number
from actions.resources import catalogue, db_sessions
from core.models import Customer, Order
from core.repo.orders import latest_order, order_by_number
from core.repo.sessions import session_by_rasa_sender

logger = logging.getLogger(__name__)

# Order states that have a reply of their own (utter_order_status_<state>).
KNOWN_STATES = frozenset({"received", "scheduled", "connected", "cancelled"})


async def _latest_order_of_sender(sender_id: str) -> Order | None:
    async with db_sessions()() as db:
        session = await session_by_rasa_sender(db, sender_id)
        if session is None:
            return None
        customer = await db.get(Customer, session.customer_id)
        return await latest_order(db, session.customer_id, customer.phone if customer else None)


def utter_status(dispatcher: CollectingDispatcher, order: Order, language: str) -> None:
    """The order's state in the customer's language, with its tariff and visit day."""
    tariff = catalogue().tariff(order.tariff_code)
    state = order.status if order.status in KNOWN_STATES else "received"
    dispatcher.utter_message(
        response=f"utter_order_status_{state}",
        order_number=order.number,
        tariff_name=tariff.name_in(language) if tariff else order.tariff_code,
        visit_date_text=full_date(order.visit_date, language),
    )


class ValidateOrderStatusForm(FormValidationAction):
    def name(self) -> str:
        return "validate_order_status_form"

    async def extract_order_number(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return extract_answer(tracker, "order_number", lambda t: find_order_number(t) is not None)

    async def validate_order_number(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        number = find_order_number(str(value or ""))
        if number is None:
            dispatcher.utter_message(response="utter_ask_order_number")
        return {"order_number": number}


class ActionOrderStatus(Action):
    """Answers at once when the number or the customer's latest order is known, else asks."""

    def name(self) -> str:
        return "action_order_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        # The slot may come from an entity; only a real 7-digit number counts.
        number = find_order_number(str(tracker.get_slot("order_number") or "")) or find_order_number(
            str(tracker.latest_message.get("text") or "")
        )
        try:
            order = await self._find(tracker, number)
        except SQLAlchemyError:
            logger.exception("order look-up failed sender_id=%s", tracker.sender_id)
            dispatcher.utter_message(response="utter_lookup_failed")
            return [SlotSet("order_number", None)]
        if order is not None:
            utter_status(dispatcher, order, language_of(tracker))
        elif number:
            dispatcher.utter_message(response="utter_order_not_found", order_number=number)
        else:
            # Neither a number nor an order of this customer: ask for the number.
            return [FollowupAction("order_status_form")]
        return [SlotSet("order_number", None)]

    async def _find(self, tracker: Tracker, number: str | None) -> Order | None:
        if number:
            async with db_sessions()() as db:
                return await order_by_number(db, number)
        return await _latest_order_of_sender(tracker.sender_id)
