"""The remittance exception queue: 835 claims that matched no submitted Claim.

Staff list the open exceptions and resolve each one by naming the Claim it pays (its payer
ClaimResponse and EOB are then stored against that Claim, exactly as a matched remittance would
be), or dismiss it with a reason (a remittance for a claim sent by another system). Either way
the exception keeps its history: who did what, and when.
"""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

from server.errors import PipelineStateError, ResourceNotFoundError
from server.jobs import records
from server.jobs.remittance import attach_to_claim
from server.storage.outbox import OutboxRepository, OutboxUnitOfWork, Record

__all__ = ["dismiss_exception", "exception_view", "resolve_exception"]


def exception_view(record: Record) -> dict[str, Any]:
    """What the admin API shows of an exception (the mapped resources left out)."""
    data = {k: v for k, v in record.data.items() if k not in ("response", "eob")}
    return {**data, "state": record.state}


async def _open(uow: OutboxUnitOfWork, exception_id: str) -> Record:
    record = await uow.get_record(records.EXCEPTION, exception_id)
    if record is None:
        raise ResourceNotFoundError(f"No remittance exception {exception_id}")
    if record.state != "open":
        raise PipelineStateError(f"The exception is already {record.state}")
    return record


async def resolve_exception(repo: OutboxRepository, exception_id: str, claim_id: str,
                            who: str) -> dict[str, Any]:
    """Attach the exception's remittance to submitted Claim ``claim_id``."""
    async with repo.unit_of_work() as uow:
        record = await _open(uow, exception_id)
        claim = await uow.get_record(records.CLAIM, claim_id)
        if claim is None:
            raise PipelineStateError(f"Claim/{claim_id} was not submitted through this server")
        data = record.data
        await attach_to_claim(uow, claim, dict(data["response"]), dict(data["eob"]),
                              str(data.get("status", "")), Decimal(str(data.get("paid", "0"))))
        resolved = {**data, "resolution": {"action": "resolved", "claim": f"Claim/{claim_id}",
                                           "by": who, "at_us": time.time_ns() // 1000}}
        await uow.put_record(records.EXCEPTION, exception_id, resolved, ref=record.ref,
                             state="resolved")
    return exception_view(Record(record.kind, record.key, resolved, 0, record.ref, "resolved"))


async def dismiss_exception(repo: OutboxRepository, exception_id: str, reason: str,
                            who: str) -> dict[str, Any]:
    async with repo.unit_of_work() as uow:
        record = await _open(uow, exception_id)
        dismissed = {**record.data, "resolution": {"action": "dismissed", "reason": reason,
                                                   "by": who, "at_us": time.time_ns() // 1000}}
        await uow.put_record(records.EXCEPTION, exception_id, dismissed, ref=record.ref,
                             state="dismissed")
    return exception_view(Record(record.kind, record.key, dismissed, 0, record.ref, "dismissed"))
