"""SDP offer/answer: G.711 with telephone-event, the offerer's order, hold, and refusals."""

from __future__ import annotations

import pytest

from ivr.errors import NoCommonCodec, SdpError, UnusableAddress
from ivr.sdp import build_answer, negotiate, parse_offer

OFFER = b"""v=0
o=pbx 1 1 IN IP4 192.0.2.10
s=-
c=IN IP4 192.0.2.10
t=0 0
m=audio 40000 RTP/AVP 18 8 0 96
a=rtpmap:18 G729/8000
a=rtpmap:96 telephone-event/8000
a=fmtp:96 0-16
a=ptime:20
"""


def test_first_supported_codec_of_the_offer_wins_and_events_keep_their_payload_type() -> None:
    media = negotiate(parse_offer(OFFER))
    assert (media.codec, media.payload_type, media.event_payload_type) == ("PCMA", 8, 96)
    assert (media.remote_address, media.remote_port, media.direction) == ("192.0.2.10", 40000, "sendrecv")
    answer = parse_offer(build_answer(media, "198.51.100.2", 16000))
    assert (answer.address, answer.port, answer.payloads) == ("198.51.100.2", 16000, (8, 96))
    assert answer.rtpmap == {8: "PCMA", 96: "TELEPHONE-EVENT"}


def test_static_payload_without_rtpmap_and_media_level_address() -> None:
    offer = b"v=0\r\nc=IN IP4 0.0.0.0\r\nm=audio 5004 RTP/AVP 0\r\nc=IN IP4 192.0.2.5\r\na=sendonly\r\n"
    media = negotiate(parse_offer(offer))
    assert (media.codec, media.remote_address, media.event_payload_type) == ("PCMU", "192.0.2.5", None)
    assert media.direction == "recvonly" and media.on_hold
    assert b"telephone-event" not in build_answer(media, "127.0.0.1", 16002)


def test_no_g711_is_refused_for_a_488() -> None:
    with pytest.raises(NoCommonCodec):
        negotiate(parse_offer(OFFER.replace(b"18 8 0 96", b"18 96")))


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"v=0\r\nc=IN IP4 1.2.3.4\r\n",  # no audio
        b"v=0\r\nm=audio 4000 RTP/AVP 0\r\n",  # no address
        b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/SAVP 0\r\n",  # SRTP is not offered by us
        b"v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 99999 RTP/AVP 0\r\n",
        b"v=0\r\nc=IN X 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\n",
        b"\xff\xfe",
        # Digits of other scripts pass str.isdigit() but int() of "²" raises: no number on the wire.
        "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000² RTP/AVP 0\r\n".encode(),
        "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0²\r\n".encode(),
        "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=rtpmap:٠ PCMU/8000\r\n".encode(),
        "v=0\r\nc=IN IP4 1.2.3.4\r\nm=audio 4000 RTP/AVP 0\r\na=ptime:2⁰\r\n".encode(),
    ],
)
def test_unusable_sdp_raises_sdp_error(body: bytes) -> None:
    with pytest.raises(SdpError):
        parse_offer(body)


@pytest.mark.parametrize(
    "host",
    ["pbx.example", "127.0.0.1\x00.example", "224.0.0.1", "2001:db8::1", "1.2.3.4.5"],
)
def test_a_connection_address_that_is_no_unicast_ip_literal_is_not_acceptable(host: str) -> None:
    with pytest.raises(UnusableAddress):
        parse_offer(f"v=0\r\nc=IN IP4 {host} \r\nm=audio 4000 RTP/AVP 0\r\n".encode())


def test_ipv6_connection_addresses_are_taken_as_written() -> None:
    offer = b"v=0\r\nc=IN IP6 2001:DB8::1\r\nm=audio 4000 RTP/AVP 0\r\n"
    assert parse_offer(offer).address == "2001:db8::1"
