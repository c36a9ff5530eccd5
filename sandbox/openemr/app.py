"""``create_openemr_app(config)``: the OAuth side of the OpenEMR stand-in as an ASGI app
(OPENEMR.md sections 6, 7 and the stand-in checklist, section 12, items 2, 10-15)."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from sandbox.openemr.authorize_routes import authorize_router
from sandbox.openemr.config import OpenEmrConfig
from sandbox.openemr.context import StandIn
from sandbox.openemr.discovery import discovery_router
from sandbox.openemr.ehr import admin_router, ehr_router
from sandbox.openemr.errors import LeagueError, error_response
from sandbox.openemr.introspection import introspection_router
from sandbox.openemr.registration import registration_router
from sandbox.openemr.token_routes import token_router

__all__ = ["create_openemr_app"]


def create_openemr_app(config: OpenEmrConfig | None = None,
                       standin: StandIn | None = None) -> FastAPI:
    """The stand-in app; its :class:`StandIn` (state, keys) is at ``app.state.openemr``."""
    stand = standin or StandIn(config or OpenEmrConfig())
    app = FastAPI(title="OpenEMR stand-in", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.openemr = stand

    @app.exception_handler(LeagueError)
    async def league_error(_: Request, exc: LeagueError) -> Response:
        return error_response(exc)

    @app.exception_handler(StarletteHTTPException)
    async def route_error(_: Request, exc: StarletteHTTPException) -> Response:
        # HttpRestRouteHandler: {"error":"An error occurred","message":..,"code":0}
        message = "Route not found" if exc.status_code == 404 else str(exc.detail)
        return JSONResponse(
            {"error": "An error occurred", "message": message, "code": 0},
            status_code=exc.status_code,
        )

    site = stand.config.site
    app.include_router(authorize_router(stand))
    app.include_router(token_router(stand))
    app.include_router(introspection_router(stand))
    app.include_router(registration_router(site))
    app.include_router(discovery_router(site))
    app.include_router(ehr_router())
    app.include_router(admin_router())
    return app
