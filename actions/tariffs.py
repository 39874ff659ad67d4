"""Tariffs and prices, always from the catalogue so the bot never quotes an outdated price."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.resources import catalogue
from core.catalogue import Catalogue, Tariff


def tariff_line(tariff: Tariff, currency: str) -> str:
    extra = f" + {tariff.mobile_data_gb} GB mobile data" if tariff.mobile_data_gb else ""
    return f"{tariff.name}: {tariff.speed_mbit} Mbit/s{extra}, {tariff.monthly_price:.2f} {currency} a month"


def tariff_list_text(cat: Catalogue) -> str:
    lines = [f"• {tariff_line(t, cat.currency)}. {t.description}" for t in cat.tariffs]
    return "Our tariffs:\n" + "\n".join(lines)


class ActionListTariffs(Action):
    def name(self) -> str:
        return "action_list_tariffs"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        cat = catalogue()
        buttons = [{"title": "Connect internet", "payload": "/order_new"}]
        if tracker.active_loop_name == "order_form":
            buttons = []
        dispatcher.utter_message(text=tariff_list_text(cat), buttons=buttons)
        return []
