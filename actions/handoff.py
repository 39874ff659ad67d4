"""Handoff to a person: offered first, then signalled to the core with a custom payload."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ConversationPaused, EventType, FollowupAction
from rasa_sdk.executor import CollectingDispatcher

from actions.history import latest_purpose, misunderstood_texts
from actions.localise import language_of
from bot.responses import formats

SUMMARY_QUOTE_CHARS = 80


@dataclass(frozen=True)
class HandoffReason:
    reason: str
    topic: str
    offer_response: str


_REASONS = {
    "request_human": HandoffReason("customer_request", "general", "utter_offer_handoff"),
    "billing_dispute": HandoffReason("billing_dispute", "billing", "utter_offer_handoff_billing"),
    "complain": HandoffReason("complaint", "complaints", "utter_offer_handoff_complaint"),
    "internet_down": HandoffReason("technical_issue", "technical", "utter_offer_handoff"),
}
_NOT_UNDERSTOOD = HandoffReason("not_understood", "general", "utter_offer_handoff_not_understood")
_DEFAULT = HandoffReason("customer_request", "general", "utter_offer_handoff")


def _quote(text: str, texts: dict[str, str]) -> str:
    text = " ".join(text.split())
    if len(text) > SUMMARY_QUOTE_CHARS:
        text = text[: SUMMARY_QUOTE_CHARS - 1] + "…"
    return texts["quote"].format(text=text)


def handoff_reason(tracker: Tracker) -> HandoffReason:
    if misunderstood_texts(tracker):
        return _NOT_UNDERSTOOD
    intent, _ = latest_purpose(tracker)
    return _REASONS.get(intent, _DEFAULT)


def handoff_summary(tracker: Tracker, reason: HandoffReason) -> str:
    """One line for the operator, in the conversation's language (operators are routed by it):
    why the customer is here, in the customer's own words."""
    texts = formats(language_of(tracker))
    if reason.reason == "not_understood":
        quotes = " / ".join(_quote(t, texts) for t in misunderstood_texts(tracker)[-2:])
        return texts["summary_not_understood"].format(quotes=quotes)
    _, text = latest_purpose(tracker)
    template = texts.get(f"summary_{reason.reason}", texts["summary_customer_request"])
    return template.format(quote=_quote(text, texts))


class ActionOfferHandoff(Action):
    def name(self) -> str:
        return "action_offer_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response=handoff_reason(tracker).offer_response)
        # The offer is a question: wait for the answer whatever led here (rule, story or fallback).
        return [FollowupAction("action_listen")]


class ActionHandoff(Action):
    """Pauses the Rasa conversation and tells the core, which builds the card and queues it."""

    def name(self) -> str:
        return "action_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        reason = handoff_reason(tracker)
        dispatcher.utter_message(response="utter_handoff_started")
        dispatcher.utter_message(
            json_message={
                "handoff": {
                    "reason": reason.reason,
                    "topic": reason.topic,
                    "summary": handoff_summary(tracker, reason),
                }
            }
        )
        return [ConversationPaused()]


class ActionDeclineHandoff(Action):
    def name(self) -> str:
        return "action_decline_handoff"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_handoff_declined")
        return []
