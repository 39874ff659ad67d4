"""Free speech goes to the bot like a chat message, and the bot's reply is spoken (real Rasa, real
Korean Vosk model, espeak-ng speech sent by SIPp)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from core.settings import Settings
from ivr.spoken_text import sentences
from tests.ivr.lines import ivr_settings, require_sipp, running_ivr
from tests.ivr.peers import call_scenario, rtp_recorder, run_sipp, ulaw_wav

pytestmark = [pytest.mark.e2e, pytest.mark.parametrize("stack_settings", ["sqlite"], indirect=True)]
CALLER = "+15550144"


async def test_free_speech_is_a_bot_turn_and_the_reply_is_spoken(
    tmp_path: Path, stack_settings: Settings, korean_model_dir: Path, speaker: Any
) -> None:
    require_sipp()
    words = await speaker.synthesize("인터넷이 안 돼요", "ko")  # no menu keyword: "my internet is down"
    utterance = ulaw_wav(tmp_path / "free.wav", b"\x00\x00" * 4000 + words + b"\x00\x00" * 12000)
    scenario = call_scenario(tmp_path / "free.xml", ["pause:2500", f"stream:{utterance}", "pause:12000"])
    settings = ivr_settings(
        tmp_path, stack_settings, default_language="ko", model_dirs={"ko": str(korean_model_dir)}
    )
    async with running_ivr(settings) as line, rtp_recorder() as (recorder, sink):
        run = await run_sipp(
            scenario, line.sip_port, tmp_path, keys={"caller": CALLER, "sink_port": str(sink)}
        )
        assert run.ok, run.output + run.errors
        session = await line.session_of(f"tel:{CALLER}")
        assert session is not None
        messages = await line.messages(session.id)
        said_by_caller = [m.text for m in messages if m.direction == "in"]
        bot_replies = [m.text for m in messages if m.direction == "out" and m.author == "bot"]
        assert len(said_by_caller) == 1 and said_by_caller[0].strip(), messages
        assert bot_replies, [(m.author, m.text) for m in messages]
        call = line.ivr.calls[-1]
        spoken = next(p for p in call.log if p.startswith(bot_replies[0][:30]))
        # Calls render a reply sentence by sentence and play the pieces back to back.
        pieces = [await speaker.synthesize(sentence, "en") for sentence in sentences(spoken)]
        expected_s = sum(len(piece) for piece in pieces) / 16000
    # The bot's reply was heard whole (the prompt language falls back to English, as the menu does).
    durations = [round(s.duration_s, 2) for s in recorder.talkspurts if s.loudness > 300]
    assert any(abs(d - expected_s) < 0.1 for d in durations), (durations, expected_s, call.log)
