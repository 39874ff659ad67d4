"""Session start: carries the session's language (sent by the core as metadata) into a slot."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        metadata = (
            tracker.get_slot("session_started_metadata") or tracker.latest_message.get("metadata") or {}
        )
        events: list[EventType] = [SessionStarted()]
        language = metadata.get("language")
        if isinstance(language, str) and language:
            events.append(SlotSet("language", language))
        events.append(ActionExecuted("action_listen"))
        return events
