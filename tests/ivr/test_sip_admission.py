"""Floods of INVITEs: a cap on calls at once, a rate and an un-ACKed quota per source, 503 with
Retry-After beyond them, and every RTP port free again once the unanswered calls time out."""

from __future__ import annotations

import asyncio
from pathlib import Path

from tests.ivr.lines import ivr_settings, running_ivr
from tests.ivr.peers import rtp_recorder
from tests.ivr.raw_sip import RawCaller, offer, rtp_ports_held, to_tag


async def _invite(caller: RawCaller, sink: int, call_id: str | None = None) -> tuple[int | None, str]:
    """INVITE (no ACK yet): the final status and the Retry-After of a refusal."""
    call_id = call_id or caller.call_id
    caller.send(caller.request("INVITE", body=offer(caller.host, sink), call_id=call_id))
    answer = await caller.final(call_id=call_id)
    if answer is None:
        return None, ""
    return answer.status, answer.get("Retry-After") or ""


async def _ack_and_hang_up(caller: RawCaller, call_id: str) -> None:
    caller.send(caller.request("INVITE", body=offer(caller.host, 9), call_id=call_id))  # re-sent: same 200
    ok = await caller.final(call_id=call_id)
    assert ok is not None and ok.status == 200
    caller.send(caller.request("ACK", to_tag=to_tag(ok), call_id=call_id))
    caller.send(caller.request("BYE", "2", to_tag=to_tag(ok), call_id=call_id))
    bye = await caller.final(call_id=call_id)
    assert bye is not None and bye.status == 200, bye


async def test_calls_beyond_max_calls_get_503_with_retry_after_until_one_ends(tmp_path: Path) -> None:
    settings = ivr_settings(tmp_path, allowed_peers=[], max_calls=2)
    async with running_ivr(settings) as line, rtp_recorder() as (_, sink):
        callers = [RawCaller(line.sip_port, host=f"127.0.0.{n}") for n in (1, 2, 4)]
        try:
            first = [await _invite(c, sink) for c in callers]
            await _ack_and_hang_up(callers[0], callers[0].call_id)
            again = await _invite(callers[2], sink, call_id="after-one-ended")
        finally:
            for caller in callers:
                caller.close()
    assert [status for status, _ in first] == [200, 200, 503]
    assert first[2][1].isdigit() and int(first[2][1]) > 0  # Retry-After: when to come back
    assert again[0] == 200


async def _flood(caller: RawCaller, sink: int, count: int) -> list[int | None]:
    statuses = []
    for n in range(count):
        status, _ = await _invite(caller, sink, call_id=f"flood-{n}")
        statuses.append(status)
    return statuses


async def test_a_source_that_never_acks_holds_few_ports_and_they_come_back_within_timer_h(
    tmp_path: Path,
) -> None:
    settings = ivr_settings(tmp_path, allowed_peers=[], max_calls=20)
    low, high = settings.ivr.rtp_port_min, settings.ivr.rtp_port_max
    async with running_ivr(settings) as line, rtp_recorder() as (_, sink):
        flooder, other = RawCaller(line.sip_port), RawCaller(line.sip_port, host="127.0.0.2")
        try:
            statuses = await _flood(flooder, sink, 8)
            held_during = len(rtp_ports_held(low, high))
            other_status, _ = await _invite(other, sink)
            await _ack_and_hang_up(other, other.call_id)
            # No ACK ever comes: each answered call is hung up after Timer H (32 s) and frees its port.
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 45.0
            while rtp_ports_held(low, high) and loop.time() < deadline:
                await asyncio.sleep(1.0)
            held_after = rtp_ports_held(low, high)
            byes = [a for a in await flooder.answers(1.0) if a.method == "BYE"]
        finally:
            flooder.close()
            other.close()
    assert statuses == [200] * 4 + [503] * 4, statuses  # 4 un-ACKed calls per source at most
    assert held_during == 4
    assert other_status == 200  # another caller still gets through
    assert held_after == []
    assert {bye.call_id for bye in byes} == {f"flood-{n}" for n in range(4)}  # hung up, each of them


async def test_invites_faster_than_the_rate_get_503(tmp_path: Path) -> None:
    settings = ivr_settings(tmp_path, allowed_peers=[], invite_burst=3, invite_rate_per_s=0.1)
    async with running_ivr(settings) as line, rtp_recorder() as (_, sink):
        caller, other = RawCaller(line.sip_port), RawCaller(line.sip_port, host="127.0.0.2")
        try:
            statuses = []
            for n in range(6):  # each call is ACKed and ended at once: only the rate counts
                status, _ = await _invite(caller, sink, call_id=f"quick-{n}")
                statuses.append(status)
                if status == 200:
                    await _ack_and_hang_up(caller, f"quick-{n}")
            other_status, _ = await _invite(other, sink)
            await _ack_and_hang_up(other, other.call_id)
        finally:
            caller.close()
            other.close()
    assert statuses == [200, 200, 200, 503, 503, 503], statuses
    assert other_status == 200


async def test_an_allowed_peer_carries_many_callers_within_max_calls(tmp_path: Path) -> None:
    settings = ivr_settings(tmp_path, allowed_peers=["127.0.0.1/32"], max_unacked_per_source=1, max_calls=5)
    async with running_ivr(settings) as line, rtp_recorder() as (_, sink):
        pbx = RawCaller(line.sip_port)
        try:
            statuses = await _flood(pbx, sink, 6)
            for n in range(5):
                await _ack_and_hang_up(pbx, f"flood-{n}")
        finally:
            pbx.close()
    assert statuses == [200] * 5 + [503]
