"""The SIP parser takes what real peers send and refuses garbage with SipParseError only."""

from __future__ import annotations

import contextlib
import os
import random

import pytest

from ivr.errors import SipParseError
from ivr.sip import message as sip

INVITE = (
    b"INVITE sip:ivr@10.0.0.5:5060 SIP/2.0\r\n"
    b"Via: SIP/2.0/UDP 10.0.0.1:5060;branch=z9hG4bK776asdhds;rport\r\n"
    b"v: SIP/2.0/UDP 10.0.0.9;branch=z9hG4bKolder\r\n"
    b"Max-Forwards: 70\r\n"
    b'f: "Anna" <sip:+4915112345678@pbx.example>;tag=1928301774\r\n'
    b"To: <sip:ivr@10.0.0.5>\r\n"
    b"i: a84b4c76e66710@pbx.example\r\n"
    b"CSeq: 314159 INVITE\r\n"
    b"Subject: folded\r\n  across lines\r\n"
    b"Content-Type: application/sdp\r\n"
    b"l: 4\r\n"
    b"\r\n"
    b"v=0\r\nextra bytes beyond Content-Length"
)


def test_parses_compact_forms_folding_and_honours_content_length() -> None:
    message = sip.parse(INVITE)
    assert (message.method, message.uri) == ("INVITE", "sip:ivr@10.0.0.5:5060")
    assert message.call_id == "a84b4c76e66710@pbx.example"
    assert message.cseq == (314159, "INVITE")
    assert message.branch == "z9hG4bK776asdhds"
    assert len(message.get_all("Via")) == 2
    assert message.get("Subject") == "folded across lines"
    assert message.body == b"v=0\r"  # the 4 bytes Content-Length names; the rest is dropped
    assert message.problem is None
    user = sip.uri_user(sip.name_addr_uri(message.get("From") or ""))
    assert user == "+4915112345678"


def test_response_copies_the_transaction_headers_and_adds_our_tag() -> None:
    request = sip.parse(INVITE)
    answer = sip.parse(sip.serialize(sip.response(request, 200, to_tag="abc", body=b"x")))
    assert answer.status == 200 and answer.reason == "OK"
    assert answer.get_all("Via") == request.get_all("Via")
    assert answer.get("To") == "<sip:ivr@10.0.0.5>;tag=abc"
    assert (answer.call_id, answer.cseq, answer.body) == (request.call_id, request.cseq, b"x")


@pytest.mark.parametrize(
    ("data", "problem"),
    [
        (INVITE.replace(b"l: 4", b"l: 400"), "Content-Length larger than the body"),
        (INVITE.replace(b"l: 4", b"l: four"), "Bad Content-Length"),
        (INVITE.replace(b"CSeq: 314159 INVITE", b"CSeq: x INVITE"), "Bad CSeq"),
        (INVITE.replace(b"CSeq: 314159 INVITE", b"CSeq: 1 BYE"), "CSeq method does not match"),
        (INVITE.replace(b"To: <sip:ivr@10.0.0.5>\r\n", b""), "Missing To"),
        (INVITE.replace(b"Max-Forwards: 70", b"Max-Forwards: lots"), "Bad Max-Forwards"),
        # Digits of other scripts pass str.isdigit() but are no SIP number ("²", Arabic-Indic, full-width).
        (INVITE.replace(b"CSeq: 314159 INVITE", "CSeq: 1² INVITE".encode()), "Bad CSeq"),
        (INVITE.replace(b"CSeq: 314159 INVITE", "CSeq: ١ INVITE".encode()), "Bad CSeq"),
        (INVITE.replace(b"l: 4", "l: 4²".encode()), "Bad Content-Length"),
        (INVITE.replace(b"l: 4", "l: ４".encode()), "Bad Content-Length"),
        (INVITE.replace(b"Max-Forwards: 70", "Max-Forwards: 7²".encode()), "Bad Max-Forwards"),
    ],
)
def test_answerable_but_broken_requests_carry_the_reason_for_a_400(data: bytes, problem: str) -> None:
    assert sip.parse(data).problem == problem


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\r\n\r\n",  # a keep-alive
        b"hello world",
        b"INVITE sip:x SIP/2.0\r\nVia: SIP/2.0/UDP a\r\n\r\n",  # no Call-ID: nothing to answer to
        b"INVITE sip:x SIP/3.0\r\nCall-ID: a\r\nVia: x\r\n\r\n",
        b"SIP/2.0 200 OK\r\nVia: x\r\nCall-ID: a\r\n\r\n",  # a response without From/To/CSeq
        b"INVITE sip:x SIP/2.0\r\nnot a header\r\n\r\n",
        b"INVITE sip:x SIP/2.0\r\n continuation first\r\n\r\n",
        b"INVITE sip:x SIP/2.0\r\nVia: \xff\xfe\r\n\r\n",
        b"x" * 70000,
    ],
)
def test_garbage_raises_parse_error(data: bytes) -> None:
    with pytest.raises(SipParseError):
        sip.parse(data)


def test_random_and_mutilated_datagrams_never_raise_anything_else() -> None:
    rng = random.Random(4733)
    other_digits = ["²".encode(), "٣".encode(), "۷".encode(), "５".encode(), b"_", b"+"]
    for _ in range(3000):
        if rng.random() < 0.2:  # a non-ASCII digit next to a number: CSeq, Content-Length, a port
            cut = bytearray(INVITE)
            digits = [i for i, b in enumerate(cut) if 48 <= b <= 57]
            at = rng.choice(digits) + 1
            data = bytes(cut[:at]) + rng.choice(other_digits) + bytes(cut[at:])
        elif rng.random() < 0.5:
            data = os.urandom(rng.randrange(0, 400))
        else:
            cut = bytearray(INVITE)
            for _ in range(rng.randrange(1, 6)):
                cut[rng.randrange(len(cut))] = rng.randrange(256)
            data = bytes(cut[: rng.randrange(len(cut) + 1)])
        with contextlib.suppress(SipParseError):
            sip.parse(data)


def test_uri_helpers() -> None:
    assert sip.uri_host_port("sip:queue@192.0.2.7:5080;transport=udp") == ("192.0.2.7", 5080)
    assert sip.uri_host_port("sip:[2001:db8::1]:5070") == ("2001:db8::1", 5070)
    assert sip.uri_host_port("sip:pbx.example") == ("pbx.example", 5060)
    assert sip.uri_user("tel:+12025550100") == "+12025550100"
    assert sip.uri_user("sip:pbx.example") == ""
    for bad in ("sip:a@host:port", "sip:a@host:5²", "sip:a@host:99999"):
        with pytest.raises(SipParseError):
            sip.uri_host_port(bad)
