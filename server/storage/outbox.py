"""Durable jobs and pipeline records: the outbox half of the storage port (DESIGN.md law 3).

A side effect (sending a claim, polling a mailbox, asking for claim status) is a :class:`Job`
row written by :meth:`OutboxWriter.enqueue` inside the same unit of work as the state change
that calls for it, so both commit or neither does. Workers lease due jobs for a while
(:meth:`OutboxWriter.lease_jobs`); a lease that runs out (the worker died) makes the job due
again, so several worker processes share one queue safely. A failed job is retried with
exponential backoff and jitter until ``max_attempts``, then it is *dead* with its last error,
until replayed. Jobs carry ids (``subject``), never payloads; handlers are idempotent.

A :class:`Record` is a small JSON document the pipeline keeps beside the FHIR resources: a claim's
submission state, a prepared batch, the seen-file ledger, imported remittances, the exception
queue. ``ref`` and ``state`` are optional lookup keys (a patient control number, ``open``).
Counters (:meth:`OutboxWriter.take_numbers`) hand out durable X12 control numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from server.storage.port import Repository, UnitOfWork

__all__ = [
    "Job",
    "OutboxReader",
    "OutboxRepository",
    "OutboxUnitOfWork",
    "OutboxWriter",
    "Record",
]


@dataclass(frozen=True, slots=True)
class Job:
    """One queued side effect. ``attempts`` counts leases taken, including the current one."""

    id: int
    kind: str
    subject: str
    state: str
    """``ready``, ``leased`` or ``dead``; a finished job is deleted."""
    attempts: int
    run_at_us: int
    created_us: int
    dedupe: str | None = None
    last_error: str | None = None
    lease_owner: str | None = None


@dataclass(frozen=True, slots=True)
class Record:
    kind: str
    key: str
    data: Mapping[str, Any]
    updated_us: int
    ref: str | None = None
    state: str | None = None


class OutboxWriter(Protocol):
    """The outbox operations of a unit of work (all inside its transaction)."""

    async def enqueue(self, kind: str, subject: str, *, dedupe: str | None = None,
                      delay_seconds: float = 0.0) -> bool:
        """Queue a job; False (nothing queued) when a live job has the same ``dedupe`` key."""
        ...

    async def lease_jobs(self, owner: str, kinds: Sequence[str], limit: int,
                         lease_seconds: float) -> list[Job]:
        """Take up to ``limit`` due jobs of ``kinds`` (oldest first), ready ones and those whose
        lease ran out, for ``lease_seconds``."""
        ...

    async def finish_job(self, job_id: int, owner: str) -> bool:
        """Remove a job this owner holds; False when the lease was lost meanwhile."""
        ...

    async def retry_job(self, job_id: int, owner: str, error: str, delay_seconds: float,
                        max_attempts: int) -> str:
        """Release a failed job to run again after ``delay_seconds``, or bury it (``dead``)
        once it has had ``max_attempts``; returns the new state ('' when the lease was lost)."""
        ...

    async def defer_job(self, job_id: int, owner: str, note: str, delay_seconds: float) -> bool:
        """Release a job to run again later without counting the attempt (it is waiting for
        something, not failing); False when the lease was lost."""
        ...

    async def replay_job(self, job_id: int) -> bool:
        """Make a dead job due again with a fresh attempt count."""
        ...

    async def get_record(self, kind: str, key: str) -> Record | None: ...

    async def put_record(self, kind: str, key: str, data: Mapping[str, Any], *,
                         ref: str | None = None, state: str | None = None) -> None:
        """Insert or replace."""
        ...

    async def delete_record(self, kind: str, key: str) -> None: ...

    async def find_records(self, kind: str, *, ref: str | None = None,
                           state: str | None = None, limit: int = 100) -> list[Record]: ...

    async def take_numbers(self, name: str, count: int) -> int:
        """Reserve ``count`` consecutive values of the durable counter ``name``; returns the
        first (counters start at 1)."""
        ...


class OutboxReader(Protocol):
    """The outbox reads of a repository (committed data only)."""

    async def get_record(self, kind: str, key: str) -> Record | None: ...

    async def find_records(self, kind: str, *, ref: str | None = None,
                           state: str | None = None, limit: int = 100,
                           after_key: str | None = None) -> list[Record]: ...

    async def list_jobs(self, *, state: str | None = None, kind: str | None = None,
                        limit: int = 100) -> list[Job]: ...

    async def record_counts(self, kind: str) -> dict[str, int]:
        """Records of ``kind`` by state."""
        ...

    async def job_counts(self) -> dict[str, int]:
        """Jobs by ``kind:state``."""
        ...


class OutboxUnitOfWork(UnitOfWork, OutboxWriter, Protocol):
    """A unit of work that also writes the outbox, in the same transaction."""


class OutboxRepository(Repository, OutboxReader, Protocol):
    """A store with an outbox: every adapter of the storage port implements it."""

    def unit_of_work(self) -> AbstractAsyncContextManager[OutboxUnitOfWork]: ...
