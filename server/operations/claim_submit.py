"""``POST /fhir/Claim/$submit`` (R4 OperationDefinition Claim-submit).

In: a Claim whose references are stored here, or a Bundle holding the Claim and what it
references (stored first, as a transaction of conditional creates, so the Claim ends up with
working references). Out: the Claim's ClaimResponse with ``outcome = queued``.

Before anything is stored the claim is scrubbed: the configured connector builds its payload
(the 837, or CHC JSON) as a dry run, and every gap comes back at once as a 422
OperationOutcome. A Claim.identifier already submitted returns the ClaimResponse of that first
submission and queues nothing (idempotent by identifier). The ClaimResponse, the claim's
pipeline record and its ``claim.send`` job are written in one unit of work (DESIGN.md law 3).
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from mappers.fhir_x12.claim_to_837 import claim_views
from mappers.x12.writer import CountingControlNumbers
from server.errors import InvalidRequestError, MappingGapError
from server.fhir import bundles, interactions, json_codec
from server.fhir.handlers import FhirContext
from server.fhir.media import Preferences
from server.jobs import records
from server.jobs.claim_responses import queued_response, response_id
from server.jobs.fhir_writes import read_resource, read_stored, upsert
from server.jobs.pipeline import Pipeline
from server.jobs.submission import CLAIM_SEND
from server.operations.claim_bundle import assemble_bundle
from server.operations.inputs import focal_resource

__all__ = ["store_submitted", "submit_claim"]

Resource = dict[str, Any]


def _identity(claim: Resource) -> str:
    for ident in claim.get("identifier") or []:
        if isinstance(ident, dict) and ident.get("value"):
            return f"{ident.get('system', '')}|{ident['value']}"
    raise MappingGapError(
        "Claim.identifier is required: it is the patient control number (CLM01) and makes "
        "$submit idempotent", expression="Claim.identifier",
    )


def _entry_request(resource: Resource, focal: bool) -> dict[str, Any]:
    """The submitted resource replaces a stored one with its identifier (conditional update);
    what it references is created unless one with the same identifier is stored."""
    kind = resource["resourceType"]
    for ident in resource.get("identifier") or []:
        if isinstance(ident, dict) and ident.get("system") and ident.get("value"):
            criteria = f"identifier={ident['system']}|{ident['value']}"
            if focal:
                return {"method": "PUT", "url": f"{kind}?{criteria}"}
            return {"method": "POST", "url": kind, "ifNoneExist": criteria}
    return {"method": "POST", "url": kind}


async def store_submitted(ctx: FhirContext, focal: Resource, bundle: Resource | None,
                          resource_type: str = "Claim") -> str:
    """Store the submitted resources through the caller's policy, as a transaction of
    conditional creates (by identifier); the stored focal resource's id."""
    entries = [e for e in (bundle or {}).get("entry") or []] or [{"resource": focal}]
    # The focal resource's own id is the client's, not ours: a new one is assigned unless a
    # stored resource has its identifier.
    tx = {"resourceType": "Bundle", "type": "transaction", "entry": [
        {**({"fullUrl": e["fullUrl"]} if e.get("fullUrl") else {}),
         "resource": ({k: v for k, v in focal.items() if k != "id"} if e["resource"] is focal
                      else e["resource"]),
         "request": _entry_request(e["resource"], e["resource"] is focal)}
        for e in entries]}
    response = await bundles.process_bundle(ctx, tx, Preferences(return_="minimal"))
    answer = json_codec.loads(response.body or b"{}")
    for sent, entry in zip(entries, answer.get("entry") or [], strict=False):
        if sent["resource"] is focal:
            location = entry["response"]["location"]
            return str(location.split("/_history")[0].rsplit("/", 1)[-1])
    raise InvalidRequestError(f"The {resource_type} could not be stored")


async def submit_claim(ctx: FhirContext, pipeline: Pipeline, resource: Resource
                       ) -> tuple[int, Resource]:
    """(HTTP status, ClaimResponse) for a `$submit` of ``resource``."""
    if ctx.policy is not None:
        ctx.policy.require("Claim", "c")
        ctx.policy.require("ClaimResponse", "r")
    claim, bundle = focal_resource(resource, "Claim")
    if claim.get("use") == "preauthorization":
        raise InvalidRequestError(
            "Prior authorization (Da Vinci PAS $submit) is not offered by this server yet",
            expression="Claim.use",
        )
    identity = _identity(claim)
    existing = await pipeline.repo.get_record(records.CLAIM_IDENT, identity)
    if existing is not None:
        return 200, await _current_response(pipeline, existing.data["claim"])
    name = pipeline.default_connector
    connector = pipeline.connector(name)
    source = bundle if bundle is not None else await assemble_bundle(ctx.repo, claim,
                                                                     ctx.fhir_base)
    # The scrub: the exact builder the worker will use, as a dry run (no numbers consumed).
    prepared = connector.prepare([source], CountingControlNumbers())
    view = claim_views(source)[0]
    charge = view.total()
    pcn = prepared.pcns[0] if prepared.pcns else view.patient_control_number()
    queued = _Queued(identity, name, pcn, str(charge))
    if bundle is None and (ctx.policy is None or ctx.policy.guard() is None):
        # A Claim whose references are stored, from a caller reaching every Claim: the Claim,
        # its ClaimResponse, the record and the job in one unit of work.
        if ctx.policy is not None:
            ctx.policy.require("Claim", "u")
        return await _queue(ctx, pipeline, queued, claim, source, store=True)
    claim_id = await store_submitted(ctx, claim, bundle)
    stored = await read_resource_from(pipeline, claim_id)
    sending = await assemble_bundle(pipeline.repo, stored, ctx.fhir_base)
    return await _queue(ctx, pipeline, queued, stored, sending, store=False)


@dataclass(frozen=True)
class _Queued:
    identity: str
    connector: str
    pcn: str
    charge: str


def _criteria(identity: str) -> str:
    """``identifier=system|value`` with the token escapes of R4 search.html#escaping."""
    system, _, value = identity.partition("|")
    escape = str.maketrans({"\\": "\\\\", ",": "\\,", "$": "\\$", "|": "\\|"})
    return f"identifier={quote(system.translate(escape))}|{quote(value.translate(escape))}"


async def _queue(ctx: FhirContext, pipeline: Pipeline, queued: _Queued, claim: Resource,
                 source: Resource, *, store: bool) -> tuple[int, Resource]:
    """Write the Claim (when ``store``: a conditional update on its identifier), its queued
    ClaimResponse, the pipeline record and the ``claim.send`` job, together."""
    now = time.time_ns() // 1000
    async with pipeline.repo.unit_of_work() as uow:
        again = await uow.get_record(records.CLAIM_IDENT, queued.identity)
        if again is not None:  # a concurrent $submit of the same claim won
            current = await read_resource(uow, "ClaimResponse", response_id(again.data["claim"]))
            if current is None:
                raise InvalidRequestError("The submission's ClaimResponse is missing")
            return 200, current
        if store:
            result = await interactions.conditional_update(
                uow, "Claim", _criteria(queued.identity),
                {k: v for k, v in claim.items() if k not in ("id", "meta")},
                limits=ctx.settings.limits, fhir_base=ctx.fhir_base)
            claim = json_codec.loads(result.version.content or b"{}")
            source = {**source, "entry": [
                {"fullUrl": f"{ctx.fhir_base}/Claim/{claim['id']}", "resource": claim},
                *source["entry"][1:]]}
        claim_id = str(claim["id"])
        response = queued_response(claim, claim_id, now)
        await upsert(uow, response)
        await uow.put_record(records.CLAIM, claim_id, {
            "claim": claim_id, "pcn": queued.pcn, "connector": queued.connector,
            "identity": queued.identity, "charge": queued.charge, "bundle": source,
            "submitted_us": now,
        }, ref=queued.pcn, state="queued")
        await uow.put_record(records.CLAIM_IDENT, queued.identity, {"claim": claim_id})
        await uow.enqueue(CLAIM_SEND, claim_id, dedupe=f"{CLAIM_SEND}:{claim_id}")
    pipeline.wake()
    return 200, response


async def read_resource_from(pipeline: Pipeline, claim_id: str) -> Resource:
    stored = await read_stored(pipeline.repo, "Claim", claim_id)
    if stored is None:
        raise InvalidRequestError("The Claim could not be stored")
    return stored


async def _current_response(pipeline: Pipeline, claim_id: str) -> Resource:
    current = await read_stored(pipeline.repo, "ClaimResponse", response_id(claim_id))
    if current is None:
        raise InvalidRequestError("The submission's ClaimResponse is missing")
    return current
