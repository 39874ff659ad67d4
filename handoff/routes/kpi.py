"""Contact-centre figures: JSON for operators and supervisors, Prometheus text for monitoring.

Both read the database through `request.app.state.db_sessions` (an async_sessionmaker the app
sets at start-up) and replay the session events with handoff.kpi.
"""

from __future__ import annotations

import hmac
import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, Request, status
from fastapi.responses import PlainTextResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from core.models import utcnow
from handoff.assist import load_suggestion_uses
from handoff.deps import CurrentOperator, CurrentSupervisor, SupervisionDep
from handoff.kpi import (
    DEFAULT_SERVICE_LEVEL_SECONDS,
    REPEAT_WINDOW,
    AlertCount,
    KpiData,
    KpiFigures,
    Period,
    ask_figures,
    compute_figures,
    count_alerts,
    group_figures,
    mood_figures,
    mood_total,
    status_seconds,
    suggestion_figures,
)
from handoff.operator_status import status_rows
from handoff.repo_alerts import load_alert_events
from handoff.repo_kpi import load_kpi_data
from handoff.repo_moods import load_mood_data

router = APIRouter(prefix="/api/operator", tags=["kpi"])
metrics_router = APIRouter()

DEFAULT_WINDOW = timedelta(hours=24)
# A bound on one request's work: the replay loads every event of the period into memory.
MAX_WINDOW = timedelta(days=92)
# Dates outside these years are refused (422): a window past year 1 or 9999 would overflow.
EARLIEST_YEAR, LATEST_YEAR = 1970, 9000
PROMETHEUS_CONTENT_TYPE = "text/plain; version=0.0.4"
METRICS_CACHE_S = 15.0  # a scrape interval; several scrapers (or a loop) replay the events once


class Figures(BaseModel):
    """Computed from the session events of the period; ratios are 0..1, null when nothing to divide."""

    queue_length: int = Field(description="handoffs still waiting for an operator at the period's end")
    average_speed_of_answer_seconds: float | None = Field(description="mean wait of handoffs claimed")
    average_handle_time_seconds: float | None = Field(description="mean claim to close or return to bot")
    abandonment_rate: float | None = Field(description="abandoned / (claimed + abandoned)")
    service_level: float | None = Field(description="claimed within the threshold / (claimed + abandoned)")
    bot_containment: float | None = Field(description="closed sessions never handed off / closed sessions")
    first_contact_resolution: float | None = Field(
        description="closes not followed by a new session of the customer within 24 h / closes whose "
        "24 h have passed by the period's end"
    )
    satisfaction_mean: float | None = Field(description="mean survey rating, 1..5")
    satisfaction_count: int
    sessions: int = Field(description="sessions opened")
    handoffs: int = Field(description="handoffs requested")
    claimed: int
    abandoned: int
    closed: int = Field(description="sessions closed (abandoned ones included)")


class FiguresGroup(BaseModel):
    key: str | None = Field(description="the day, operator id, topic or language; null: none of them")
    figures: Figures


class KpiReport(BaseModel):
    since: datetime
    until: datetime
    service_level_seconds: float
    group_by: str
    total: Figures
    groups: list[FiguresGroup] = Field(description="empty when group_by is none")


def get_db_sessions(request: Request) -> async_sessionmaker[AsyncSession]:
    return request.app.state.db_sessions  # type: ignore[no-any-return]


@router.get("/kpi", response_model=KpiReport)
async def read_kpi(
    request: Request,
    operator: CurrentOperator,
    since: Annotated[datetime | None, Query(description="ISO 8601; default: 24 h before until")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601, excluded; default: now")] = None,
    group_by: Literal["day", "operator", "topic", "language", "none"] = "none",
    service_level_seconds: Annotated[float, Query(gt=0, le=3600)] = DEFAULT_SERVICE_LEVEL_SECONDS,
) -> KpiReport:
    """Queue, speed of answer, handle time, abandonment, service level, containment, FCR, satisfaction.

    Times without a zone are taken as UTC. Groups by the UTC day, claiming operator, topic or language.
    """
    period = _period(since, until)
    data = await _load(request, period)
    groups = {} if group_by == "none" else group_figures(data, period, group_by, service_level_seconds)
    return KpiReport(
        since=period.since,
        until=period.until,
        service_level_seconds=service_level_seconds,
        group_by=group_by,
        total=_public(compute_figures(data, period, service_level_seconds)),
        groups=[FiguresGroup(key=key, figures=_public(f)) for key, f in groups.items()],
    )


class SuggestionUse(BaseModel):
    key: str | None = Field(description="operator id, or suggestion (faq/<topic>, order_status)")
    replies: int = Field(description="replies sent that started from a suggestion")


class SuggestionReport(BaseModel):
    since: datetime
    until: datetime
    replies: int = Field(description="operator replies sent in the period")
    from_suggestion: int = Field(description="of them, replies that started from an agent-assist suggestion")
    share: float | None = Field(description="from_suggestion / replies; null when nobody replied")
    by_operator: list[SuggestionUse]
    by_topic: list[SuggestionUse]


@router.get("/kpi/suggestions", response_model=SuggestionReport)
async def read_suggestion_kpi(
    request: Request,
    operator: CurrentOperator,
    since: Annotated[datetime | None, Query(description="ISO 8601; default: 24 h before until")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601, excluded; default: now")] = None,
) -> SuggestionReport:
    """How often sent replies started from an agent-assist suggestion, per operator and per topic."""
    period = _period(since, until)
    async with get_db_sessions(request)() as db:
        uses, replies = await load_suggestion_uses(db, period)
    figures = suggestion_figures(uses, period, replies)
    return SuggestionReport(
        since=period.since,
        until=period.until,
        replies=figures.replies,
        from_suggestion=figures.from_suggestion,
        share=figures.share,
        by_operator=[
            SuggestionUse(key=None if k is None else str(k), replies=n)
            for k, n in figures.by_operator.items()
        ],
        by_topic=[SuggestionUse(key=k, replies=n) for k, n in figures.by_topic.items()],
    )


class AlertFigures(BaseModel):
    key: str | None = Field(description="the day, phrase or phrase's language; null for the total")
    alerts: int = Field(description="customer messages that held a watched phrase")
    conversations: int = Field(description="conversations with at least one of them")


class AlertReport(BaseModel):
    since: datetime
    until: datetime
    group_by: str
    total: AlertFigures
    groups: list[AlertFigures] = Field(description="empty when group_by is none")


@router.get("/kpi/alerts", response_model=AlertReport)
async def read_alert_kpi(
    request: Request,
    operator: CurrentOperator,
    since: Annotated[datetime | None, Query(description="ISO 8601; default: 24 h before until")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601, excluded; default: now")] = None,
    group_by: Literal["day", "phrase", "language", "none"] = "none",
) -> AlertReport:
    """Keyword alerts (watched phrases in customer messages, core/data/alerts.yml): in total, or by
    UTC day, phrase or the phrase's language."""
    period = _period(since, until)
    async with get_db_sessions(request)() as db:
        events = await load_alert_events(db, period)
    total = count_alerts(events, period).get(None, AlertCount(0, 0))
    groups = {} if group_by == "none" else count_alerts(events, period, group_by)
    return AlertReport(
        since=period.since,
        until=period.until,
        group_by=group_by,
        total=AlertFigures(key=None, **asdict(total)),
        groups=[AlertFigures(key=key, **asdict(count)) for key, count in groups.items()],
    )


class StatusTime(BaseModel):
    operator_id: int
    day: str = Field(description="UTC day, YYYY-MM-DD")
    seconds: dict[str, float] = Field(description="seconds in each status: available, break, ...")


class AskDay(BaseModel):
    day: str = Field(description="UTC day the asks were made")
    asked: int
    acknowledged: int
    taken_over: int
    still_open: int
    mean_answer_seconds: float | None


class OperatorTimeReport(BaseModel):
    since: datetime
    until: datetime
    status_time: list[StatusTime] = Field(description="per operator and day, up to now")
    supervisor_asks: list[AskDay] = Field(description="operators' asks for a supervisor, per day")


@router.get("/kpi/operator-time", response_model=OperatorTimeReport)
async def read_operator_time(
    request: Request,
    supervisor: CurrentSupervisor,
    supervision: SupervisionDep,
    since: Annotated[datetime | None, Query(description="ISO 8601; default: 24 h before until")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601, excluded; default: now")] = None,
) -> OperatorTimeReport:
    """Supervisors: the time each operator spent available, on a break, in after-call work and
    offline, per UTC day; and how often operators asked a supervisor, and how fast one answered."""
    period = _period(since, until)
    async with get_db_sessions(request)() as db:
        changes = await status_rows(db, period)
    spent = status_seconds(changes, period, utcnow())
    asks = ask_figures(await supervision.ask_rows(period), period)
    return OperatorTimeReport(
        since=period.since,
        until=period.until,
        status_time=[StatusTime(operator_id=op, day=day, seconds=s) for (op, day), s in spent.items()],
        supervisor_asks=[AskDay(day=day, **asdict(f)) for day, f in asks.items()],
    )


class MoodGroup(BaseModel):
    key: str | None = Field(description="the UTC day of the close, topic or language; null for the total")
    tickets: int = Field(description="tickets a person handled and closed in the period, with a known mood")
    at_start: dict[str, int] = Field(description="calm / negative / angry: the latest mood when queued")
    at_close: dict[str, int] = Field(description="calm / negative / angry: the latest mood before the close")
    ended_calmer: int
    ended_more_upset: int
    ended_calmer_rate: float | None = Field(description="ended_calmer / tickets")
    upset_calmed_rate: float | None = Field(
        description="ended_calmer / tickets that started negative or angry: the upset who left calmer"
    )


class MoodReport(BaseModel):
    since: datetime
    until: datetime
    group_by: str
    total: MoodGroup
    groups: list[MoodGroup] = Field(description="empty when group_by is none")


@router.get("/kpi/moods", response_model=MoodReport)
async def read_mood_kpi(
    request: Request,
    operator: CurrentOperator,
    since: Annotated[datetime | None, Query(description="ISO 8601; default: 24 h before until")] = None,
    until: Annotated[datetime | None, Query(description="ISO 8601, excluded; default: now")] = None,
    group_by: Literal["day", "topic", "language", "none"] = "none",
) -> MoodReport:
    """The customer's mood (core/mood.py) when each ticket was queued and when it was closed, for the
    tickets closed in the period: in total, or by UTC day of the close, topic or language."""
    period = _period(since, until)
    async with get_db_sessions(request)() as db:
        tickets, moods = await load_mood_data(db, period)
    total = mood_total(tickets, moods, period)
    groups = {} if group_by == "none" else mood_figures(tickets, moods, period, group_by)
    return MoodReport(
        since=period.since,
        until=period.until,
        group_by=group_by,
        total=MoodGroup(key=None, **asdict(total)),
        groups=[MoodGroup(key=key, **asdict(figures)) for key, figures in groups.items()],
    )


@metrics_router.get("/metrics", tags=["ops"], response_class=PlainTextResponse)
async def read_metrics(request: Request) -> PlainTextResponse:
    """Prometheus gauges over the last 24 h (first-contact resolution: contacts closed 24-48 h ago).

    Needs `Authorization: Bearer <FRONTLINE_METRICS_TOKEN>`; without a configured token it is off.
    A scrape replays two days of events, so the text is reused for METRICS_CACHE_S."""
    _check_metrics_token(request)
    cached: tuple[float, str] | None = getattr(request.app.state, "metrics_cache", None)
    if cached is not None and time.monotonic() - cached[0] < METRICS_CACHE_S:
        return PlainTextResponse(cached[1], media_type=PROMETHEUS_CONTENT_TYPE)
    text = await _metrics_text(request)
    request.app.state.metrics_cache = (time.monotonic(), text)
    return PlainTextResponse(text, media_type=PROMETHEUS_CONTENT_TYPE)


def _check_metrics_token(request: Request) -> None:
    expected = request.app.state.settings.metrics_token.get_secret_value()
    if not expected:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail="metrics are off: set FRONTLINE_METRICS_TOKEN")
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    if not hmac.compare_digest(given.encode(), expected.encode()):
        raise HTTPException(
            status.HTTP_401_UNAUTHORIZED,
            detail="send 'Authorization: Bearer <FRONTLINE_METRICS_TOKEN>'",
            headers={"WWW-Authenticate": "Bearer"},
        )


async def _metrics_text(request: Request) -> str:
    now = utcnow()
    # The last 24 h have no completed repeat window yet, so first-contact resolution judges the
    # contacts closed the day before: over two days only those closes have their window behind them.
    two_days = Period(now - DEFAULT_WINDOW - REPEAT_WINDOW, now)
    # The two days' history also holds everything the last day's figures need.
    data = await _load(request, two_days)
    figures = compute_figures(data, Period(now - DEFAULT_WINDOW, now))
    settled = compute_figures(data, two_days)
    return _exposition(figures, settled)


def _period(since: datetime | None, until: datetime | None) -> Period:
    for moment in (since, until):
        if moment is not None and not EARLIEST_YEAR <= moment.year <= LATEST_YEAR:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"dates must lie between the years {EARLIEST_YEAR} and {LATEST_YEAR}",
            )
    end = _as_utc(until) if until else utcnow()
    start = _as_utc(since) if since else end - DEFAULT_WINDOW
    if start >= end:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail="since must be before until")
    if end - start > MAX_WINDOW:
        raise HTTPException(
            status.HTTP_422_UNPROCESSABLE_CONTENT, detail=f"at most {MAX_WINDOW.days} days per request"
        )
    return Period(start, end)


def _as_utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


async def _load(request: Request, period: Period) -> KpiData:
    async with get_db_sessions(request)() as db:
        return await load_kpi_data(db, period)


def _public(figures: KpiFigures) -> Figures:
    return Figures(**asdict(figures))


# --- Prometheus text exposition ------------------------------------------------------------------

# (metric name, KpiFigures field, help text); all are gauges over the last 24 h.
_GAUGES: tuple[tuple[str, str, str], ...] = (
    ("frontline_queue_length", "queue_length", "Handoffs waiting for an operator now."),
    (
        "frontline_average_speed_of_answer_seconds",
        "average_speed_of_answer_seconds",
        "Mean wait from handoff to claim of the handoffs claimed in the last 24 h.",
    ),
    (
        "frontline_average_handle_time_seconds",
        "average_handle_time_seconds",
        "Mean time from claim to close or return to the bot, for handlings ended in the last 24 h.",
    ),
    (
        "frontline_abandonment_ratio",
        "abandonment_rate",
        "Abandoned / (claimed + abandoned) handoffs in the last 24 h.",
    ),
    (
        "frontline_service_level_ratio",
        "service_level",
        "Handoffs claimed within the threshold / (claimed + abandoned) in the last 24 h.",
    ),
    (
        "frontline_bot_containment_ratio",
        "bot_containment",
        "Sessions closed in the last 24 h that were never handed off / sessions closed.",
    ),
    ("frontline_satisfaction_mean", "satisfaction_mean", "Mean survey rating (1-5) in the last 24 h."),
    ("frontline_satisfaction_responses", "satisfaction_count", "Survey answers in the last 24 h."),
    ("frontline_sessions_opened", "sessions", "Sessions opened in the last 24 h."),
    ("frontline_handoffs_requested", "handoffs", "Handoffs requested in the last 24 h."),
    ("frontline_handoffs_claimed", "claimed", "Handoffs claimed in the last 24 h."),
    ("frontline_handoffs_abandoned", "abandoned", "Handoffs abandoned in the last 24 h."),
    ("frontline_sessions_closed", "closed", "Sessions closed in the last 24 h."),
)
_FCR_HELP = "Sessions closed 24-48 h ago whose customer opened no new session within 24 h / sessions closed."


def _exposition(figures: KpiFigures, settled: KpiFigures) -> str:
    values = asdict(figures)
    lines: list[str] = []
    for name, key, help_text in _GAUGES:
        lines += _gauge(name, help_text, values[key])
    lines += _gauge("frontline_first_contact_resolution_ratio", _FCR_HELP, settled.first_contact_resolution)
    lines += _gauge(
        "frontline_service_level_threshold_seconds",
        "Answer-time threshold of the service level.",
        DEFAULT_SERVICE_LEVEL_SECONDS,
    )
    return "\n".join(lines) + "\n"


def _gauge(name: str, help_text: str, value: float | None) -> list[str]:
    return [f"# HELP {name} {help_text}", f"# TYPE {name} gauge", f"{name} {_sample(value)}"]


def _sample(value: float | None) -> str:
    # Prometheus has no null: NaN says "no data to compute it from" without breaking the scrape.
    if value is None:
        return "NaN"
    return str(value) if isinstance(value, int) else repr(float(value))
