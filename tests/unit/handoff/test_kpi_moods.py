"""The mood figures from plain rows: the mood when a ticket was queued and at its close."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.kinds import Mood
from handoff.kpi import MoodRow, MoodTicket, Period, mood_figures, mood_total

T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
DAY = Period(T0 - timedelta(hours=9), T0 + timedelta(hours=15))


def _ticket(ticket_id: int, topic: str = "billing", closed_after_min: int = 30) -> MoodTicket:
    return MoodTicket(ticket_id, ticket_id, topic, "ru", T0, T0 + timedelta(minutes=closed_after_min))


def _said(session_id: int, minutes: int, mood: Mood) -> MoodRow:
    return MoodRow(session_id, T0 + timedelta(minutes=minutes), mood)


def test_start_is_the_mood_when_queued_and_close_the_last_before_closing() -> None:
    tickets = [_ticket(1), _ticket(2, "technical")]
    moods = [
        # Ticket 1: calm long before, angry when queued, calm with the operator, angry after the close.
        _said(1, -20, Mood.CALM), _said(1, -1, Mood.ANGRY), _said(1, 10, Mood.CALM), _said(1, 40, Mood.ANGRY),
        # Ticket 2: negative when queued, angrier with the operator.
        _said(2, 0, Mood.NEGATIVE), _said(2, 20, Mood.ANGRY),
    ]  # fmt: skip
    total = mood_total(tickets, moods, DAY)
    assert total.at_start == {"calm": 0, "negative": 1, "angry": 1}
    assert total.at_close == {"calm": 1, "negative": 0, "angry": 1}
    assert (total.ended_calmer, total.ended_more_upset) == (1, 1)
    assert total.upset_calmed_rate == 0.5
    by_topic = mood_figures(tickets, moods, DAY, "topic")
    assert by_topic["billing"].ended_calmer == 1 and by_topic["technical"].ended_more_upset == 1


def test_a_customer_silent_with_the_operator_keeps_the_mood_they_came_with() -> None:
    figures = mood_total([_ticket(1)], [_said(1, -1, Mood.NEGATIVE)], DAY)
    assert figures.at_close == {"calm": 0, "negative": 1, "angry": 0}
    assert figures.ended_calmer == figures.ended_more_upset == 0


def test_tickets_without_moods_or_closed_outside_the_period_are_left_out() -> None:
    late = _ticket(2, closed_after_min=60 * 20)
    figures = mood_total([_ticket(1), late], [_said(2, 0, Mood.ANGRY)], DAY)
    assert figures.tickets == 0 and figures.ended_calmer_rate is None
