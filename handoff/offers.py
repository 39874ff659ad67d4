"""Auto-offer: which free operator gets a waiting ticket. Pure choices, no I/O, so they are easy to test."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from core.kinds import ALL_TOPICS, Topic


@dataclass(frozen=True)
class Candidate:
    operator_id: int
    skills: frozenset[str]
    languages: frozenset[str]
    free_slots: int
    # The moment since which the operator has had nothing to do: the later of coming online and
    # finishing the last ticket. The earliest one has waited longest and gets the next ticket.
    idle_since: datetime


def can_take(candidate: Candidate, topic: str, language: str) -> bool:
    topic_ok = topic == Topic.GENERAL or topic in candidate.skills or ALL_TOPICS in candidate.skills
    return candidate.free_slots > 0 and topic_ok and language.split("-")[0] in candidate.languages


def longest_idle(
    candidates: Iterable[Candidate], topic: str, language: str, exclude: frozenset[int] = frozenset()
) -> Candidate | None:
    able = [c for c in candidates if c.operator_id not in exclude and can_take(c, topic, language)]
    return min(able, key=lambda c: (c.idle_since, c.operator_id), default=None)


def idle_since(online_since: datetime, last_finished: Mapping[int, datetime], operator_id: int) -> datetime:
    finished = last_finished.get(operator_id)
    return max(online_since, finished) if finished else online_since
