"""Low-confidence or out-of-scope input: a clarifying reply, and at the second miss an operator offer."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.history import consecutive_fallbacks, turns


class ActionFallback(Action):
    def name(self) -> str:
        return "action_fallback"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        if consecutive_fallbacks(tracker) % 2 == 0:
            return [FollowupAction("action_offer_handoff")]
        # Wait for the customer: after a core fallback no policy knows what comes next, and
        # without this Rasa would predict the fallback again until its action limit.
        if turns(tracker)[0].intent == "out_of_scope":
            dispatcher.utter_message(response="utter_out_of_scope")
        else:
            dispatcher.utter_message(response="utter_clarify")
        return [FollowupAction("action_listen")]
