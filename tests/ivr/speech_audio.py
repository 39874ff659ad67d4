"""Audio as the IVR hears it in a call: G.711 μ-law on the wire, 20 ms frames, silence around speech."""

from __future__ import annotations

import warnings

from ivr.speech.endpointing import FRAME_BYTES, Endpointer, SpeechStarted, Utterance

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
