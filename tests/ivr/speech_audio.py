"""Audio as the IVR hears it in a call: G.711 μ-law on the wire, 20 ms frames, silence around speech."""

from __future__ import annotations

import subprocess
import tempfile
import warnings
from pathlib import Path

from ivr import g711
from ivr.speech.endpointing import FRAME_BYTES, Endpointer, SpeechStarted, Utterance
from ivr.speech.wav import read_wav_8k_mono
from tests.ivr.peers import ulaw_wav

with warnings.catch_warnings():
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop


def over_the_phone(pcm: bytes) -> bytes:
    """Through μ-law and back, as every call's audio is."""
    return audioop.ulaw2lin(audioop.lin2ulaw(pcm, 2), 2)


def silence(seconds: float) -> bytes:
    return b"\0" * (int(seconds * 8000) * 2)


def frames(pcm: bytes) -> list[bytes]:
    """20 ms frames, the last one padded with silence."""
    pcm += b"\0" * (-len(pcm) % FRAME_BYTES)
    return [pcm[i : i + FRAME_BYTES] for i in range(0, len(pcm), FRAME_BYTES)]


def endpoint(pcm: bytes, endpointer: Endpointer | None = None) -> list[SpeechStarted | Utterance]:
    """Every event the endpointer reports for this audio, in order."""
    endpointer = endpointer or Endpointer()
    events = [endpointer.feed(frame) for frame in frames(pcm)]
    return [event for event in events if event is not None]


def espeak_fixed(text: str, voice: str = "ko", speed: int = 175) -> bytes:
    """8 kHz speech from the espeak-ng command at a fixed speed, the same in every test run.

    The IVR's Speaker shares one engine whose speed carries over from voice to voice, and that
    moves borderline recognitions; tests that need a low (or a full) confidence use this instead.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "speech.wav"
        command = ["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text]
        subprocess.run(command, check=True, capture_output=True)
        return read_wav_8k_mono(path)


def sipp_wav(path: Path, words: bytes) -> Path:
    """The caller's words as a μ-law WAV for SIPp's rtp_stream: 0.5 s of silence before, 1.5 s after."""
    return ulaw_wav(path, b"\x00\x00" * 4000 + words + b"\x00\x00" * 12000)


def as_sipp_sends(words: bytes) -> bytes:
    """What the IVR hears when SIPp streams sipp_wav(words): SIPp sends the file's 44-byte header
    as audio too, which shifts every later frame by 5.5 ms, and that moves borderline recognitions."""
    with tempfile.TemporaryDirectory() as tmp:
        return g711.decode(sipp_wav(Path(tmp) / "words.wav", words).read_bytes(), "PCMU")
