"""WAV helpers: any PCM WAV comes out as the 8 kHz 16-bit mono a phone line carries."""

from __future__ import annotations

import itertools
import math
import struct
import wave
from pathlib import Path

import pytest

from ivr.speech.wav import read_wav, read_wav_8k_mono, write_wav


def tone(rate: int, seconds: float, hz: float = 440.0, channels: int = 1) -> bytes:
    samples = [int(12000 * math.sin(2 * math.pi * hz * n / rate)) for n in range(int(rate * seconds))]
    return struct.pack(f"<{len(samples) * channels}h", *[s for s in samples for _ in range(channels)])


def crossings(pcm: bytes) -> int:
    samples = struct.unpack(f"<{len(pcm) // 2}h", pcm)
    return sum(1 for a, b in itertools.pairwise(samples) if (a < 0) != (b < 0))


def save(path: Path, frames: bytes, rate: int, channels: int = 1, width: int = 2) -> Path:
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(channels)
        wav.setsampwidth(width)
        wav.setframerate(rate)
        wav.writeframes(frames)
    return path


@pytest.mark.parametrize(("rate", "channels"), [(22050, 1), (44100, 2), (16000, 1), (8000, 1)])
def test_any_wav_becomes_8khz_mono_of_the_same_length_and_pitch(
    tmp_path: Path, rate: int, channels: int
) -> None:
    path = save(tmp_path / "tone.wav", tone(rate, 1.0, channels=channels), rate, channels)

    pcm = read_wav_8k_mono(path)

    assert len(pcm) / 2 == pytest.approx(8000, abs=2)  # one second
    assert crossings(pcm) == pytest.approx(880, abs=4)  # a 440 Hz tone crosses zero 880 times a second


def test_an_8_bit_wav_is_read_as_16_bit(tmp_path: Path) -> None:
    unsigned = bytes((128 + (64 if n % 20 < 10 else -64)) for n in range(8000))
    pcm, rate = read_wav(save(tmp_path / "u8.wav", unsigned, 8000, width=1))
    assert rate == 8000
    assert max(struct.unpack("<8000h", pcm)) == 64 * 256


def test_write_then_read_gives_the_same_audio(tmp_path: Path) -> None:
    audio = tone(8000, 0.5)
    write_wav(tmp_path / "out.wav", audio)
    assert read_wav_8k_mono(tmp_path / "out.wav") == audio
