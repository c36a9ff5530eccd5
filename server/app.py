"""Application wiring: ``create_app(settings)`` and the lifespan that owns the store.

Every error leaves as an OperationOutcome (DESIGN.md law 6): FacadeErrors with their own status
and code, framework errors (unknown route, wrong method, bad path parameter) mapped to the
matching FacadeError; anything unexpected becomes a 500 in ``RequestIdMiddleware``, with the
request id, no stack trace in the body and none of the request's data in the log.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from capability.resource_types import RESOURCE_TYPES
from server.admin.routes import install_admin_routes
from server.connectors.port import ClaimConnector
from server.errors import (
    FacadeError,
    InvalidRequestError,
    MethodNotAllowedError,
    RouteNotFoundError,
    StorageUnavailableError,
)
from server.fhir import json_codec
from server.fhir.handlers import FhirContext
from server.fhir.media import FHIR_JSON
from server.fhir.outcomes import error_outcome
from server.fhir.router import install_fhir_routes
from server.fhir.validation import prepare
from server.jobs.pipeline import Pipeline
from server.middleware import BodyLimitMiddleware, RequestIdMiddleware, current_request_id
from server.operations.routes import install_operation_routes
from server.security.audit import AuditMiddleware, AuditTrail
from server.security.authorization import AuthServer, install_oauth_routes
from server.security.launch_relay import install_launch_routes
from server.settings import Settings
from server.storage.factory import repository_from_settings
from server.storage.outbox import OutboxRepository
from server.storage.sqlite_auth import SqliteAuthStore

__all__ = ["create_app", "error_response"]

_log = logging.getLogger("facade")


def error_response(error: FacadeError) -> Response:
    """An OperationOutcome response for ``error``."""
    return Response(
        content=json_codec.dumps(error_outcome(error)),
        status_code=error.http_status,
        headers={**error.headers, "Content-Type": f"{FHIR_JSON}; charset=utf-8"},
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(FacadeError)
    async def facade_error(_: Request, exc: FacadeError) -> Response:
        if exc.http_status >= 500:
            _log.warning("request_id=%s error=%s", current_request_id(), exc.code)
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def request_invalid(_: Request, exc: RequestValidationError) -> Response:
        errors = exc.errors()
        where = ".".join(str(p) for p in errors[0]["loc"]) if errors else "request"
        return error_response(InvalidRequestError(f"Invalid request: {where}", expression=where))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return error_response(RouteNotFoundError("No FHIR interaction at this URL"))
        if exc.status_code == 405:
            return error_response(MethodNotAllowedError("This URL does not take that method"))
        return error_response(InvalidRequestError(str(exc.detail)))


def _connectors(settings: Settings) -> dict[str, ClaimConnector]:
    """The clearinghouse connections of the settings (none configured: none built)."""
    if not settings.connectors:
        return {}
    from server.connectors.registry import connectors_from_settings

    return connectors_from_settings(settings)


def create_app(
    settings: Settings | None = None,
    repo: OutboxRepository | None = None,
    connectors: Mapping[str, ClaimConnector] | None = None,
) -> FastAPI:
    """The facade as an ASGI app. ``repo`` overrides the adapter chosen from the settings,
    ``connectors`` the clearinghouse connections built from them."""
    settings = settings or Settings()
    repository = repo or repository_from_settings(settings)
    pipeline = Pipeline(
        repository, settings, _connectors(settings) if connectors is None else connectors
    )
    auth = (
        AuthServer(settings, SqliteAuthStore(settings.sqlite_path()))
        if settings.auth.enabled
        else None
    )
    # Who did what is recorded whenever there is a "who": with authorization on.
    trail = (
        AuditTrail(repository, settings)
        if settings.auth.enabled and settings.auth.audit
        else None
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await repository.open()
        prepare(RESOURCE_TYPES)
        if auth is not None:
            await auth.open()
        if trail is not None:
            await trail.start()
        await pipeline.start()
        try:
            yield
        finally:
            await pipeline.stop()
            if trail is not None:
                await trail.stop()
            if auth is not None:
                await auth.close()
            await repository.close()

    app = FastAPI(
        title="FHIR Financial Facade",
        version="0.1.0",
        lifespan=lifespan,
        docs_url="/docs",
        redoc_url=None,
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.settings = settings
    app.state.fhir = FhirContext(repo=repository, settings=settings)
    app.state.auth = auth
    app.state.audit = trail
    app.state.pipeline = pipeline
    _install_error_handlers(app)
    install_operation_routes(app)
    install_fhir_routes(app)
    install_admin_routes(app)
    install_oauth_routes(app)
    install_launch_routes(app)

    @app.get("/healthz", tags=["operations"], summary="liveness")
    async def healthz() -> Response:
        return Response(content=b'{"status":"ok"}', media_type="application/json")

    @app.get("/readyz", tags=["operations"], summary="readiness: the store answers")
    async def readyz() -> Response:
        try:
            await repository.ping()
        except StorageUnavailableError as exc:
            return error_response(exc)
        return Response(content=b'{"status":"ready"}', media_type="application/json")

    if trail is not None:
        app.add_middleware(AuditMiddleware, trail=trail)
    app.add_middleware(BodyLimitMiddleware, max_bytes=settings.limits.max_body_bytes)
    app.add_middleware(RequestIdMiddleware)
    return app
