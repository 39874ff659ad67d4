"""A key waits after too many events in the window and may go on once they age out."""

from __future__ import annotations

from core.ratelimit import WindowLimit


def test_a_key_waits_until_its_oldest_failure_leaves_the_window() -> None:
    throttle = WindowLimit(limit=3, window_s=60)
    for at in (0.0, 10.0, 20.0):
        assert throttle.retry_after("anna", now=at) is None
        throttle.count("anna", now=at)
    assert throttle.retry_after("anna", now=30.0) == 30.0  # the failure at 0 s leaves at 60 s
    assert throttle.retry_after("boris", now=30.0) is None
    assert throttle.retry_after("anna", now=60.5) is None


def test_a_success_clears_the_count_and_invented_keys_cannot_grow_memory() -> None:
    throttle = WindowLimit(limit=2, window_s=60, max_keys=100)
    throttle.count("anna", now=0.0)
    throttle.reset("anna")
    throttle.count("anna", now=1.0)
    assert throttle.retry_after("anna", now=2.0) is None
    for n in range(1000):
        throttle.count(f"invented-{n}", now=float(n))
    assert len(throttle._events) <= 100
