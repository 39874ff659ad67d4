"""Contact-centre figures (KPIs) replayed from session events: pure functions, no I/O.

Everything is derived from the `session_events` history (plus who a session's customer is and what
topic a ticket has), never from counters, so the figures of any past period can be recomputed.

Periods are half-open, [since, until). What happens in a period is attributed by the moment of the
outcome: a handoff counts as answered in the period in which it was claimed, as abandoned in the
period in which it was abandoned, and its handle time in the period in which it ended.
"""

from __future__ import annotations

import bisect
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import Any, Literal

from core.kinds import Mood
from core.kinds import SessionEventKind as Kind
from core.models import SessionState
from core.mood import LEVEL as MOOD_LEVEL

GroupBy = Literal["day", "operator", "topic", "language"]

DEFAULT_SERVICE_LEVEL_SECONDS = 20.0
# A contact counts as resolved at first contact when the customer does not come back within this.
REPEAT_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class EventRow:
    """One row of `session_events`; `at` is timezone-aware UTC, `to_state` the session's new state."""

    session_id: int
    kind: Kind
    at: datetime
    detail: Mapping[str, Any] = field(default_factory=dict)
    to_state: str | None = None


@dataclass(frozen=True)
class SessionRow:
    id: int
    customer_id: int
    channel: str
    language: str
    started_at: datetime


@dataclass(frozen=True)
class TicketRow:
    """A handoff ticket as it is now: its topic may have changed by a transfer since the handoff."""

    id: int
    session_id: int
    topic: str
    language: str
    operator_id: int | None


@dataclass(frozen=True)
class KpiData:
    """The whole history of every session that matters for a period (see handoff.repo_kpi)."""

    events: Sequence[EventRow]
    sessions: Sequence[SessionRow] = ()
    tickets: Sequence[TicketRow] = ()


@dataclass(frozen=True)
class Period:
    since: datetime
    until: datetime

    def __post_init__(self) -> None:
        if self.since.tzinfo is None or self.until.tzinfo is None:
            raise ValueError("period bounds must be timezone-aware")
        if self.since > self.until:
            raise ValueError("a period cannot end before it starts")

    def contains(self, moment: datetime) -> bool:
        return self.since <= moment < self.until


@dataclass(frozen=True)
class KpiFigures:
    """Ratios are 0..1 and None when their denominator is zero; durations are in seconds."""

    queue_length: int
    average_speed_of_answer_seconds: float | None
    average_handle_time_seconds: float | None
    abandonment_rate: float | None
    service_level: float | None
    bot_containment: float | None
    first_contact_resolution: float | None
    satisfaction_mean: float | None
    satisfaction_count: int
    sessions: int
    handoffs: int
    claimed: int
    abandoned: int
    closed: int


def compute_figures(
    data: KpiData, period: Period, service_level_seconds: float = DEFAULT_SERVICE_LEVEL_SECONDS
) -> KpiFigures:
    """The figures of one period over all sessions."""
    return _figures(_collect(data, period.until), period, service_level_seconds)


def group_figures(
    data: KpiData,
    period: Period,
    group_by: GroupBy,
    service_level_seconds: float = DEFAULT_SERVICE_LEVEL_SECONDS,
) -> dict[str | None, KpiFigures]:
    """The figures split by day, operator, topic or language; the None group collects the rest.

    A handoff belongs to the group of its own day, claiming operator, topic and language; a
    session-level fact (open, close, survey) to its session's open day, last claiming operator, last
    handoff topic and language. Groups with nothing in the period are left out.
    """
    facts = _collect(data, period.until)
    context = _Context(data, facts)
    buckets: dict[str | None, _Facts] = defaultdict(_Facts)
    for episode in facts.episodes:
        if episode.touches(period):
            buckets[context.episode_key(episode, group_by)].episodes.append(episode)
    for name in ("opens", "closes", "surveys"):
        for fact in getattr(facts, name):
            if period.contains(fact.at):
                getattr(buckets[context.session_key(fact.session_id, group_by)], name).append(fact)
    ordered = sorted(buckets.items(), key=lambda item: (item[0] is None, item[0] or ""))
    return {key: _figures(bucket, period, service_level_seconds) for key, bucket in ordered}


# --- Replaying the events into facts -----------------------------------------------------------


@dataclass(eq=False)
class _Episode:
    """One handoff, from handoff_requested until it is answered and handled, or abandoned."""

    session_id: int
    ticket_id: int | None
    topic: str | None
    requested_at: datetime
    claimed_at: datetime | None = None
    operator_id: int | None = None
    abandoned_at: datetime | None = None
    ended_at: datetime | None = None
    waiting: bool = True

    def touches(self, period: Period) -> bool:
        """Whether anything of it happened in the period, or it still waits at the period's end."""
        moments = (self.requested_at, self.claimed_at, self.abandoned_at, self.ended_at)
        return self.waiting or any(m is not None and period.contains(m) for m in moments)


@dataclass(frozen=True)
class _Open:
    session_id: int
    at: datetime


@dataclass(frozen=True)
class _Close:
    session_id: int
    at: datetime
    contained: bool
    repeated: bool = False


@dataclass(frozen=True)
class _Survey:
    session_id: int
    at: datetime
    rating: int


@dataclass
class _Facts:
    episodes: list[_Episode] = field(default_factory=list)
    opens: list[_Open] = field(default_factory=list)
    closes: list[_Close] = field(default_factory=list)
    surveys: list[_Survey] = field(default_factory=list)


def _collect(data: KpiData, until: datetime) -> _Facts:
    """Replays every session up to `until`, then marks the closes followed by a repeat contact."""
    facts = _Facts()
    for session_id, events in _by_session(data.events, until).items():
        walk = _SessionWalk(session_id, facts)
        for event in events:
            walk.apply(event)
    facts.closes = _mark_repeats(facts.closes, data.sessions, facts.opens)
    return facts


def _by_session(events: Iterable[EventRow], until: datetime) -> dict[int, list[EventRow]]:
    grouped: dict[int, list[EventRow]] = defaultdict(list)
    for event in events:
        if event.at < until:
            grouped[event.session_id].append(event)
    for rows in grouped.values():
        # sort() is stable: rows written at the same instant keep the order they were stored in.
        rows.sort(key=lambda row: row.at)
    return grouped


class _SessionWalk:
    """Replays one session's events in order as a small state machine that emits facts."""

    def __init__(self, session_id: int, facts: _Facts) -> None:
        self._session_id = session_id
        self._facts = facts
        self._episode: _Episode | None = None
        self._had_handoff = False
        self._closed = False

    def apply(self, event: EventRow) -> None:
        # A kind that is not a SessionEventKind raises here: it must not drop out of the figures.
        kind = Kind(event.kind)
        handler = _HANDLERS.get(kind)
        if handler is not None:
            handler(self, event)
        # A wait that times out closes the session ("abandoned" -> closed); a customer who leaves
        # the queue for the bot does not, so the new state decides, not the kind.
        if kind is Kind.CLOSED or event.to_state == SessionState.CLOSED:
            self._close(event.at)

    def _on_opened(self, event: EventRow) -> None:
        self._facts.opens.append(_Open(self._session_id, event.at))

    def _on_handoff_requested(self, event: EventRow) -> None:
        # A handoff whose end was never recorded must not keep waiting in the queue forever.
        self._finish(None)
        self._had_handoff = True
        detail = event.detail
        self._episode = _Episode(
            self._session_id, _as_int(detail.get("ticket_id")), _as_str(detail.get("topic")), event.at
        )
        self._facts.episodes.append(self._episode)

    def _on_claimed(self, event: EventRow) -> None:
        episode = self._episode
        if episode is None or not episode.waiting:
            return
        episode.waiting = False
        # Claimed again after a transfer to another topic: the customer was answered the first time.
        if episode.claimed_at is None:
            episode.claimed_at = event.at
            episode.operator_id = _as_int(event.detail.get("operator_id"))

    def _on_transferred(self, event: EventRow) -> None:
        # To another operator the conversation goes on; to a topic it waits in the queue again.
        if self._episode is not None and "to_topic" in event.detail:
            self._episode.waiting = True

    def _on_abandoned(self, event: EventRow) -> None:
        episode = self._episode
        # Only the first wait can be abandoned: leaving a second one (after a transfer to another
        # topic) ends the handling instead, since the customer was answered once.
        if episode is not None and episode.waiting and episode.claimed_at is None:
            episode.abandoned_at = event.at
        self._finish(event.at)

    def _on_callback_requested(self, event: EventRow) -> None:
        # The customer stopped waiting for a call back: neither answered in the chat nor abandoned.
        self._finish(None)

    def _on_returned_to_bot(self, event: EventRow) -> None:
        self._finish(event.at)

    def _on_closed(self, event: EventRow) -> None:
        self._finish(event.at)

    def _on_survey_answered(self, event: EventRow) -> None:
        rating = event.detail.get("rating")
        if isinstance(rating, int) and not isinstance(rating, bool) and 1 <= rating <= 5:
            self._facts.surveys.append(_Survey(self._session_id, event.at, rating))

    def _finish(self, at: datetime | None) -> None:
        episode, self._episode = self._episode, None
        if episode is None:
            return
        episode.waiting = False
        if episode.claimed_at is not None and at is not None:
            episode.ended_at = at

    def _close(self, at: datetime) -> None:
        # A session closes once; a second closing row (abandoned then closed) is not a second contact.
        if not self._closed:
            self._closed = True
            self._facts.closes.append(_Close(self._session_id, at, contained=not self._had_handoff))


_HANDLERS: dict[Kind, Callable[[_SessionWalk, EventRow], None]] = {
    Kind.OPENED: _SessionWalk._on_opened,
    Kind.HANDOFF_REQUESTED: _SessionWalk._on_handoff_requested,
    Kind.CLAIMED: _SessionWalk._on_claimed,
    Kind.TRANSFERRED: _SessionWalk._on_transferred,
    Kind.ABANDONED: _SessionWalk._on_abandoned,
    Kind.CALLBACK_REQUESTED: _SessionWalk._on_callback_requested,
    Kind.RETURNED_TO_BOT: _SessionWalk._on_returned_to_bot,
    Kind.CLOSED: _SessionWalk._on_closed,
    Kind.SURVEY_ANSWERED: _SessionWalk._on_survey_answered,
}
# Kinds that are history, not figures; with _HANDLERS they cover every kind (a test checks).
HISTORY_ONLY = frozenset(
    {
        Kind.LANGUAGE_CHANGED,
        Kind.OFFERED,
        Kind.FIRST_OPERATOR_REPLY,
        Kind.CALLBACK_OFFERED,
        Kind.CALLBACK_CLAIMED,
        Kind.CALLBACK_TRANSFERRED,
        Kind.CALLBACK_CLOSED,
        Kind.SURVEY_ASKED,
        # Keyword alerts: counted on their own (count_alerts).
        Kind.KEYWORD_ALERT,
        # Agent assist: counted on their own (suggestion_figures).
        Kind.REPLY_FROM_SUGGESTION,
        # Supervision: who handles a conversation stays the claiming operator's figure; asks are
        # counted from their own table (ask_figures).
        Kind.TAKEN_OVER,
        Kind.REASSIGNED,
        Kind.SUPERVISOR_ASKED,
        Kind.SUPERVISOR_ANSWERED,
    }
)
FIGURE_KINDS = frozenset(_HANDLERS)


def _mark_repeats(closes: list[_Close], sessions: Sequence[SessionRow], opens: list[_Open]) -> list[_Close]:
    """Flags each close after which the same customer opened another session within the window."""
    customer_of = {s.id: s.customer_id for s in sessions}
    opened_at = {s.id: s.started_at for s in sessions}
    # The recorded `opened` event wins over the column: it is the event history that is replayed.
    opened_at.update({o.session_id: o.at for o in opens})
    starts: dict[int, list[tuple[datetime, int]]] = defaultdict(list)
    for session_id, at in opened_at.items():
        if session_id in customer_of:
            starts[customer_of[session_id]].append((at, session_id))
    for rows in starts.values():
        rows.sort()
    customer_starts = {sid: starts[cid] for sid, cid in customer_of.items()}
    # A session of an unknown customer cannot show a repeat contact: it counts as not repeated.
    return [
        replace(close, repeated=_came_back(close, customer_starts.get(close.session_id, [])))
        for close in closes
    ]


def _came_back(close: _Close, starts: list[tuple[datetime, int]]) -> bool:
    first = bisect.bisect_left(starts, close.at, key=lambda row: row[0])
    for at, session_id in starts[first:]:
        if at > close.at + REPEAT_WINDOW:
            return False
        if session_id != close.session_id:
            return True
    return False


# --- Turning facts into figures ------------------------------------------------------------------


def _figures(facts: _Facts, period: Period, service_level_seconds: float) -> KpiFigures:
    inside = period.contains
    answered = [e for e in facts.episodes if e.claimed_at is not None and inside(e.claimed_at)]
    abandoned = [e for e in facts.episodes if e.abandoned_at is not None and inside(e.abandoned_at)]
    handled = [e for e in facts.episodes if e.ended_at is not None and inside(e.ended_at)]
    waits = [_seconds(e.requested_at, e.claimed_at) for e in answered]
    closes = [c for c in facts.closes if inside(c.at)]
    # A close only says something about first-contact resolution once its whole window is over.
    settled = [c for c in closes if c.at + REPEAT_WINDOW <= period.until]
    ratings = [s.rating for s in facts.surveys if inside(s.at)]
    offered = len(answered) + len(abandoned)
    return KpiFigures(
        queue_length=sum(1 for e in facts.episodes if e.waiting),
        average_speed_of_answer_seconds=_mean(waits),
        average_handle_time_seconds=_mean([_seconds(e.claimed_at, e.ended_at) for e in handled]),
        abandonment_rate=_ratio(len(abandoned), offered),
        service_level=_ratio(sum(1 for w in waits if w <= service_level_seconds), offered),
        bot_containment=_ratio(sum(1 for c in closes if c.contained), len(closes)),
        first_contact_resolution=_ratio(sum(1 for c in settled if not c.repeated), len(settled)),
        satisfaction_mean=_mean([float(r) for r in ratings]),
        satisfaction_count=len(ratings),
        sessions=sum(1 for o in facts.opens if inside(o.at)),
        handoffs=sum(1 for e in facts.episodes if inside(e.requested_at)),
        claimed=len(answered),
        abandoned=len(abandoned),
        closed=len(closes),
    )


class _Context:
    """What a fact needs to know about its session and ticket to be put in a group."""

    def __init__(self, data: KpiData, facts: _Facts) -> None:
        self._sessions = {s.id: s for s in data.sessions}
        self._tickets = {t.id: t for t in data.tickets}
        self._opened = {o.session_id: o.at for o in facts.opens}
        self._last_handoff: dict[int, _Episode] = {}
        self._last_claim: dict[int, _Episode] = {}
        for episode in facts.episodes:  # in replay order, so the last one written wins
            self._last_handoff[episode.session_id] = episode
            if episode.claimed_at is not None:
                self._last_claim[episode.session_id] = episode

    def episode_key(self, episode: _Episode, group_by: GroupBy) -> str | None:
        if group_by == "day":
            return _day(episode.requested_at)
        if group_by == "operator":
            return self._operator(episode)
        if group_by == "topic":
            return self._topic(episode)
        return self._language(episode)

    def session_key(self, session_id: int, group_by: GroupBy) -> str | None:
        if group_by == "day":
            return self._open_day(session_id)
        if group_by == "operator":
            claim = self._last_claim.get(session_id)
            return self._operator(claim) if claim else None
        if group_by == "topic":
            handoff = self._last_handoff.get(session_id)
            return self._topic(handoff) if handoff else None
        session = self._sessions.get(session_id)
        return session.language if session else None

    def _ticket(self, episode: _Episode) -> TicketRow | None:
        return self._tickets.get(episode.ticket_id) if episode.ticket_id is not None else None

    def _operator(self, episode: _Episode) -> str | None:
        operator_id = episode.operator_id
        ticket = self._ticket(episode)
        if operator_id is None and episode.claimed_at is not None and ticket is not None:
            operator_id = ticket.operator_id
        return None if operator_id is None else str(operator_id)

    def _topic(self, episode: _Episode) -> str | None:
        ticket = self._ticket(episode)
        return ticket.topic if ticket else episode.topic

    def _language(self, episode: _Episode) -> str | None:
        ticket = self._ticket(episode)
        if ticket:
            return ticket.language
        session = self._sessions.get(episode.session_id)
        return session.language if session else None

    def _open_day(self, session_id: int) -> str | None:
        opened = self._opened.get(session_id)
        if opened is None and session_id in self._sessions:
            opened = self._sessions[session_id].started_at
        return _day(opened) if opened else None


# --- Small helpers -------------------------------------------------------------------------------


# --- Operators' time in each status, and their asks for a supervisor ------------------------------


@dataclass(frozen=True)
class StatusRow:
    """One change of an operator's status (handoff.operator_status), `at` aware UTC."""

    operator_id: int
    status: str
    at: datetime


def status_seconds(
    changes: Iterable[StatusRow], period: Period, now: datetime
) -> dict[tuple[int, str], dict[str, float]]:
    """Seconds each operator spent in each status, per (operator id, UTC day), within the period
    and before `now`. `changes` must hold every change before the period's end, or at least the
    last one before its start (the status the period begins in)."""
    end = min(period.until, now)
    by_operator: dict[int, list[StatusRow]] = defaultdict(list)
    for change in changes:
        by_operator[change.operator_id].append(change)
    spent: dict[tuple[int, str], dict[str, float]] = defaultdict(lambda: defaultdict(float))
    for operator_id, rows in by_operator.items():
        rows.sort(key=lambda row: row.at)
        ends = [row.at for row in rows[1:]] + [end]
        for row, until in zip(rows, ends, strict=True):
            for day, seconds in _split_by_day(max(row.at, period.since), min(until, end)):
                spent[(operator_id, day)][row.status] += seconds
    return {key: dict(value) for key, value in sorted(spent.items())}


def _split_by_day(start: datetime, end: datetime) -> Iterable[tuple[str, float]]:
    while start < end:
        midnight = datetime.combine(start.astimezone(UTC).date() + timedelta(days=1), time.min, UTC)
        cut = min(end, midnight)
        yield _day(start), (cut - start).total_seconds()
        start = cut


@dataclass(frozen=True)
class AskRow:
    """An operator's call for a supervisor (handoff.supervision); `answer` None while open."""

    operator_id: int
    asked_at: datetime
    answered_at: datetime | None
    answer: str | None


@dataclass(frozen=True)
class AskFigures:
    asked: int
    acknowledged: int
    taken_over: int
    still_open: int
    mean_answer_seconds: float | None


def ask_figures(asks: Iterable[AskRow], period: Period) -> dict[str, AskFigures]:
    """Per UTC day of asking (within the period): how many asks, how they were answered, how fast."""
    by_day: dict[str, list[AskRow]] = defaultdict(list)
    for ask in asks:
        if period.contains(ask.asked_at):
            by_day[_day(ask.asked_at)].append(ask)
    return {day: _asks(rows) for day, rows in sorted(by_day.items())}


def _asks(rows: Sequence[AskRow]) -> AskFigures:
    answered = [r for r in rows if r.answered_at is not None]
    return AskFigures(
        asked=len(rows),
        acknowledged=sum(r.answer == "acknowledged" for r in answered),
        taken_over=sum(r.answer == "taken_over" for r in answered),
        still_open=len(rows) - len(answered),
        mean_answer_seconds=_mean([_seconds(r.asked_at, r.answered_at) for r in answered]),
    )


def _seconds(start: datetime | None, end: datetime | None) -> float:
    assert start is not None and end is not None
    return (end - start).total_seconds()


def _mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _day(moment: datetime) -> str:
    return moment.astimezone(UTC).date().isoformat()


def _as_int(value: Any) -> int | None:
    # JSON details written by other code may hold ids as strings; anything else is unknown.
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.isdigit():
        return int(value)
    return None


def _as_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


# --- Replies that started from an agent-assist suggestion -----------------------------------------


@dataclass(frozen=True)
class SuggestionFigures:
    """How often sent replies started from a suggestion; `share` is None when nobody replied."""

    replies: int  # every operator reply sent in the period
    from_suggestion: int
    share: float | None
    by_operator: dict[int | None, int]  # operator id -> replies sent from a suggestion
    by_topic: dict[str, int]  # suggestion ("faq/roaming", "order_status") -> replies sent from it


def suggestion_figures(uses: Iterable[EventRow], period: Period, replies: int) -> SuggestionFigures:
    """From the `reply_from_suggestion` events (detail: operator_id, suggestion) and the number of
    operator replies sent in the period; most used first."""
    inside = [u for u in uses if u.kind is Kind.REPLY_FROM_SUGGESTION and period.contains(u.at)]
    by_operator: dict[int | None, int] = defaultdict(int)
    by_topic: dict[str, int] = defaultdict(int)
    for use in inside:
        by_operator[_as_int(use.detail.get("operator_id"))] += 1
        by_topic[_as_str(use.detail.get("suggestion")) or "unknown"] += 1
    return SuggestionFigures(
        replies=replies,
        from_suggestion=len(inside),
        share=_ratio(len(inside), replies),
        by_operator=dict(sorted(by_operator.items(), key=lambda item: (-item[1], item[0] or 0))),
        by_topic=dict(sorted(by_topic.items(), key=lambda item: (-item[1], item[0]))),
    )


# --- Keyword alerts (core/alerts.py) ----------------------------------------------------------------

AlertGroupBy = Literal["day", "phrase", "language"]


@dataclass(frozen=True)
class AlertCount:
    alerts: int  # customer messages that held a watched phrase
    conversations: int  # sessions with at least one of them


def count_alerts(
    events: Iterable[EventRow], period: Period, group_by: AlertGroupBy | None = None
) -> dict[str | None, AlertCount]:
    """Keyword alerts of the period: all together (the None key) or by UTC day, phrase or the
    phrase's language. A message that held two phrases counts once in total and once for each."""
    messages: dict[str | None, int] = defaultdict(int)
    sessions: dict[str | None, set[int]] = defaultdict(set)
    for event in events:
        if event.kind is not Kind.KEYWORD_ALERT or not period.contains(event.at):
            continue
        for key in _alert_keys(event, group_by):
            messages[key] += 1
            sessions[key].add(event.session_id)
    ordered = sorted(messages, key=lambda key: (key is None, key or ""))
    return {key: AlertCount(messages[key], len(sessions[key])) for key in ordered}


def _alert_keys(event: EventRow, group_by: AlertGroupBy | None) -> set[str | None]:
    if group_by is None:
        return {None}
    if group_by == "day":
        return {_day(event.at)}
    phrases = event.detail.get("phrases")
    if not isinstance(phrases, list):
        return {None}
    return {_as_str(p.get(group_by)) for p in phrases if isinstance(p, dict)} or {None}


# --- The customer's mood at the start and at the close of each ticket -----------------------------

MoodGroupBy = Literal["day", "topic", "language"]


@dataclass(frozen=True)
class MoodTicket:
    """A ticket a person handled and closed: its queueing and closing moments, `at` aware UTC."""

    id: int
    session_id: int
    topic: str
    language: str
    queued_at: datetime
    closed_at: datetime


@dataclass(frozen=True)
class MoodRow:
    """A customer message's mood (core/mood.py) and when it was stored."""

    session_id: int
    at: datetime
    mood: Mood


@dataclass(frozen=True)
class MoodFigures:
    """Of tickets closed in the period with a known mood: how the customer felt when they were
    queued (their latest message then) and at the close (their latest message before it)."""

    tickets: int
    at_start: dict[str, int]
    at_close: dict[str, int]
    ended_calmer: int
    ended_more_upset: int
    ended_calmer_rate: float | None  # ended calmer / tickets
    upset_calmed_rate: float | None  # ended calmer / tickets that started negative or angry


def mood_figures(
    tickets: Iterable[MoodTicket],
    moods: Iterable[MoodRow],
    period: Period,
    group_by: MoodGroupBy | None = None,
) -> dict[str | None, MoodFigures]:
    """Per UTC day of the close, topic or language (or one None group for all): the mood at the start
    and at the close. A ticket whose customer wrote nothing with a mood is left out."""
    by_session: dict[int, list[MoodRow]] = defaultdict(list)
    for row in moods:
        by_session[row.session_id].append(row)
    for rows in by_session.values():
        rows.sort(key=lambda row: row.at)
    groups: dict[str | None, list[tuple[Mood, Mood]]] = defaultdict(list)
    for ticket in tickets:
        if not period.contains(ticket.closed_at):
            continue
        ends = _start_and_close(ticket, by_session.get(ticket.session_id, []))
        if ends is not None:
            groups[_mood_key(ticket, group_by)].append(ends)
    ordered = sorted(groups.items(), key=lambda item: (item[0] is None, item[0] or ""))
    return {key: _mood_figures(pairs) for key, pairs in ordered}


def mood_total(tickets: Iterable[MoodTicket], moods: Iterable[MoodRow], period: Period) -> MoodFigures:
    return mood_figures(tickets, moods, period).get(None) or _mood_figures([])


def _start_and_close(ticket: MoodTicket, rows: Sequence[MoodRow]) -> tuple[Mood, Mood] | None:
    """The latest mood when the ticket was queued (else the first one after), and the latest
    before it closed."""
    before_close = [row for row in rows if row.at <= ticket.closed_at]
    if not before_close:
        return None
    queued = [row for row in before_close if row.at <= ticket.queued_at]
    start = queued[-1] if queued else before_close[0]
    return start.mood, before_close[-1].mood


def _mood_key(ticket: MoodTicket, group_by: MoodGroupBy | None) -> str | None:
    if group_by == "day":
        return _day(ticket.closed_at)
    if group_by == "topic":
        return ticket.topic
    if group_by == "language":
        return ticket.language.split("-")[0]
    return None


def _mood_figures(pairs: Sequence[tuple[Mood, Mood]]) -> MoodFigures:
    calmer = sum(MOOD_LEVEL[end] < MOOD_LEVEL[start] for start, end in pairs)
    upset = sum(start is not Mood.CALM for start, _ in pairs)
    return MoodFigures(
        tickets=len(pairs),
        at_start={m.value: sum(start is m for start, _ in pairs) for m in Mood},
        at_close={m.value: sum(end is m for _, end in pairs) for m in Mood},
        ended_calmer=calmer,
        ended_more_upset=sum(MOOD_LEVEL[end] > MOOD_LEVEL[start] for start, end in pairs),
        ended_calmer_rate=_ratio(calmer, len(pairs)),
        upset_calmed_rate=_ratio(calmer, upset),
    )
