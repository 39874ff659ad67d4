"""Operators' time in each status and their asks for a supervisor, worked out by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handoff.kpi import AskFigures, AskRow, Period, StatusRow, ask_figures, status_seconds

MONDAY = datetime(2024, 5, 6, tzinfo=UTC)


def at(hours: int, minutes: int = 0, day: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hours, minutes=minutes)


def test_a_period_starts_in_the_status_set_before_it_and_ends_at_now() -> None:
    changes = [
        StatusRow(1, "break", at(7, 50)),  # before the period: it begins on a break
        StatusRow(1, "available", at(8, 10)),
        StatusRow(1, "after_call_work", at(9)),
    ]
    spent = status_seconds(changes, Period(at(8), at(12)), now=at(9, 30))
    assert spent == {(1, "2024-05-06"): {"break": 600.0, "available": 3000.0, "after_call_work": 1800.0}}


def test_time_is_split_at_utc_midnight_and_kept_per_operator() -> None:
    changes = [
        StatusRow(2, "available", at(23)),
        StatusRow(1, "offline", at(20)),
        StatusRow(2, "offline", at(1, day=1)),
    ]
    spent = status_seconds(changes, Period(at(0), at(0, day=2)), now=at(12, day=5))
    assert spent[(2, "2024-05-06")] == {"available": 3600.0}
    assert spent[(2, "2024-05-07")] == {"available": 3600.0, "offline": 23 * 3600.0}
    assert spent[(1, "2024-05-06")] == {"offline": 4 * 3600.0}
    assert spent[(1, "2024-05-07")] == {"offline": 24 * 3600.0}


def test_asks_per_day_with_how_and_how_fast_they_were_answered() -> None:
    asks = [
        AskRow(1, at(9), at(9, 2), "acknowledged"),
        AskRow(2, at(10), at(10, 4), "taken_over"),
        AskRow(1, at(11), None, None),
        AskRow(1, at(9, day=1), None, None),  # after the period
    ]
    assert ask_figures(asks, Period(at(0), at(0, day=1))) == {
        "2024-05-06": AskFigures(
            asked=3, acknowledged=1, taken_over=1, still_open=1, mean_answer_seconds=180.0
        )
    }
