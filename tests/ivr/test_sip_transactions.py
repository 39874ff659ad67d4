"""The cache of answers to re-sent requests: an answer lives for Timer J, the cache has a bound."""

from __future__ import annotations

from ivr.sip import message as sip
from ivr.sip.transactions import AnswerCache


def _options(n: int) -> sip.SipMessage:
    return sip.SipMessage(
        method="OPTIONS",
        uri="sip:ivr@127.0.0.1",
        headers=[("Via", f"SIP/2.0/UDP 127.0.0.1:5062;branch=z9hG4bK{n}"), ("Call-ID", f"c{n}")],
    )


def test_an_answer_older_than_timer_j_is_not_served_again() -> None:
    cache = AnswerCache(keep_s=32.0)
    cache.put(_options(1), b"200 one", now=0.0)
    assert cache.get(_options(1), now=31.0) == b"200 one"
    # A request re-sent after the transaction ended is a new request: it is served, not replayed.
    assert cache.get(_options(1), now=33.0) is None


def test_a_flood_of_fresh_requests_cannot_grow_the_cache_past_its_bound() -> None:
    cache = AnswerCache(keep_s=32.0, max_entries=1000)
    for n in range(5000):  # all within Timer J of each other: age alone evicts none
        cache.put(_options(n), f"200 {n}".encode(), now=n * 0.001)
    assert cache.get(_options(0), now=5.0) is None  # the oldest made room
    assert cache.get(_options(4999), now=5.0) == b"200 4999"
    assert sum(cache.get(_options(n), now=5.0) is not None for n in range(5000)) == 1000
