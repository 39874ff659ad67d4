"""A caller speaks a menu keyword (real Korean Vosk model, espeak-ng speech sent by SIPp as RTP)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.ivr.lines import ivr_settings, require_sipp, running_ivr
from tests.ivr.peers import call_scenario, rtp_recorder, run_sipp, ulaw_wav

CALLER = "+15550133"


async def test_spoken_keyword_interrupts_the_greeting_and_picks_the_entry(
    tmp_path: Path, korean_model_dir: Path, speaker: Any
) -> None:
    require_sipp()
    words = await speaker.synthesize("요금 안내", "ko")
    utterance = ulaw_wav(tmp_path / "tariffs.wav", b"\x00\x00" * 4000 + words + b"\x00\x00" * 12000)
    steps = ["pause:2500", f"stream:{utterance}", "pause:9000"]
    scenario = call_scenario(tmp_path / "speech.xml", steps)
    settings = ivr_settings(tmp_path, default_language="ko", model_dirs={"ko": str(korean_model_dir)})
    async with running_ivr(settings) as line, rtp_recorder() as (recorder, sink):
        run = await run_sipp(
            scenario, line.sip_port, tmp_path, keys={"caller": CALLER, "sink_port": str(sink)}
        )
        assert run.ok, run.output + run.errors
        session = await line.session_of(f"tel:{CALLER}")
        assert session is not None and session.language == "ko"
        messages = await line.messages(session.id)
        heard = [(m.text, (m.payload or {}).get("menu")) for m in messages if m.direction == "in"]
        assert heard == [("요금 안내", "tariffs")]
        assert any("Home 300" in m.text for m in messages if m.direction == "out")
    # The greeting stopped when the caller spoke (barge-in), then the tariffs were read.
    spurts = recorder.talkspurts
    assert len(spurts) >= 2 and spurts[0].duration_s < 5.0, [s.duration_s for s in spurts]
