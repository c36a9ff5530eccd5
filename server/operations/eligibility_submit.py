"""``POST /fhir/CoverageEligibilityRequest/$submit`` (R4 OperationDefinition
CoverageEligibilityRequest-submit): real-time eligibility, answered synchronously.

The request (with what it references, or as a Bundle) is stored, sent through the real-time
connector (270/271 or CHC eligibility v3) within ``eligibility_timeout_seconds``, and the answer
is mapped (``mappers/fhir_x12/x271_to_fhir.py`` or the vendor mapper), stored pointing at the
stored request, and returned. No answer in time is a 504; a vendor that is down a 503; the
request stays stored either way and can be submitted again.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

from server.errors import DeliveryUnknownError, InvalidRequestError
from server.fhir.handlers import FhirContext
from server.jobs.fhir_writes import read_stored, upsert
from server.jobs.inbound import apply_inbound
from server.jobs.numbers import reserve_numbers
from server.jobs.pipeline import Pipeline
from server.operations.claim_bundle import assemble_bundle
from server.operations.claim_submit import store_submitted
from server.operations.inputs import focal_resource

__all__ = ["submit_eligibility"]

Resource = dict[str, Any]

_NAMESPACE = uuid.UUID("9d2a4f3e-1c5b-5e7d-8a90-271271270270")


async def submit_eligibility(ctx: FhirContext, pipeline: Pipeline, resource: Resource
                             ) -> Resource:
    if ctx.policy is not None:
        ctx.policy.require("CoverageEligibilityRequest", "c")
        ctx.policy.require("CoverageEligibilityResponse", "r")
    request, bundle = focal_resource(resource, "CoverageEligibilityRequest")
    name = pipeline.settings.pipeline.realtime_connector or pipeline.default_connector
    connector = pipeline.connector(name)
    request_id = await store_submitted(ctx, request, bundle, "CoverageEligibilityRequest")
    stored = await read_stored(pipeline.repo, "CoverageEligibilityRequest", request_id)
    if stored is None:
        raise InvalidRequestError("The CoverageEligibilityRequest could not be stored")
    source = await assemble_bundle(pipeline.repo, stored, ctx.fhir_base)
    async with pipeline.repo.unit_of_work() as uow:
        numbers = await reserve_numbers(uow, sets=1, groups=1)
    timeout = pipeline.settings.pipeline.eligibility_timeout_seconds
    try:
        answer = await asyncio.wait_for(connector.eligibility(source, numbers), timeout)
    except TimeoutError as exc:
        raise DeliveryUnknownError(
            f"The payer did not answer the eligibility request within {timeout:g} s; "
            "submit it again", retry_after=5) from exc
    async with pipeline.repo.unit_of_work() as uow:
        mapped = await apply_inbound(uow, answer)
        answers = [r for r in mapped if r.get("resourceType") == "CoverageEligibilityResponse"]
        if not answers:
            raise DeliveryUnknownError("The eligibility answer held no response for the request")
        out = dict(answers[0])
        out["id"] = str(uuid.uuid5(_NAMESPACE, f"{request_id}|{time.time_ns()}"))
        out["request"] = {"reference": f"CoverageEligibilityRequest/{request_id}"}
        for key in ("patient", "insurer"):
            if stored.get(key):
                out[key] = stored[key]
        out.pop("meta", None)
        await upsert(uow, out)
    return out
