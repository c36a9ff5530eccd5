"""The sandbox clearinghouse's REST API: the CHC / Optum Medical Network JSON APIs and the same
under Stedi's paths (CLEARINGHOUSES.md sections 2-3).

CHC (bearer token from ``POST /apip/auth/v2/token``):

| Path | Engine |
|---|---|
| ``POST /medicalnetwork/eligibility/v3/`` (and ``/raw-x12``) | ``eligibility_json`` / ``_x12`` |
| ``POST /medicalnetwork/professionalclaims/v3/submission`` | ``submit_claim_json`` |
| ``POST /medicalnetwork/professionalclaims/v3/validation`` | ``validate_claim_json`` |
| ``POST /medicalnetwork/claimstatus/v2/`` (and ``/raw-x12``) | ``claim_status_json`` / ``_x12`` |
| ``GET /medicalnetwork/reports/v2`` | the mailbox: ``{"reports": [names], "meta"}`` |
| ``GET /medicalnetwork/reports/v2/{file}`` | ``{"report_content": X12, "meta"}`` |
| ``GET .../{file}/277``, ``GET .../{file}/835`` | ``report_json`` |
| ``DELETE /medicalnetwork/reports/v2/{file}`` | ``{"status": "success", "meta"}`` |
| ``GET /medicalnetwork/{api}/healthcheck`` | ``{"status": "OK", "version"}`` |

Stedi: the same under ``/2024-04-01/change/medicalnetwork/...`` with ``Authorization: <api
key>``; claim submission honours ``Idempotency-Key`` (same key and body -> the first answer;
different body -> 422; still in flight -> 409 with ``Retry-After``; section 6).

Reports from a submission (277CA as ``X3nnnnnn.XX``, 835 as ``R5nnnnnn.XX``) land in the
submitting account's mailbox. Chaos (``chaos.py``) applies to every vendor call but the token
endpoint and health checks.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from sandbox.clearinghouse.accounts import Account, AccountBook
from sandbox.clearinghouse.chaos import Chaos
from sandbox.clearinghouse.engine import Engine
from sandbox.clearinghouse.mailbox import Mailbox
from sandbox.clearinghouse.rest_admin import admin_router
from sandbox.clearinghouse.rest_auth import (
    TokenStore,
    caller,
    chc_token_response,
    stedi_error,
    unauthorized,
)

__all__ = ["STEDI_PREFIX", "RestContext", "create_clearinghouse_app"]

_log = logging.getLogger("sandbox.clearinghouse.rest")

STEDI_PREFIX = "/2024-04-01/change"
_HEALTH = {"eligibility/v3": "v3", "professionalclaims/v3": "v3", "claimstatus/v2": "v2",
           "reports/v2": "v2"}

Work = Callable[[Account], Awaitable[Response]]


@dataclass
class RestContext:
    """What the REST API works with."""

    engine: Engine
    mailbox: Mailbox
    chaos: Chaos
    accounts: AccountBook
    tokens: TokenStore = field(default_factory=TokenStore)
    stats: Callable[[], dict[str, Any]] | None = None
    in_flight: set[tuple[str, str]] = field(default_factory=set)
    """Stedi idempotency keys being processed: (username, key)."""


def _meta(account: Account) -> dict[str, str]:
    return {"applicationMode": "sandbox", "senderId": account.sender_id,
            "traceId": str(uuid.uuid4())}


def _chc_error(status: int, description: str, field_name: str = "") -> JSONResponse:
    """CHC's ``errors[{field, description}]`` envelope."""
    error = {"field": field_name, "description": description} if field_name else {
        "description": description}
    return JSONResponse({"errors": [error]}, status)


class _Api:
    def __init__(self, ctx: RestContext, stedi: bool) -> None:
        self.ctx = ctx
        self.stedi = stedi

    def error(self, status: int, code: str, message: str, field_name: str = "",
              headers: dict[str, str] | None = None) -> JSONResponse:
        if self.stedi or status == 429:
            return stedi_error(status, code, message, headers)
        response = _chc_error(status, message, field_name)
        response.headers.update(headers or {})
        return response

    async def call(self, request: Request, work: Work, *, chaos: bool = True) -> Response:
        """Authenticate, apply chaos, run ``work``; an unexpected failure is a 500, never a
        crash."""
        account = caller(request, self.stedi, self.ctx.accounts, self.ctx.tokens)
        if account is None:
            return unauthorized(self.stedi)
        chaos_on = self.ctx.chaos if chaos else None
        if chaos_on is not None:
            retry_after = chaos_on.take_throttle()
            if retry_after is not None:
                return self.error(429, "TOO_MANY_REQUESTS", "Too many requests",
                                  headers={"Retry-After": str(math.ceil(retry_after))})
            if chaos_on.slow_seconds:
                await asyncio.sleep(chaos_on.slow_seconds)
            if chaos_on.take_failure(after_processing=False):
                return self.error(500, "INTERNAL_SERVER_ERROR", "Internal server error")
        try:
            response = await work(account)
        except Exception:
            _log.exception("%s %s failed", request.method, request.url.path)
            return self.error(500, "INTERNAL_SERVER_ERROR", "Internal server error")
        if chaos_on is not None and chaos_on.take_failure(after_processing=True):
            return self.error(500, "INTERNAL_SERVER_ERROR", "Internal server error")
        return response

    async def body(self, request: Request) -> tuple[Any, JSONResponse | None]:
        raw = await request.body()
        try:
            return json.loads(raw), None
        except ValueError:
            return None, self.error(400, "BAD_REQUEST", "Request body must be JSON", "body")

    # --- endpoints -------------------------------------------------------------------------

    def json_call(self, method: Callable[[Any, Account], tuple[int, dict[str, Any]]]) -> Callable[
            [Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            async def work(account: Account) -> Response:
                body, bad = await self.body(request)
                if bad is not None:
                    return bad
                status, payload = await asyncio.to_thread(method, body, account)
                return JSONResponse(payload, status)
            return await self.call(request, work)
        return endpoint

    def raw_x12_call(self, method: Callable[[bytes, Account], str]) -> Callable[
            [Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            async def work(account: Account) -> Response:
                body, bad = await self.body(request)
                if bad is not None:
                    return bad
                x12 = body.get("x12") if isinstance(body, dict) else None
                if not isinstance(x12, str) or not x12.strip():
                    return self.error(400, "BAD_REQUEST", "x12 is required", "x12")
                answer = await asyncio.to_thread(method, x12.encode("utf-8"), account)
                return JSONResponse({"x12": answer, "meta": _meta(account)})
            return await self.call(request, work)
        return endpoint

    async def submission(self, request: Request) -> Response:
        key = request.headers.get("idempotency-key") if self.stedi else None

        async def work(account: Account) -> Response:
            body, bad = await self.body(request)
            if bad is not None:
                return bad
            flight = (account.username, key) if key else None
            if flight is not None and flight in self.ctx.in_flight:
                return self.error(409, "CONFLICT", "A request with this Idempotency-Key is "
                                  "in progress", headers={"Retry-After": "1"})
            if flight is not None:
                self.ctx.in_flight.add(flight)
            try:
                status, payload, reports = await asyncio.to_thread(
                    self.ctx.engine.submit_claim_json, body, account.submitter, key)
            finally:
                if flight is not None:
                    self.ctx.in_flight.discard(flight)
            for report in reports:
                self.ctx.mailbox.deliver(account.username, report)
            return JSONResponse(payload, status)
        return await self.call(request, work)

    async def report_list(self, request: Request) -> Response:
        async def work(account: Account) -> Response:
            return JSONResponse({"reports": self.ctx.mailbox.names(account.username),
                                 "meta": _meta(account)})
        return await self.call(request, work)

    async def report(self, request: Request) -> Response:
        name = request.path_params["file"]
        view = request.path_params.get("view")

        async def work(account: Account) -> Response:
            report = self.ctx.mailbox.get(account.username, name)
            if report is None:
                return self.error(404, "NOT_FOUND", f"Report {name} not found", "fileName")
            if view is None:
                return JSONResponse({"report_content": report.content, "meta": _meta(account)})
            if (view == "277") != name.startswith("X3") or view not in ("277", "835"):
                return self.error(400, "BAD_REQUEST", f"Report {name} is not a {view}",
                                  "fileName")
            payload = await asyncio.to_thread(self.ctx.engine.report_json, report)
            return JSONResponse(payload)
        return await self.call(request, work)

    async def report_delete(self, request: Request) -> Response:
        name = request.path_params["file"]

        async def work(account: Account) -> Response:
            if not self.ctx.mailbox.delete(account.username, name):
                return self.error(404, "NOT_FOUND", f"Report {name} not found", "fileName")
            return JSONResponse({"status": "success", "meta": _meta(account)})
        return await self.call(request, work)

    def health(self, version: str) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            async def work(account: Account) -> Response:
                return JSONResponse({"status": "OK", "version": version})
            return await self.call(request, work, chaos=False)
        return endpoint

    def router(self) -> APIRouter:
        engine = self.ctx.engine
        r = APIRouter(prefix=(STEDI_PREFIX if self.stedi else "") + "/medicalnetwork")
        for api, version in _HEALTH.items():
            r.add_api_route(f"/{api}/healthcheck", self.health(version), methods=["GET"])
        eligibility = self.json_call(lambda b, a: engine.eligibility_json(b, a.submitter))
        status = self.json_call(lambda b, a: engine.claim_status_json(b, a.submitter))
        for path, endpoint in (
            ("/eligibility/v3", eligibility),
            ("/eligibility/v3/", eligibility),
            ("/eligibility/v3/raw-x12",
             self.raw_x12_call(lambda x, a: engine.eligibility_x12(x, a.submitter))),
            ("/claimstatus/v2", status),
            ("/claimstatus/v2/", status),
            ("/claimstatus/v2/raw-x12",
             self.raw_x12_call(lambda x, a: engine.claim_status_x12(x, a.submitter))),
            ("/professionalclaims/v3/submission", self.submission),
            ("/professionalclaims/v3/validation",
             self.json_call(lambda b, a: engine.validate_claim_json(b, a.submitter))),
        ):
            r.add_api_route(path, endpoint, methods=["POST"])
        r.add_api_route("/reports/v2", self.report_list, methods=["GET"])
        r.add_api_route("/reports/v2/{file}", self.report, methods=["GET"])
        r.add_api_route("/reports/v2/{file}", self.report_delete, methods=["DELETE"])
        r.add_api_route("/reports/v2/{file}/{view}", self.report, methods=["GET"])
        return r


def create_clearinghouse_app(ctx: RestContext) -> FastAPI:
    """The REST app: CHC paths, Stedi paths, the CHC token endpoint and the admin API."""
    app = FastAPI(title="Sandbox clearinghouse", docs_url=None, redoc_url=None,
                  openapi_url=None, redirect_slashes=False)

    async def token(request: Request) -> Response:
        return await chc_token_response(request, ctx.accounts, ctx.tokens)

    app.add_api_route("/apip/auth/v2/token", token, methods=["POST"])
    app.include_router(_Api(ctx, stedi=False).router())
    app.include_router(_Api(ctx, stedi=True).router())
    app.include_router(admin_router(ctx.chaos, ctx.engine.ledger, ctx.stats))
    return app
