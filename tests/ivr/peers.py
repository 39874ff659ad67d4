"""Real peers for the IVR tests: SIPp as the caller, plus an RTP recorder for what the IVR says."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
import socket
import wave
from dataclasses import dataclass, field
from pathlib import Path

from ivr import g711
from ivr.rtp import parse_packet

SIPP = shutil.which("sipp")
PCAPS = Path("/usr/share/sip-tester")
SCENARIOS = Path(__file__).parent / "sipp"
KEY_PCAP = {
    **{d: f"dtmf_2833_{d}.pcap" for d in "0123456789"},
    "#": "dtmf_2833_pound.pcap",
    "*": "dtmf_2833_star.pcap",
}


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def have_pcaps() -> bool:
    return all((PCAPS / name).exists() for name in KEY_PCAP.values())


@dataclass
class Talkspurt:
    """One stretch of audio the IVR sent (a prompt), from its first packet (marker bit) on."""

    started: float
    codec: str
    frames: list[bytes] = field(default_factory=list)

    @property
    def pcm(self) -> bytes:
        return b"".join(g711.decode(f, self.codec) for f in self.frames)

    @property
    def duration_s(self) -> float:
        return len(self.frames) * 0.02

    @property
    def loudness(self) -> int:
        return g711.rms(self.pcm)


class RtpRecorder(asyncio.DatagramProtocol):
    """Receives the IVR's RTP on the port the caller's SDP names, split into prompts."""

    def __init__(self) -> None:
        self.talkspurts: list[Talkspurt] = []
        self.sources: set[tuple[str, int]] = set()
        self.packets = 0
        self.arrivals: list[float] = []

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        packet = parse_packet(data)
        if packet is None:
            return
        self.packets += 1
        self.sources.add(addr)
        codec = {0: "PCMU", 8: "PCMA"}.get(packet.payload_type)
        if codec is None:
            return
        now = asyncio.get_running_loop().time()
        self.arrivals.append(now)
        if packet.marker or not self.talkspurts:
            self.talkspurts.append(Talkspurt(now, codec))
        self.talkspurts[-1].frames.append(packet.payload)


@contextlib.asynccontextmanager
async def rtp_recorder(host: str = "127.0.0.1"):  # type: ignore[no-untyped-def]
    loop = asyncio.get_running_loop()
    transport, recorder = await loop.create_datagram_endpoint(RtpRecorder, local_addr=(host, 0))
    try:
        yield recorder, int(transport.get_extra_info("sockname")[1])
    finally:
        transport.close()


@dataclass
class SippRun:
    returncode: int
    output: str
    messages: str  # the SIP messages SIPp sent and received (-trace_msg)
    errors: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0


async def run_sipp(
    scenario: Path,
    target_port: int,
    workdir: Path,
    *,
    keys: dict[str, str] | None = None,
    pause_ms: int = 1000,
    calls: int = 1,
    concurrent: int = 1,
    timeout_s: float = 90.0,
) -> SippRun:
    """One SIPp UAC run against the IVR on 127.0.0.1; returns when SIPp ends."""
    assert SIPP is not None
    name = scenario.stem
    msg, err = workdir / f"{name}.msg.log", workdir / f"{name}.err.log"
    argv = [
        SIPP, "-sf", str(scenario), "-i", "127.0.0.1", "-p", str(free_udp_port()),
        "-mi", "127.0.0.1", "-mp", str(free_udp_port()), "-m", str(calls), "-l", str(concurrent),
        "-r", str(concurrent), "-d", str(pause_ms), "-nostdin", "-timeout", f"{int(timeout_s)}s",
        "-trace_msg", "-message_file", str(msg), "-trace_err", "-error_file", str(err),
    ]  # fmt: skip
    for key, value in (keys or {}).items():
        argv += ["-key", key, value]
    argv.append(f"127.0.0.1:{target_port}")
    process = await asyncio.create_subprocess_exec(
        *argv, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT, cwd=workdir
    )
    try:
        out, _ = await asyncio.wait_for(process.communicate(), timeout_s + 10)
    except TimeoutError:
        process.kill()
        out, _ = await process.communicate()
    read = lambda p: p.read_text(errors="replace") if p.exists() else ""  # noqa: E731
    return SippRun(process.returncode or 0, out.decode(errors="replace"), read(msg), read(err))


def ulaw_wav(path: Path, pcm: bytes) -> Path:
    """A G.711 μ-law WAV, the format SIPp's rtp_stream sends as it is."""
    with wave.open(str(path), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(1)
        out.setframerate(8000)
        out.writeframes(b"")
    data = g711.encode(pcm, "PCMU")
    header = bytearray(path.read_bytes()[:44])
    header[20:22] = (7).to_bytes(2, "little")  # format 7: μ-law
    header[22:24] = (1).to_bytes(2, "little")
    header[28:32] = (8000).to_bytes(4, "little")
    header[32:34] = (1).to_bytes(2, "little")
    header[34:36] = (8).to_bytes(2, "little")
    header[4:8] = (36 + len(data)).to_bytes(4, "little")
    header[40:44] = len(data).to_bytes(4, "little")
    path.write_bytes(bytes(header) + data)
    return path


# --- scenarios built from steps: the caller's side of a call, in SIPp's XML --------------------------

_HEAD = """<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE scenario SYSTEM "sipp.dtd">
<scenario name="{name}">
"""
_INVITE = """  <send retrans="500"><![CDATA[
INVITE sip:ivr@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Caller" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:ivr@[remote_ip]:[remote_port]>
Call-ID: [call_id]
CSeq: 1 INVITE
Contact: <sip:[caller]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Type: application/sdp
Content-Length: [len]

v=0
o=caller 53655765 2353687637 IN IP4 [local_ip]
s=-
c=IN IP4 [media_ip]
t=0 0
m=audio {media_port} RTP/AVP {payloads}
{rtpmaps}
]]></send>
  <recv response="100" optional="true"/>
  <recv response="180" optional="true"/>
  <recv response="200" rtd="true"/>
  <send><![CDATA[
ACK sip:ivr@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Caller" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:ivr@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 1 ACK
Contact: <sip:[caller]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
"""
_BYE = """  <send retrans="500"><![CDATA[
BYE sip:ivr@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Caller" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:ivr@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 2 BYE
Contact: <sip:[caller]@[local_ip]:[local_port]>
Max-Forwards: 70
Content-Length: 0
]]></send>
  <recv response="200" crlf="true"/>
</scenario>
"""
_THEIR_BYE = """  <recv request="BYE" timeout="{timeout}"/>
  <send><![CDATA[
SIP/2.0 200 OK
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Content-Length: 0
]]></send>
</scenario>
"""
_REFER = """  <recv request="REFER" timeout="{timeout}"/>
  <send><![CDATA[
SIP/2.0 202 Accepted
[last_Via:]
[last_From:]
[last_To:]
[last_Call-ID:]
[last_CSeq:]
Contact: <sip:[caller]@[local_ip]:[local_port]>
Content-Length: 0
]]></send>
  <send retrans="500"><![CDATA[
NOTIFY sip:ivr@[remote_ip]:[remote_port] SIP/2.0
Via: SIP/2.0/[transport] [local_ip]:[local_port];branch=[branch]
From: "Caller" <sip:[caller]@[local_ip]:[local_port]>;tag=[pid]SIPpTag00[call_number]
To: <sip:ivr@[remote_ip]:[remote_port]>[peer_tag_param]
Call-ID: [call_id]
CSeq: 3 NOTIFY
Contact: <sip:[caller]@[local_ip]:[local_port]>
Event: refer
Subscription-State: terminated;reason=noresource
Max-Forwards: 70
Content-Type: message/sipfrag;version=2.0
Content-Length: [len]

SIP/2.0 200 OK
]]></send>
  <recv response="200"/>
"""


def call_scenario(
    path: Path,
    steps: list[str],
    *,
    ending: str = "bye",
    media_port: str = "[sink_port]",
    payloads: str = "0 101",
    end_timeout_ms: int = 30000,
    caller: str = "[caller]",
) -> Path:
    """A caller's scenario: INVITE, ACK, then steps (a key, "pause" for -d ms, "pause:<ms>",
    "stream:<μ-law wav>"), then
    `bye` (the caller hangs up), `their_bye` (the IVR must hang up) or `refer` (then their BYE)."""
    rtpmaps = "\n".join(
        f"a=rtpmap:{pt} {name}"
        for pt, name in (
            ("0", "PCMU/8000"),
            ("8", "PCMA/8000"),
            ("101", "telephone-event/8000"),
            ("18", "G729/8000"),
        )
        if pt in payloads.split()
    )
    body = [
        _HEAD.format(name=path.stem),
        _INVITE.format(media_port=media_port, payloads=payloads, rtpmaps=rtpmaps),
    ]
    for step in steps:
        if step == "pause":
            body.append("  <pause/>\n")
        elif step.startswith("pause:"):
            body.append(f'  <pause milliseconds="{int(step[6:])}"/>\n')
        elif step.startswith("stream:"):  # a μ-law WAV sent as RTP (PCMU), e.g. speech
            body.append(f'  <nop><action><exec rtp_stream="{step[7:]},1,0"/></action></nop>\n')
        else:
            pcap = PCAPS / KEY_PCAP[step]
            body.append(f'  <nop><action><exec play_pcap_audio="{pcap}"/></action></nop>\n')
            body.append('  <pause milliseconds="350"/>\n')  # one key at a time: a pcap lasts ~200 ms
    if ending == "bye":
        body.append(_BYE)
    elif ending == "their_bye":
        body.append(_THEIR_BYE.format(timeout=end_timeout_ms))
    else:
        body.append(_REFER.format(timeout=end_timeout_ms))
        body.append(_THEIR_BYE.format(timeout=end_timeout_ms))
    path.write_text("".join(body).replace("[caller]", caller))
    return path
