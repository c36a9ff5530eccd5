"""The per-connector rate limit (token bucket honouring Retry-After) and the circuit breaker
(CLEARINGHOUSES.md section 6), on a clock the tests move by hand."""

from __future__ import annotations

import asyncio
import time
from email.utils import formatdate

import pytest

from server.connectors.breaker import CircuitBreaker
from server.connectors.throttle import TokenBucket, retry_after_seconds
from server.errors import ConnectorDownError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_bucket_gives_its_burst_then_paces_at_its_rate() -> None:
    bucket = TokenBucket(rate=200.0, burst=3)
    started = time.monotonic()
    for _ in range(3):
        await bucket.acquire()
    assert time.monotonic() - started < 0.01
    for _ in range(4):
        await bucket.acquire()
    # Four more tokens at 200/s take about 20 ms.
    assert 0.015 < time.monotonic() - started < 0.5


async def test_pause_holds_calls_and_drops_the_burst() -> None:
    bucket = TokenBucket(rate=1000.0, burst=10)
    bucket.pause(0.05)
    assert 0.04 < bucket.paused_for <= 0.05
    started = time.monotonic()
    await bucket.acquire()
    assert time.monotonic() - started >= 0.045
    bucket.pause(0.01)
    bucket.pause(0.0)  # a shorter pause never shortens a running one
    assert bucket.paused_for > 0.005


async def test_a_wait_longer_than_allowed_fails_at_once_with_retry_after() -> None:
    clock = Clock()
    bucket = TokenBucket(rate=1.0, burst=1, clock=clock)
    bucket.pause(30)
    with pytest.raises(ConnectorDownError) as caught:
        await bucket.acquire(max_wait=5)
    assert caught.value.retry_after is not None and 29 < caught.value.retry_after <= 31
    clock.now += 31
    await asyncio.wait_for(bucket.acquire(max_wait=5), 1)


def test_bucket_refuses_nonsense() -> None:
    with pytest.raises(ValueError):
        TokenBucket(rate=0, burst=1)
    with pytest.raises(ValueError):
        TokenBucket(rate=1, burst=0)


def test_retry_after_takes_seconds_or_an_http_date() -> None:
    assert retry_after_seconds("7") == 7.0
    assert retry_after_seconds(" 0.5 ") == 0.5
    assert retry_after_seconds(None) is None
    assert retry_after_seconds("soon") is None
    now = time.time()
    later = retry_after_seconds(formatdate(now + 120, usegmt=True), now=now)
    assert later is not None and 118 <= later <= 121
    assert retry_after_seconds(formatdate(now - 60, usegmt=True), now=now) == 0.0


def test_breaker_opens_after_consecutive_failures_then_lets_one_trial_through() -> None:
    clock = Clock()
    breaker = CircuitBreaker("ch", failures=3, reset_seconds=10, clock=clock)
    for _ in range(2):
        breaker.before()
        breaker.failure()
    breaker.before()
    breaker.success()  # a success resets the count
    for _ in range(3):
        breaker.before()
        breaker.failure()
    assert breaker.state == "open"
    with pytest.raises(ConnectorDownError) as caught:
        breaker.before()
    assert caught.value.retry_after == 10
    clock.now += 10
    assert breaker.state == "half-open"
    breaker.before()  # the trial
    with pytest.raises(ConnectorDownError):
        breaker.before()  # others wait while the trial is out
    breaker.failure()  # the trial failed: open again for a full period
    assert breaker.state == "open"
    clock.now += 10
    breaker.before()
    breaker.success()
    assert breaker.state == "closed"
    breaker.before()
    breaker.before()


def test_breaker_trial_slot_is_given_back_when_a_call_ends_neither_way() -> None:
    clock = Clock()
    breaker = CircuitBreaker("ch", failures=1, reset_seconds=5, clock=clock)
    breaker.before()
    breaker.failure()
    clock.now += 5
    breaker.before()
    breaker.release()  # e.g. cancelled before reaching the vendor
    breaker.before()  # another trial may go
    with pytest.raises(ValueError):
        CircuitBreaker("x", failures=0, reset_seconds=1)
