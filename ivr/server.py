"""The UDP SIP endpoint: answers INVITEs with G.711 audio, serves BYE/CANCEL/OPTIONS/re-INVITE/NOTIFY,
and sends BYE and REFER for the call flow. Bad datagrams get a 400 or are dropped, never a crash."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import hashlib
import ipaddress
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import cast

from ivr.ascii_digits import ascii_int
from ivr.errors import OfferNotAcceptable, SdpError, SipParseError
from ivr.rtp import PortRange, RtpSession
from ivr.sdp import Media, build_answer, negotiate, parse_offer
from ivr.sip import message as sip
from ivr.sip.admission import Admission, AdmissionLimits
from ivr.sip.dialog import USER_AGENT, Dialog, new_tag
from ivr.sip.message import SipMessage, name_addr_uri, uri_user
from ivr.sip.transactions import TIMEOUT, AckWaits, AnswerCache, ClientRequests

logger = logging.getLogger(__name__)

ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS, NOTIFY, INFO"
INBOX_SIZE = 1000
NOTIFY_WAIT_S = 15.0
STOP_WAIT_S = 2.0
# Retry-After (s) with a 503 by why the call was refused: the centre is full, or this source sends
# INVITEs too fast or leaves too many answered calls without ACK.
RETRY_AFTER = {"calls": "10", "rate": "2", "unacked": "5", "ports": "10"}


@dataclass(frozen=True)
class EndpointConfig:
    host: str
    port: int
    rtp_host: str
    rtp_port_min: int
    rtp_port_max: int
    allowed_peers: tuple[str, ...] = ()
    advertised_address: str | None = None
    ring_s: float = 0.0
    max_calls: int = 32
    invite_rate_per_s: float = 5.0
    invite_burst: int = 10
    max_unacked_per_source: int = 4


class CallLeg:
    """One answered call as the call flow sees it: who, the media, and the SIP actions it may take."""

    def __init__(
        self,
        endpoint: SipEndpoint,
        dialog: Dialog,
        media: Media,
        rtp: RtpSession,
        caller: str,
        called: str,
        *,
        caller_verified: bool = False,
    ) -> None:
        self.endpoint = endpoint
        self.dialog = dialog
        self.media = media
        self.rtp = rtp
        self.caller = caller  # the caller id's user part: a number, or "" / "anonymous"
        # Delivered by an allowed peer (the PBX vouches for it); any other peer writes what it likes.
        self.caller_verified = caller_verified
        self.called = called
        self.ended = asyncio.Event()  # the caller hung up, or we did
        self.end_reason = ""
        self.task: asyncio.Task[None] | None = None
        self._notify: asyncio.Queue[int] = asyncio.Queue()
        self.answered = False
        # Digits sent as SIP INFO by some PBXs; the call flow installs the receiver.
        self.on_info_digit: Callable[[str], None] | None = None

    @property
    def call_id(self) -> str:
        return self.dialog.call_id

    @property
    def held(self) -> bool:
        return self.media.on_hold

    @property
    def dtmf_events(self) -> bool:
        return self.media.event_payload_type is not None

    async def hang_up(self) -> None:
        await self.endpoint.hang_up(self)

    async def transfer(self, target: str) -> bool:
        """REFER the caller to `target` (a full SIP URI, headers included); True once it connected."""
        return await self.endpoint.refer(self, target)


OnCall = Callable[[CallLeg], Awaitable[None]]


class SipEndpoint(asyncio.DatagramProtocol):
    def __init__(self, config: EndpointConfig, on_call: OnCall) -> None:
        self.config = config
        self._on_call = on_call
        self._ports = PortRange(config.rtp_port_min, config.rtp_port_max)
        self._inbox: asyncio.Queue[tuple[bytes, tuple[str, int]]] = asyncio.Queue(INBOX_SIZE)
        self._transport: asyncio.DatagramTransport | None = None
        self._server: asyncio.Task[None] | None = None
        self._acks = AckWaits(self._send)
        self._requests = ClientRequests(self._send)
        self._answers = AnswerCache()
        self.calls: dict[str, CallLeg] = {}
        self._invites: dict[str, tuple[SipMessage, tuple[str, int], bytes | None]] = {}
        self._ringing: dict[str, asyncio.Task[None]] = {}
        self._allowed = [ipaddress.ip_network(p, strict=False) for p in config.allowed_peers]
        limits = AdmissionLimits(
            config.max_calls, config.invite_rate_per_s, config.invite_burst, config.max_unacked_per_source
        )
        self._admission = Admission(limits, self._is_allowed_peer)
        self.dropped = 0
        self.bad_requests = 0
        self.refused = 0  # INVITEs answered 503: full, too fast, or too many without ACK

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        transport, _ = await loop.create_datagram_endpoint(
            lambda: self, local_addr=(self.config.host, self.config.port)
        )
        self._transport = transport
        self._server = asyncio.create_task(self._serve(), name="sip-server")
        logger.info("SIP endpoint on udp %s:%s", self.config.host, self.port)

    @property
    def port(self) -> int:
        assert self._transport is not None
        return int(self._transport.get_extra_info("sockname")[1])

    async def stop(self) -> None:
        for task in self._ringing.values():
            task.cancel()
        legs = list(self.calls.values())
        for leg in legs:
            if leg.task is not None:
                leg.task.cancel()
        byes = asyncio.gather(*(self.hang_up(leg) for leg in legs), return_exceptions=True)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(byes, STOP_WAIT_S)  # callers that do not answer the BYE: we go anyway
        if self._server is not None:
            self._server.cancel()
        self._acks.close()
        if self._transport is not None:
            self._transport.close()

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str, int]) -> None:
        try:
            self._inbox.put_nowait((data, addr[:2]))
        except asyncio.QueueFull:
            self.dropped += 1

    def error_received(self, exc: Exception) -> None:
        logger.debug("SIP socket error: %s", exc)

    def _send(self, data: bytes, addr: tuple[str, int]) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(data, addr)

    def _reply(
        self,
        request: SipMessage,
        addr: tuple[str, int],
        status: int,
        *,
        reason: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> bytes:
        """Answer to where the request came from (symmetric, as rport asks) and remember the answer."""
        extra = [*(headers or []), ("Server", USER_AGENT)]
        data = sip.serialize(sip.response(request, status, reason, headers=extra))
        self._send(data, addr)
        if request.method not in ("INVITE", "ACK"):
            self._answers.put(request, data, asyncio.get_running_loop().time())
        return data

    async def _serve(self) -> None:
        while True:
            data, addr = await self._inbox.get()
            try:
                await self._handle(data, addr)
            except Exception:  # one bad datagram must never stop the endpoint
                logger.exception("SIP datagram from %s failed", addr[0])

    # --- dispatch --------------------------------------------------------------------------

    async def _handle(self, data: bytes, addr: tuple[str, int]) -> None:
        if not self._peer_allowed(addr[0]):
            self.dropped += 1
            return
        try:
            message = sip.parse(data)
        except SipParseError as exc:
            self.bad_requests += 1
            logger.debug("dropped datagram from %s: %s", addr[0], exc)
            return
        if not message.is_request:
            self._requests.response(message)
            return
        if message.problem is not None:
            self.bad_requests += 1
            if message.method != "ACK":
                self._reply(message, addr, 400, reason=message.problem)
            return
        cached = self._answers.get(message, asyncio.get_running_loop().time())
        if cached is not None:
            self._send(cached, addr)
            return
        handler = {
            "INVITE": self._on_invite,
            "ACK": self._on_ack,
            "BYE": self._on_bye,
            "CANCEL": self._on_cancel,
            "OPTIONS": self._on_options,
            "NOTIFY": self._on_notify,
            "INFO": self._on_info,
        }.get(message.method or "")
        if handler is None:
            self._reply(message, addr, 405, headers=[("Allow", ALLOW)])
            return
        await handler(message, addr)

    def _peer_allowed(self, host: str) -> bool:
        return not self._allowed or self._is_allowed_peer(host)

    def _is_allowed_peer(self, host: str) -> bool:
        """In the configured allowed_peers (an empty list names nobody)."""
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            return False
        return any(address in network for network in self._allowed)

    def _media_target(self, media: Media, peer: str) -> Media:
        """Where our RTP may go: the offer's c= only when it is the host that sent us the offer, or
        one of the allowed peers (a PBX whose media gateway is another host); else that host itself,
        at the offered port. So an INVITE cannot point our audio at a third party (reflection); a
        forged source address gets nothing either, since the call starts only at an ACK carrying
        the To tag our 200 OK sent to that address. A phone behind NAT that names its private
        address is reached at its public one, which is also where its RTP comes from."""
        if media.on_hold or media.remote_address == peer or self._is_allowed_peer(media.remote_address):
            return media
        return dataclasses.replace(media, remote_address=peer)

    async def _on_options(self, request: SipMessage, addr: tuple[str, int]) -> None:
        headers = [("Allow", ALLOW), ("Accept", "application/sdp"), ("Supported", "replaces")]
        self._reply(request, addr, 200, headers=headers)

    # --- INVITE, answering ---------------------------------------------------------------------

    async def _on_invite(self, request: SipMessage, addr: tuple[str, int]) -> None:
        pending = self._invites.get(request.call_id)
        if pending is not None and not sip.header_param(request.get("To") or "", "tag"):
            # A re-sent INVITE while ringing or before the ACK: the last answer again.
            if pending[2] is not None:
                self._send(pending[2], addr)
            return
        leg = self.calls.get(request.call_id)
        if leg is not None:
            await self._on_reinvite(leg, request, addr)
            return
        if sip.header_param(request.get("To") or "", "tag"):
            self._reply(request, addr, 481)  # in-dialog request for a dialog we do not know
            return
        refusal = self._admission.refusal(addr[0], asyncio.get_running_loop().time())
        if refusal is not None:
            self._refuse(request, addr, refusal)
            return
        try:
            media = negotiate(parse_offer(request.body)) if request.body else None
        except OfferNotAcceptable as exc:
            warning = f'{exc.warning} {self._local_address(addr[0])} "{str(exc)[:60]}"'
            self._reject(request, addr, 488, "Not Acceptable Here", [("Warning", warning)])
            return
        except SdpError as exc:
            self._reject(request, addr, 400, f"Bad SDP ({exc})"[:60], [])
            return
        if media is None:
            self._reject(request, addr, 488, "SDP offer required", [])
            return
        self._reply(request, addr, 100)
        self._admission.start(request.call_id, addr[0])
        self._invites[request.call_id] = (request, addr, None)
        self._ringing[request.call_id] = asyncio.create_task(
            self._answer(request, addr, self._media_target(media, addr[0])),
            name=f"sip-answer-{request.call_id[:16]}",
        )

    def _refuse(self, request: SipMessage, addr: tuple[str, int], why: str) -> None:
        """503 sent once and forgotten (a stateless UAS, RFC 3261 section 8.2.7): a flood costs us
        no timers and no state. The To tag is derived from the request, so a re-sent INVITE gets
        the same answer."""
        self.refused += 1
        tag = hashlib.sha256(f"{request.call_id}|{request.branch}".encode()).hexdigest()[:12]
        headers = [("Retry-After", RETRY_AFTER[why]), ("Server", USER_AGENT)]
        self._send(sip.serialize(sip.response(request, 503, to_tag=tag, headers=headers)), addr)
        logger.info("refused INVITE from %s (%s) call_id=%s", addr[0], why, request.call_id[:32])

    def _reject(
        self,
        request: SipMessage,
        addr: tuple[str, int],
        status: int,
        reason: str,
        headers: list[tuple[str, str]],
    ) -> None:
        """A final error to an INVITE is re-sent until the ACK, like any final INVITE response."""
        tag = new_tag()
        data = sip.serialize(
            sip.response(request, status, reason, to_tag=tag, headers=[*headers, ("Server", USER_AGENT)])
        )
        from_tag = sip.header_param(request.get("From") or "", "tag")
        self._acks.start(request.call_id, request.cseq[0], data, addr, from_tag=from_tag, to_tag=tag)
        asyncio.get_running_loop().call_later(TIMEOUT, self._acks.stop_call, request.call_id)

    async def _answer(self, request: SipMessage, addr: tuple[str, int], media: Media) -> None:
        """Ring, take an RTP port, send 200 OK and wait for the ACK (Timer H); whatever fails on
        the way, the port and the call's place are given back."""
        call_id = request.call_id
        dialog = Dialog.from_invite(request, addr, self._contact(addr[0]))
        rtp: RtpSession | None = None
        try:
            if self.config.ring_s > 0:  # before the port: a caller who hangs up while ringing held none
                ringing = self._response(request, 180, dialog)
                self._invites[call_id] = (request, addr, ringing)
                self._send(ringing, addr)
                await asyncio.sleep(self.config.ring_s)
            rtp = await self._ports.open(self.config.rtp_host)
            rtp.set_remote(media.remote_address, media.remote_port, media.codec, media.payload_type)
            trusted = self._is_allowed_peer(addr[0])
            caller = _caller_number(request, trusted)
            leg = CallLeg(
                self, dialog, media, rtp, caller, uri_user(request.uri or ""), caller_verified=trusted
            )
            sdp = build_answer(media, self._local_address(media.remote_address), rtp.port)
            ok = self._response(request, 200, dialog, sdp)
            self.calls[call_id] = leg
            leg.answered = True
            self._invites[call_id] = (request, addr, ok)
            acked = self._acks.start(
                call_id, request.cseq[0], ok, addr, from_tag=dialog.remote_tag, to_tag=dialog.local_tag
            )
        except asyncio.CancelledError:  # CANCEL while ringing: nothing is kept
            self._abandon(call_id, rtp)
            raise
        except OSError:
            logger.error("no free RTP port: refusing call_id=%s", call_id)
            self._abandon(call_id, rtp)
            self._reject(request, addr, 503, "Service Unavailable", [("Retry-After", RETRY_AFTER["ports"])])
            return
        except Exception:  # a bug must not keep the port or the call's place
            logger.exception("answering failed call_id=%s", call_id)
            self._abandon(call_id, rtp)
            self._reject(request, addr, 500, "Server Internal Error", [])
            return
        finally:
            self._ringing.pop(call_id, None)
        try:
            await asyncio.wait_for(acked.wait(), TIMEOUT)
        except TimeoutError:
            logger.warning("answered but never ACKed, hanging up call_id=%s", call_id)
            await self.hang_up(leg)
            return
        finally:
            self._invites.pop(call_id, None)
        self._admission.acked(call_id)
        leg.task = asyncio.create_task(self._run_call(leg), name=f"call-{call_id[:16]}")

    def _abandon(self, call_id: str, rtp: RtpSession | None) -> None:
        """A call that never got answered: its port, its pending INVITE and its place go back."""
        if self.calls.pop(call_id, None) is not None:
            self._acks.stop_call(call_id)
        if rtp is not None:
            self._ports.release(rtp)
        self._invites.pop(call_id, None)
        self._admission.end(call_id)

    async def _run_call(self, leg: CallLeg) -> None:
        try:
            await self._on_call(leg)
        except asyncio.CancelledError:
            pass
        except Exception:
            logger.exception("call flow failed call_id=%s", leg.call_id)
        finally:
            if leg.call_id in self.calls:
                await self.hang_up(leg)

    def _response(self, request: SipMessage, status: int, dialog: Dialog, sdp: bytes = b"") -> bytes:
        headers = [("Contact", dialog.local_contact), ("Allow", ALLOW), ("Server", USER_AGENT)]
        if sdp:
            headers.append(("Content-Type", "application/sdp"))
        return sip.serialize(
            sip.response(request, status, to_tag=dialog.local_tag, headers=headers, body=sdp)
        )

    def _local_address(self, peer: str) -> str:
        """The address the peer can reach us on (for Contact and SDP), without blocking."""
        if self.config.advertised_address:
            return self.config.advertised_address
        if self.config.host not in ("0.0.0.0", "::", ""):
            return self.config.host
        with contextlib.suppress(OSError), socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect((peer, 9))  # no packet is sent: this only asks the routing table
            return str(probe.getsockname()[0])
        return "127.0.0.1"

    def _contact(self, peer: str) -> str:
        return f"<sip:ivr@{self._local_address(peer)}:{self.port}>"

    def _via(self, peer: str) -> str:
        return f"{self._local_address(peer)}:{self.port}"

    async def _on_ack(self, request: SipMessage, addr: tuple[str, int]) -> None:
        self._acks.ack(request)

    async def _on_cancel(self, request: SipMessage, addr: tuple[str, int]) -> None:
        pending = self._invites.get(request.call_id)
        ringing = self._ringing.get(request.call_id)
        if pending is None or pending[0].branch != request.branch:
            self._reply(request, addr, 481)
            return
        self._reply(request, addr, 200)
        if ringing is None:
            return  # already answered: the caller will send BYE
        ringing.cancel()
        invite, invite_addr, _ = pending
        self._invites.pop(request.call_id, None)
        tag = new_tag()
        terminated = sip.serialize(sip.response(invite, 487, to_tag=tag, headers=[("Server", USER_AGENT)]))
        from_tag = sip.header_param(invite.get("From") or "", "tag")
        self._acks.start(
            invite.call_id, invite.cseq[0], terminated, invite_addr, from_tag=from_tag, to_tag=tag
        )
        asyncio.get_running_loop().call_later(TIMEOUT, self._acks.stop_call, invite.call_id)
        logger.info("caller cancelled before answer call_id=%s", request.call_id)

    async def _on_reinvite(self, leg: CallLeg, request: SipMessage, addr: tuple[str, int]) -> None:
        """Hold, resume or a new media address: same port, a new answer."""
        if not leg.dialog.matches(request):
            self._reply(request, addr, 481)
            return
        if request.cseq[0] <= leg.dialog.remote_cseq:
            return  # a re-sent or stale re-INVITE
        leg.dialog.remote_cseq = request.cseq[0]
        media = leg.media
        if request.body:
            try:
                media = self._media_target(negotiate(parse_offer(request.body)), addr[0])
            except OfferNotAcceptable:
                self._reply(request, addr, 488)
                return
            except SdpError:
                self._reply(request, addr, 400, reason="Bad SDP")
                return
        leg.media = media
        leg.rtp.set_remote(
            media.remote_address, media.remote_port, media.codec, media.payload_type, muted=media.on_hold
        )
        sdp = build_answer(media, self._local_address(media.remote_address), leg.rtp.port)
        ok = self._response(request, 200, leg.dialog, sdp)
        dialog = leg.dialog
        self._acks.start(
            request.call_id, request.cseq[0], ok, addr, from_tag=dialog.remote_tag, to_tag=dialog.local_tag
        )
        logger.info("re-INVITE call_id=%s hold=%s", leg.call_id, media.on_hold)

    # --- in-dialog requests from the caller --------------------------------------------------------

    def _leg_for(self, request: SipMessage, addr: tuple[str, int]) -> CallLeg | None:
        leg = self.calls.get(request.call_id)
        if leg is None or not leg.dialog.matches(request):
            self._reply(request, addr, 481)
            return None
        return leg

    async def _on_bye(self, request: SipMessage, addr: tuple[str, int]) -> None:
        leg = self._leg_for(request, addr)
        if leg is None:
            return
        self._reply(request, addr, 200)
        self._end(leg, "caller_hung_up")

    async def _on_notify(self, request: SipMessage, addr: tuple[str, int]) -> None:
        leg = self._leg_for(request, addr)
        if leg is None:
            return
        self._reply(request, addr, 200)
        status = _sipfrag_status(request.body)
        if status is not None:
            leg._notify.put_nowait(status)

    async def _on_info(self, request: SipMessage, addr: tuple[str, int]) -> None:
        """SIP INFO digits (application/dtmf-relay), which some PBXs send instead of RFC 4733."""
        leg = self._leg_for(request, addr)
        if leg is None:
            return
        self._reply(request, addr, 200)
        for line in request.body.decode("utf-8", "replace").splitlines():
            key, _, value = line.partition("=")
            if key.strip().lower() == "signal" and value.strip() and leg.on_info_digit is not None:
                leg.on_info_digit(value.strip()[0])

    # --- requests we send ----------------------------------------------------------------------

    def _end(self, leg: CallLeg, reason: str) -> None:
        if self.calls.pop(leg.call_id, None) is None:
            return
        leg.end_reason = leg.end_reason or reason
        leg.ended.set()
        self._acks.stop_call(leg.call_id)
        self._ports.release(leg.rtp)
        self._admission.end(leg.call_id)
        if leg.task is not None and reason == "caller_hung_up":
            leg.task.cancel()

    async def hang_up(self, leg: CallLeg) -> None:
        """BYE to the caller; the call is over for us at once, whatever the answer."""
        if leg.call_id not in self.calls:
            return
        self._end(leg, "ivr_hung_up")
        bye = leg.dialog.request("BYE", self._via(leg.dialog.source[0]))
        await self._requests.request(bye.branch, sip.serialize(bye), leg.dialog.destination())

    async def refer(self, leg: CallLeg, target: str) -> bool:
        """Blind transfer (RFC 3515): True when the PBX reports the new call up (NOTIFY with 2xx)."""
        refer = leg.dialog.request(
            "REFER",
            self._via(leg.dialog.source[0]),
            [("Refer-To", f"<{target}>"), ("Referred-By", leg.dialog.local_contact)],
        )
        answer = await self._requests.request(refer.branch, sip.serialize(refer), leg.dialog.destination())
        if answer is None or answer.status is None or answer.status >= 300:
            logger.warning(
                "REFER refused call_id=%s status=%s", leg.call_id, answer.status if answer else None
            )
            return False
        try:
            async with asyncio.timeout(NOTIFY_WAIT_S):
                while True:
                    status = await leg._notify.get()
                    if status >= 200:
                        return status < 300
        except TimeoutError:
            # Accepted but never reported: the PBX has the call; ours ends.
            return True


def _sipfrag_status(body: bytes) -> int | None:
    first = body.decode("utf-8", "replace").strip().split("\n", 1)[0].split()
    if len(first) >= 2 and first[0].upper() == "SIP/2.0":
        return ascii_int(first[1], 3)
    return None


def _caller_number(invite: SipMessage, trusted: bool) -> str:
    """The caller's number from P-Asserted-Identity (only when a trusted PBX set it) or From."""
    headers = ("P-Asserted-Identity", "From") if trusted else ("From",)
    for header in headers:
        value = invite.get(header)
        if value:
            user = uri_user(name_addr_uri(value))
            if user:
                return user
    return ""
