"""Bad input and hard cases over loopback: CANCEL, unsupported codecs, malformed requests, garbage,
hold, silent callers, several calls at once, RTP from the wrong source."""

from __future__ import annotations

import asyncio
import os
import re
import socket
from pathlib import Path

import pytest

from ivr.rtp import RtpProtocol, build_packet
from tests.ivr.lines import event_detail, ivr_settings, require_sipp, running_ivr
from tests.ivr.peers import SCENARIOS, call_scenario, free_udp_port, rtp_recorder, run_sipp
from tests.ivr.raw_sip import RawCaller, offer, rtp_ports_held, to_tag

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


# --- numbers, addresses, dialogs and media targets an attacker chooses ---------------------------------


async def test_numbers_in_other_scripts_get_400_and_the_endpoint_carries_on(tmp_path: Path) -> None:
    async with running_ivr(ivr_settings(tmp_path)) as line:
        caller = RawCaller(line.sip_port)
        try:
            sdp = offer("127.0.0.1", 40000).replace("m=audio 40000", "m=audio 4000²")
            requests = [
                caller.request("INVITE", "1²", body=offer("127.0.0.1", 40000), call_id="cseq"),
                caller.request("OPTIONS", call_id="length").replace(b"Content-Length: 0", "l: ²".encode()),
                caller.request("INVITE", body=sdp, call_id="sdp-port"),
            ]
            for data in requests:
                caller.send(data)
            answers = await caller.answers(3.0)
            caller.send(caller.request("OPTIONS", call_id="after"))
            after = await caller.final()
        finally:
            caller.close()
    by_call = {a.call_id: (a.status, a.reason) for a in answers}
    assert by_call == {
        "length": (400, "Bad Content-Length"),
        "sdp-port": (400, "Bad SDP (bad m= line 'audio 4000² RTP/AVP 0 101')"),
    }, by_call
    # The 400 to a bad CSeq echoes that CSeq, so it is no well-formed response: read the bytes.
    assert any(d.startswith(b"SIP/2.0 400 Bad CSeq") and b"Call-ID: cseq" in d for d in caller.raw)
    assert after is not None and after.status == 200


async def test_an_offer_naming_a_host_gets_488_and_holds_no_rtp_port(tmp_path: Path) -> None:
    settings = ivr_settings(tmp_path)
    async with running_ivr(settings) as line:
        caller = RawCaller(line.sip_port)
        try:
            finals = {}
            # A name would be resolved with a blocking lookup; a NUL byte used to leak the port.
            for host in ("pbx.example.invalid", "127.0.0.1\x00.example", "224.0.0.1"):
                call_id = f"c-{host[:9]}"
                caller.send(caller.request("INVITE", body=offer(host, 40000), call_id=call_id))
                answer = await caller.final(call_id=call_id)
                finals[host] = answer.status if answer else None
                warning = answer.get("Warning") if answer else None
                assert warning and warning.startswith("301"), warning
        finally:
            caller.close()
        held = rtp_ports_held(settings.ivr.rtp_port_min, settings.ivr.rtp_port_max)
        assert not line.ivr.endpoint.calls
    assert finals == {"pbx.example.invalid": 488, "127.0.0.1\x00.example": 488, "224.0.0.1": 488}
    assert held == []


async def test_a_stranger_cannot_ack_or_hang_up_someone_elses_call(tmp_path: Path) -> None:
    settings = ivr_settings(tmp_path, allowed_peers=[])  # no PBX: the stranger reaches the endpoint
    async with running_ivr(settings) as line, rtp_recorder() as (recorder, sink):
        caller, stranger = RawCaller(line.sip_port), RawCaller(line.sip_port, host="127.0.0.2")
        try:
            caller.send(caller.request("INVITE", body=offer("127.0.0.1", sink)))
            ok = await caller.final()
            assert ok is not None and ok.status == 200
            # The stranger knows the Call-ID and CSeq (both easy to guess or sniff), not the tags.
            stranger.send(stranger.request("ACK", call_id=caller.call_id))
            stranger.send(stranger.request("BYE", "2", call_id=caller.call_id, to_tag="guess"))
            resent = await caller.answers(4.0, until_status=200)
            refused = await stranger.final()
            assert [a.status for a in resent if a.status == 200], "the 200 OK was not re-sent: ACK taken"
            assert refused is not None and refused.status == 481
            assert recorder.packets == 0  # no ACK from the caller yet: the call has not started
            caller.send(caller.request("ACK", to_tag=to_tag(ok)))
            for _ in range(100):
                if recorder.packets:
                    break
                await asyncio.sleep(0.1)
            assert recorder.packets > 0  # the caller's own ACK started the call: the greeting plays
            assert caller.call_id in line.ivr.endpoint.calls
            caller.send(caller.request("BYE", "2", to_tag=to_tag(ok)))
            bye = await caller.final()
            assert bye is not None and bye.status == 200
        finally:
            caller.close()
            stranger.close()


def _two_hosts_one_port() -> tuple[socket.socket, socket.socket, int]:
    """Sockets on 127.0.0.1 and 127.0.0.3 with the same port: where the RTP really goes."""
    for _ in range(50):
        third = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        third.bind(("127.0.0.3", 0))
        port = third.getsockname()[1]
        peer = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        try:
            peer.bind(("127.0.0.1", port))
        except OSError:
            third.close()
            peer.close()
            continue
        for sock in (peer, third):
            sock.setblocking(False)
        return peer, third, port
    raise RuntimeError("no port free on both loopback addresses")


def _packets(sock: socket.socket) -> int:
    count = 0
    while True:
        try:
            sock.recv(2048)
        except BlockingIOError:
            return count
        count += 1


@pytest.mark.parametrize(
    ("allowed_peers", "media_goes_to"),
    [([], "signalling peer"), (["127.0.0.1/32", "127.0.0.3/32"], "address in the offer")],
)
async def test_rtp_goes_to_the_signalling_peer_unless_the_offer_names_an_allowed_peer(
    tmp_path: Path, allowed_peers: list[str], media_goes_to: str
) -> None:
    peer, third, port = _two_hosts_one_port()
    async with running_ivr(ivr_settings(tmp_path, allowed_peers=allowed_peers)) as line:
        caller = RawCaller(line.sip_port)
        try:
            # The offer points the audio at 127.0.0.3, a third party to this SIP conversation.
            caller.send(caller.request("INVITE", body=offer("127.0.0.3", port)))
            ok = await caller.final()
            assert ok is not None and ok.status == 200
            caller.send(caller.request("ACK", to_tag=to_tag(ok)))
            at_peer = at_third = 0
            for _ in range(100):
                await asyncio.sleep(0.1)
                at_peer, at_third = at_peer + _packets(peer), at_third + _packets(third)
                if at_peer + at_third > 25:
                    break
            caller.send(caller.request("BYE", "2", to_tag=to_tag(ok)))
            await caller.final()
        finally:
            caller.close()
            peer.close()
            third.close()
    if media_goes_to == "signalling peer":
        assert at_third == 0 and at_peer > 0, (at_peer, at_third)
    else:
        assert at_peer == 0 and at_third > 0, (at_peer, at_third)
