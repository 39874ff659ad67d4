"""Seconds per place in the queue, from plain waits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from core.queue_wait import Wait, seconds_per_place

T0 = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


def _at(seconds: int | None) -> datetime | None:
    return None if seconds is None else T0 + timedelta(seconds=seconds)


def _wait(ticket_id: int, joined_s: int, claimed_s: int | None, left_s: int | None = None) -> Wait:
    joined = T0 + timedelta(seconds=joined_s)
    return Wait(ticket_id, joined, _at(claimed_s), _at(claimed_s if left_s is None else left_s))


def test_a_wait_is_divided_by_the_place_it_started_from() -> None:
    waits = [_wait(1, 0, 60), _wait(2, 0, 120), _wait(3, 0, 180)]
    assert seconds_per_place(waits, T0) == pytest.approx(60.0)


def test_only_those_still_waiting_count_as_ahead() -> None:
    # Ticket 1 was claimed before ticket 2 joined: ticket 2 started first in line.
    waits = [_wait(1, 0, 30), _wait(2, 40, 100)]
    assert seconds_per_place(waits, T0) == pytest.approx((30 + 60) / 2)


def test_an_abandoned_or_waiting_ticket_is_ahead_but_gives_no_rate() -> None:
    waits = [_wait(1, 0, None, left_s=200), _wait(2, 0, None), _wait(3, 10, 130)]
    assert seconds_per_place(waits, T0) == pytest.approx(120 / 3)


def test_no_claims_since_the_start_give_none() -> None:
    assert seconds_per_place([_wait(1, 0, 60)], T0 + timedelta(hours=1)) is None
    assert seconds_per_place([], T0) is None
