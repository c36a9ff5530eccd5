"""Per-connector rate limit: a token bucket that also obeys the vendor's 429s.

No vendor publishes rate-limit headers (CLEARINGHOUSES.md section 2: Stedi allows 100 requests
a second pooled and answers 429 ``TOO_MANY_REQUESTS`` beyond it; Availity 100 calls a second).
Each connector therefore paces itself with ``rate_per_second`` and ``burst`` from its settings,
and when the vendor still answers 429 (or 503) with ``Retry-After``, :meth:`TokenBucket.pause`
holds every call of that connector until the time given has passed (section 6, backoff).
A caller that cannot wait that long is told so at once with a ``ConnectorDownError`` carrying
``retry_after``, so a job can be rescheduled instead of holding a worker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from email.utils import parsedate_to_datetime

from server.errors import ConnectorDownError

__all__ = ["TokenBucket", "retry_after_seconds"]


class TokenBucket:
    """``rate`` tokens a second, at most ``burst`` saved up; one token per vendor call."""

    def __init__(self, rate: float, burst: int,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if rate <= 0 or burst < 1:
            raise ValueError("rate must be positive and burst at least 1")
        self.rate = rate
        self.burst = float(burst)
        self._clock = clock
        self._tokens = float(burst)
        self._stamp = clock()
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.burst, self._tokens + (now - self._stamp) * self.rate)
        self._stamp = now

    @property
    def paused_for(self) -> float:
        """Seconds until a pause asked by the vendor ends (0 when not paused)."""
        return max(0.0, self._paused_until - self._clock())

    def pause(self, seconds: float) -> None:
        """Hold every call for ``seconds`` (a 429/503 ``Retry-After``); a longer pause already
        running is kept. The saved-up burst is dropped: the vendor said we went too fast."""
        now = self._clock()
        self._paused_until = max(self._paused_until, now + max(0.0, seconds))
        self._refill(now)
        self._tokens = min(self._tokens, 0.0)

    def delay(self) -> float:
        """How long a call asked now would wait (pause, then a token)."""
        now = self._clock()
        self._refill(now)
        wait = max(0.0, self._paused_until - now)
        missing = 1.0 - (self._tokens + wait * self.rate)
        return wait + (max(0.0, missing) / self.rate)

    async def acquire(self, max_wait: float | None = None) -> None:
        """Take one token, waiting for it. Raises ``ConnectorDownError`` (with ``retry_after``)
        at once when the wait would be longer than ``max_wait`` seconds."""
        self._too_long(max_wait)  # fail fast, without queueing behind callers who wait
        async with self._lock:  # callers are served in order; each waits for its own token
            while True:
                now = self._clock()
                self._refill(now)
                pause = self._paused_until - now
                if pause <= 0 and self._tokens >= 1.0:
                    self._tokens -= 1.0
                    return
                wait = pause if pause > 0 else (1.0 - self._tokens) / self.rate
                self._too_long(max_wait)
                await asyncio.sleep(wait)

    def _too_long(self, max_wait: float | None) -> None:
        delay = self.delay()
        if max_wait is not None and delay > max_wait:
            raise ConnectorDownError("The clearinghouse asked us to slow down; try again later",
                                     retry_after=round(delay, 3))


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """The ``Retry-After`` header (RFC 9110 section 10.2.3): delay seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)
