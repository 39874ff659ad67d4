"""A hand-made SIP caller on a plain UDP socket, for requests no well-behaved peer would send."""

from __future__ import annotations

import asyncio
import secrets
import socket
from dataclasses import dataclass, field

from ivr.errors import SipParseError
from ivr.sip import message as sip


def offer(media_host: str, media_port: int, payloads: str = "0 101") -> str:
    return (
        f"v=0\r\no=caller 1 1 IN IP4 {media_host}\r\ns=-\r\nc=IN IP4 {media_host}\r\nt=0 0\r\n"
        f"m=audio {media_port} RTP/AVP {payloads}\r\na=rtpmap:0 PCMU/8000\r\n"
        "a=rtpmap:101 telephone-event/8000\r\n"
    )


@dataclass
class RawCaller:
    """One UDP socket (host chosen by the test) talking to the IVR on 127.0.0.1:`ivr_port`."""

    ivr_port: int
    host: str = "127.0.0.1"
    sock: socket.socket = field(init=False)
    call_id: str = field(default_factory=lambda: secrets.token_hex(8))
    tag: str = field(default_factory=lambda: secrets.token_hex(4))
    raw: list[bytes] = field(default_factory=list)  # every datagram received, parsable or not

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((self.host, 0))
        self.sock.setblocking(False)

    @property
    def port(self) -> int:
        return int(self.sock.getsockname()[1])

    def close(self) -> None:
        self.sock.close()

    def request(
        self,
        method: str,
        cseq: str = "1",
        *,
        body: str = "",
        to_tag: str | None = None,
        from_tag: str | None = None,
        call_id: str | None = None,
        branch: str | None = None,
    ) -> bytes:
        to = f"<sip:ivr@127.0.0.1:{self.ivr_port}>" + (f";tag={to_tag}" if to_tag else "")
        lines = [
            f"{method} sip:ivr@127.0.0.1:{self.ivr_port} SIP/2.0",
            f"Via: SIP/2.0/UDP {self.host}:{self.port};branch={branch or 'z9hG4bK' + secrets.token_hex(6)}",
            f"From: <sip:+15550111@{self.host}:{self.port}>;tag={from_tag or self.tag}",
            f"To: {to}",
            f"Call-ID: {call_id or self.call_id}",
            f"CSeq: {cseq} {method}",
            f"Contact: <sip:caller@{self.host}:{self.port}>",
            "Max-Forwards: 70",
        ]
        if body:
            lines.append("Content-Type: application/sdp")
        data = body.encode()
        lines.append(f"Content-Length: {len(data)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + data

    def send(self, data: bytes) -> None:
        self.sock.sendto(data, ("127.0.0.1", self.ivr_port))

    async def answers(self, wait_s: float, *, until_status: int | None = None) -> list[sip.SipMessage]:
        """Responses received within `wait_s` (sooner once one with `until_status` arrived)."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        got: list[sip.SipMessage] = []
        while loop.time() < deadline:
            try:
                data = self.sock.recv(65535)
            except BlockingIOError:
                await asyncio.sleep(0.02)
                continue
            self.raw.append(data)
            try:
                got.append(sip.parse(data))
            except SipParseError:
                continue
            if until_status is not None and got[-1].status == until_status:
                break
        return got

    async def final(self, wait_s: float = 10.0, call_id: str | None = None) -> sip.SipMessage | None:
        """The first final response (>= 200) within `wait_s`, to `call_id` when given."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait_s
        while loop.time() < deadline:
            for answer in await self.answers(min(0.5, deadline - loop.time())):
                final = answer.status is not None and answer.status >= 200
                if final and (call_id is None or answer.call_id == call_id):
                    return answer
        return None


def to_tag(answer: sip.SipMessage) -> str:
    return sip.header_param(answer.get("To") or "", "tag") or ""


def rtp_ports_held(low: int, high: int, host: str = "127.0.0.1") -> list[int]:
    """The even ports of the IVR's RTP range that something still holds (bind fails)."""
    held = []
    for port in range(low + low % 2, high + 1, 2):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind((host, port))
            except OSError:
                held.append(port)
    return held
