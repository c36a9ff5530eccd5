"""The claim pipeline: its connectors, job handlers, periodic tasks and worker.

``create_app`` builds one and keeps it at ``app.state.pipeline``; the worker runs inside
``facade serve`` unless ``FACADE_PIPELINE__WORKER_IN_SERVE=false``, and alone as
``facade worker``. Any number of workers may run against one store.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping

from server.connectors.port import ClaimConnector
from server.errors import ConnectorNotConfiguredError
from server.jobs.polling import CLAIM_STATUS, CONNECTOR_POLL, Polling
from server.jobs.submission import BATCH_SEND, CLAIM_SEND, Submission
from server.jobs.worker import JobHandler, Periodic, Worker
from server.settings import Settings
from server.storage.outbox import OutboxRepository

__all__ = ["Pipeline"]

_log = logging.getLogger("facade.pipeline")

#: How often claims are checked for a status inquiry that is due.
_SWEEP_SECONDS = 60.0


class Pipeline:
    def __init__(self, repo: OutboxRepository, settings: Settings,
                 connectors: Mapping[str, ClaimConnector]) -> None:
        self.repo = repo
        self.settings = settings
        self.connectors = dict(connectors)
        p = settings.pipeline
        self.submission = Submission(repo, self.connectors, p)
        self.polling = Polling(repo, self.connectors, p)
        self._worker: Worker | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    @property
    def default_connector(self) -> str:
        """The connector `$submit` uses; raises when none is configured."""
        name = self.settings.pipeline.default_connector
        if name:
            if name not in self.connectors:
                raise ConnectorNotConfiguredError(
                    f"The default connector {name!r} is not configured")
            return name
        if len(self.connectors) == 1:
            return next(iter(self.connectors))
        if not self.connectors:
            raise ConnectorNotConfiguredError(
                "No clearinghouse connection is configured (FACADE_CONNECTORS__<NAME>__KIND)")
        raise ConnectorNotConfiguredError(
            "Several connectors are configured; set FACADE_PIPELINE__DEFAULT_CONNECTOR")

    def connector(self, name: str | None = None) -> ClaimConnector:
        return self.connectors[name or self.default_connector]

    def build_worker(self, owner: str | None = None) -> Worker:
        p = self.settings.pipeline
        handlers = [
            JobHandler(CLAIM_SEND, self.submission.claim_send, batch=p.batch_size,
                       concurrency=2),
            JobHandler(BATCH_SEND, self.submission.batch_send, batch=1, concurrency=4),
            JobHandler(CONNECTOR_POLL, self.polling.poll, batch=1, concurrency=4),
            JobHandler(CLAIM_STATUS, self.polling.status, batch=1, concurrency=4),
        ]
        periodic = [
            Periodic("poll", p.poll_seconds, self.polling.enqueue_polls),
            Periodic("status-sweep", min(_SWEEP_SECONDS, p.status_after_seconds),
                     self.polling.sweep),
        ]
        return Worker(self.repo, handlers, p, periodic=periodic, owner=owner)

    def wake(self) -> None:
        """New jobs were queued: let an in-process worker look now."""
        if self._worker is not None:
            self._worker.wake()

    async def run_worker(self, stop: asyncio.Event) -> None:
        """Run a worker in the current task until ``stop`` is set (``facade worker``)."""
        self._worker = self.build_worker()
        _log.info("worker %s started (%d connectors)", self._worker.owner, len(self.connectors))
        try:
            await self._worker.run(stop)
        finally:
            await self.close()

    async def start(self) -> None:
        """Start the in-process worker when the settings ask for one."""
        if not self.settings.pipeline.worker_in_serve or not self.connectors:
            return
        self._stop.clear()
        self._worker = self.build_worker()
        self._task = asyncio.create_task(self._worker.run(self._stop))

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(self._task, 10)
            except TimeoutError:
                self._task.cancel()
            self._task = None
        await self.close()

    async def close(self) -> None:
        for connector in self.connectors.values():
            try:
                await connector.close()
            except Exception as exc:  # closing must not mask the shutdown
                _log.warning("closing connector %s: %s", connector.name, exc)
