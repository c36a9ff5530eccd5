"""Sending claims: ``claim.send`` jobs become prepared batches, ``batch.send`` jobs deliver them.

``claim.send`` (one job per submitted Claim, leased ``batch_size`` at a time) groups the queued
claims by connector, reserves durable control numbers, has the connector build the payload
(one 837 interchange, or one JSON body per claim) and records it as a ``batch`` before anything
leaves the building, with a ``batch.send`` job in the same transaction.

``batch.send`` delivers a recorded batch and never sends it blindly twice
(CLEARINGHOUSES.md section 6): the batch is marked ``sending`` before the upload, so a worker
killed mid-send leaves a batch whose fate is unknown. Such a batch is reconciled first: the
connector is asked whether the vendor has it (the file is in its inbound or archive folder, the
idempotency key is known); if it cannot tell, the batch waits for its TA1/999 (which mark it
acknowledged) up to ``ack_timeout_seconds``, then claim status is asked where the connector
offers it; only a batch known not to have arrived is sent again, byte for byte the same, so a
clearinghouse that did receive it sees a duplicate ISA13 and answers TA1 025 instead of
processing it twice.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from typing import Any

from server.connectors.port import ClaimConnector, Prepared
from server.errors import (
    ConnectorDownError,
    ConnectorNotConfiguredError,
    ConnectorRejectedError,
    DeliveryUnknownError,
    FacadeError,
    MappingGapError,
    PipelineStateError,
)
from server.jobs import records
from server.jobs.claim_responses import response_id, with_outcome
from server.jobs.fhir_writes import read_resource, upsert
from server.jobs.inbound import apply_inbound, set_claim_state
from server.jobs.numbers import reserve_numbers
from server.jobs.worker import Defer, Failures
from server.settings import PipelineSettings
from server.storage.outbox import Job, OutboxRepository, OutboxUnitOfWork, Record

__all__ = ["BATCH_SEND", "CLAIM_SEND", "Submission"]

_log = logging.getLogger("facade.pipeline")

CLAIM_SEND = "claim.send"
BATCH_SEND = "batch.send"

#: How soon a batch whose delivery is in doubt is looked at again.
_RECONCILE_SECONDS = 5.0


def _now_us() -> int:
    return time.time_ns() // 1000


def prepared_of(batch: Record) -> Prepared:
    data = batch.data
    return Prepared(
        connector=data["connector"], reference=batch.key,
        control_number=data.get("control_number", ""),
        documents=tuple(d.encode() for d in data["documents"]),
        pcns=tuple(data["pcns"]),
        sets={k: (v[0], v[1]) for k, v in data.get("sets", {}).items()},
    )


class Submission:
    """The two sending handlers, over one store and the configured connectors."""

    def __init__(self, repo: OutboxRepository, connectors: Mapping[str, ClaimConnector],
                 settings: PipelineSettings) -> None:
        self._repo = repo
        self._connectors = connectors
        self._settings = settings

    # --- claim.send ------------------------------------------------------------------------

    async def claim_send(self, jobs: list[Job]) -> Failures:
        claims: dict[str, list[tuple[Job, Record]]] = defaultdict(list)
        for job in jobs:
            claim = await self._repo.get_record(records.CLAIM, job.subject)
            if claim is not None and claim.state == "queued":
                claims[claim.data["connector"]].append((job, claim))
        failures: dict[int, BaseException] = {}
        for name, items in claims.items():
            try:
                await self._prepare(name, [c for _, c in items])
            except Exception as exc:
                failures.update({job.id: exc for job, _ in items})
        return failures

    async def _prepare(self, name: str, claims: Sequence[Record]) -> None:
        connector = self._connectors.get(name)
        if connector is None:
            raise ConnectorNotConfiguredError(f"No connector named {name!r} is configured")
        async with self._repo.unit_of_work() as uow:
            numbers = await reserve_numbers(uow, sets=len(claims))
        try:
            prepared = connector.prepare([c.data["bundle"] for c in claims], numbers)
        except MappingGapError as gap:
            # Scrubbed at `$submit`, so only a connector with stricter rules gets here.
            async with self._repo.unit_of_work() as uow:
                for claim in claims:
                    await _reject(uow, claim, gap)
            return
        async with self._repo.unit_of_work() as uow:
            for claim in claims:
                current = await uow.get_record(records.CLAIM, claim.key)
                if current is None or current.state != "queued":
                    raise PipelineStateError(f"Claim {claim.key} was batched by another worker")
            await uow.put_record(records.BATCH, prepared.reference, {
                "connector": name, "control_number": prepared.control_number,
                "documents": [d.decode() for d in prepared.documents],
                "pcns": list(prepared.pcns),
                "sets": {k: list(v) for k, v in prepared.sets.items()},
                "claims": {c.ref: c.key for c in claims},
                "created_us": _now_us(),
            }, ref=prepared.control_number.lstrip("0") or None, state="prepared")
            for gs06 in {g for g, _ in prepared.sets.values()}:
                await uow.put_record(records.GROUP, gs06, {"batch": prepared.reference})
            for claim in claims:
                await set_claim_state(uow, claim, "batched", batch=prepared.reference)
            await uow.enqueue(BATCH_SEND, prepared.reference,
                              dedupe=f"{BATCH_SEND}:{prepared.reference}")
        _log.info("batch %s prepared: %d claims for %s", prepared.reference, len(claims), name)

    # --- batch.send ------------------------------------------------------------------------

    async def batch_send(self, jobs: list[Job]) -> Failures:
        failures: dict[int, BaseException] = {}
        for job in jobs:
            try:
                await self._deliver(job.subject)
            except Exception as exc:
                failures[job.id] = exc
        return failures

    async def _mark(self, batch: Record, state: str, **changes: Any) -> Record:
        data = {**batch.data, **changes}
        async with self._repo.unit_of_work() as uow:
            await uow.put_record(records.BATCH, batch.key, data, ref=batch.ref, state=state)
            if state == "sent":
                for claim_id in data.get("claims", {}).values():
                    claim = await uow.get_record(records.CLAIM, claim_id)
                    if claim is not None and claim.state == "batched":
                        await set_claim_state(uow, claim, "sent", sent_us=_now_us())
        return Record(batch.kind, batch.key, data, batch.updated_us, batch.ref, state)

    async def _reconcile(self, connector: ClaimConnector, batch: Record) -> bool:
        """Whether a batch whose send may have happened must be sent (again)."""
        prepared = prepared_of(batch)
        known = await connector.delivered(prepared)
        if known is True:
            await self._mark(batch, "sent")
            return False
        if known is False:
            return True
        waited = (_now_us() - int(batch.data.get("sending_us", 0))) / 1_000_000
        if waited < self._settings.ack_timeout_seconds:
            raise Defer(min(_RECONCILE_SECONDS, self._settings.ack_timeout_seconds - waited),
                        "waiting for an acknowledgment of a batch whose delivery is unknown")
        return not await self._found_by_status(connector, batch)

    async def _found_by_status(self, connector: ClaimConnector, batch: Record) -> bool:
        """Ask claim status for the batch's first claim: does the payer side know it?"""
        claim_id = next(iter(batch.data.get("claims", {}).values()), None)
        claim = await self._repo.get_record(records.CLAIM, claim_id) if claim_id else None
        if claim is None:
            return False
        async with self._repo.unit_of_work() as uow:
            numbers = await reserve_numbers(uow, sets=1, groups=1)
        try:
            answer = await connector.claim_status(claim.data["bundle"], numbers)
        except ConnectorRejectedError:
            return False  # status is not offered here: the TA1 025 duplicate check protects
        async with self._repo.unit_of_work() as uow:
            responses = await apply_inbound(uow, answer)
        return any(r.get("outcome") != "error" for r in responses)

    async def _deliver(self, reference: str) -> None:
        batch = await self._repo.get_record(records.BATCH, reference)
        if batch is None or batch.state not in ("prepared", "sending", "uncertain"):
            return
        connector = self._connectors.get(batch.data["connector"])
        if connector is None:
            raise ConnectorNotConfiguredError(
                f"No connector named {batch.data['connector']!r} is configured")
        if batch.state != "prepared" and not await self._reconcile(connector, batch):
            return
        batch = await self._mark(batch, "sending", sending_us=_now_us(),
                                 sends=int(batch.data.get("sends", 0)) + 1)
        try:
            answers = await connector.send(prepared_of(batch))
        except ConnectorDownError:
            await self._mark(batch, "prepared")
            raise
        except DeliveryUnknownError as exc:
            await self._mark(batch, "uncertain")
            raise Defer(_RECONCILE_SECONDS, f"delivery unknown: {exc.message}") from exc
        except ConnectorRejectedError as exc:
            await self._mark(batch, "rejected")
            async with self._repo.unit_of_work() as uow:
                for claim_id in batch.data.get("claims", {}).values():
                    claim = await uow.get_record(records.CLAIM, claim_id)
                    if claim is not None:
                        await _reject(uow, claim, exc)
            return
        await self._mark(batch, "sent", sent_us=_now_us())
        if answers:
            async with self._repo.unit_of_work() as uow:
                for answer in answers:
                    await apply_inbound(uow, answer)
        _log.info("batch %s sent", reference)


async def _reject(uow: OutboxUnitOfWork, claim: Record, error: FacadeError) -> None:
    await set_claim_state(uow, claim, "rejected")
    current = await read_resource(uow, "ClaimResponse", response_id(claim.key))
    if current is not None:
        notes = [i.message for i in error.issues]
        await upsert(uow, with_outcome(current, "error", "Not accepted for sending", notes))
