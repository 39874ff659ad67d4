"""G.711 μ-law / A-law to and from 16-bit linear PCM (stdlib audioop on Python 3.11)."""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    # Deprecated since 3.11 and gone in 3.13: a table codec replaces it when the project moves on.
    warnings.simplefilter("ignore", DeprecationWarning)
    import audioop

SAMPLE_RATE = 8000
FRAME_SAMPLES = 160  # 20 ms at 8 kHz
FRAME_BYTES_PCM = FRAME_SAMPLES * 2


def decode(payload: bytes, codec: str) -> bytes:
    """One G.711 payload -> 16-bit little-endian PCM."""
    if codec == "PCMA":
        return audioop.alaw2lin(payload, 2)
    return audioop.ulaw2lin(payload, 2)


def encode(pcm: bytes, codec: str) -> bytes:
    """16-bit little-endian PCM -> G.711 bytes (one per sample)."""
    if codec == "PCMA":
        return audioop.lin2alaw(pcm, 2)
    return audioop.lin2ulaw(pcm, 2)


def silence(codec: str, samples: int = FRAME_SAMPLES) -> bytes:
    return encode(b"\x00\x00" * samples, codec)


def rms(pcm: bytes) -> int:
    """Loudness of 16-bit PCM, to tell speech from silence in tests and benchmarks."""
    return int(audioop.rms(pcm, 2)) if pcm else 0
