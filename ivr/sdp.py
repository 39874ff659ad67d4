"""SDP offer/answer (RFC 3264) for one audio stream: G.711 PCMU/PCMA plus telephone-event; pure."""

from __future__ import annotations

import ipaddress
import time
from dataclasses import dataclass

from ivr.ascii_digits import ascii_int
from ivr.errors import NoCommonCodec, SdpError, UnusableAddress

# Static payload types of G.711 (RFC 3551) and the codec names they stand for.
STATIC = {0: "PCMU", 8: "PCMA"}
SUPPORTED = ("PCMU", "PCMA")
DIRECTIONS = ("sendrecv", "sendonly", "recvonly", "inactive")


@dataclass(frozen=True)
class Offer:
    """What the remote side proposes for its audio: where to send, which payloads, which direction."""

    address: str
    port: int
    payloads: tuple[int, ...]
    rtpmap: dict[int, str]  # payload type -> upper-case encoding name
    direction: str
    ptime_ms: int | None = None


@dataclass(frozen=True)
class Media:
    """The negotiated audio: the remote address, our codec and the DTMF event payload type."""

    remote_address: str
    remote_port: int
    codec: str  # PCMU or PCMA
    payload_type: int
    event_payload_type: int | None
    direction: str  # our direction, from our side

    @property
    def on_hold(self) -> bool:
        return self.direction in ("recvonly", "inactive") or self.remote_address in ("0.0.0.0", "::")


def parse_offer(body: bytes) -> Offer:
    """The first audio stream of an SDP body; SdpError when there is none."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SdpError("SDP is not UTF-8") from exc
    session_address, media_address, port = "", "", None
    payloads: tuple[int, ...] = ()
    rtpmap: dict[int, str] = {}
    direction, ptime = "sendrecv", None
    in_audio = False
    for raw in text.splitlines():
        kind, _, value = raw.strip().partition("=")
        if kind == "m":
            if port is not None:
                break  # only the first audio stream is ours
            in_audio = value.startswith("audio ")
            if in_audio:
                port, payloads = _media_line(value)
        elif kind == "c":
            address = _connection(value)
            if in_audio:
                media_address = address
            elif port is None:
                session_address = address
        elif kind == "a" and (in_audio or port is None):
            direction, ptime = _attribute(value, rtpmap, direction, ptime)
    if port is None:
        raise SdpError("no audio stream")
    address = media_address or session_address
    if not address:
        raise SdpError("no connection address")
    for pt in payloads:
        if pt in STATIC and pt not in rtpmap:
            rtpmap[pt] = STATIC[pt]
    return Offer(address, port, payloads, rtpmap, direction, ptime)


def _media_line(value: str) -> tuple[int, tuple[int, ...]]:
    parts = value.split()
    port = ascii_int(parts[1].split("/")[0], 5) if len(parts) >= 4 else None
    if port is None:
        raise SdpError(f"bad m= line {value[:60]!r}")
    if port > 65535:
        raise SdpError("port out of range")
    if not parts[2].upper().startswith("RTP/AVP"):
        raise SdpError(f"unsupported transport {parts[2][:20]!r}")
    formats = [ascii_int(p, 3) for p in parts[3:]]
    if None in formats:
        raise SdpError(f"bad payload type in {value[:60]!r}")
    return port, tuple(pt for pt in formats if pt is not None and pt < 128)


def _connection(value: str) -> str:
    """The c= address, an IP literal of the family it names; unicast (or 0.0.0.0 / :: for hold)."""
    parts = value.split()
    if len(parts) < 3 or parts[0] != "IN" or parts[1] not in ("IP4", "IP6"):
        raise SdpError(f"bad c= line {value[:60]!r}")
    text = parts[2].split("/")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        raise UnusableAddress(f"c= is no IP address: {text[:40]!r}") from None
    if address.version != (4 if parts[1] == "IP4" else 6) or address.is_multicast:
        raise UnusableAddress(f"c= {text[:40]!r} is not a unicast {parts[1]} address")
    return str(address)


def _attribute(
    value: str, rtpmap: dict[int, str], direction: str, ptime: int | None
) -> tuple[str, int | None]:
    name, _, rest = value.partition(":")
    if name == "rtpmap":
        pt, _, encoding = rest.partition(" ")
        number = ascii_int(pt, 3)
        if number is None:
            raise SdpError(f"bad rtpmap {value[:60]!r}")
        rtpmap[number] = encoding.split("/")[0].strip().upper()
    elif name in DIRECTIONS:
        direction = name
    elif name == "ptime":
        ptime = ascii_int(rest.strip(), 4)
        if ptime is None:
            raise SdpError(f"bad ptime {value[:60]!r}")
    return direction, ptime


_ANSWER_DIRECTION = {
    "sendrecv": "sendrecv",
    "sendonly": "recvonly",
    "recvonly": "sendonly",
    "inactive": "inactive",
}


def negotiate(offer: Offer, prefer: tuple[str, ...] = SUPPORTED) -> Media:
    """Pick the first of the offer's payloads we support (the offerer's order wins); 488 when none."""
    ours = {pt: name for pt, name in offer.rtpmap.items() if name in prefer and pt in offer.payloads}
    if not ours:
        raise NoCommonCodec("no PCMU or PCMA in the offer")
    payload = next(pt for pt in offer.payloads if pt in ours)
    event = next(
        (pt for pt in offer.payloads if offer.rtpmap.get(pt) == "TELEPHONE-EVENT"),
        None,
    )
    return Media(
        remote_address=offer.address,
        remote_port=offer.port,
        codec=ours[payload],
        payload_type=payload,
        event_payload_type=event,
        direction=_ANSWER_DIRECTION.get(offer.direction, "sendrecv"),
    )


def build_answer(media: Media, local_address: str, local_port: int, session_id: int | None = None) -> bytes:
    """Our SDP answer: one audio stream with the chosen codec (and telephone-event if offered)."""
    sid = session_id if session_id is not None else int(time.time())
    family = "IP6" if ":" in local_address else "IP4"
    payloads = [str(media.payload_type)]
    lines = [
        "v=0",
        f"o=frontline {sid} {sid} IN {family} {local_address}",
        "s=frontline",
        f"c=IN {family} {local_address}",
        "t=0 0",
    ]
    attributes = [f"a=rtpmap:{media.payload_type} {media.codec}/8000"]
    if media.event_payload_type is not None:
        payloads.append(str(media.event_payload_type))
        attributes += [
            f"a=rtpmap:{media.event_payload_type} telephone-event/8000",
            f"a=fmtp:{media.event_payload_type} 0-15",
        ]
    lines.append(f"m=audio {local_port} RTP/AVP {' '.join(payloads)}")
    lines += [*attributes, "a=ptime:20", f"a={media.direction}"]
    return ("\r\n".join(lines) + "\r\n").encode()
