"""Circuit breaker per connector: stop calling a vendor that is down, try again later.

Closed: calls go through; ``breaker_failures`` failures in a row (connection refused, timeouts,
5xx: the vendor did not work, as opposed to a 4xx where it answered) open it. Open: every call
fails at once with ``ConnectorDownError`` (``retry_after`` = the time left) for
``breaker_reset_seconds``, so a job is rescheduled without touching the vendor. Half-open: one
trial call goes through; its success closes the breaker, its failure opens it again for another
period. Other calls meanwhile are refused as if it were open.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from server.errors import ConnectorDownError

__all__ = ["CircuitBreaker"]

log = logging.getLogger(__name__)


class CircuitBreaker:
    """``failures`` consecutive failures open it for ``reset_seconds``; then one trial call."""

    def __init__(self, name: str, failures: int, reset_seconds: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if failures < 1 or reset_seconds <= 0:
            raise ValueError("failures must be at least 1 and reset_seconds positive")
        self.name = name
        self.failures = failures
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._count = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> str:
        """``closed``, ``open`` or ``half-open``."""
        if self._opened_at is None:
            return "closed"
        if self._clock() - self._opened_at >= self.reset_seconds:
            return "half-open"
        return "open"

    def before(self) -> None:
        """Call before talking to the vendor; raises ``ConnectorDownError`` when open (or when
        half-open and the trial call is still out)."""
        state = self.state
        if state == "closed":
            return
        if state == "half-open" and not self._trial:
            self._trial = True
            return
        assert self._opened_at is not None
        left = max(0.0, self.reset_seconds - (self._clock() - self._opened_at))
        raise ConnectorDownError(f"Connector {self.name} is not reachable (circuit open)",
                                 retry_after=round(left, 3) or None)

    def success(self) -> None:
        """The vendor answered (any answer, even a refusal)."""
        if self._opened_at is not None:
            log.info("connector %s: circuit closed", self.name)
        self._count = 0
        self._opened_at = None
        self._trial = False

    def failure(self) -> None:
        """The vendor could not be reached or failed (timeout, refused connection, 5xx)."""
        self._count += 1
        if self._trial or (self._opened_at is None and self._count >= self.failures):
            log.warning("connector %s: circuit open for %.0f s after %d failures",
                        self.name, self.reset_seconds, self._count)
            self._opened_at = self._clock()
        self._trial = False

    def release(self) -> None:
        """The call ended neither way (cancelled, or refused before reaching the vendor): a
        half-open trial slot is given back."""
        self._trial = False
