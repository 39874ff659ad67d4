"""Failed log-ins: a key waits after too many failures and may try again once they age out."""

from __future__ import annotations

from handoff.throttle import FailureThrottle


def test_a_key_waits_until_its_oldest_failure_leaves_the_window() -> None:
    throttle = FailureThrottle(limit=3, window_s=60)
    for at in (0.0, 10.0, 20.0):
        assert throttle.retry_after("anna", now=at) is None
        throttle.failed("anna", now=at)
    assert throttle.retry_after("anna", now=30.0) == 30.0  # the failure at 0 s leaves at 60 s
    assert throttle.retry_after("boris", now=30.0) is None
    assert throttle.retry_after("anna", now=60.5) is None


def test_a_success_clears_the_count_and_invented_keys_cannot_grow_memory() -> None:
    throttle = FailureThrottle(limit=2, window_s=60, max_keys=100)
    throttle.failed("anna", now=0.0)
    throttle.succeeded("anna")
    throttle.failed("anna", now=1.0)
    assert throttle.retry_after("anna", now=2.0) is None
    for n in range(1000):
        throttle.failed(f"invented-{n}", now=float(n))
    assert len(throttle._failures) <= 100
