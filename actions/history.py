"""Reading a tracker's past: what the customer said and asked for, for fallbacks and handoffs."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from rasa_sdk import Tracker

FALLBACK_INTENTS = frozenset({"nlu_fallback", "out_of_scope"})
# Answers to the bot's own questions; they say nothing about why the customer came.
REPLY_INTENTS = frozenset({"affirm", "deny"})


def user_events(tracker: Tracker) -> Iterator[dict[str, Any]]:
    """User turns, newest first."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            yield event


def intent_of(event: dict[str, Any]) -> str:
    return str((event.get("parse_data") or {}).get("intent", {}).get("name") or "")


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many of the latest user turns in a row the bot did not understand."""
    count = 0
    for event in user_events(tracker):
        if intent_of(event) not in FALLBACK_INTENTS:
            break
        count += 1
    # A core fallback (a known intent in a context the bot cannot follow) counts as one.
    return max(count, 1)


def latest_purpose(tracker: Tracker) -> tuple[str, str]:
    """The newest user intent that is not a yes/no answer, with its text."""
    for event in user_events(tracker):
        intent = intent_of(event)
        if intent and intent not in REPLY_INTENTS:
            return intent, str(event.get("text") or "")
    return "", ""


def recent_texts(tracker: Tracker, intents: frozenset[str], limit: int) -> list[str]:
    """Texts of the latest run of user turns with one of these intents (after any yes/no), oldest first."""
    texts: list[str] = []
    for event in user_events(tracker):
        if not texts and intent_of(event) in REPLY_INTENTS:
            continue  # the "yes" that accepted an offer
        if intent_of(event) not in intents or len(texts) == limit:
            break
        texts.append(str(event.get("text") or ""))
    return list(reversed(texts))
