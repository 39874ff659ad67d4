"""SIP timers over UDP (RFC 3261 section 17): final INVITE responses re-sent until the ACK, our own
requests re-sent until a final response, and answers to re-sent requests served from a cache."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

from ivr.sip.message import SipMessage, header_param

logger = logging.getLogger(__name__)

T1 = 0.5
T2 = 4.0
TIMEOUT = 64 * T1  # Timer B/F/H: 32 s

Send = Callable[[bytes, tuple[str, int]], None]
ANSWERS_KEPT = 4096  # answers to re-sent requests, at most (about 2 MB)


@dataclass(frozen=True)
class AckWait:
    """What the ACK to one final response must carry besides Call-ID and CSeq: both tags."""

    from_tag: str | None  # the caller's, from the INVITE
    to_tag: str | None  # ours, from the response; a stranger who did not receive it cannot know it
    acked: asyncio.Event


class AckWaits:
    """Final responses to INVITEs, re-sent with doubling intervals (capped at T2) until the ACK.

    An ACK is matched on the dialog (RFC 3261 sections 12.2.2 and 13.3.1.4: Call-ID, From tag, our
    To tag, the INVITE's CSeq number), also for non-2xx answers where section 17.2.3 matches on the
    branch: the branch is the caller's choice and some UAs (SIPp's scenarios) give that ACK a new
    one, while our To tag reached only whoever received the response.
    """

    def __init__(self, send: Send) -> None:
        self._send = send
        self._tasks: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._waits: dict[tuple[str, int], AckWait] = {}

    def start(
        self,
        call_id: str,
        cseq: int,
        data: bytes,
        addr: tuple[str, int],
        *,
        from_tag: str | None,
        to_tag: str,
    ) -> asyncio.Event:
        """Send now and keep re-sending; the returned event is set by the ACK (or stays unset)."""
        key = (call_id, cseq)
        self.stop(key)
        wait = AckWait(from_tag, to_tag, asyncio.Event())
        self._waits[key] = wait
        self._send(data, addr)
        self._tasks[key] = asyncio.create_task(self._resend(key, data, addr), name=f"sip-resend-{call_id}")
        return wait.acked

    def ack(self, request: SipMessage) -> bool:
        """True when `request` (an ACK) acknowledges a response we are re-sending."""
        key = (request.call_id, request.cseq[0])
        wait = self._waits.get(key)
        if wait is None:
            return False
        from_tag = header_param(request.get("From") or "", "tag")
        to_tag = header_param(request.get("To") or "", "tag")
        if (from_tag, to_tag) != (wait.from_tag, wait.to_tag):
            return False
        wait.acked.set()
        self.stop(key)
        return True

    def stop(self, key: tuple[str, int]) -> None:
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()

    def stop_call(self, call_id: str) -> None:
        for key in [k for k in self._tasks if k[0] == call_id]:
            self.stop(key)
        for key in [k for k in self._waits if k[0] == call_id]:
            self._waits.pop(key, None)

    async def _resend(self, key: tuple[str, int], data: bytes, addr: tuple[str, int]) -> None:
        interval, waited = T1, 0.0
        while waited < TIMEOUT:
            await asyncio.sleep(interval)
            waited += interval
            self._send(data, addr)
            interval = min(interval * 2, T2)
        logger.warning("no ACK call_id=%s", key[0])
        self._tasks.pop(key, None)

    def close(self) -> None:
        for key in list(self._tasks):
            self.stop(key)


class ClientRequests:
    """Our non-INVITE requests (BYE, REFER): re-sent until a final response, then the future resolves."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._waiting: dict[str, asyncio.Future[SipMessage]] = {}

    async def request(self, branch: str, data: bytes, addr: tuple[str, int]) -> SipMessage | None:
        """The final response, or None after 32 s without one."""
        future: asyncio.Future[SipMessage] = asyncio.get_running_loop().create_future()
        self._waiting[branch] = future
        interval, waited = T1, 0.0
        try:
            self._send(data, addr)
            while waited < TIMEOUT:
                with contextlib.suppress(TimeoutError):
                    return await asyncio.wait_for(asyncio.shield(future), interval)
                waited += interval
                self._send(data, addr)
                interval = min(interval * 2, T2)
            return None
        finally:
            self._waiting.pop(branch, None)

    def response(self, message: SipMessage) -> bool:
        """Hand a received response to its transaction; provisional ones only keep it waiting."""
        future = self._waiting.get(message.branch)
        if future is None:
            return False
        if message.status is not None and message.status >= 200 and not future.done():
            future.set_result(message)
        return True


class AnswerCache:
    """Re-sent requests get the same answer again instead of being served twice, for Timer J (32 s).

    Entries are kept in the order they were stored, which is the order they expire in: each put
    drops expired ones from the front (and the oldest beyond `max_entries`), O(1) amortised.
    """

    def __init__(self, keep_s: float = TIMEOUT, max_entries: int = ANSWERS_KEPT) -> None:
        self._keep_s = keep_s
        self._max_entries = max_entries
        self._answers: OrderedDict[tuple[str, str, str], tuple[float, bytes]] = OrderedDict()

    def get(self, message: SipMessage, now: float) -> bytes | None:
        hit = self._answers.get(self._key(message))
        return hit[1] if hit and now - hit[0] < self._keep_s else None

    def put(self, message: SipMessage, data: bytes, now: float) -> None:
        key = self._key(message)
        self._answers.pop(key, None)
        self._answers[key] = (now, data)
        while self._answers and (len(self._answers) > self._max_entries or self._oldest_expired(now)):
            self._answers.popitem(last=False)

    def _oldest_expired(self, now: float) -> bool:
        stored_at, _ = next(iter(self._answers.values()))
        return now - stored_at >= self._keep_s

    @staticmethod
    def _key(message: SipMessage) -> tuple[str, str, str]:
        return (message.call_id, message.branch, message.method or "")
