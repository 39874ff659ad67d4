"""SIP INVITE flood: 200 INVITEs a second for 10 s from loopback that never ACK, against the IVR
running inside the front-line app (its own process, pinned to one core, as bench/ivr.py runs it).

Measured: how the flood was answered (200 / 503 / nothing), how long the RTP ports stay taken
after it (all must come free within Timer H, 32 s), whether a real call from another address
placed during the flood is answered and hears its prompts (the small SIP/RTP caller of
bench/ivr.py, pressing 1), and POST /api/chat latency before and during the flood.
Run with `python -m bench.sip_flood`; results go to bench/results/sip_flood.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter

import httpx

from bench.ivr import Caller, Udp, digit_script
from bench.stats import summary_ms
from core.settings import PROJECT_ROOT
from ivr.errors import SipParseError
from ivr.sip import message as sip

RESULTS = PROJECT_ROOT / "bench" / "results" / "sip_flood.json"
RTP_MIN, RTP_MAX = 31000, 31998
FLOOD_HOST, CALLER_HOST = "127.0.0.1", "127.0.0.2"  # the legitimate caller comes from another address
# The chat client opens a new conversation every turn from one address: the per-address limit on new
# conversations is for strangers, not for this probe (the app process reads it from the environment).
os.environ["FRONTLINE_NEW_CONVERSATIONS_PER_MINUTE"] = "0"


# --- the IVR host process ----------------------------------------------------------------------------


async def serve(sip_port: int, http_port: int, db_path: str) -> None:
    import uvicorn

    from app.factory import create_app
    from core.settings import DbSettings, IvrSettings, RasaSettings, Settings

    settings = Settings(
        db=DbSettings(url=f"sqlite+aiosqlite:///{db_path}"),
        rasa=RasaSettings(url="http://127.0.0.1:9", connect_retries=0),
        ivr=IvrSettings(enabled=True, port=sip_port, rtp_port_min=RTP_MIN, rtp_port_max=RTP_MAX),
    )  # the admission limits are the defaults a centre gets
    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=http_port, log_level="warning")
    await uvicorn.Server(config).serve()


# --- the flood -----------------------------------------------------------------------------------------


def invite(sip_port: int, local_port: int, call_id: str) -> bytes:
    sdp = (
        f"v=0\r\no=f 1 1 IN IP4 {FLOOD_HOST}\r\ns=-\r\nc=IN IP4 {FLOOD_HOST}\r\nt=0 0\r\n"
        "m=audio 9 RTP/AVP 0\r\na=rtpmap:0 PCMU/8000\r\n"
    ).encode()
    request = sip.SipMessage(
        method="INVITE",
        uri=f"sip:ivr@127.0.0.1:{sip_port}",
        headers=[
            ("Via", f"SIP/2.0/UDP {FLOOD_HOST}:{local_port};branch=z9hG4bK{secrets.token_hex(6)}"),
            ("From", f"<sip:flood@{FLOOD_HOST}:{local_port}>;tag={secrets.token_hex(4)}"),
            ("To", f"<sip:ivr@127.0.0.1:{sip_port}>"),
            ("Call-ID", call_id),
            ("CSeq", "1 INVITE"),
            ("Contact", f"<sip:flood@{FLOOD_HOST}:{local_port}>"),
            ("Max-Forwards", "70"),
            ("Content-Type", "application/sdp"),
        ],
        body=sdp,
    )
    return sip.serialize(request)


async def flood(sip_port: int, rate: int, seconds: float) -> dict[str, int]:
    """Send the INVITEs paced at `rate`, never ACK; the first final status per Call-ID counts."""
    loop = asyncio.get_running_loop()
    transport, inbox = await loop.create_datagram_endpoint(Udp, local_addr=(FLOOD_HOST, 0))
    local_port = transport.get_extra_info("sockname")[1]
    finals: dict[str, int] = {}

    async def receive() -> None:
        while True:
            data, _ = await inbox.inbox.get()
            try:
                answer = sip.parse(data)
            except SipParseError:
                continue
            if answer.status is not None and answer.status >= 200:
                finals.setdefault(answer.call_id, answer.status)

    receiver = asyncio.create_task(receive())
    sent, start = 0, time.perf_counter()
    while sent < rate * seconds:
        transport.sendto(invite(sip_port, local_port, f"flood-{sent}"), ("127.0.0.1", sip_port))
        sent += 1
        await asyncio.sleep(max(0.0, start + sent / rate - time.perf_counter()))
    await asyncio.sleep(2.0)  # the last answers
    receiver.cancel()
    transport.close()
    counts = Counter(finals.values())
    return {
        "sent": sent,
        "send_s": round(time.perf_counter() - start - 2.0, 2),
        "answered_200": counts[200],
        "answered_503": counts[503],
        "answered_other": sum(n for status, n in counts.items() if status not in (200, 503)),
        "unanswered": sent - len(finals),
    }


# --- what must keep working ------------------------------------------------------------------------------


class TimedCaller(Caller):
    """bench/ivr.py's caller, timing its INVITE and keeping the status."""

    setup_s: float | None = None
    status: int | None = None

    async def _request(self, sock: Udp, method: str, cseq: int, body: bytes = b"") -> sip.SipMessage:
        started = time.perf_counter()
        answer = await super()._request(sock, method, cseq, body)
        if method == "INVITE":
            self.setup_s, self.status = time.perf_counter() - started, answer.status
        return answer


async def real_call(sip_port: int) -> dict[str, object]:
    """One call from another address: answered, it hears the greeting and the reply to key 1."""
    loop = asyncio.get_running_loop()
    sock_t, sock = await loop.create_datagram_endpoint(Udp, local_addr=(CALLER_HOST, 0))
    rtp_t, rtp = await loop.create_datagram_endpoint(Udp, local_addr=(CALLER_HOST, 0))
    caller = TimedCaller(sip_port, 1)
    error = ""
    try:
        await asyncio.wait_for(caller.call(digit_script(1), rtp, sock), 60)
    except Exception as exc:  # a refused call has no SDP to read: the status says why
        error = repr(exc)[:120]
    finally:
        sock_t.close()
        rtp_t.close()
    return {
        "status": caller.status,
        "setup_ms": round(caller.setup_s * 1000, 1) if caller.setup_s is not None else None,
        "prompts_heard": len(caller.heard.arrivals),
        "rtp_packets_heard": sum(len(spurt) for spurt in caller.heard.arrivals),
        "key_to_reply_ms": summary_ms(caller.heard.latencies)["p50"] if caller.heard.latencies else None,
        "error": error,
    }


async def chat_turns(http: httpx.AsyncClient, seconds: float, every_s: float) -> dict[str, object]:
    latencies, statuses = [], Counter()
    end = time.perf_counter() + seconds
    n, prefix = 0, secrets.token_hex(4)  # a new customer each turn: no token needed
    while time.perf_counter() < end:
        started = time.perf_counter()
        response = await http.post("/api/chat", json={"customer": f"chat-{prefix}-{n}", "text": "hello"})
        latencies.append(time.perf_counter() - started)
        statuses[response.status_code] += 1
        n += 1
        await asyncio.sleep(max(0.0, every_s - latencies[-1]))
    return {"statuses": dict(statuses), "latency_ms": summary_ms(latencies)}


def ports_held() -> int:
    held = 0
    for port in range(RTP_MIN, RTP_MAX + 1, 2):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                held += 1
    return held


async def wait_ports_free(timeout_s: float) -> tuple[float | None, list[tuple[float, int]]]:
    """Seconds until no RTP port is held, and the count held along the way."""
    start, trace = time.perf_counter(), []
    while time.perf_counter() - start < timeout_s:
        held = ports_held()
        if not trace or trace[-1][1] != held:  # only the changes
            trace.append((round(time.perf_counter() - start, 1), held))
        if held == 0:
            return round(time.perf_counter() - start, 1), trace
        await asyncio.sleep(1.0)
    return None, trace


async def wait_ready(http: httpx.AsyncClient) -> None:
    for _ in range(300):
        try:
            if (await http.get("/healthz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.2)
    raise SystemExit("the app did not start")


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def bench(rate: int, seconds: float) -> dict[str, object]:
    sip_port, http_port = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    with tempfile.TemporaryDirectory() as tmp:
        host = subprocess.Popen(
            [sys.executable, "-m", "bench.sip_flood", "--serve", str(sip_port), "--http-port",
             str(http_port), "--db", f"{tmp}/flood.db"],
            cwd=PROJECT_ROOT,
        )  # fmt: skip
        os.sched_setaffinity(host.pid, {(os.cpu_count() or 1) - 1})
        try:
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{http_port}", timeout=30) as http:
                await wait_ready(http)
                calm_chat = await chat_turns(http, 3.0, 0.25)
                calm_call = await real_call(sip_port)
                flooding = asyncio.create_task(flood(sip_port, rate, seconds))
                await asyncio.sleep(seconds * 0.3)  # the flood is well under way
                during_chat, during_call = await asyncio.gather(
                    chat_turns(http, seconds * 0.5, 0.25), real_call(sip_port)
                )
                flooded = await flooding
                free_after_s, trace = await wait_ports_free(60.0)
                after_call = await real_call(sip_port)
        finally:
            host.terminate()
            host.wait(10)
    return {
        "flood": {"rate_per_s": rate, "seconds": seconds, **flooded},
        "rtp_ports": {
            "range": f"{RTP_MIN}-{RTP_MAX} (even: {len(range(RTP_MIN, RTP_MAX + 1, 2))})",
            "held_right_after_flood": trace[0][1],
            "all_free_s_after_flood": free_after_s,
            "held_changes": trace,
        },
        "real_call": {"before_flood": calm_call, "during_flood": during_call, "after_flood": after_call},
        "chat": {
            "before_flood": calm_chat,
            "during_flood": during_chat,
            "p50_ratio_during_to_before": _ratio(during_chat, calm_chat),
        },
        "note": "IVR and app in one process pinned to one core; flood, caller and chat client on the same "
        "2-core machine; Rasa not running, so a chat turn is the core's holding reply",
    }


def _ratio(during: dict[str, object], before: dict[str, object]) -> float:
    p50 = lambda run: run["latency_ms"]["p50"]  # type: ignore[index]  # noqa: E731
    return round(p50(during) / p50(before), 2)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--http-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--db", help=argparse.SUPPRESS)
    parser.add_argument("--rate", type=int, default=200, help="INVITEs per second")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of the flood")
    args = parser.parse_args()
    if args.serve:
        asyncio.run(serve(args.serve, args.http_port, args.db))
        return
    results = asyncio.run(bench(args.rate, args.seconds))
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
