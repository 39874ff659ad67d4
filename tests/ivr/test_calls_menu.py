"""Calls through the digit menu, with SIPp as the caller (RFC 4733 digits) and our audio recorded."""

from __future__ import annotations

from pathlib import Path

from tests.ivr.lines import event_detail, ivr_settings, require_sipp, running_ivr
from tests.ivr.peers import SCENARIOS, call_scenario, rtp_recorder, run_sipp

CALLER = "+15550100"
KEY = f"tel:{CALLER}"


async def test_menu_walk_with_digits_and_barge_in(tmp_path: Path) -> None:
    require_sipp()
    async with running_ivr(ivr_settings(tmp_path)) as line, rtp_recorder() as (recorder, sink):
        run = await run_sipp(
            SCENARIOS / "menu_walk.xml", line.sip_port, tmp_path,
            keys={"caller": CALLER, "sink_port": str(sink)}, pause_ms=3000,
        )  # fmt: skip
        assert run.ok, run.output + run.errors
        session = await line.session_of(KEY)
        assert session is not None and session.channel == "phone"
        messages = await line.messages(session.id)
        heard = [(m.text, (m.payload or {}).get("menu")) for m in messages if m.direction == "in"]
        assert heard == [("1", "tariffs"), ("2", "order_status")]
        said = " ".join(m.text for m in messages if m.direction == "out")
        assert "Home 300" in said and "35 US dollars a month" in said
        # The caller hung up while the bot had the call: the session is closed, not abandoned.
        assert session.state == "closed"
        assert await event_detail(line, session.id, "closed") == {"by": "caller_hung_up"}
    # Greeting+menu, tariffs, order prompt: each cut short by the next key (barge-in).
    spurts = recorder.talkspurts
    assert len(spurts) >= 3, [s.duration_s for s in spurts]
    greeting = await line.ivr.deps.speaker.synthesize(line.ivr.calls[-1].log[0], "en")
    assert len(greeting) / 16000 > 8.0
    assert 1.5 < spurts[0].duration_s < 4.5, "the first key did not stop the greeting"
    assert all(s.loudness > 300 for s in spurts[:3])


async def test_order_status_by_digits_is_spoken(tmp_path: Path) -> None:
    require_sipp()
    number = "2718281"  # repeated keys: each press must count once, and none may be lost
    scenario = call_scenario(
        tmp_path / "order_status.xml", ["pause", "2", "pause:1500", *number, "#", "pause:9000"]
    )
    async with running_ivr(ivr_settings(tmp_path)) as line, rtp_recorder() as (recorder, sink):
        await line.add_order(number)
        run = await run_sipp(
            scenario, line.sip_port, tmp_path, keys={"caller": CALLER, "sink_port": str(sink)}
        )
        assert run.ok, run.output + run.errors
        session = await line.session_of(KEY)
        assert session is not None
        messages = await line.messages(session.id)
        assert [m.text for m in messages if m.direction == "in"] == ["2", number]
        answer = next(m.text for m in messages if m.direction == "out" and m.text.startswith("Order"))
        assert "2 7 1 8 2 8 1" in answer and "Home 300" in answer and "received" in answer
        expected = await line.ivr.deps.speaker.synthesize(answer, "en")
    # Recorded: greeting (cut by 2), order prompt (cut by the first key), the answer, the menu again.
    spurts = recorder.talkspurts
    assert len(spurts) >= 3, [s.duration_s for s in spurts]
    spoken = spurts[2]
    assert abs(spoken.duration_s - len(expected) / 16000) < 0.1, (spoken.duration_s, len(expected) / 16000)
    assert spoken.duration_s > 3.0 and spoken.loudness > 300
