"""The job worker: leases due jobs from the outbox, runs their handlers, and records the outcome.

A handler takes a list of jobs of its kind (up to its ``batch``) and returns the jobs that
failed with their error; every other job is finished. A failure is retried after exponential
backoff with jitter (or after the ``retry_after`` a vendor asked for) and is buried as *dead*
after ``max_attempts``. :class:`Defer` reschedules a job without counting a failure (waiting for
an acknowledgment is not an error), and so does ``ConnectorDownError``: a clearinghouse that is
down delays its jobs for as long as it is down, it does not bury them. Several workers, in one
process or many, share the queue: leases are exclusive and a lease that runs out (a killed
worker) makes its jobs due again.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass

from server.errors import ConnectorDownError, ConnectorError, FacadeError
from server.settings import PipelineSettings
from server.storage.outbox import Job, OutboxRepository
from server.storage.sqlite_outbox import backoff_seconds

__all__ = ["Defer", "JobHandler", "Periodic", "Worker"]

_log = logging.getLogger("facade.jobs")


class Defer(Exception):  # noqa: N818 - a signal, not an error
    """Run the job again after ``seconds`` without counting a failed attempt."""

    def __init__(self, seconds: float, reason: str = "") -> None:
        super().__init__(reason or f"deferred {seconds:.1f} s")
        self.seconds = seconds


Failures = Mapping[int, BaseException]


@dataclass(frozen=True)
class JobHandler:
    """``run(jobs)`` handles up to ``batch`` jobs of ``kind`` and returns those that failed."""

    kind: str
    run: Callable[[list[Job]], Awaitable[Failures]]
    batch: int = 1
    concurrency: int = 4


@dataclass(frozen=True)
class Periodic:
    """Something the worker does every ``seconds`` (typically: enqueue a poll job)."""

    name: str
    seconds: float
    run: Callable[[], Awaitable[None]]


def _describe(error: BaseException) -> str:
    if isinstance(error, FacadeError):
        return f"{error.code}: {error.message}"
    return f"{type(error).__name__}: {error}"


class Worker:
    """Leases and runs jobs until stopped."""

    def __init__(self, repo: OutboxRepository, handlers: Sequence[JobHandler],
                 settings: PipelineSettings, *, periodic: Sequence[Periodic] = (),
                 owner: str | None = None) -> None:
        self._repo = repo
        self._handlers = {h.kind: h for h in handlers}
        self._settings = settings
        self._periodic = periodic
        self.owner = owner or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._wake = asyncio.Event()

    def wake(self) -> None:
        """Look for due jobs now (a request just queued one)."""
        self._wake.set()

    async def _settle(self, handler: JobHandler, jobs: list[Job], failures: Failures) -> None:
        s = self._settings
        async with self._repo.unit_of_work() as uow:
            for job in jobs:
                error = failures.get(job.id)
                if error is None:
                    await uow.finish_job(job.id, self.owner)
                    continue
                if isinstance(error, Defer):
                    await uow.defer_job(job.id, self.owner, str(error), error.seconds)
                    continue
                delay = backoff_seconds(job.attempts, s.backoff_base_seconds,
                                        s.backoff_max_seconds)
                if isinstance(error, ConnectorError) and error.retry_after is not None:
                    delay = max(delay, error.retry_after)
                if isinstance(error, ConnectorDownError):
                    # The vendor is down, not the job at fault: wait for it without burning
                    # attempts (its circuit breaker paces the calls), however long it takes.
                    await uow.defer_job(job.id, self.owner, _describe(error), delay)
                    continue
                state = await uow.retry_job(job.id, self.owner, _describe(error), delay,
                                            s.max_attempts)
                level = logging.ERROR if state == "dead" else logging.WARNING
                _log.log(level, "job %s %s %s attempt %d: %s", job.id, job.kind, state or "lost",
                         job.attempts, _describe(error))

    async def _run_batch(self, handler: JobHandler, jobs: list[Job],
                         slots: asyncio.Semaphore) -> None:
        async with slots:
            try:
                failures = await handler.run(jobs)
            except Exception as exc:  # the handler itself broke: every job failed
                failures = {j.id: exc for j in jobs}
            await self._settle(handler, jobs, failures)

    async def run_once(self) -> int:
        """Lease what is due (per kind, up to batch x concurrency) and run it; jobs handled."""
        async with self._repo.unit_of_work() as uow:
            leased = {
                kind: await uow.lease_jobs(self.owner, [kind], h.batch * h.concurrency,
                                           self._settings.lease_seconds)
                for kind, h in self._handlers.items()
            }
        tasks = []
        for kind, jobs in leased.items():
            handler = self._handlers[kind]
            slots = asyncio.Semaphore(handler.concurrency)
            for start in range(0, len(jobs), handler.batch):
                tasks.append(self._run_batch(handler, jobs[start:start + handler.batch], slots))
        await asyncio.gather(*tasks)
        return sum(len(j) for j in leased.values())

    async def _tick(self, periodic: Periodic, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await periodic.run()
            except Exception as exc:
                _log.warning("periodic %s failed: %s", periodic.name, _describe(exc))
            try:
                await asyncio.wait_for(stop.wait(), periodic.seconds)
            except TimeoutError:
                pass

    async def run(self, stop: asyncio.Event) -> None:
        """Work until ``stop`` is set; storage errors are logged and retried, never fatal."""
        ticks = [asyncio.create_task(self._tick(p, stop)) for p in self._periodic]
        try:
            while not stop.is_set():
                try:
                    handled = await self.run_once()
                except FacadeError as exc:
                    _log.warning("worker could not lease jobs: %s", _describe(exc))
                    handled = 0
                if handled:
                    continue
                self._wake.clear()
                waits = [asyncio.ensure_future(stop.wait()),
                         asyncio.ensure_future(self._wake.wait())]
                await asyncio.wait(waits, timeout=self._settings.idle_seconds,
                                   return_when=asyncio.FIRST_COMPLETED)
                for w in waits:
                    w.cancel()
        finally:
            for t in ticks:
                t.cancel()
            await asyncio.gather(*ticks, return_exceptions=True)
