"""Who gets an auto-offered ticket: able to take it, and idle longest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from handoff.offers import Candidate, idle_since, longest_idle

T0 = datetime(2026, 11, 22, 9, 0, tzinfo=UTC)


def candidate(
    op: int, minutes: int, *, skills: str = "general", languages: str = "en", free: int = 1
) -> Candidate:
    return Candidate(
        op,
        frozenset(skills.split(",")),
        frozenset(languages.split(",")),
        free,
        T0 + timedelta(minutes=minutes),
    )


def test_the_longest_idle_operator_with_skill_language_and_a_free_place_wins() -> None:
    pool = [
        candidate(1, 0, free=0),  # idle longest but at the limit
        candidate(2, 1, skills="billing"),  # wrong skill
        candidate(3, 2, languages="ar,fa"),  # wrong language
        candidate(4, 5, skills="orders,technical"),
        candidate(5, 3, skills="all"),
    ]
    assert longest_idle(pool, "technical", "en-GB").operator_id == 5  # type: ignore[union-attr]
    assert longest_idle(pool, "technical", "fa") is None
    assert longest_idle(pool, "general", "ar").operator_id == 3  # type: ignore[union-attr]
    assert longest_idle(pool, "technical", "en", exclude=frozenset({5})).operator_id == 4  # type: ignore[union-attr]


def test_idle_time_counts_from_the_last_finished_ticket_or_from_coming_online() -> None:
    online = T0
    finished = {7: T0 + timedelta(minutes=10)}
    assert idle_since(online, finished, 7) == T0 + timedelta(minutes=10)
    assert idle_since(online, finished, 8) == T0
    assert idle_since(online, {9: T0 - timedelta(hours=1)}, 9) == T0
