"""Contact-centre figures replayed from a scripted day of session events, every value worked out by hand."""

from __future__ import annotations

from dataclasses import asdict, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from core.kinds import SessionEventKind
from handoff.kpi import (
    FIGURE_KINDS,
    HISTORY_ONLY,
    EventRow,
    GroupBy,
    KpiData,
    KpiFigures,
    Period,
    SessionRow,
    TicketRow,
    compute_figures,
    group_figures,
)

MONDAY = datetime(2024, 5, 6, tzinfo=UTC)


def at(hours: int, minutes: int = 0, seconds: int = 0, day: int = 0) -> datetime:
    return MONDAY + timedelta(days=day, hours=hours, minutes=minutes, seconds=seconds)


# Monday plus Tuesday: Monday's closes need Tuesday for their 24 h repeat-contact window to pass.
TWO_DAYS = Period(at(0), at(0, day=2))


def figures(**given: Any) -> KpiFigures:
    """Figures with nothing in them, except what is given."""
    empty: dict[str, Any] = {f.name: None for f in fields(KpiFigures)}
    empty.update(dict.fromkeys(("queue_length", "satisfaction_count", "sessions", "handoffs"), 0))
    empty.update(dict.fromkeys(("claimed", "abandoned", "closed"), 0))
    return KpiFigures(**(empty | given))


class Script:
    """Writes session events the way the front line does, for a made-up day."""

    def __init__(self) -> None:
        self.events: list[EventRow] = []
        self.sessions: list[SessionRow] = []
        self.tickets: list[TicketRow] = []
        self._language: dict[int, str] = {}

    def data(self) -> KpiData:
        return KpiData(self.events, self.sessions, self.tickets)

    def event(
        self, session_id: int, kind: str, when: datetime, to_state: str | None = None, **detail: Any
    ) -> None:
        self.events.append(EventRow(session_id, kind, when, detail, to_state))

    def open(self, session_id: int, customer_id: int, when: datetime, language: str = "en") -> None:
        self.sessions.append(SessionRow(session_id, customer_id, "web", language, when))
        self._language[session_id] = language
        self.event(session_id, "opened", when, channel="web")

    def handoff(
        self, session_id: int, ticket_id: int, when: datetime, topic: str, operator_id: int | None = None
    ) -> None:
        language = self._language[session_id]
        self.tickets.append(TicketRow(ticket_id, session_id, topic, language, operator_id))
        self.event(session_id, "handoff_requested", when, reason="asked", topic=topic, ticket_id=ticket_id)

    def claim(self, session_id: int, ticket_id: int, when: datetime, operator_id: int) -> None:
        self.event(session_id, "claimed", when, ticket_id=ticket_id, operator_id=operator_id)


def scripted_day() -> KpiData:
    s = Script()
    # S1 (customer 1): the bot alone answers it. Customer 1 comes back only 29 h 57 min later (S8).
    s.open(1, 1, at(8))
    s.event(1, "closed", at(8, 3), by="bot")
    # S2 (customer 2): billing, claimed by operator 7 after 10 s, handled 600 s, survey 4.
    s.open(2, 2, at(9))
    s.handoff(2, 1, at(9, 1), "billing", operator_id=7)
    s.claim(2, 1, at(9, 1, 10), operator_id=7)
    s.event(2, "first_operator_reply", at(9, 1, 30), ticket_id=1, operator_id=7)
    s.event(2, "closed", at(9, 11, 10), by="operator", ticket_id=1, disposition="resolved")
    s.event(2, "survey_answered", at(9, 12), rating=4)
    # S3 (customer 3, Russian): technical, claimed by operator 8 after 40 s, handled 300 s, then
    # given back to the bot, which closes it: not contained, since a person was needed.
    s.open(3, 3, at(10), language="ru")
    s.handoff(3, 2, at(10, 0, 20), "technical", operator_id=8)
    s.claim(3, 2, at(10, 1), operator_id=8)
    s.event(3, "returned_to_bot", at(10, 6), ticket_id=2, operator_id=8)
    s.event(3, "closed", at(10, 10), by="bot")
    # S4 (customer 4): billing, the customer gives up after 60 s in the queue and the session closes...
    s.open(4, 4, at(11))
    s.handoff(4, 3, at(11, 0, 30), "billing")
    s.event(4, "abandoned", at(11, 1, 30), to_state="closed", ticket_id=3, by="timeout")
    # ... and S5 is the same customer again 2 h 58 min 30 s later: S4 was not resolved.
    s.open(5, 4, at(14))
    s.event(5, "closed", at(14, 5), by="bot")
    # S6 (customer 6): technical, claimed by operator 7 after exactly 20 s (inside the service level),
    # handled 1200 s, survey 2.
    s.open(6, 6, at(12))
    s.handoff(6, 4, at(12, 0, 5), "technical", operator_id=7)
    s.claim(6, 4, at(12, 0, 25), operator_id=7)
    s.event(6, "closed", at(12, 20, 25), by="operator", ticket_id=4, disposition="resolved")
    s.event(6, "survey_answered", at(12, 21), rating=2)
    # S7 (customer 7, Arabic): billing, nobody claims it; it is still in the queue at the end.
    s.open(7, 7, at(16), language="ar")
    s.handoff(7, 5, at(16, 2), "billing")
    s.event(7, "callback_offered", at(16, 5), ticket_id=5, why="long_wait")  # not taken: still waiting
    # S8 (customer 1 again, on Tuesday, outside S1's 24 h): the bot answers it. Its own window ends
    # on Wednesday, after the period, so it is not judged for first-contact resolution.
    s.open(8, 1, at(14, day=1))
    s.event(8, "closed", at(14, 2, day=1), by="bot")
    return s.data()


def test_figures_of_the_scripted_day() -> None:
    assert compute_figures(scripted_day(), TWO_DAYS) == KpiFigures(
        queue_length=1,  # S7
        average_speed_of_answer_seconds=70 / 3,  # (10 + 40 + 20) / 3
        average_handle_time_seconds=700.0,  # (600 + 300 + 1200) / 3
        abandonment_rate=0.25,  # 1 abandoned (S4) / (3 claimed + 1 abandoned)
        service_level=0.5,  # 2 within 20 s (10 s, 20 s; not 40 s) / (3 + 1)
        bot_containment=3 / 7,  # S1, S5, S8 of the closed S1, S2, S3, S4 (abandoned), S5, S6, S8
        first_contact_resolution=5 / 6,  # S1..S6 are judged (not S8: too late); S4 had a repeat
        satisfaction_mean=3.0,  # (4 + 2) / 2
        satisfaction_count=2,
        sessions=8,
        handoffs=5,  # tickets 1..5
        claimed=3,  # tickets 1, 2, 4
        abandoned=1,  # ticket 3
        closed=7,
    )


def test_the_order_rows_arrive_in_does_not_matter() -> None:
    data = scripted_day()
    shuffled = KpiData(list(reversed(data.events)), data.sessions, data.tickets)
    assert compute_figures(shuffled, TWO_DAYS) == compute_figures(data, TWO_DAYS)


def test_first_contact_resolution_waits_for_the_whole_window() -> None:
    # Monday alone: every Monday close still has part of its 24 h on Tuesday, so none is judged.
    monday = compute_figures(scripted_day(), Period(at(0), at(0, day=1)))
    assert monday.first_contact_resolution is None
    assert (monday.sessions, monday.closed) == (7, 6)  # S8 and its close are on Tuesday
    assert monday.bot_containment == 2 / 6  # S1, S5 of S1..S6


@pytest.mark.parametrize(
    ("offset", "repeated"),
    [(timedelta(0), True), (timedelta(hours=24), True), (timedelta(hours=24, seconds=1), False)],
)
def test_a_repeat_contact_is_one_within_24_hours_of_the_close(offset: timedelta, repeated: bool) -> None:
    s = Script()
    s.open(1, 1, at(8))
    s.event(1, "closed", at(9), by="idle")
    s.open(2, 1, at(9) + offset)  # an idle close and the new session can share an instant
    # Only S1 is closed, so it alone is judged: resolved unless S2 came within the window.
    result = compute_figures(s.data(), Period(at(0), at(0, day=3)))
    assert result.first_contact_resolution == (0.0 if repeated else 1.0)


def test_service_level_threshold_is_a_parameter() -> None:
    data = scripted_day()
    assert compute_figures(data, TWO_DAYS, service_level_seconds=40).service_level == 0.75  # 3 / 4
    assert compute_figures(data, TWO_DAYS, service_level_seconds=9).service_level == 0.0  # 0 / 4


def test_group_by_topic() -> None:
    assert group_figures(scripted_day(), TWO_DAYS, "topic") == {
        # Tickets 1, 3, 5; sessions S2, S4, S7.
        "billing": figures(
            queue_length=1,  # S7
            average_speed_of_answer_seconds=10.0,
            average_handle_time_seconds=600.0,
            abandonment_rate=0.5,  # 1 / (1 + 1)
            service_level=0.5,  # 10 s / (1 + 1)
            bot_containment=0.0,  # closes: S2, S4
            first_contact_resolution=0.5,  # S2 yes, S4 no
            satisfaction_mean=4.0,
            satisfaction_count=1,
            sessions=3,
            handoffs=3,
            claimed=1,
            abandoned=1,
            closed=2,
        ),
        # Tickets 2, 4; sessions S3, S6.
        "technical": figures(
            average_speed_of_answer_seconds=30.0,  # (40 + 20) / 2
            average_handle_time_seconds=750.0,  # (300 + 1200) / 2
            abandonment_rate=0.0,
            service_level=0.5,  # 20 s yes, 40 s no
            bot_containment=0.0,
            first_contact_resolution=1.0,
            satisfaction_mean=2.0,
            satisfaction_count=1,
            sessions=2,
            handoffs=2,
            claimed=2,
            closed=2,
        ),
        # Never handed off: S1, S5, S8.
        None: figures(bot_containment=1.0, first_contact_resolution=1.0, sessions=3, closed=3),
    }


def test_group_by_operator() -> None:
    assert group_figures(scripted_day(), TWO_DAYS, "operator") == {
        # Tickets 1 (10 s, 600 s) and 4 (20 s, 1200 s); sessions S2, S6.
        "7": figures(
            average_speed_of_answer_seconds=15.0,
            average_handle_time_seconds=900.0,
            abandonment_rate=0.0,
            service_level=1.0,
            bot_containment=0.0,
            first_contact_resolution=1.0,
            satisfaction_mean=3.0,
            satisfaction_count=2,
            sessions=2,
            handoffs=2,
            claimed=2,
            closed=2,
        ),
        # Ticket 2 (40 s, 300 s); session S3.
        "8": figures(
            average_speed_of_answer_seconds=40.0,
            average_handle_time_seconds=300.0,
            abandonment_rate=0.0,
            service_level=0.0,
            bot_containment=0.0,
            first_contact_resolution=1.0,
            sessions=1,
            handoffs=1,
            claimed=1,
            closed=1,
        ),
        # Nobody claimed: tickets 3 (abandoned) and 5 (waiting); sessions S1, S4, S5, S7, S8.
        None: figures(
            queue_length=1,
            abandonment_rate=1.0,  # 1 / (0 + 1)
            service_level=0.0,  # 0 / (0 + 1)
            bot_containment=0.75,  # S1, S5, S8 of S1, S4, S5, S8
            first_contact_resolution=2 / 3,  # S1 yes, S4 no, S5 yes (S8 not judged)
            sessions=5,
            handoffs=2,
            abandoned=1,
            closed=4,
        ),
    }


def test_group_by_day() -> None:
    monday = figures(
        queue_length=1,
        average_speed_of_answer_seconds=70 / 3,
        average_handle_time_seconds=700.0,
        abandonment_rate=0.25,
        service_level=0.5,
        bot_containment=2 / 6,  # S1, S5 of S1..S6
        first_contact_resolution=5 / 6,
        satisfaction_mean=3.0,
        satisfaction_count=2,
        sessions=7,
        handoffs=5,
        claimed=3,
        abandoned=1,
        closed=6,
    )
    # S8 alone; its close is not judged yet.
    tuesday = figures(bot_containment=1.0, sessions=1, closed=1)
    assert group_figures(scripted_day(), TWO_DAYS, "day") == {"2024-05-06": monday, "2024-05-07": tuesday}


def test_group_by_language() -> None:
    groups = group_figures(scripted_day(), TWO_DAYS, "language")
    assert list(groups) == ["ar", "en", "ru"]
    # S7 only: waiting, nothing answered, abandoned or closed yet, so no ratio at all.
    assert groups["ar"] == figures(queue_length=1, sessions=1, handoffs=1)
    assert groups["ru"] == figures(
        average_speed_of_answer_seconds=40.0,
        average_handle_time_seconds=300.0,
        abandonment_rate=0.0,
        service_level=0.0,
        bot_containment=0.0,
        first_contact_resolution=1.0,
        sessions=1,
        handoffs=1,
        claimed=1,
        closed=1,
    )
    # S1, S2, S4, S5, S6, S8; tickets 1 (10 s), 3 (abandoned), 4 (20 s).
    assert groups["en"] == figures(
        average_speed_of_answer_seconds=15.0,
        average_handle_time_seconds=900.0,
        abandonment_rate=1 / 3,
        service_level=2 / 3,
        bot_containment=0.5,  # S1, S5, S8 of six closes
        first_contact_resolution=0.8,  # S1, S2, S4, S5, S6 judged; S4 had a repeat
        satisfaction_mean=3.0,
        satisfaction_count=2,
        sessions=6,
        handoffs=3,
        claimed=2,
        abandoned=1,
        closed=6,
    )


@pytest.mark.parametrize("group_by", ["day", "operator", "topic", "language"])
def test_the_groups_add_up_to_the_total(group_by: GroupBy) -> None:
    data = scripted_day()
    total = asdict(compute_figures(data, TWO_DAYS))
    groups = [asdict(f) for f in group_figures(data, TWO_DAYS, group_by).values()]
    for name in (
        "queue_length",
        "satisfaction_count",
        "sessions",
        "handoffs",
        "claimed",
        "abandoned",
        "closed",
    ):
        assert sum(g[name] for g in groups) == total[name], name


def test_an_empty_period_gives_none_not_errors() -> None:
    empty = Period(at(0), at(0, day=1))
    assert compute_figures(KpiData([]), empty) == figures()
    assert group_figures(KpiData([]), empty, "operator") == {}
    # A zero-length period is allowed too: nothing happens inside it.
    assert compute_figures(scripted_day(), Period(at(1), at(1))) == figures()


def test_a_later_period_still_sees_the_waiting_customer() -> None:
    # A week later nothing happened, but S7 was never claimed: it is still in the queue.
    later = Period(at(0, day=7), at(0, day=8))
    assert compute_figures(scripted_day(), later) == figures(queue_length=1)
    assert group_figures(scripted_day(), later, "topic") == {"billing": figures(queue_length=1)}


def test_what_happens_after_the_period_is_not_seen() -> None:
    s = Script()
    s.open(1, 1, at(9))
    s.handoff(1, 1, at(9, 0, 10), "general")
    s.claim(1, 1, at(13), operator_id=7)  # after the period below
    assert compute_figures(s.data(), Period(at(9), at(12))) == figures(queue_length=1, sessions=1, handoffs=1)


def test_a_transfer_to_another_topic_waits_again_but_is_answered_once() -> None:
    s = Script()
    s.open(1, 1, at(9))
    s.handoff(1, 1, at(9, 0, 0), "general", operator_id=8)
    s.claim(1, 1, at(9, 0, 5), operator_id=7)
    s.event(1, "transferred", at(9, 2), ticket_id=1, from_operator_id=7, to_topic="billing")
    s.tickets[0] = replace(s.tickets[0], topic="billing")  # the transfer rewrites the ticket's topic
    waiting = compute_figures(s.data(), Period(at(9), at(9, 3)))
    assert (waiting.queue_length, waiting.claimed) == (1, 1)
    s.claim(1, 1, at(9, 4), operator_id=8)
    s.event(1, "closed", at(9, 10), by="operator", ticket_id=1, disposition="resolved")
    done = compute_figures(s.data(), Period(at(9), at(10)))
    # Speed of answer counts the first answer (5 s); handling runs from it to the close (595 s).
    assert done.queue_length == 0
    assert (done.claimed, done.average_speed_of_answer_seconds, done.average_handle_time_seconds) == (
        1,
        5.0,
        595.0,
    )
    # The ticket's topic now is billing; the claiming operator stays 7.
    assert list(group_figures(s.data(), Period(at(9), at(10)), "topic")) == ["billing"]
    assert list(group_figures(s.data(), Period(at(9), at(10)), "operator")) == ["7"]


def test_a_transfer_to_another_operator_changes_nothing() -> None:
    s = Script()
    s.open(1, 1, at(9))
    s.handoff(1, 1, at(9), "general")
    s.claim(1, 1, at(9, 0, 30), operator_id=7)
    s.event(1, "transferred", at(9, 1), ticket_id=1, from_operator_id=7, to_operator_id=8)
    s.event(1, "closed", at(9, 5), by="operator", ticket_id=1)
    result = compute_figures(s.data(), Period(at(9), at(10)))
    assert (result.queue_length, result.average_handle_time_seconds) == (0, 270.0)


def test_an_abandoned_session_closes_once() -> None:
    s = Script()
    s.open(1, 1, at(9))
    s.handoff(1, 1, at(9), "general")
    s.event(1, "abandoned", at(9, 2), to_state="closed", ticket_id=1, by="timeout")
    s.event(1, "closed", at(9, 2), by="idle")
    result = compute_figures(s.data(), Period(at(9), at(10)))
    assert (result.closed, result.abandoned, result.bot_containment) == (1, 1, 0.0)


def test_leaving_the_queue_for_the_bot_is_abandoned_but_not_closed() -> None:
    s = Script()
    s.open(1, 1, at(9))
    s.handoff(1, 1, at(9), "general")
    # As the front line writes it: abandoned without a state change, then back to the bot.
    s.event(1, "abandoned", at(9, 0, 50), to_state="queued", ticket_id=1, by="customer")
    s.event(1, "returned_to_bot", at(9, 0, 50), to_state="bot", ticket_id=1)
    still_open = compute_figures(s.data(), Period(at(9), at(10)))
    assert still_open == figures(
        abandonment_rate=1.0, service_level=0.0, sessions=1, handoffs=1, abandoned=1, closed=0
    )
    # When the bot finishes it later, the session was still not contained: it asked for a person.
    s.event(1, "closed", at(9, 30), to_state="closed", by="idle")
    assert compute_figures(s.data(), Period(at(9), at(10))).bot_containment == 0.0


def test_only_ratings_from_1_to_5_count() -> None:
    s = Script()
    s.open(1, 1, at(9))
    for rating in (5, 0, 6, "5", True, None, 1):
        s.event(1, "survey_answered", at(9, 1), rating=rating)
    result = compute_figures(s.data(), Period(at(9), at(10)))
    assert (result.satisfaction_mean, result.satisfaction_count) == (3.0, 2)  # (5 + 1) / 2


def test_a_period_needs_aware_ordered_bounds() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        Period(datetime(2024, 5, 6), datetime(2024, 5, 7))
    with pytest.raises(ValueError, match="before it starts"):
        Period(at(1), at(0))


def test_a_booked_callback_leaves_the_queue_without_counting_as_answered_or_abandoned() -> None:
    s = Script()
    s.open(1, 1, at(9))
    s.handoff(1, 1, at(9), "general")
    s.event(1, "callback_offered", at(9, 5), ticket_id=1, why="long_wait")
    s.event(1, "callback_requested", at(9, 6), to_state="closed", ticket_id=1)
    s.event(1, "callback_claimed", at(9, 30), ticket_id=1, operator_id=7)
    s.event(1, "callback_closed", at(9, 40), ticket_id=1, operator_id=7, disposition="resolved")
    result = compute_figures(s.data(), Period(at(9), at(10)))
    assert (result.queue_length, result.claimed, result.abandoned, result.closed) == (0, 0, 0, 1)
    assert result.bot_containment == 0.0
    # A week later it is not "still waiting" either.
    assert compute_figures(s.data(), Period(at(0, day=7), at(0, day=8))).queue_length == 0


def test_every_session_event_kind_is_either_replayed_or_history_only() -> None:
    assert set(SessionEventKind) == FIGURE_KINDS | HISTORY_ONLY
    assert not FIGURE_KINDS & HISTORY_ONLY


def test_a_kind_the_replay_does_not_know_fails_loudly() -> None:
    s = Script()
    s.open(1, 1, at(9))
    s.event(1, "handoff_asked", at(9, 1))  # a renamed kind must not silently drop out of the figures
    with pytest.raises(ValueError, match="handoff_asked"):
        compute_figures(s.data(), TWO_DAYS)
