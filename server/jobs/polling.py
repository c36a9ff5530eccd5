"""``connector.poll`` and ``claim.status`` jobs: what comes back, and asking when it does not.

Polling (CLEARINGHOUSES.md sections 5 and 6): every document waiting in a connector's outbound
folder or mailbox is recorded in the seen-file ledger and applied in one unit of work, and only
after that commit is it deleted or archived remotely, so a crash in between fetches it again and
the ledger makes the second application a no-op.

Claim status: a claim with no final answer ``status_after_seconds`` after it was sent gets a
``claim.status`` job (276/277 or CHC claim status), which updates its ClaimResponse.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections.abc import Mapping

from server.connectors.port import ClaimConnector
from server.errors import ConnectorNotConfiguredError
from server.jobs import records
from server.jobs.inbound import apply_inbound
from server.jobs.numbers import reserve_numbers
from server.jobs.worker import Failures
from server.settings import PipelineSettings
from server.storage.outbox import Job, OutboxRepository

__all__ = ["CLAIM_STATUS", "CONNECTOR_POLL", "Polling"]

_log = logging.getLogger("facade.pipeline")

CONNECTOR_POLL = "connector.poll"
CLAIM_STATUS = "claim.status"

#: Claim stages still waiting for an answer.
_OPEN_STATES = ("sent", "acknowledged", "accepted")


class Polling:
    def __init__(self, repo: OutboxRepository, connectors: Mapping[str, ClaimConnector],
                 settings: PipelineSettings) -> None:
        self._repo = repo
        self._connectors = connectors
        self._settings = settings

    def _connector(self, name: str) -> ClaimConnector:
        connector = self._connectors.get(name)
        if connector is None:
            raise ConnectorNotConfiguredError(f"No connector named {name!r} is configured")
        return connector

    async def poll(self, jobs: list[Job]) -> Failures:
        failures: dict[int, BaseException] = {}
        for job in jobs:
            try:
                await self.poll_connector(job.subject)
            except Exception as exc:
                failures[job.id] = exc
        return failures

    async def poll_connector(self, name: str) -> int:
        """Fetch, apply and settle every waiting document; returns how many were new."""
        connector = self._connector(name)
        new = 0
        for document in await connector.poll():
            # Mailbox names come back (CHC rotates a 2-character extension): the ledger keys
            # on the name and the content together.
            digest = hashlib.sha256((document.x12 or repr(document.resources)).encode())
            key = f"{name}|{document.name}|{digest.hexdigest()[:32]}"
            async with self._repo.unit_of_work() as uow:
                if await uow.get_record(records.INBOUND, key) is None:
                    await apply_inbound(uow, document)
                    await uow.put_record(records.INBOUND, key, {
                        "sha256": digest.hexdigest(), "at_us": time.time_ns() // 1000,
                    })
                    new += 1
            await connector.settle(document)
        if new:
            _log.info("connector %s: %d documents applied", name, new)
        return new

    async def enqueue_polls(self) -> None:
        async with self._repo.unit_of_work() as uow:
            for name in self._connectors:
                await uow.enqueue(CONNECTOR_POLL, name, dedupe=f"{CONNECTOR_POLL}:{name}")

    async def sweep(self) -> None:
        """Queue a status inquiry for claims sent long ago with no final answer."""
        limit = time.time_ns() // 1000 - int(self._settings.status_after_seconds * 1_000_000)
        due = []
        for state in _OPEN_STATES:
            for claim in await self._repo.find_records(records.CLAIM, state=state, limit=500):
                checked = int(claim.data.get("status_checked_us") or claim.data.get("sent_us")
                              or claim.data.get("submitted_us") or 0)
                if checked < limit:
                    due.append(claim.key)
        if due:
            async with self._repo.unit_of_work() as uow:
                for claim_id in due:
                    await uow.enqueue(CLAIM_STATUS, claim_id, dedupe=f"{CLAIM_STATUS}:{claim_id}")

    async def status(self, jobs: list[Job]) -> Failures:
        failures: dict[int, BaseException] = {}
        for job in jobs:
            try:
                await self.inquire(job.subject)
            except Exception as exc:
                failures[job.id] = exc
        return failures

    async def inquire(self, claim_id: str, connector: str | None = None
                      ) -> list[dict[str, object]]:
        """Ask ``connector`` (default: the realtime connector, else the claim's own) for the
        claim's status and apply the answer."""
        claim = await self._repo.get_record(records.CLAIM, claim_id)
        if claim is None:
            return []
        via = self._connector(connector or self._settings.realtime_connector
                              or claim.data["connector"])
        async with self._repo.unit_of_work() as uow:
            numbers = await reserve_numbers(uow, sets=1, groups=1)
        answer = await via.claim_status(claim.data["bundle"], numbers)
        async with self._repo.unit_of_work() as uow:
            resources = await apply_inbound(uow, answer)
            current = await uow.get_record(records.CLAIM, claim_id)
            if current is not None:
                await uow.put_record(records.CLAIM, claim_id, {
                    **current.data, "status_checked_us": time.time_ns() // 1000,
                }, ref=current.ref, state=current.state)
        return list(resources)
