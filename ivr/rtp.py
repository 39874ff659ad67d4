"""RTP (RFC 3550) for one call: header codec, a receive protocol that only enqueues, a paced sender."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import struct
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import cast

from ivr import g711

logger = logging.getLogger(__name__)

FRAME_S = 0.02
HEADER = struct.Struct("!BBHII")
INBOX_SIZE = 500  # 10 s of 20 ms frames: more means the call's loop is stuck, and we drop


@dataclass(frozen=True)
class RtpPacket:
    payload_type: int
    sequence: int
    timestamp: int
    ssrc: int
    marker: bool
    payload: bytes


def parse_packet(data: bytes) -> RtpPacket | None:
    """An RTP packet, or None for anything else (RTCP, STUN, garbage)."""
    if len(data) < HEADER.size:
        return None
    first, second, sequence, timestamp, ssrc = HEADER.unpack_from(data)
    if first >> 6 != 2:
        return None
    payload_type = second & 0x7F
    if 72 <= payload_type <= 76:  # RTCP sharing the port (RFC 5761)
        return None
    offset = HEADER.size + 4 * (first & 0x0F)
    if first & 0x10:  # header extension
        if len(data) < offset + 4:
            return None
        offset += 4 + 4 * struct.unpack_from("!H", data, offset + 2)[0]
    end = len(data)
    if first & 0x20:  # padding: the last byte says how much
        end -= data[-1]
    if offset > end:
        return None
    return RtpPacket(payload_type, sequence, timestamp, ssrc, bool(second & 0x80), data[offset:end])


def build_packet(
    payload_type: int, sequence: int, timestamp: int, ssrc: int, payload: bytes, marker: bool = False
) -> bytes:
    second = (0x80 if marker else 0) | (payload_type & 0x7F)
    return HEADER.pack(0x80, second, sequence & 0xFFFF, timestamp & 0xFFFFFFFF, ssrc) + payload


class RtpProtocol(asyncio.DatagramProtocol):
    """Receives for one call: drops what does not come from the negotiated source, enqueues the rest."""

    def __init__(self) -> None:
        self.inbox: asyncio.Queue[RtpPacket] = asyncio.Queue(INBOX_SIZE)
        self.remote: tuple[str, int] | None = None
        self.latched_port: int | None = None
        self.transport: asyncio.DatagramTransport | None = None
        self.ignored = 0
        self.dropped = 0
        self.last_packet_at = 0.0

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self._from_caller(addr[0], addr[1]):
            self.ignored += 1  # another host, or a second stream: never mixed into the caller's audio
            return
        packet = parse_packet(data)
        if packet is None:
            self.ignored += 1
            return
        self.last_packet_at = asyncio.get_running_loop().time()
        try:
            self.inbox.put_nowait(packet)
        except asyncio.QueueFull:
            self.dropped += 1

    def _from_caller(self, host: str, port: int) -> bool:
        """Only the address the SDP named; its first port is kept (latched), others are ignored.

        Phones behind NAT often send from another port than the one they announce, so the port is
        learnt from the first packet, like symmetric-RTP PBXs do; the host must match the SDP.
        """
        if self.remote is None or host != self.remote[0]:
            return False
        if self.latched_port is None:
            self.latched_port = port
        return port == self.latched_port


class RtpSession:
    """One call's RTP port: receiving through RtpProtocol, sending paced 20 ms G.711 frames."""

    def __init__(self, transport: asyncio.DatagramTransport, protocol: RtpProtocol, port: int) -> None:
        self.transport = transport
        self.protocol = protocol
        self.port = port
        self.codec = "PCMU"
        self.payload_type = 0
        self._ssrc = random.getrandbits(32)
        self._sequence = random.getrandbits(16)
        self._timestamp = random.getrandbits(32)
        self._last_sent: float | None = None
        self.sent = 0
        self.muted = False  # on hold (our direction recvonly or inactive): nothing is sent

    def set_remote(self, address: str, port: int, codec: str, payload_type: int, muted: bool = False) -> None:
        self.muted = muted
        if self.protocol.remote != (address, port):
            self.protocol.latched_port = None  # a new media address (re-INVITE): learn again
        self.protocol.remote = (address, port)
        self.codec, self.payload_type = codec, payload_type

    async def play(self, pcm: bytes) -> None:
        """Send 8 kHz 16-bit PCM as paced 20 ms frames; cancel the task to stop (barge-in)."""
        await self.play_parts(_one(pcm))

    async def play_parts(self, parts: AsyncGenerator[bytes, None]) -> None:
        """Play audio that may still be rendering, part after part, as one talkspurt: a part's first
        frame follows the last one's by 20 ms. A part that comes later (the line went quiet) starts
        a new talkspurt. Cancel the task to stop (barge-in); the parts are closed either way."""
        deadline: float | None = None  # when the next frame is due
        async with contextlib.aclosing(parts):
            async for pcm in parts:
                deadline = await self._paced(pcm, deadline)

    async def _paced(self, pcm: bytes, deadline: float | None) -> float:
        loop = asyncio.get_running_loop()
        frame = g711.FRAME_BYTES_PCM
        now = loop.time()
        marker = deadline is None or now - deadline > FRAME_S
        if deadline is None or marker:  # the line was quiet: a new talkspurt, its clock moved on
            self._advance_clock(now)
            deadline = now
        for start in range(0, len(pcm), frame):
            chunk = pcm[start : start + frame].ljust(frame, b"\x00")
            self._send(g711.encode(chunk, self.codec), marker, loop.time())
            marker = False
            deadline += FRAME_S
            await asyncio.sleep(max(0.0, deadline - loop.time()))
        return deadline

    def _advance_clock(self, now: float) -> None:
        """After a pause the timestamp jumps by the time that passed, as if silence had been sent."""
        if self._last_sent is not None:
            gap_frames = max(0, round((now - self._last_sent) / FRAME_S) - 1)
            self._timestamp += gap_frames * g711.FRAME_SAMPLES

    def _send(self, payload: bytes, marker: bool, now: float) -> None:
        remote = self.protocol.remote
        if remote is None or self.transport.is_closing() or self.muted:
            return
        packet = build_packet(self.payload_type, self._sequence, self._timestamp, self._ssrc, payload, marker)
        self.transport.sendto(packet, remote)
        self._sequence = (self._sequence + 1) & 0xFFFF
        self._timestamp = (self._timestamp + g711.FRAME_SAMPLES) & 0xFFFFFFFF
        self._last_sent = now
        self.sent += 1

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.transport.close()


async def _one(pcm: bytes) -> AsyncGenerator[bytes, None]:
    yield pcm


class PortRange:
    """Hands out even RTP ports from a configured range, each to one call at a time."""

    def __init__(self, low: int, high: int) -> None:
        self._free = [p for p in range(low + (low % 2), high + 1, 2)]
        self._taken: set[int] = set()

    async def open(self, host: str) -> RtpSession:
        loop = asyncio.get_running_loop()
        candidates = [p for p in self._free if p not in self._taken]
        random.shuffle(candidates)
        for port in candidates:
            try:
                transport, protocol = await loop.create_datagram_endpoint(
                    RtpProtocol, local_addr=(host, port)
                )
            except OSError:
                continue  # in use by another program
            self._taken.add(port)
            return RtpSession(transport, protocol, port)
        raise OSError("no free RTP port in the configured range")

    def release(self, session: RtpSession) -> None:
        session.close()
        self._taken.discard(session.port)
