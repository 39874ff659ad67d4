"""One call from a real softphone (baresip) with a WAV as its microphone; it records what it hears."""

from __future__ import annotations

import asyncio
import shutil
import wave
from pathlib import Path

from ivr import g711
from ivr.speech.wav import write_wav
from tests.ivr.lines import ivr_settings, running_ivr
from tests.ivr.peers import free_udp_port
from tests.support import require

BARESIP = shutil.which("baresip")
MODULES = Path("/usr/lib/baresip/modules")
CALLER = "+15550111"


def _config(directory: Path, microphone: Path) -> None:
    (directory / "config").write_text(
        "\n".join(
            [
                "poll_method epoll",
                f"sip_listen 127.0.0.1:{free_udp_port()}",
                "net_interface 127.0.0.1",
                f"audio_source aufile,{microphone}",
                "audio_player none",
                "audio_alert none",
                f"module_path {MODULES}",
                "module g711.so",
                "module aufile.so",
                "module sndfile.so",  # records both directions of the call as WAV files
                "module_app account.so",
                "module_app menu.so",
                f"snd_path {directory}",
                "",
            ]
        )
    )
    (directory / "accounts").write_text(f"<sip:{CALLER}@127.0.0.1>;regint=0\n")


async def test_baresip_call_hears_the_greeting(tmp_path: Path) -> None:
    require(BARESIP is not None, "baresip (Debian package baresip-core)")
    require((MODULES / "aufile.so").exists(), "baresip's aufile module (baresip-core)")
    # The softphone hangs up when its WAV ends: 8 s of near silence keeps the call up that long.
    microphone = tmp_path / "microphone.wav"
    write_wav(microphone, b"\x01\x00" * 8000 * 8)
    _config(tmp_path, microphone)
    async with running_ivr(ivr_settings(tmp_path)) as line:
        assert BARESIP is not None
        phone = await asyncio.create_subprocess_exec(
            BARESIP, "-f", str(tmp_path), "-e", f"/dial sip:ivr@127.0.0.1:{line.sip_port}", "-t", "20",
            stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT,
        )  # fmt: skip
        output, _ = await asyncio.wait_for(phone.communicate(), 40)
        log = output.decode(errors="replace")
        assert "Call established" in log, log[-2000:]
        await asyncio.sleep(0.5)
        session = await line.session_of(f"tel:{CALLER}")
        assert session is not None and session.state == "closed", log[-2000:]
        assert "closed" in await line.events(session.id)
    heard = sorted(tmp_path.glob("dump-*-dec.wav"))
    assert heard, list(tmp_path.iterdir())
    with wave.open(str(heard[-1])) as recording:
        pcm = recording.readframes(recording.getnframes())
        rate = recording.getframerate()
    seconds = len(pcm) / 2 / rate
    assert seconds > 6.0
    # The greeting and menu were heard: loud, and longer than a beep.
    voiced = (
        sum(1 for i in range(0, len(pcm) - 640, 640) if g711.rms(pcm[i : i + 640]) > 500) * 640 / 2 / rate
    )
    assert voiced > 3.0, voiced
