"""``POST /fhir/Claim/{id}/$status``: ask the payer where a submitted claim stands.

Defined by this server (``capability/operation_definitions.py``, canonical
``{base}/OperationDefinition/Claim-status``): no input parameters; out, the Claim's
submission ClaimResponse updated with what the 277 (X212) or the CHC claim status answer says
(STC category and status codes as ``error``/``processNote``, payer claim number as an
identifier). Run automatically by the worker for claims with no final answer after
``status_after_seconds``.
"""

from __future__ import annotations

from typing import Any

from server.errors import PipelineStateError, ResourceNotFoundError
from server.fhir.handlers import FhirContext
from server.jobs import records
from server.jobs.claim_responses import response_id
from server.jobs.fhir_writes import read_stored
from server.jobs.pipeline import Pipeline

__all__ = ["claim_status"]

Resource = dict[str, Any]


async def claim_status(ctx: FhirContext, pipeline: Pipeline, claim_id: str) -> Resource:
    if ctx.policy is not None:
        ctx.policy.require("Claim", "r")
        ctx.policy.require("ClaimResponse", "r")
    visible = await ctx.repo.read("Claim", claim_id)
    if visible is None or visible.deleted:
        raise ResourceNotFoundError(f"Claim/{claim_id} is not known")
    record = await pipeline.repo.get_record(records.CLAIM, claim_id)
    if record is None:
        raise PipelineStateError(
            f"Claim/{claim_id} was never submitted; call Claim/$submit first")
    if record.state in ("queued", "batched"):
        raise PipelineStateError(
            f"Claim/{claim_id} has not been sent yet (it is {record.state}); ask again later")
    realtime = pipeline.settings.pipeline.realtime_connector
    await pipeline.polling.inquire(claim_id, connector=realtime or None)
    current = await read_stored(pipeline.repo, "ClaimResponse", response_id(claim_id))
    if current is None:
        raise PipelineStateError(f"Claim/{claim_id} has no ClaimResponse")
    return current
