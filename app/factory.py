"""Builds the web app from settings: the composition root of the front-line process."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from functools import lru_cache
from typing import TYPE_CHECKING

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from app.body_limit import BodyLimit
from app.channel_data import register_channels
from app.routes import chat
from app.supervisor import Supervisor, until_one_ends
from bot.responses import DEFAULT_LANGUAGE as BOT_DEFAULT_LANGUAGE
from bot.responses import TEXTS_DIR as BOT_TEXTS_DIR
from bot.responses import load_language as load_bot_language
from bot.telegram import CHANNEL as TELEGRAM
from bot.telegram import routes as telegram_routes
from core import outbox
from core.advisory_locks import AdvisoryLocks
from core.alerts import load_keyword_alerts
from core.callbacks import CallbackFlow
from core.calls import CallSessions
from core.catalogue import load_catalogue
from core.conversation import ConversationService
from core.db import create_engine, create_session_factory
from core.dialogue import RasaClient
from core.errors import DialogueUnavailable
from core.escalation import Escalation
from core.events import EventBus
from core.files import ChannelFiles
from core.hours import load_business_hours
from core.kinds import LiveEventKind
from core.lease import AdvisoryLease, AlwaysHeld, Lease
from core.locks import CustomerLocks, KeyedLocks
from core.messages import SystemMessages, load_system_messages
from core.migrate import upgrade_async
from core.outbox_listener import OutboxListener
from core.privacy import purge_older_than
from core.settings import PROJECT_ROOT, Settings
from core.sqlite_owner import own_sqlite_database
from core.survey import SurveyAnswers
from core.sweeps import QueueSweeps
from core.waiting import WaitingCustomers
from handoff.assist import AgentAssist
from handoff.auto_offer import AutoOffers
from handoff.card_edits import CardEdits
from handoff.errors import HTTP_STATUS, HandoffError
from handoff.logins import Logins
from handoff.operator_status import OperatorStatuses
from handoff.presence import Presence
from handoff.routes import assist as assist_routes
from handoff.routes import card as card_routes
from handoff.routes import console, files, kpi, live, operators, preferences, supervisor, tickets
from handoff.routes import status as status_routes
from handoff.service import HandoffService
from handoff.supervision import Supervision

if TYPE_CHECKING:
    from bot.telegram.channel import TelegramChannel

logger = logging.getLogger(__name__)
SYSTEM_MESSAGES = PROJECT_ROOT / "business" / "system_messages.yml"


def create_app(settings: Settings) -> FastAPI:
    register_channels()  # what erasure and the retention purge clear in each channel's tables

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Before anything opens the database: a second app process on one SQLite file stops here.
        with own_sqlite_database(settings.db.url):
            async with serve(app):
                yield

    @asynccontextmanager
    async def serve(app: FastAPI) -> AsyncIterator[None]:
        await upgrade_async(settings.db.url)
        engine = create_engine(settings.db)
        sessions = create_session_factory(engine)
        rasa = RasaClient(settings.rasa)
        messages = load_system_messages(SYSTEM_MESSAGES, settings.default_language)
        # On PostgreSQL every process hears every process's stored events through its listener.
        app.state.bus = bus = EventBus(fed_by_listener=engine.dialect.name == "postgresql")
        app.state.db_sessions = sessions
        _build_core(app, settings, sessions, rasa, messages, _customer_locks(engine, settings))
        _build_handoff(
            app, settings, sessions, rasa, messages, serialize_claims=engine.dialect.name == "sqlite"
        )
        sweeps, auto_offers, conversations = app.state.sweeps, app.state.auto_offers, app.state.conversations
        app.state.supervisor = supervisor = Supervisor()
        if bus.fed_by_listener:
            listener = OutboxListener(settings.db.url, bus)
            await listener.start()  # a database that refuses it stops the app's start
            supervisor.start("outbox-listener", listener.run)
        # Every process renews the presence rows of the consoles it serves.
        supervisor.start("presence-heartbeat", app.state.presence.keep_fresh)
        # Work one process does for all: each runs while this process holds the lease, and waits meanwhile.
        app.state.lease = lease = _singleton_lease(engine, settings)
        supervisor.start("singleton-lease", lease.keep)

        def singleton(name: str, run: Callable[[], Awaitable[None]]) -> None:
            supervisor.start(name, lambda: lease.while_held(run))

        singleton("queue-sweeper", lambda: _sweep_queue(sweeps, settings))
        keep_events = timedelta(hours=settings.live_event_retention_hours)
        singleton("outbox-prune", lambda: outbox.prune_periodically(sessions, keep_events))
        if settings.auto_offer:
            singleton("auto-offer", lambda: _dispatch_offers(auto_offers, bus, settings))
        if settings.retention_days:
            singleton("privacy-purge", lambda: _purge_daily(sessions, settings.retention_days))
        app.state.telegram = None
        # What operators open from each channel: the handoff side sees only the ChannelFiles interface.
        channel_files: dict[str, ChannelFiles] = {}
        app.state.channel_files = channel_files
        if settings.telegram.enabled:
            # aiogram (about 130 MB resident) loads only where the channel is wanted, like the voice stack.
            from bot.telegram.channel import start_channel
            from bot.telegram.files import TelegramFiles

            channel_files[TELEGRAM] = TelegramFiles(lambda: app.state.telegram)

            async def start_telegram() -> TelegramChannel:
                return await start_channel(
                    settings.telegram, sessions, conversations, messages, bus, lease,
                    default_language=settings.default_language,
                )  # fmt: skip

            # Started here first, so a channel that cannot start at all stops the app's start.
            app.state.telegram = await start_telegram()
            supervisor.start("telegram-channel", lambda: _keep_telegram(app, start_telegram))
        app.state.ivr = None
        if settings.ivr.enabled:
            # The voice stack loads only where it is wanted.
            from ivr.contacts import CallCore
            from ivr.service import IvrService

            core = CallCore(conversations, app.state.calls, app.state.callbacks, app.state.escalation)
            app.state.ivr = IvrService(settings.ivr, core, sessions, settings.catalogue_path)
            await app.state.ivr.start()
        try:
            yield
        finally:
            if app.state.ivr is not None:
                await app.state.ivr.stop()
            await supervisor.stop()  # the Telegram channel with it
            await rasa.aclose()
            await engine.dispose()

    app = FastAPI(title="Contact-centre front line", version="0.1.0", lifespan=lifespan)
    app.state.settings = settings
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes)
    app.include_router(chat.router)
    app.include_router(operators.router)
    app.include_router(preferences.router)
    app.include_router(tickets.router)
    app.include_router(supervisor.router)
    app.include_router(supervisor.operator_router)
    app.include_router(status_routes.router)
    app.include_router(card_routes.router)
    app.include_router(assist_routes.router)
    app.include_router(live.router)
    app.include_router(kpi.router)
    app.include_router(kpi.metrics_router)
    app.include_router(console.router)
    app.include_router(files.router)
    app.include_router(telegram_routes.router)
    app.add_exception_handler(RequestValidationError, _invalid_request)
    app.add_exception_handler(HandoffError, _handoff_refused)
    app.add_exception_handler(DialogueUnavailable, _bot_unavailable)
    # A database that is down or restarting: the driver's error, or a refused connection.
    app.add_exception_handler(DBAPIError, _database_unavailable)
    app.add_exception_handler(OSError, _database_unavailable)

    @app.get("/healthz", tags=["ops"])
    async def read_health(request: Request) -> JSONResponse:
        """200 when every background task runs; 503 naming those that are restarting or dead. Either
        says which process runs the singleton work (a process waiting for it is healthy)."""
        supervisor: Supervisor | None = getattr(request.app.state, "supervisor", None)
        lease: Lease | None = getattr(request.app.state, "lease", None)
        unhealthy = supervisor.unhealthy() if supervisor else {}
        singletons = {"singletons": lease.holder} if lease else {}
        if unhealthy:
            content = {"status": "degraded", "tasks": unhealthy, **singletons}
            return JSONResponse(status_code=503, content=content)
        return JSONResponse({"status": "ok", **singletons})

    return app


def _build_core(
    app: FastAPI,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    rasa: RasaClient,
    messages: SystemMessages,
    customer_locks: CustomerLocks,
) -> None:
    """The conversation core's use cases, one object each, on `app.state`."""
    bus, hours = app.state.bus, load_business_hours(settings.hours_path)
    app.state.escalation = escalation = Escalation(sessions, rasa, bus)
    app.state.waiting = waiting = WaitingCustomers(sessions, rasa, messages, bus)
    app.state.callbacks = callbacks = CallbackFlow(
        sessions, messages, bus, escalation, hours,
        phone_regions=load_catalogue(settings.catalogue_path).regions_for,
    )  # fmt: skip
    app.state.conversations = ConversationService(
        sessions,
        rasa,
        messages,
        escalation=escalation,
        waiting=waiting,
        callbacks=callbacks,
        survey=SurveyAnswers(sessions, messages),
        customer_locks=customer_locks,
        max_text_length=settings.max_text_length,
        session_idle_minutes=settings.session_idle_minutes,
        bus=bus,
        hours=hours,
        default_language=settings.default_language,
        alerts=load_keyword_alerts(),
    )
    app.state.calls = CallSessions(
        sessions, bus, customer_locks=customer_locks, session_idle_minutes=settings.session_idle_minutes
    )
    app.state.sweeps = QueueSweeps(sessions, messages, bus, waiting, callbacks)


def _customer_locks(engine: AsyncEngine, settings: Settings) -> CustomerLocks:
    """One customer's turns and the start of their call never interleave: within this process on
    SQLite (it serves one app process), across every app process on PostgreSQL."""
    if engine.dialect.name == "sqlite":
        return KeyedLocks()
    return AdvisoryLocks.for_pool(engine, settings.db, wait_timeout_s=settings.scale_out.customer_lock_wait_s)


def _singleton_lease(engine: AsyncEngine, settings: Settings) -> Lease:
    """On PostgreSQL the app processes take turns at the singleton work; SQLite serves one process."""
    if engine.dialect.name == "sqlite":
        return AlwaysHeld()
    scale_out = settings.scale_out
    return AdvisoryLease(
        settings.db.url,
        try_every_s=scale_out.lease_try_every_s,
        check_every_s=scale_out.lease_check_every_s,
        query_timeout_s=scale_out.lease_query_timeout_s,
    )


def _build_handoff(
    app: FastAPI,
    settings: Settings,
    sessions: async_sessionmaker[AsyncSession],
    rasa: RasaClient,
    messages: SystemMessages,
    *,
    serialize_claims: bool,
) -> None:
    """The operator side: tickets, log-ins, who is online and auto-offers, on `app.state`."""
    bus = app.state.bus
    offer_timeout = timedelta(seconds=settings.offer_timeout_seconds)
    app.state.handoff = HandoffService(
        sessions, rasa, messages, serialize_claims=serialize_claims, bus=bus, offer_timeout=offer_timeout
    )
    app.state.logins = Logins(sessions, bus)
    scale_out = settings.scale_out
    app.state.presence = presence = Presence(
        sessions, bus,
        heartbeat_s=scale_out.presence_heartbeat_s, missed_heartbeats=scale_out.presence_missed_heartbeats,
    )  # fmt: skip
    app.state.auto_offers = AutoOffers(sessions, bus, presence, offer_timeout=offer_timeout)
    app.state.operator_statuses = OperatorStatuses(sessions, bus, presence)
    app.state.supervision = Supervision(sessions, bus, messages, presence)
    # Operators correct customer cards; a phone without a country code is read as the customer's country's.
    app.state.card_edits = CardEdits(sessions, load_catalogue(settings.catalogue_path).regions_for)
    app.state.assist = AgentAssist(sessions, rasa, bot_reply_texts, load_catalogue(settings.catalogue_path))


@lru_cache
def bot_reply_texts(language: str) -> dict[str, str]:
    """The bot's reply texts in a language, by response key, over the default language's: what agent
    assist offers operators. Handed to the operator side here, since it may not import the bot."""
    texts = _reply_texts(BOT_DEFAULT_LANGUAGE)
    if language != BOT_DEFAULT_LANGUAGE and (BOT_TEXTS_DIR / f"{language}.yml").exists():
        texts = {**texts, **_reply_texts(language)}
    return texts


def _reply_texts(language: str) -> dict[str, str]:
    return {key: str(entry.get("text", "")) for key, entry in load_bot_language(language).responses.items()}


async def _purge_daily(sessions: async_sessionmaker[AsyncSession], days: int) -> None:
    """Retention: what is older than the period goes once a day (first a minute after start)."""
    await asyncio.sleep(60)
    while True:
        async with sessions() as db, db.begin():
            purged = await purge_older_than(db, days)
        logger.info("retention purge (%d days): %s", days, purged)
        await asyncio.sleep(24 * 3600)


async def _keep_telegram(app: FastAPI, start: Callable[[], Awaitable[TelegramChannel]]) -> None:
    """The channel's loops (polling, relay, backlog) are its own: when one ends, the channel is
    stopped and the supervisor starts a fresh one."""
    channel = app.state.telegram or await start()
    app.state.telegram = channel
    try:
        await until_one_ends(list(channel.loops))
    finally:
        app.state.telegram = None
        await channel.stop()


SWEEP_EVERY_S = 30.0
# A waiting customer hears about a new place in the queue at most this often.
POSITION_UPDATE_EVERY = timedelta(minutes=1)


async def _sweep_queue(sweeps: QueueSweeps, settings: Settings) -> None:
    """Every half minute: waits longer than the timeout end as abandoned (the customer is told),
    long waits are offered a callback, and customers whose place changed are told the new one."""
    while True:
        await asyncio.sleep(SWEEP_EVERY_S)
        try:
            await sweeps.abandon_stale_waits(timedelta(minutes=settings.queue_timeout_minutes))
            if settings.callback_offer_after_minutes > 0:
                await sweeps.offer_callbacks_to_long_waits(
                    timedelta(minutes=settings.callback_offer_after_minutes)
                )
            await sweeps.announce_queue_positions(POSITION_UPDATE_EVERY)
        except Exception:  # a database hiccup must not end the sweeper
            logger.exception("queue sweep failed")


# What can make a waiting ticket offerable: a new ticket, a freed operator, an operator coming online.
_OFFER_TRIGGERS = frozenset(
    {LiveEventKind.TICKET_QUEUED, LiveEventKind.TICKET_CLOSED, LiveEventKind.OPERATOR_ONLINE}
)


async def _dispatch_offers(auto_offers: AutoOffers, bus: EventBus, settings: Settings) -> None:
    """Auto-offer loop: on every trigger, and often enough to pass on offers nobody took in time."""
    recheck = max(1.0, settings.offer_timeout_seconds / 2)
    async with bus.subscribe() as events:
        while True:
            try:
                event = await asyncio.wait_for(events.get(), recheck)
                if event.kind not in _OFFER_TRIGGERS:
                    continue
            except TimeoutError:
                pass
            try:
                await auto_offers.offer_waiting()
            except Exception:  # a database hiccup must not end auto-offers
                logger.exception("auto-offer failed")


async def _invalid_request(request: Request, exc: Exception) -> JSONResponse:
    """Bad JSON or fields: a 422 that says what is wrong, in plain words."""
    assert isinstance(exc, RequestValidationError)
    problems = [
        f"{'.'.join(str(p) for p in e.get('loc', ())[1:]) or 'body'}: {e.get('msg')}" for e in exc.errors()
    ]
    return JSONResponse(status_code=422, content={"detail": problems})


async def _database_unavailable(request: Request, exc: Exception) -> JSONResponse:
    """The turn was not stored, so it is not acknowledged: the client must send it again."""
    return JSONResponse(
        status_code=503,
        content={"detail": "storage unavailable, the message was not accepted; please retry"},
        headers={"Retry-After": "5"},
    )


async def _handoff_refused(request: Request, exc: Exception) -> JSONResponse:
    """Not found, not yours, or somebody was faster: the operator is told which."""
    assert isinstance(exc, HandoffError)
    return JSONResponse(status_code=HTTP_STATUS.get(type(exc), 400), content={"detail": str(exc)})


async def _bot_unavailable(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse(status_code=503, content={"detail": f"the bot is not reachable: {exc}"})
