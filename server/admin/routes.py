"""``/admin/`` routes: the remittance exception queue, jobs and the pipeline's state.

Guarded by the ``system/facade.admin`` scope (DESIGN.md "Public interface"); with
authorization switched off (local development) they are open like everything else. Answers
are plain JSON; errors are OperationOutcomes like the rest of the server.
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response

from server.errors import ForbiddenError, InvalidRequestError, ResourceNotFoundError
from server.jobs import records
from server.jobs.exceptions import dismiss_exception, exception_view, resolve_exception
from server.jobs.pipeline import Pipeline
from server.security.gate import access_for
from server.storage.outbox import OutboxRepository

__all__ = ["ADMIN_SCOPE", "install_admin_routes"]

ADMIN_SCOPE = "system/facade.admin"

_CLAIM_STATES = ("queued", "batched", "sent", "acknowledged", "accepted", "rejected", "paid",
                 "denied")


def _json(value: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(value), status_code=status, media_type="application/json")


async def _admin(request: Request) -> str:
    """The caller's name for the record; 403 without the admin scope."""
    access = await access_for(request)
    if not access.unrestricted and ADMIN_SCOPE not in access.scopes:
        raise ForbiddenError("The administration API needs the system/facade.admin scope",
                             scope=ADMIN_SCOPE)
    return access.subject or access.client_id or "local"


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError("The body is not JSON") from exc
    if not isinstance(body, dict):
        raise InvalidRequestError("The body must be a JSON object")
    return body


def _store(request: Request) -> OutboxRepository:
    pipeline: Pipeline = request.app.state.pipeline
    return pipeline.repo


def install_admin_routes(app: FastAPI) -> None:
    @app.get("/admin/exceptions", tags=["admin"], summary="remittance exception queue")
    async def list_exceptions(request: Request, state: str = "open",
                              limit: int = 100) -> Response:
        await _admin(request)
        found = await _store(request).find_records(records.EXCEPTION, state=state,
                                                   limit=min(max(limit, 1), 1000))
        return _json({"state": state, "exceptions": [exception_view(r) for r in found]})

    @app.post("/admin/exceptions/{id}/resolve", tags=["admin"],
              summary="attach a remittance exception to a submitted Claim")
    async def resolve(request: Request, id: str) -> Response:
        who = await _admin(request)
        claim = str((await _body(request)).get("claim", ""))
        claim_id = claim.removeprefix("Claim/")
        if not claim_id or "/" in claim_id:
            raise InvalidRequestError('Send {"claim": "Claim/<id>"}', expression="claim")
        return _json(await resolve_exception(_store(request), id, claim_id, who))

    @app.post("/admin/exceptions/{id}/dismiss", tags=["admin"],
              summary="close a remittance exception without a Claim")
    async def dismiss(request: Request, id: str) -> Response:
        who = await _admin(request)
        reason = str((await _body(request)).get("reason", "")).strip()
        if not reason:
            raise InvalidRequestError('Send {"reason": "..."}', expression="reason")
        return _json(await dismiss_exception(_store(request), id, reason, who))

    @app.get("/admin/jobs", tags=["admin"], summary="queued, leased and dead jobs")
    async def jobs(request: Request, state: str | None = None, kind: str | None = None,
                   limit: int = 100) -> Response:
        await _admin(request)
        found = await _store(request).list_jobs(state=state, kind=kind,
                                                limit=min(max(limit, 1), 1000))
        return _json({"jobs": [
            {"id": j.id, "kind": j.kind, "subject": j.subject, "state": j.state,
             "attempts": j.attempts, "run_at_us": j.run_at_us, "last_error": j.last_error}
            for j in found]})

    @app.post("/admin/jobs/{id}/replay", tags=["admin"], summary="run a dead job again")
    async def replay(request: Request, id: int) -> Response:
        await _admin(request)
        async with _store(request).unit_of_work() as uow:
            if not await uow.replay_job(id):
                raise ResourceNotFoundError(f"No dead job {id}")
        request.app.state.pipeline.wake()
        return _json({"id": id, "state": "ready"})

    @app.get("/admin/pipeline", tags=["admin"], summary="claims by stage, jobs, connectors")
    async def pipeline_state(request: Request) -> Response:
        await _admin(request)
        store = _store(request)
        pipeline: Pipeline = request.app.state.pipeline
        claims = await store.record_counts(records.CLAIM)
        return _json({
            "claims": {s: claims.get(s, 0) for s in _CLAIM_STATES},
            "jobs": await store.job_counts(),
            "exceptions": await store.record_counts(records.EXCEPTION),
            "connectors": {n: c.kind for n, c in pipeline.connectors.items()},
        })
