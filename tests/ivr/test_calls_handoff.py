"""Calls that end with a person: REFER to the operator queue after the card is queued, or a callback."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from tests.ivr.lines import ivr_settings, require_sipp, running_ivr
from tests.ivr.peers import call_scenario, rtp_recorder, run_sipp

CALLER = "+15550100"
KEY = f"tel:{CALLER}"
QUEUE = "sip:queue@127.0.0.1:5999"


def _refer_to(messages: str) -> tuple[str, datetime]:
    """The Refer-To of the REFER SIPp received, and when SIPp received it."""
    blocks = re.split(r"\n(?=-+ )", messages)
    for block in blocks:
        if "UDP message received" in block and "REFER sip:" in block:
            stamp = re.search(r"(\d{4}-\d\d-\d\d\s+\d\d:\d\d:\d\d\.\d+)", block)
            refer_to = re.search(r"^Refer-To:\s*(.+)$", block, re.MULTILINE)
            assert stamp and refer_to, block
            when = datetime.strptime(stamp.group(1).replace("\t", " "), "%Y-%m-%d %H:%M:%S.%f")
            return refer_to.group(1).strip(), when.astimezone(UTC)
    raise AssertionError("SIPp received no REFER:\n" + messages[-3000:])


async def test_operator_key_queues_the_card_then_refers_the_call(tmp_path: Path) -> None:
    require_sipp()
    scenario = call_scenario(tmp_path / "operator.xml", ["pause", "0"], ending="refer")
    async with running_ivr(ivr_settings(tmp_path, operator_uri=QUEUE)) as line, rtp_recorder() as (_, sink):
        run = await run_sipp(
            scenario, line.sip_port, tmp_path, keys={"caller": CALLER, "sink_port": str(sink)}
        )
        assert run.ok, run.output + run.errors
        session = await line.session_of(KEY)
        assert session is not None
        refer_to, referred_at = _refer_to(run.messages)
        assert refer_to.startswith(f"<{QUEUE}?X-Frontline-Session={session.id}&X-Frontline-Ticket=")
        tickets = await line.tickets(session.id)
        assert len(tickets) == 1
        ticket = tickets[0]
        assert f"X-Frontline-Ticket={ticket.id}>" in refer_to
        # The operator sees the card when the call rings: it was queued before the REFER left.
        assert ticket.status == "queued" and ticket.reason == "customer_request"
        assert ticket.card and ticket.card.get("transcript")
        assert ticket.created_at.replace(tzinfo=UTC) <= referred_at
        # The transferred call waits for the operator: the session stays queued.
        assert session.state == "queued"


async def test_without_operator_uri_the_caller_gets_a_callback(tmp_path: Path) -> None:
    require_sipp()
    scenario = call_scenario(tmp_path / "callback.xml", ["pause", "0", "pause:2000", "1"], ending="their_bye")
    async with running_ivr(ivr_settings(tmp_path)) as line, rtp_recorder() as (recorder, sink):
        run = await run_sipp(
            scenario, line.sip_port, tmp_path, keys={"caller": CALLER, "sink_port": str(sink)}
        )
        assert run.ok, run.output + run.errors
        session = await line.session_of(KEY)
        assert session is not None
        tickets = await line.tickets(session.id)
        assert [(t.kind, t.callback_phone) for t in tickets] == [("callback", CALLER)]
        assert "callback_requested" in await line.events(session.id)
        said = [m.text for m in await line.messages(session.id) if m.direction == "out"]
        assert any("No operator can take your call" in s for s in said)
    assert recorder.talkspurts[-1].duration_s > 2.0  # the goodbye was spoken before the IVR hung up


async def test_new_connection_key_books_a_callback_and_hangs_up(tmp_path: Path) -> None:
    require_sipp()
    scenario = call_scenario(tmp_path / "new_connection.xml", ["pause", "3"], ending="their_bye")
    async with running_ivr(ivr_settings(tmp_path)) as line, rtp_recorder() as (_, sink):
        run = await run_sipp(
            scenario, line.sip_port, tmp_path, keys={"caller": CALLER, "sink_port": str(sink)}
        )
        assert run.ok, run.output + run.errors
        session = await line.session_of(KEY)
        assert session is not None and session.state == "closed"
        tickets = await line.tickets(session.id)
        assert [(t.kind, t.reason, t.topic) for t in tickets] == [("callback", "new_connection", "orders")]
