"""HTTP endpoints of the authorization server.

``/auth/authorize`` (GET and POST: authorize-post), ``/auth/token``, ``/auth/register``,
``/auth/introspect``, ``/auth/revoke``, ``/auth/jwks`` and the discovery documents. OAuth
errors are RFC 6749 section 5.2 JSON with ``Cache-Control: no-store``; token responses too
(section 5.1). Form bodies are ``application/x-www-form-urlencoded`` (RFC 6749 appendix B);
a parameter sent twice is ``invalid_request`` (section 3.1).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson
from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.routing import BaseRoute

from server.errors import OAuthError
from server.security.authorization import AuthServer
from server.security.authorize_flow import authorize
from server.security.discovery import openid_configuration, smart_configuration
from server.security.grants import token_response
from server.security.registration import register
from server.security.sessions import COOKIE_NAME

__all__ = ["install", "oauth_error_response"]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
_CORS = {"Access-Control-Allow-Origin": "*"}


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/json",
        headers={**_NO_STORE, **_CORS, **(headers or {})},
    )


def oauth_error_response(exc: OAuthError) -> Response:
    """``{"error", "error_description"}`` with the error's status and headers."""
    body = {"error": exc.error, "error_description": exc.message}
    return _json(body, exc.http_status, exc.headers)


def _pairs(items: list[tuple[str, str]]) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in items:
        if name in params:
            raise OAuthError("invalid_request", f"Parameter {name} is repeated")
        params[name] = value
    return params


async def _form(request: Request) -> dict[str, str]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if media != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "The body must be application/x-www-form-urlencoded")
    try:
        text = (await request.body()).decode("utf-8")
        return _pairs(parse_qsl(text, keep_blank_values=True, strict_parsing=False))
    except UnicodeDecodeError as exc:
        raise OAuthError("invalid_request", "The body is not UTF-8") from exc


def _server(request: Request) -> AuthServer:
    server = getattr(request.app.state, "auth", None)
    if not isinstance(server, AuthServer):
        raise OAuthError("temporarily_unavailable", "Authorization is not enabled", status=503)
    return server


def _note(request: Request, params: dict[str, str]) -> None:
    """Who the decision is about, for the audit trail (``server/security/audit.py``)."""
    request.state.audit_client_id = params.get("client_id") or None
    request.state.audit_subject = params.get("username") or None


def install(app: FastAPI) -> None:
    """Register the routes and the OAuthError handler on ``app``."""

    @app.exception_handler(OAuthError)
    async def oauth_error(_: Request, exc: OAuthError) -> Response:
        return oauth_error_response(exc)

    @app.get("/fhir/.well-known/smart-configuration", tags=["auth"], summary="SMART discovery")
    async def smart_config(request: Request) -> Response:
        body = smart_configuration(request.app.state.settings.fhir_base)
        return _json(body, headers={"Cache-Control": "max-age=3600"})

    @app.get("/.well-known/openid-configuration", tags=["auth"], summary="OpenID discovery")
    async def openid_config(request: Request) -> Response:
        body = openid_configuration(request.app.state.settings.fhir_base)
        return _json(body, headers={"Cache-Control": "max-age=3600"})

    @app.get("/auth/jwks", tags=["auth"], summary="the public signing keys (RFC 7517)")
    async def jwks(request: Request) -> Response:
        return _json(_server(request).keys.jwks(), headers={"Cache-Control": "max-age=300"})

    @app.get("/auth/authorize", tags=["auth"], summary="authorization endpoint")
    async def authorize_get(request: Request) -> Response:
        params = _pairs(list(request.query_params.multi_items()))
        _note(request, params)
        server = _server(request)
        cookie = request.cookies.get(COOKIE_NAME)
        return await authorize(server, request.app.state.fhir.repo, params, cookie)

    @app.post("/auth/authorize", tags=["auth"], summary="authorization endpoint (POST)")
    async def authorize_post(request: Request) -> Response:
        params = await _form(request)
        _note(request, params)
        server = _server(request)
        cookie = request.cookies.get(COOKIE_NAME)
        return await authorize(server, request.app.state.fhir.repo, params, cookie)

    @app.post("/auth/token", tags=["auth"], summary="token endpoint")
    async def token(request: Request) -> Response:
        form = await _form(request)
        _note(request, form)
        body = await token_response(_server(request), form, request.headers.get("authorization"))
        return _json(body)

    @app.post("/auth/register", tags=["auth"], summary="dynamic client registration (RFC 7591)")
    async def register_client(request: Request) -> Response:
        try:
            body = orjson.loads(await request.body())
        except orjson.JSONDecodeError as exc:
            raise OAuthError("invalid_client_metadata", "The body is not JSON") from exc
        return _json(await register(_server(request).store, body), 201)

    @app.post("/auth/introspect", tags=["auth"], summary="token introspection (RFC 7662)")
    async def introspect(request: Request) -> Response:
        form = await _form(request)
        _note(request, form)
        server = _server(request)
        authorization = request.headers.get("authorization")
        if authorization and authorization[:7].lower() == "bearer ":
            await server.authenticate(
                authorization, request.client.host if request.client else None
            )
        else:
            await server.clients.authenticate(form, authorization)
        token_value = form.get("token")
        if not token_value:
            raise OAuthError("invalid_request", "token is required")
        return _json(await server.introspect(token_value))

    @app.post("/auth/revoke", tags=["auth"], summary="token revocation (RFC 7009)")
    async def revoke(request: Request) -> Response:
        form = await _form(request)
        _note(request, form)
        server = _server(request)
        auth = await server.clients.authenticate(form, request.headers.get("authorization"))
        token_value = form.get("token")
        if not token_value:
            raise OAuthError("invalid_request", "token is required")
        await server.revoke(token_value, auth.client)
        return _json({})

    # Discovery must win over the FHIR router's /fhir/{type}/{id} route.
    routes: list[BaseRoute] = app.router.routes
    for route in [
        r for r in routes if getattr(r, "path", "") == "/fhir/.well-known/smart-configuration"
    ]:
        routes.remove(route)
        routes.insert(0, route)
