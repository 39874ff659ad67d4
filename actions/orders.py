"""New connection order: form validation, read-back, corrections, cancellation and storage."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import Any

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.forms import extract_answer
from actions.localise import (
    full_date,
    is_spoken,
    language_of,
    localise_digits,
    number,
    short_date,
    tariff_line,
)
from actions.parsing import (
    match_tariff,
    next_visit_days,
    parse_address,
    parse_full_name,
    parse_phone,
    parse_visit_date,
    visit_date_problem,
)
from actions.resources import catalogue, db_sessions
from core.repo.customers import fill_customer_card
from core.repo.orders import create_order
from core.repo.sessions import session_by_rasa_sender

logger = logging.getLogger(__name__)

ORDER_FIELDS = ("full_name", "phone", "address", "tariff", "visit_date")
SUGGESTED_VISIT_DAYS = 3


def today() -> date:
    return date.today()


def clear_order_slots() -> list[EventType]:
    return [SlotSet(name, None) for name in (*ORDER_FIELDS, "order_confirmed")]


def _answer(
    tracker: Tracker, slot: str, looks_valid: Callable[[str], bool], *, free_text: bool = False
) -> dict[str, Any]:
    """The order form's reading of a message as `slot`; a correction may name any order field."""
    return extract_answer(tracker, slot, looks_valid, fields=ORDER_FIELDS, free_text=free_text)


class ValidateOrderForm(FormValidationAction):
    def name(self) -> str:
        return "validate_order_form"

    async def extract_full_name(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return _answer(tracker, "full_name", lambda t: parse_full_name(t) is not None, free_text=True)

    async def extract_phone(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        regions = catalogue().regions_for(language_of(tracker))
        return _answer(tracker, "phone", lambda t: parse_phone(t, regions) is not None)

    async def extract_address(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        return _answer(tracker, "address", lambda t: parse_address(t) is not None)

    async def extract_tariff(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        tariffs = catalogue().tariffs
        return _answer(tracker, "tariff", lambda t: match_tariff(t, tariffs) is not None)

    async def extract_visit_date(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        language = language_of(tracker)
        return _answer(tracker, "visit_date", lambda t: parse_visit_date(t, today(), language) is not None)

    async def validate_full_name(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        name = parse_full_name(str(value or ""))
        if name is None:
            dispatcher.utter_message(response="utter_invalid_full_name")
        return {"full_name": name}

    async def validate_phone(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        phone = parse_phone(str(value or ""), catalogue().regions_for(language_of(tracker)))
        if phone is None:
            dispatcher.utter_message(response="utter_invalid_phone")
        return {"phone": phone}

    async def validate_address(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        address = parse_address(str(value or ""))
        if address is None:
            dispatcher.utter_message(response="utter_invalid_address")
        return {"address": address}

    async def validate_tariff(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        tariff = match_tariff(str(value or ""), catalogue().tariffs)
        if tariff is None:
            dispatcher.utter_message(response="utter_invalid_tariff")
            return {"tariff": None}
        return {"tariff": tariff.code}

    async def validate_visit_date(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        day = parse_visit_date(str(value or ""), today(), language_of(tracker))
        if day is None:
            dispatcher.utter_message(response="utter_invalid_visit_date_format")
            return {"visit_date": None}
        cat = catalogue()
        problem = visit_date_problem(day, today(), cat)
        if problem is not None:
            dispatcher.utter_message(
                response=f"utter_invalid_visit_date_{problem}",
                max_days=cat.visits.max_days_ahead,
            )
            return {"visit_date": None}
        return {"visit_date": day.isoformat()}

    async def validate_order_confirmed(
        self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if value is True:
            return {"order_confirmed": True}
        # A "no" at the read-back: ask which detail is wrong instead of reading everything again.
        return {"order_confirmed": None}


class ActionAskTariff(Action):
    def name(self) -> str:
        return "action_ask_tariff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = language_of(tracker)
        buttons = [{"title": tariff_line(t, language), "payload": t.name} for t in catalogue().tariffs]
        dispatcher.utter_message(response="utter_ask_tariff", buttons=buttons)
        return []


class ActionAskVisitDate(Action):
    def name(self) -> str:
        return "action_ask_visit_date"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        cat, language = catalogue(), language_of(tracker)
        days = next_visit_days(today(), cat, SUGGESTED_VISIT_DAYS)
        buttons = [{"title": short_date(d, language), "payload": d.isoformat()} for d in days]
        dispatcher.utter_message(
            response="utter_ask_visit_date",
            hours=localise_digits(cat.visits.hours, language),
            max_days=number(cat.visits.max_days_ahead, language),
            buttons=buttons,
        )
        return []


class ActionAskOrderConfirmed(Action):
    """Reads the whole order back; after a "no" only asks which detail to change."""

    def name(self) -> str:
        return "action_ask_order_confirmed"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if (tracker.latest_message.get("intent") or {}).get("name") == "deny":
            dispatcher.utter_message(response="utter_which_field")
            return []
        language = language_of(tracker)
        tariff = catalogue().tariff(str(tracker.get_slot("tariff")))
        day = date.fromisoformat(str(tracker.get_slot("visit_date")))
        dispatcher.utter_message(
            response="utter_order_readback",
            full_name=tracker.get_slot("full_name"),
            phone=tracker.get_slot("phone"),
            address=tracker.get_slot("address"),
            tariff_text=tariff_line(tariff, language, spoken=is_spoken(tracker)) if tariff else "-",
            visit_date_text=full_date(day, language),
        )
        return []


class ActionCorrectOrderField(Action):
    def name(self) -> str:
        return "action_correct_order_field"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        field = next(tracker.get_latest_entity_values("field"), None)
        if field not in ORDER_FIELDS:
            dispatcher.utter_message(response="utter_which_field")
            return []
        dispatcher.utter_message(response=f"utter_change_{field}")
        return [SlotSet(field, None), SlotSet("order_confirmed", None)]


class ActionSubmitOrder(Action):
    def name(self) -> str:
        return "action_submit_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        day = date.fromisoformat(str(tracker.get_slot("visit_date")))
        try:
            number = await self._store(tracker, day)
        except SQLAlchemyError:
            logger.exception("order not stored sender_id=%s", tracker.sender_id)
            # Slots stay filled: asking to order again goes straight to the read-back.
            dispatcher.utter_message(response="utter_order_save_failed")
            return [SlotSet("order_confirmed", None)]
        dispatcher.utter_message(
            response="utter_order_saved",
            order_number=number,
            visit_date_text=full_date(day, language_of(tracker)),
            phone=tracker.get_slot("phone"),
        )
        return clear_order_slots()

    async def _store(self, tracker: Tracker, day: date) -> str:
        async with db_sessions()() as db, db.begin():
            session = await session_by_rasa_sender(db, tracker.sender_id)
            order = await create_order(
                db,
                customer_id=session.customer_id if session else None,
                session_id=session.id if session else None,
                channel=session.channel if session else None,
                full_name=str(tracker.get_slot("full_name")),
                phone=str(tracker.get_slot("phone")),
                address=str(tracker.get_slot("address")),
                tariff_code=str(tracker.get_slot("tariff")),
                visit_date=day,
            )
            if session:
                await fill_customer_card(db, session.customer_id, order.full_name)
            logger.info("order stored number=%s sender_id=%s", order.number, tracker.sender_id)
            return order.number


class ActionCancelOrder(Action):
    """Cancels whichever form was running; an order in progress is forgotten, not stored."""

    def name(self) -> str:
        return "action_cancel_order"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if _last_form(tracker) == "order_form":
            dispatcher.utter_message(response="utter_order_cancelled")
        else:
            dispatcher.utter_message(response="utter_anything_else")
        return [*clear_order_slots(), SlotSet("order_number", None)]


def _last_form(tracker: Tracker) -> str | None:
    for event in reversed(tracker.events):
        if event.get("event") == "active_loop" and event.get("name"):
            return str(event["name"])
    return None
