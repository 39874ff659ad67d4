"""Tariffs and prices, always from the catalogue so the bot never quotes an outdated price."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.localise import is_spoken, language_of, tariff_line
from actions.resources import catalogue
from bot.responses import formats


def tariff_list_text(language: str, *, spoken: bool = False) -> str:
    """One line per tariff with its description, in the customer's language."""
    return "\n".join(
        f"• {tariff_line(t, language, spoken=spoken)}. {t.description_in(language)}"
        for t in catalogue().tariffs
    )


class ActionListTariffs(Action):
    def name(self) -> str:
        return "action_list_tariffs"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        language = language_of(tracker)
        buttons = [{"title": formats(language)["connect_button"], "payload": "/order_new"}]
        if tracker.active_loop_name == "order_form":
            buttons = []
        dispatcher.utter_message(
            response="utter_tariff_list",
            tariffs=tariff_list_text(language, spoken=is_spoken(tracker)),
            buttons=buttons,
        )
        return []
