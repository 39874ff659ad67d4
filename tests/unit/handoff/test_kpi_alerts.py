"""Keyword alerts in the figures (handoff.kpi.count_alerts), from plain event rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from core.kinds import SessionEventKind as Kind
from handoff.kpi import AlertCount, EventRow, Period, count_alerts

DAY = datetime(2026, 12, 1, tzinfo=UTC)
PERIOD = Period(DAY, DAY + timedelta(days=2))


def _alert(session_id: int, hours: float, *phrases: tuple[str, str]) -> EventRow:
    detail = {"message_id": 1, "phrases": [{"phrase": p, "language": lang} for p, lang in phrases]}
    return EventRow(session_id, Kind.KEYWORD_ALERT, DAY + timedelta(hours=hours), detail)


EVENTS = [
    _alert(1, 1, ("суд", "ru"), ("жалоба", "ru")),
    _alert(1, 2, ("суд", "ru")),
    _alert(2, 30, ("شکایت", "fa")),
    _alert(3, 60, ("lawyer", "en")),  # after the period
    EventRow(4, Kind.CLAIMED, DAY + timedelta(hours=3), {}),  # not an alert
]


def test_totals_count_messages_and_conversations_of_the_period() -> None:
    assert count_alerts(EVENTS, PERIOD) == {None: AlertCount(alerts=3, conversations=2)}


def test_by_phrase_a_message_counts_once_for_each_of_its_phrases() -> None:
    assert count_alerts(EVENTS, PERIOD, "phrase") == {
        "жалоба": AlertCount(1, 1),
        "суд": AlertCount(2, 1),
        "شکایت": AlertCount(1, 1),
    }


def test_by_language_and_by_day() -> None:
    assert count_alerts(EVENTS, PERIOD, "language") == {"fa": AlertCount(1, 1), "ru": AlertCount(2, 1)}
    assert count_alerts(EVENTS, PERIOD, "day") == {
        "2026-12-01": AlertCount(2, 1),
        "2026-12-02": AlertCount(1, 1),
    }


def test_a_row_without_phrases_still_counts_under_none() -> None:
    bare = EventRow(9, Kind.KEYWORD_ALERT, DAY, {})
    assert count_alerts([bare], PERIOD, "phrase") == {None: AlertCount(1, 1)}
