"""Digits: RFC 4733 events counted once per press, and in-band tones found after μ-law coding."""

from __future__ import annotations

import math
import struct
from array import array

import pytest

from ivr import g711
from ivr.dtmf import EventDigits, ToneDetector, parse_event, tone_pcm
from ivr.rtp import build_packet, parse_packet


def _event(key: int, end: bool, duration: int) -> bytes:
    return struct.pack("!BBH", key, (0x80 if end else 0) | 10, duration)


def _press(digits: EventDigits, key: int, timestamp: int) -> list[str]:
    """One press as phones send it: a marked start, updates, the end three times."""
    packets = [(True, _event(key, False, 0))] + [(False, _event(key, False, 160 * n)) for n in range(1, 6)]
    packets += [(False, _event(key, True, 960))] * 3
    return [d for marker, p in packets if (d := digits.feed(timestamp, p, marker)) is not None]


def test_each_press_counts_once_even_when_a_recording_is_replayed() -> None:
    digits = EventDigits()
    assert _press(digits, 1, 1000) == ["1"]
    assert _press(digits, 11, 2000) == ["#"]
    assert _press(digits, 1, 1000) == ["1"]  # the same recording again: a new press
    # Late, unmarked packets of an earlier press do not count again.
    assert digits.feed(2000, _event(11, True, 960)) is None
    # A press whose first packet was lost still counts, once.
    assert digits.feed(3000, _event(5, False, 320)) == "5"
    assert digits.feed(3000, _event(5, True, 960)) is None


def test_event_payload_parsing() -> None:
    assert parse_event(_event(10, True, 800)) == ("*", True, 800)
    assert parse_event(b"\x10\x00\x00\x00") is None  # event 16 (flash) is not a digit
    assert parse_event(b"\x01") is None


def test_rtp_header_round_trip_and_refusals() -> None:
    packet = parse_packet(build_packet(101, 65535, 2**32 - 1, 7, b"abcd", marker=True))
    assert packet is not None and packet.marker and packet.payload == b"abcd"
    assert (packet.payload_type, packet.sequence, packet.timestamp, packet.ssrc) == (101, 65535, 2**32 - 1, 7)
    assert parse_packet(b"\x00" * 20) is None  # version 0
    assert parse_packet(b"\x80\xc8" + b"\x00" * 20) is None  # RTCP sender report
    assert parse_packet(b"\x80") is None


@pytest.mark.parametrize("codec", ["PCMU", "PCMA"])
def test_in_band_tones_survive_g711(codec: str) -> None:
    keys = "0123456789*#"
    pcm = b"".join(tone_pcm(k, 0.07, amplitude=6000) + b"\x00\x00" * 480 for k in keys)
    decoded = g711.decode(g711.encode(pcm, codec), codec)
    assert ToneDetector().feed(decoded) == list(keys)


def test_a_held_key_counts_once_and_speech_like_sound_is_not_a_key() -> None:
    held = tone_pcm("5", 1.0)
    assert ToneDetector().feed(held) == ["5"]
    # A vowel-like sound: a 150 Hz voice with harmonics across the DTMF band.
    voice = array(
        "h",
        (
            int(sum(2500 / h * math.sin(2 * math.pi * 150 * h * n / 8000) for h in range(1, 20)))
            for n in range(16000)
        ),
    )
    assert ToneDetector().feed(g711.decode(g711.encode(voice.tobytes(), "PCMU"), "PCMU")) == []
    assert ToneDetector().feed(tone_pcm("7", 0.02)) == []  # too short to be a key press
