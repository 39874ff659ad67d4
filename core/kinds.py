"""Names the front line stores or sends: event kinds, dispositions, topics, message authors.

StrEnum members equal their stored strings, so rows written before these enums read back the same
and no data migration is needed; a renamed member fails loudly where it is matched."""

from __future__ import annotations

import enum


class SessionEventKind(enum.StrEnum):
    """A row of `session_events`: what happened to a session (the raw material of the figures)."""

    OPENED = "opened"
    LANGUAGE_CHANGED = "language_changed"
    HANDOFF_REQUESTED = "handoff_requested"
    OFFERED = "offered"
    CLAIMED = "claimed"
    FIRST_OPERATOR_REPLY = "first_operator_reply"
    TRANSFERRED = "transferred"
    # A supervisor took the conversation from its operator, or gave it to another (handoff/supervision.py).
    TAKEN_OVER = "taken_over"
    REASSIGNED = "reassigned"
    # An operator asked a supervisor for help with the conversation; a supervisor answered.
    SUPERVISOR_ASKED = "supervisor_asked"
    SUPERVISOR_ANSWERED = "supervisor_answered"
    ABANDONED = "abandoned"
    RETURNED_TO_BOT = "returned_to_bot"
    CALLBACK_OFFERED = "callback_offered"
    CALLBACK_REQUESTED = "callback_requested"
    CALLBACK_CLAIMED = "callback_claimed"
    CALLBACK_TRANSFERRED = "callback_transferred"
    CALLBACK_CLOSED = "callback_closed"
    CLOSED = "closed"
    SURVEY_ASKED = "survey_asked"
    SURVEY_ANSWERED = "survey_answered"
    # A customer message held a watched phrase (core/alerts.py); detail: message_id, phrases.
    KEYWORD_ALERT = "keyword_alert"
    # An operator's reply that started from an agent-assist suggestion (detail: which one).
    REPLY_FROM_SUGGESTION = "reply_from_suggestion"


class LiveEventKind(enum.StrEnum):
    """What operator consoles (and the channels' outboxes) hear on the live stream."""

    TICKET_QUEUED = "ticket_queued"
    TICKET_OFFERED = "ticket_offered"
    TICKET_CLAIMED = "ticket_claimed"
    TICKET_CLOSED = "ticket_closed"
    # A waiting customer turned angry: their ticket moved up the queue (core/repo/moods.py).
    TICKET_MOOD = "ticket_mood"
    MESSAGE = "message"
    OPERATOR_ONLINE = "operator_online"
    # A customer wrote a watched phrase: supervisors' and operators' consoles flag the conversation.
    KEYWORD_ALERT = "keyword_alert"
    # Supervision: a note for the handling operator only, an operator's call for help and its
    # answer, an operator's new status (available, break...). None of them reaches a customer.
    WHISPER = "whisper"
    SUPERVISOR_ASKED = "supervisor_asked"
    SUPERVISOR_ANSWERED = "supervisor_answered"
    OPERATOR_STATUS = "operator_status"
    # Only the streams opened with that log-in hear it, and end.
    LOGGED_OUT = "logged_out"


class OperatorRole(enum.StrEnum):
    OPERATOR = "operator"
    SUPERVISOR = "supervisor"  # also sees every conversation and operator, whispers, takes over


class OperatorStatus(enum.StrEnum):
    """What an operator is doing; only an available one gets auto-offers."""

    AVAILABLE = "available"
    BREAK = "break"
    AFTER_CALL_WORK = "after_call_work"
    OFFLINE = "offline"  # also when their console closes or they log out


class NoteKind(enum.StrEnum):
    NOTE = "note"  # an operator's own note on a ticket
    WHISPER = "whisper"  # a supervisor's note to the handling operator


class Disposition(enum.StrEnum):
    """How a ticket ended: the first four are an operator's choice, the rest the front line's."""

    RESOLVED = "resolved"
    NOT_RESOLVED = "not_resolved"
    CALLBACK_NEEDED = "callback_needed"
    SPAM = "spam"
    ABANDONED = "abandoned"
    RETURNED_TO_BOT = "returned_to_bot"


OPERATOR_DISPOSITIONS = frozenset(
    {Disposition.RESOLVED, Disposition.NOT_RESOLVED, Disposition.CALLBACK_NEEDED, Disposition.SPAM}
)


class Topic(enum.StrEnum):
    """Queue topics the code itself names; the bot may hand off under others (operators' skills)."""

    GENERAL = "general"  # any operator may take it
    ORDERS = "orders"
    BILLING = "billing"
    TECHNICAL = "technical"
    COMPLAINTS = "complaints"


# An operator skill that covers every topic.
ALL_TOPICS = "all"


class MessageAuthor(enum.StrEnum):
    CUSTOMER = "customer"
    BOT = "bot"
    OPERATOR = "operator"
    SYSTEM = "system"  # the core's own holding replies and notices


class Direction(enum.StrEnum):
    IN = "in"  # from the customer
    OUT = "out"  # to the customer


class Mood(enum.StrEnum):
    """The customer's mood in one message (core/mood.py), stored on the message."""

    CALM = "calm"  # neutral or friendly, a plain problem report included
    NEGATIVE = "negative"  # dissatisfied, frustrated, sad
    ANGRY = "angry"  # hostile: insults, threats, swearing, shouting


class MoodTrend(enum.StrEnum):
    """Where the customer's mood goes over their latest messages."""

    RISING = "rising"  # more upset than before
    FALLING = "falling"  # calming down
    STEADY = "steady"
