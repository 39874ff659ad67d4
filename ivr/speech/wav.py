"""WAV files and sample-rate conversion for the 8 kHz 16-bit mono audio of a phone call."""

from __future__ import annotations

import warnings
import wave
from pathlib import Path

with warnings.catch_warnings():
    # audioop is deprecated (gone in 3.13) but is the stdlib's only resampler on 3.11.
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

PHONE_RATE = 8000
SAMPLE_WIDTH = 2


def resample(pcm: bytes, rate_in: int, rate_out: int = PHONE_RATE) -> bytes:
    """16-bit mono PCM from one rate to another (linear interpolation, as audioop does it)."""
    if rate_in == rate_out or not pcm:
        return pcm
    converted, _state = audioop.ratecv(pcm, SAMPLE_WIDTH, 1, rate_in, rate_out, None)
    return converted


def read_wav(path: Path | str) -> tuple[bytes, int]:
    """16-bit mono PCM and its rate from any PCM WAV (stereo is mixed down, 8/24/32-bit converted)."""
    with wave.open(str(path), "rb") as wav:
        channels, width, rate = wav.getnchannels(), wav.getsampwidth(), wav.getframerate()
        frames = wav.readframes(wav.getnframes())
    if width != SAMPLE_WIDTH:
        if width == 1:  # 8-bit WAV is unsigned; audioop wants signed
            frames = audioop.bias(frames, 1, -128)
        frames = audioop.lin2lin(frames, width, SAMPLE_WIDTH)
    if channels == 2:
        frames = audioop.tomono(frames, SAMPLE_WIDTH, 0.5, 0.5)
    elif channels != 1:
        raise ValueError(f"{path}: {channels} channels; only mono or stereo WAV is read")
    return frames, rate


def read_wav_8k_mono(path: Path | str) -> bytes:
    """The file's audio as a phone line carries it: 8 kHz, 16-bit, mono."""
    pcm, rate = read_wav(path)
    return resample(pcm, rate, PHONE_RATE)


def write_wav(path: Path | str, pcm: bytes, rate: int = PHONE_RATE) -> None:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(SAMPLE_WIDTH)
        wav.setframerate(rate)
        wav.writeframes(pcm)


def rms(pcm: bytes) -> int:
    """Loudness of 16-bit PCM (0 for digital silence)."""
    return int(audioop.rms(pcm, SAMPLE_WIDTH)) if pcm else 0
