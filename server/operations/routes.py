"""FastAPI routes of the FHIR operations (registered before the generic `/fhir` routes, which
would otherwise take `Claim/$submit` for a read of id `$submit`)."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import Response

from capability.operation_definitions import definition
from server.errors import ResourceNotFoundError
from server.fhir import handlers, json_codec
from server.fhir.media import FHIR_JSON, check_body_type, negotiate
from server.jobs.pipeline import Pipeline
from server.operations.claim_status import claim_status
from server.operations.claim_submit import submit_claim
from server.operations.eligibility_submit import submit_eligibility
from server.operations.inputs import operation_input
from server.security.gate import context_for

__all__ = ["install_operation_routes"]

_BODY = {
    "requestBody": {
        "required": True,
        "content": {FHIR_JSON: {"schema": {"type": "object"}}},
    }
}


def _json(request: Request, status: int, resource: dict[str, Any]) -> Response:
    media = negotiate(request.query_params.get("_format"), request.headers.get("accept"))
    body = json_codec.dumps(resource)
    if request.query_params.get("_pretty") == "true":
        body = json_codec.pretty(body)
    return Response(content=body, status_code=status,
                    headers={"Content-Type": f"{media}; charset=utf-8"})


async def _input(request: Request) -> dict[str, Any]:
    check_body_type(request.headers.get("content-type"))
    return operation_input(handlers.parse_json_body(await request.body()))


def _pipeline(request: Request) -> Pipeline:
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline


def install_operation_routes(app: FastAPI) -> None:
    @app.post("/fhir/Claim/$submit", tags=["operations"], openapi_extra=_BODY,
              summary="Claim-submit: scrub and queue a claim for the clearinghouse")
    async def claim_submit(request: Request) -> Response:
        ctx = await context_for(request)
        status, response = await submit_claim(ctx, _pipeline(request), await _input(request))
        return _json(request, status, response)

    @app.post("/fhir/CoverageEligibilityRequest/$submit", tags=["operations"],
              openapi_extra=_BODY,
              summary="CoverageEligibilityRequest-submit: real-time eligibility")
    async def eligibility_submit(request: Request) -> Response:
        ctx = await context_for(request)
        response = await submit_eligibility(ctx, _pipeline(request), await _input(request))
        return _json(request, 200, response)

    @app.post("/fhir/Claim/{id}/$status", tags=["operations"],
              summary="Claim-status: ask the payer where a submitted claim stands")
    async def status(request: Request, id: str) -> Response:
        ctx = await context_for(request)
        return _json(request, 200, await claim_status(ctx, _pipeline(request), id))

    @app.get("/fhir/OperationDefinition/{id}", tags=["operations"],
             summary="OperationDefinitions this server defines")
    async def operation_definition(request: Request, id: str) -> Response:
        found = definition(request.app.state.settings.fhir_base, id)
        if found is None:
            raise ResourceNotFoundError(f"OperationDefinition/{id} is not known")
        return _json(request, 200, found)
