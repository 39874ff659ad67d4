"""Bad input and hard cases over loopback: CANCEL, unsupported codecs, malformed requests, garbage,
hold, silent callers, several calls at once, RTP from the wrong source."""

from __future__ import annotations

import asyncio
import os
import re
import socket
from pathlib import Path

from ivr.rtp import RtpProtocol, build_packet
from tests.ivr.lines import event_detail, ivr_settings, require_sipp, running_ivr
from tests.ivr.peers import SCENARIOS, call_scenario, free_udp_port, rtp_recorder, run_sipp

CALLER = "+15550100"


async def test_cancel_before_answer_gets_487_and_no_session(tmp_path: Path) -> None:
    require_sipp()
    async with running_ivr(ivr_settings(tmp_path, ring_s=3.0)) as line:
        run = await run_sipp(
            SCENARIOS / "cancel_before_answer.xml", line.sip_port, tmp_path, keys={"caller": CALLER}
        )
        assert run.ok, run.output + run.errors
        assert await line.session_of(f"tel:{CALLER}") is None
        assert not line.ivr.endpoint.calls


async def test_unsupported_codec_gets_488(tmp_path: Path) -> None:
    require_sipp()
    async with running_ivr(ivr_settings(tmp_path)) as line:
        run = await run_sipp(
            SCENARIOS / "unsupported_codec.xml", line.sip_port, tmp_path, keys={"caller": CALLER}
        )
        assert run.ok, run.output + run.errors
        assert "Warning: 305" in run.messages
        assert await line.session_of(f"tel:{CALLER}") is None


async def test_malformed_requests_get_400_and_garbage_is_survived(tmp_path: Path) -> None:
    require_sipp()
    garbage = [
        os.urandom(300),
        b"",
        b"\r\n\r\n",
        b"INVITE\r\n\r\n",
        b"SIP/2.0 200 OK\r\n\r\n",
        b"OPTIONS sip:x SIP/2.0\r\nVia SIP/2.0/UDP 1.2.3.4\r\n\r\n",
        b"OPTIONS sip:x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9\r\nCall-ID: a\r\n\r\n",
        "OPTIONS sip:x SIP/2.0\r\nVia: \udcff\r\n\r\n".encode("utf-8", "surrogateescape"),
        b"INVITE sip:x SIP/2.0\r\n" + b"X-Long: " + b"a" * 60000 + b"\r\n\r\n",
        b"INVITE sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKx\r\n"
        b"From: <sip:a@b>;tag=1\r\nTo: <sip:ivr@c>\r\nCall-ID: g1\r\nCSeq: 1 INVITE\r\n"
        b"Content-Type: application/sdp\r\nContent-Length: 9\r\n\r\nv=0\r\nm=xx",
    ]
    async with running_ivr(ivr_settings(tmp_path)) as line:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("127.0.0.1", 0))
            sock.settimeout(2.0)
            for datagram in garbage:
                sock.sendto(datagram, ("127.0.0.1", line.sip_port))
            await asyncio.sleep(0.5)
            # The one with Via and Call-ID but no From/To/CSeq is answerable: 400 names what is missing.
            answers = []
            sock.setblocking(False)
            while True:
                try:
                    answers.append(sock.recv(65535).decode(errors="replace"))
                except BlockingIOError:
                    break
        assert any(a.startswith("SIP/2.0 400 Missing From, To, CSeq") for a in answers), answers
        assert any(a.startswith("SIP/2.0 400 Bad SDP") for a in answers), answers
        run = await run_sipp(SCENARIOS / "malformed.xml", line.sip_port, tmp_path)
        assert run.ok, run.output + run.errors
        assert line.ivr.endpoint.bad_requests >= len(garbage)


async def test_hold_and_resume_by_reinvite(tmp_path: Path) -> None:
    require_sipp()
    async with running_ivr(ivr_settings(tmp_path)) as line, rtp_recorder() as (recorder, sink):
        run = await run_sipp(
            SCENARIOS / "hold.xml", line.sip_port, tmp_path, keys={"caller": CALLER, "sink_port": str(sink)}
        )
        assert run.ok, run.output + run.errors
    assert {s.codec for s in recorder.talkspurts} == {"PCMA"}
    # While held (2 s) the IVR sent nothing; the greeting went on after the resume.
    gaps = [b - a for a, b in zip(recorder.arrivals, recorder.arrivals[1:], strict=False)]
    assert max(gaps) > 1.5 and recorder.arrivals[-1] - recorder.arrivals[0] > 3.0


async def test_a_silent_call_is_ended_and_recorded_as_abandoned(tmp_path: Path) -> None:
    require_sipp()
    # The caller sends no RTP at all after the answer: the IVR hangs up after the silence timeout.
    scenario = call_scenario(tmp_path / "silent.xml", [], ending="their_bye", end_timeout_ms=15000)
    async with (
        running_ivr(ivr_settings(tmp_path, silence_timeout_s=3.0)) as line,
        rtp_recorder() as (_, sink),
    ):
        run = await run_sipp(
            scenario, line.sip_port, tmp_path, keys={"caller": CALLER, "sink_port": str(sink)}
        )
        assert run.ok, run.output + run.errors
        session = await line.session_of(f"tel:{CALLER}")
        assert session is not None and session.state == "closed"
        assert await event_detail(line, session.id, "abandoned") == {"by": "silence_timeout"}


async def test_five_calls_at_once(tmp_path: Path) -> None:
    require_sipp()
    scenario = call_scenario(
        tmp_path / "five.xml", ["pause", "1", "pause", "2", "pause"], caller="+1555020[call_number]"
    )
    async with running_ivr(ivr_settings(tmp_path)) as line, rtp_recorder() as (recorder, sink):
        run = await run_sipp(
            scenario,
            line.sip_port,
            tmp_path,
            keys={"sink_port": str(sink)},
            calls=5,
            concurrent=5,
            pause_ms=2500,
        )
        assert run.ok, run.output + run.errors
        assert re.search(r"Successful call\s+\|\s+\d+\s+\|\s+5\b", run.output), run.output
        for number in range(1, 6):
            session = await line.session_of(f"tel:+1555020{number}")
            assert session is not None, number
            heard = [m.text for m in await line.messages(session.id) if m.direction == "in"]
            assert heard == ["1", "2"], (number, heard)
    assert len(recorder.talkspurts) >= 15  # three prompts per call, each call heard its own


async def test_rtp_from_the_wrong_source_is_ignored() -> None:
    loop = asyncio.get_running_loop()
    transport, protocol = await loop.create_datagram_endpoint(RtpProtocol, local_addr=("127.0.0.1", 0))
    port = transport.get_extra_info("sockname")[1]
    caller_port = free_udp_port()
    protocol.remote = ("127.0.0.1", caller_port)
    packet = build_packet(0, 1, 160, 1234, b"\xff" * 160)
    try:
        with (
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as caller,
            socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as second_stream,
        ):
            stranger.bind(("127.0.0.2", 0))  # another host
            caller.bind(("127.0.0.1", caller_port))
            second_stream.bind(("127.0.0.1", 0))  # the caller's host, another port
            stranger.sendto(packet, ("127.0.0.1", port))
            await asyncio.sleep(0.05)
            caller.sendto(packet, ("127.0.0.1", port))
            await asyncio.sleep(0.05)
            second_stream.sendto(packet, ("127.0.0.1", port))
            caller.sendto(b"not rtp", ("127.0.0.1", port))
            await asyncio.sleep(0.1)
    finally:
        transport.close()
    assert protocol.inbox.qsize() == 1
    assert protocol.ignored == 3


def _options(call_id: str, port: int) -> bytes:
    return (
        f"OPTIONS sip:ivr@127.0.0.1 SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:{port};branch=z9hG4bK{call_id}\r\n"
        f"From: <sip:probe@127.0.0.1>;tag=1\r\nTo: <sip:ivr@127.0.0.1>\r\nCall-ID: {call_id}\r\n"
        "CSeq: 1 OPTIONS\r\nMax-Forwards: 70\r\nContent-Length: 0\r\n\r\n"
    ).encode()


async def test_only_allowed_peers_are_answered(tmp_path: Path) -> None:
    async with running_ivr(ivr_settings(tmp_path, allowed_peers=["127.0.0.2/32"])) as line:
        answers = {}
        for host in ("127.0.0.1", "127.0.0.2"):
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                sock.bind((host, 0))
                sock.setblocking(False)
                sock.sendto(_options(f"peer-{host}", sock.getsockname()[1]), ("127.0.0.1", line.sip_port))
                await asyncio.sleep(0.3)
                try:
                    answers[host] = sock.recv(65535).decode()
                except BlockingIOError:
                    answers[host] = ""
    assert answers["127.0.0.1"] == ""  # not the PBX: dropped without an answer
    assert answers["127.0.0.2"].startswith("SIP/2.0 200 OK")
