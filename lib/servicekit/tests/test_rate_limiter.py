"""The per-caller moving window: how many requests pass, when the next one may, and that it
never starts a thread to do so."""

import threading

import pytest

from servicekit.ratelimit import RateLimited, RateLimiter


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_caller_gets_the_rate_and_then_waits_for_its_oldest_request_to_leave_the_window() -> None:
    clock = Clock()
    limiter = RateLimiter("3/minute", clock=clock)
    for _ in range(3):  # at t=1000, 1010 and 1020
        limiter.admit("caller", "cm-1", "/cases")
        clock.now += 10
    with pytest.raises(RateLimited) as refused:
        limiter.admit("caller", "cm-1", "/cases")
    # The oldest of the three went at t=1000 and leaves the window at t=1060; it is t=1030.
    assert refused.value.retry_after_seconds == 30
    clock.now = 1060.5
    limiter.admit("caller", "cm-1", "/cases")
    with pytest.raises(RateLimited):
        limiter.admit("caller", "cm-1", "/cases")


def test_refusals_do_not_count_against_the_caller() -> None:
    clock = Clock()
    limiter = RateLimiter("2/second", clock=clock)
    limiter.admit("a")
    limiter.admit("a")
    for _ in range(50):
        with pytest.raises(RateLimited) as refused:
            limiter.admit("a")
        assert refused.value.retry_after_seconds == 1
    clock.now += 1.01
    limiter.admit("a")
    limiter.admit("a")


def test_each_caller_and_route_has_its_own_window() -> None:
    limiter = RateLimiter("1/minute", clock=Clock())
    limiter.admit("caller", "cm-1", "/cases")
    limiter.admit("caller", "cm-1", "/contacts")
    limiter.admit("caller", "cm-2", "/cases")
    limiter.admit("address", "10.0.0.1", "/cases")
    with pytest.raises(RateLimited):
        limiter.admit("caller", "cm-1", "/cases")


def test_callers_that_went_quiet_are_forgotten_after_a_window() -> None:
    clock = Clock()
    limiter = RateLimiter("5/second", clock=clock)
    for n in range(1000):
        limiter.admit("address", f"10.0.{n // 256}.{n % 256}", "/referrals")
    clock.now += 2.5
    limiter.admit("caller", "cm-1", "/cases")
    assert list(limiter._hits) == [("caller", "cm-1", "/cases")]


def test_counting_starts_no_thread() -> None:
    limiter = RateLimiter("100000/minute")
    before = threading.active_count()
    for n in range(500):
        limiter.admit("caller", str(n % 7), "/ledger/verify")
    assert threading.active_count() == before
