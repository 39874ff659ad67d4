"""DTMF digits: RFC 4733 telephone-events (preferred) and an in-band Goertzel detector (fallback)."""

from __future__ import annotations

import math
import struct
from array import array

EVENTS = "0123456789*#ABCD"
ROWS = (697.0, 770.0, 852.0, 941.0)
COLUMNS = (1209.0, 1336.0, 1477.0, 1633.0)
KEYPAD = ("123A", "456B", "789C", "*0#D")


def parse_event(payload: bytes) -> tuple[str, bool, int] | None:
    """(digit, end bit, duration) from an RFC 4733 payload; None for events that are not digits."""
    if len(payload) < 4:
        return None
    event, flags, duration = struct.unpack_from("!BBH", payload)
    if event >= len(EVENTS):
        return None
    return EVENTS[event], bool(flags & 0x80), duration


class EventDigits:
    """One digit per RFC 4733 event. An event is identified by its timestamp and sent many times
    (its end three times); its first packet carries the RTP marker bit. A marked packet always
    starts a new press, even on a timestamp seen before (a sender replaying a recording does that);
    unmarked packets of an earlier press arriving late are ignored."""

    def __init__(self) -> None:
        self._current: int | None = None
        self._ended = False
        self._old: list[int] = []

    def feed(self, timestamp: int, payload: bytes, marker: bool = False) -> str | None:
        parsed = parse_event(payload)
        if parsed is None:
            return None
        digit, end, _ = parsed
        if timestamp == self._current and not (marker and self._ended):
            self._ended = self._ended or end
            return None  # the same press, continued or ended (again)
        if timestamp in self._old and not marker:
            return None  # a late packet of an earlier press
        if self._current is not None and self._current != timestamp:
            self._old = [*self._old[-15:], self._current]
        self._current, self._ended = timestamp, end
        return digit


def _coefficient(frequency: float, rate: int) -> float:
    return 2.0 * math.cos(2.0 * math.pi * frequency / rate)


class ToneDetector:
    """In-band DTMF on 8 kHz 16-bit PCM with the Goertzel algorithm.

    Blocks of 205 samples (about 26 ms, the classic size for 8 kHz); a digit counts after two
    blocks agree and is reported once, until a block without it re-arms the detector.
    """

    BLOCK = 205

    def __init__(self, rate: int = 8000, min_amplitude: float = 300.0) -> None:
        self._coefficients = [_coefficient(f, rate) for f in ROWS + COLUMNS]
        self._pending = array("h")
        self._candidate: str | None = None
        self._count = 0
        self._reported: str | None = None
        # A pure tone of amplitude A over N samples has a Goertzel power of about (A * N / 2) ** 2.
        self._min_power = (min_amplitude * self.BLOCK / 2) ** 2

    def feed(self, pcm: bytes) -> list[str]:
        self._pending.frombytes(pcm[: len(pcm) - len(pcm) % 2])
        digits = []
        while len(self._pending) >= self.BLOCK:
            block = self._pending[: self.BLOCK]
            del self._pending[: self.BLOCK]
            digit = self._detect(block)
            if digit is not None:
                digits.append(digit)
        return digits

    def _detect(self, block: array) -> str | None:
        tone = self._tone(block)
        if tone != self._candidate:
            self._candidate, self._count = tone, 0
        self._count += 1
        if tone is None:
            self._reported = None
            return None
        if self._count >= 2 and tone != self._reported:
            self._reported = tone
            return tone
        return None

    def _tone(self, block: array) -> str | None:
        powers = [_goertzel(block, c) for c in self._coefficients]
        rows, columns = powers[:4], powers[4:]
        row = max(range(4), key=rows.__getitem__)
        column = max(range(4), key=columns.__getitem__)
        strongest_row, strongest_column = rows[row], columns[column]
        if strongest_row < self._min_power or strongest_column < self._min_power:
            return None
        # Twist: the two tones within about 8 dB of each other (ITU-T Q.24 allows 4-8 dB).
        if not 0.16 < strongest_row / strongest_column < 6.3:
            return None
        # The other tones of each group must be clearly weaker, or it is speech or noise.
        if any(p > strongest_row / 6 for i, p in enumerate(rows) if i != row):
            return None
        if any(p > strongest_column / 6 for i, p in enumerate(columns) if i != column):
            return None
        # Parseval: a tone's power is about N/2 times its energy; the two tones carry most of it.
        energy = sum(s * s for s in block)
        if (strongest_row + strongest_column) * 2 / self.BLOCK < 0.5 * energy:
            return None
        return KEYPAD[row][column]


def _goertzel(block: array, coefficient: float) -> float:
    s1 = s2 = 0.0
    for sample in block:
        s1, s2 = sample + coefficient * s1 - s2, s1
    return s1 * s1 + s2 * s2 - coefficient * s1 * s2


def tone_pcm(digit: str, duration_s: float = 0.1, rate: int = 8000, amplitude: int = 8000) -> bytes:
    """The two-tone signal of a key (for tests and for callers' phones that lack RFC 4733)."""
    index = next(i for i, row in enumerate(KEYPAD) if digit in row)
    low, high = ROWS[index], COLUMNS[KEYPAD[index].index(digit)]
    samples = array(
        "h",
        (
            int(
                amplitude
                * (math.sin(2 * math.pi * low * n / rate) + math.sin(2 * math.pi * high * n / rate))
                / 2
            )
            for n in range(int(duration_s * rate))
        ),
    )
    return samples.tobytes()
