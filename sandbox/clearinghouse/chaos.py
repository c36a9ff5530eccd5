"""Misbehaviour on demand, so the facade's connectors can be tested against a clearinghouse that
is slow, fails, throttles or goes away (issue 7 part 5; the behaviours the connectors must handle
are in CLEARINGHOUSES.md section 6: backoff on 429/503/504, never blind-retry a submission).

- ``slow_seconds``: every vendor request (REST) and every processed upload (SFTP) waits this long.
- ``fail_next``: the next N vendor requests answer 500 / the next N SFTP uploads fail. With
  ``fail_after_processing`` the request or upload is processed first and fails only afterwards:
  the sender cannot tell whether it was delivered (the "delivery unknown" case).
- ``throttle_next``: the next N vendor requests answer 429 with ``Retry-After``
  (``retry_after_seconds``) and the Stedi body ``{"code": "TOO_MANY_REQUESTS", ...}``.
- ``down_for_seconds``: REST refuses connections and the SFTP listener closes and drops its
  sessions; both come back by themselves once the time is up (or on ``reset``).

The token endpoint, health checks and the admin API are exempt from fail/throttle, so a test can
aim a failure at the call it means. One ``Chaos`` serves both servers; counters are shared.
Thread-safe: the admin API, tests and worker threads may all call it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

__all__ = ["Chaos", "ChaosState"]

Listener = Callable[[], None]


@dataclass(frozen=True, slots=True)
class ChaosState:
    slow_seconds: float = 0.0
    fail_next: int = 0
    fail_after_processing: bool = False
    throttle_next: int = 0
    retry_after_seconds: float = 1.0
    down_for_seconds: float = 0.0
    """Seconds of the outage still to run (0: up)."""

    def as_json(self) -> dict[str, float | int | bool]:
        return asdict(self)


class Chaos:
    """The chaos switches. ``subscribe`` tells the servers when an outage starts or is lifted."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._slow = 0.0
        self._fail = 0
        self._fail_after = False
        self._throttle = 0
        self._retry_after = 1.0
        self._down_until = 0.0
        self._listeners: list[Listener] = []

    # --- control ---------------------------------------------------------------------------

    def configure(
        self,
        *,
        slow_seconds: float | None = None,
        fail_next: int | None = None,
        fail_after_processing: bool | None = None,
        throttle_next: int | None = None,
        retry_after_seconds: float | None = None,
        down_for_seconds: float | None = None,
    ) -> ChaosState:
        """Change the given switches (the others stay as they are); the state afterwards."""
        for name, value in (("slow_seconds", slow_seconds), ("fail_next", fail_next),
                            ("throttle_next", throttle_next),
                            ("retry_after_seconds", retry_after_seconds),
                            ("down_for_seconds", down_for_seconds)):
            if value is not None and value < 0:
                raise ValueError(f"{name} must not be negative")
        outage = False
        with self._lock:
            if slow_seconds is not None:
                self._slow = float(slow_seconds)
            if fail_next is not None:
                self._fail = int(fail_next)
            if fail_after_processing is not None:
                self._fail_after = bool(fail_after_processing)
            if throttle_next is not None:
                self._throttle = int(throttle_next)
            if retry_after_seconds is not None:
                self._retry_after = float(retry_after_seconds)
            if down_for_seconds is not None:
                self._down_until = self._clock() + down_for_seconds if down_for_seconds else 0.0
                outage = True
        if outage:
            self._notify()
        return self.state()

    def reset(self) -> ChaosState:
        """Everything back to normal, an outage included."""
        with self._lock:
            was_down = self._down_until > self._clock()
            self._slow, self._fail, self._fail_after = 0.0, 0, False
            self._throttle, self._retry_after, self._down_until = 0, 1.0, 0.0
        if was_down:
            self._notify()
        return self.state()

    def state(self) -> ChaosState:
        with self._lock:
            return ChaosState(
                slow_seconds=self._slow,
                fail_next=self._fail,
                fail_after_processing=self._fail_after,
                throttle_next=self._throttle,
                retry_after_seconds=self._retry_after,
                down_for_seconds=max(0.0, self._down_until - self._clock()),
            )

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call ``listener`` (from the thread that made the change) whenever an outage is set or
        lifted; returns the function that unsubscribes."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe

    def _notify(self) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener()

    # --- what the servers ask --------------------------------------------------------------

    @property
    def slow_seconds(self) -> float:
        return self._slow

    def down_remaining(self) -> float:
        """Seconds the outage still lasts; 0 when up."""
        with self._lock:
            return max(0.0, self._down_until - self._clock())

    def take_throttle(self) -> float | None:
        """``Retry-After`` seconds if this request is to be throttled (one of ``throttle_next``
        used up), else None."""
        with self._lock:
            if self._throttle <= 0:
                return None
            self._throttle -= 1
            return self._retry_after

    def take_failure(self, *, after_processing: bool) -> bool:
        """Whether this request or upload fails at this stage: ``after_processing`` False is
        asked before any work, True once the work is done; only the stage the switch names
        uses up one of ``fail_next``."""
        with self._lock:
            if self._fail <= 0 or self._fail_after != after_processing:
                return False
            self._fail -= 1
            return True
