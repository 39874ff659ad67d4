"""SIP timers over UDP (RFC 3261 section 17): final INVITE responses re-sent until the ACK, our own
requests re-sent until a final response, and answers to re-sent requests served from a cache."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from ivr.sip.message import SipMessage

logger = logging.getLogger(__name__)

T1 = 0.5
T2 = 4.0
TIMEOUT = 64 * T1  # Timer B/F/H: 32 s

Send = Callable[[bytes, tuple[str, int]], None]


class AckWaits:
    """Final responses to INVITEs, re-sent with doubling intervals (capped at T2) until the ACK."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._tasks: dict[tuple[str, int], asyncio.Task[None]] = {}
        self._acked: dict[tuple[str, int], asyncio.Event] = {}

    def start(self, call_id: str, cseq: int, data: bytes, addr: tuple[str, int]) -> asyncio.Event:
        """Send now and keep re-sending; the returned event is set by the ACK (or stays unset)."""
        key = (call_id, cseq)
        self.stop(key)
        acked = asyncio.Event()
        self._acked[key] = acked
        self._send(data, addr)
        self._tasks[key] = asyncio.create_task(self._resend(key, data, addr), name=f"sip-resend-{call_id}")
        return acked

    def ack(self, call_id: str, cseq: int) -> bool:
        key = (call_id, cseq)
        event = self._acked.get(key)
        if event is None:
            return False
        event.set()
        self.stop(key)
        return True

    def stop(self, key: tuple[str, int]) -> None:
        task = self._tasks.pop(key, None)
        if task is not None:
            task.cancel()

    def stop_call(self, call_id: str) -> None:
        for key in [k for k in self._tasks if k[0] == call_id]:
            self.stop(key)
        for key in [k for k in self._acked if k[0] == call_id]:
            self._acked.pop(key, None)

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
    """Re-sent requests get the same answer again instead of being served twice."""

    def __init__(self, keep_s: float = TIMEOUT) -> None:
        self._keep_s = keep_s
        self._answers: dict[tuple[str, str, str], tuple[float, bytes]] = {}

    def get(self, message: SipMessage) -> bytes | None:
        hit = self._answers.get(self._key(message))
        return hit[1] if hit else None

    def put(self, message: SipMessage, data: bytes, now: float) -> None:
        if len(self._answers) > 2000:
            self._answers = {k: v for k, v in self._answers.items() if now - v[0] < self._keep_s}
        self._answers[self._key(message)] = (now, data)

    @staticmethod
    def _key(message: SipMessage) -> tuple[str, str, str]:
        return (message.call_id, message.branch, message.method or "")
