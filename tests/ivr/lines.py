"""The front line with its IVR answering on loopback (no Rasa: the digit menu does not need it)."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import select

from core.models import ConversationSession as Session
from core.models import Customer, HandoffTicket, Message, Order, SessionEvent
from core.settings import DbSettings, IvrSettings, RasaSettings, Settings
from ivr.service import IvrService
from tests.chat import FrontLine, running_front_line
from tests.ivr.peers import SIPP, free_udp_port, have_pcaps
from tests.support import free_port, require


def require_sipp() -> None:
    require(SIPP is not None, "sipp (Debian package sip-tester)")
    require(have_pcaps(), "SIPp's RFC 4733 digit recordings in /usr/share/sip-tester/")


@dataclass
class IvrLine:
    front: FrontLine
    ivr: IvrService
    sip_port: int

    async def session_of(self, caller_key: str) -> Session | None:
        async with self.front.db() as db:
            return await db.scalar(
                select(Session)
                .join(Customer, Customer.id == Session.customer_id)
                .where(Customer.key == caller_key)
                .order_by(Session.id.desc())
                .limit(1)
            )

    async def messages(self, session_id: int) -> list[Message]:
        async with self.front.db() as db:
            rows = await db.scalars(
                select(Message).where(Message.session_id == session_id).order_by(Message.id)
            )
            return list(rows)

    async def events(self, session_id: int) -> list[str]:
        return await self.front.event_kinds(session_id)

    async def tickets(self, session_id: int) -> list[HandoffTicket]:
        async with self.front.db() as db:
            rows = await db.scalars(select(HandoffTicket).where(HandoffTicket.session_id == session_id))
            return list(rows)

    async def add_order(self, number: str, phone: str = "+15550199") -> Order:
        async with self.front.db() as db, db.begin():
            order = Order(
                number=number,
                full_name="Test Caller",
                phone=phone,
                address="1 Test Street",
                tariff_code="home_300",
                visit_date=date.today() + timedelta(days=3),
            )
            db.add(order)
        return order


# The tests' callers are the centre's exchange on loopback, so their caller ids are trusted; a test
# of strangers or floods passes allowed_peers=[] (no PBX configured: anyone may call, nobody is vouched for).
LOOPBACK_PBX = ["127.0.0.1/32"]


def ivr_settings(tmp_path: Path, base: Settings | None = None, **ivr: object) -> Settings:
    """The IVR on free loopback ports behind a loopback PBX; on `base` (a real stack) or on a
    bot-less front line."""
    low = random.randrange(20000, 40000, 2)
    options: dict[str, object] = {
        "enabled": True,
        "allowed_peers": LOOPBACK_PBX,
        "port": free_udp_port(),
        "rtp_port_min": low,
        "rtp_port_max": low + 200,
        "no_input_timeout_s": 6.0,
        "silence_timeout_s": 20.0,
        **ivr,
    }
    if base is not None:
        return base.model_copy(update={"ivr": IvrSettings.model_validate(options)})
    return Settings(
        db=DbSettings(url=f"sqlite+aiosqlite:///{tmp_path / 'front.db'}"),
        rasa=RasaSettings(url=f"http://127.0.0.1:{free_port()}", connect_retries=0),
        ivr=IvrSettings.model_validate(options),
    )


@asynccontextmanager
async def running_ivr(settings: Settings) -> AsyncIterator[IvrLine]:
    async with running_front_line(settings) as front:
        ivr = front.app.state.ivr
        assert ivr is not None
        # Calls are placed once the speech model is loaded: a test's call is timed by its script
        # (SIPp hangs up after so many seconds), and a load on a busy machine can take longer.
        await ivr.ready()
        yield IvrLine(front, ivr, ivr.endpoint.port)


async def event_detail(line: IvrLine, session_id: int, kind: str) -> dict[str, object] | None:
    async with line.front.db() as db:
        row = await db.scalar(
            select(SessionEvent).where(SessionEvent.session_id == session_id, SessionEvent.kind == kind)
        )
        return row.detail if row is not None else None
