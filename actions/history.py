"""Reading a tracker's past: what the customer said and how the bot answered each turn."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from rasa_sdk import Tracker

# Answers to the bot's own questions; they say nothing about why the customer came.
REPLY_INTENTS = frozenset({"affirm", "deny"})


@dataclass(frozen=True)
class Turn:
    text: str
    intent: str
    answer: str | None  # the bot's first action after the message; None while it is being answered


def turns(tracker: Tracker) -> list[Turn]:
    """User turns with the bot's first answer to each, newest first."""
    events: list[dict[str, Any]] = tracker.events
    users = [i for i, e in enumerate(events) if e.get("event") == "user"]
    result = []
    for position, index in enumerate(users):
        end = users[position + 1] if position + 1 < len(users) else len(events)
        answers = [
            e.get("name")
            for e in events[index + 1 : end]
            if e.get("event") == "action" and e.get("name") != "action_listen"
        ]
        event = events[index]
        intent = str(((event.get("parse_data") or {}).get("intent") or {}).get("name") or "")
        result.append(Turn(str(event.get("text") or ""), intent, answers[0] if answers else None))
    return list(reversed(result))


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many user turns in a row, the current one included, the bot answered with action_fallback.

    Counted on the bot's answers, not on intents: a confident intent the bot could not follow
    (a core fallback) is a miss as well.
    """
    count = 1
    for turn in turns(tracker)[1:]:
        if turn.answer != "action_fallback":
            break
        count += 1
    return count


def misunderstood_texts(tracker: Tracker) -> list[str]:
    """The latest run of messages the bot did not understand, oldest first (after any yes/no)."""
    history = turns(tracker)
    if history and history[0].intent in REPLY_INTENTS:
        history = history[1:]  # the "yes" that accepted an operator offer
    texts = []
    for turn in history:
        if turn.answer != "action_fallback":
            break
        texts.append(turn.text)
    return list(reversed(texts))


def latest_purpose(tracker: Tracker) -> tuple[str, str]:
    """The newest user intent that is not a yes/no answer, with its text."""
    for turn in turns(tracker):
        if turn.intent and turn.intent not in REPLY_INTENTS:
            return turn.intent, turn.text
    return "", ""
