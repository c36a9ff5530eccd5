"""FastAPI routes for the FHIR REST API under ``/fhir`` (R4 http.html).

This module only translates HTTP in and out: it negotiates the format, reads headers and the
body, and hands a :class:`~server.fhir.handlers.FhirRequest` to the framework-free handlers.
Routes are registered one per interaction with the resource type as a path parameter whose
OpenAPI schema enumerates the served types, so the served OpenAPI stays complete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import Any
from urllib.parse import parse_qsl

from fastapi import FastAPI, Request
from fastapi.responses import Response

from capability.capability_statement import capability_statement_bytes
from capability.resource_types import RESOURCE_TYPES
from server.errors import InvalidRequestError, UnsupportedMediaTypeError
from server.fhir import bundles, handlers, json_codec
from server.fhir.handlers import FhirContext, FhirRequest, FhirResponse
from server.fhir.media import FHIR_JSON, check_body_type, check_patch_type, negotiate, parse_prefer
from server.security.gate import context_for

__all__ = ["install_fhir_routes"]

#: OpenAPI descriptions of the path parameters. They are declared here rather than in handler
#: signatures: FastAPI would otherwise re-validate them on every request, which measurably
#: slows reads; the handlers check types and ids themselves.
_PATH_PARAMETERS: dict[str, dict[str, Any]] = {
    "resource_type": {
        "name": "resource_type",
        "in": "path",
        "required": True,
        "description": "A served resource type",
        "schema": {"type": "string", "enum": sorted(RESOURCE_TYPES)},
    },
    "id": {
        "name": "id",
        "in": "path",
        "required": True,
        "description": "Logical id (1-64 of A-Z a-z 0-9 - .)",
        "schema": {"type": "string"},
    },
    "version_id": {
        "name": "version_id",
        "in": "path",
        "required": True,
        "description": "Version id",
        "schema": {"type": "string"},
    },
}


def _path(request: Request, *names: str) -> tuple[str, ...]:
    params = request.path_params
    return tuple(params[name] for name in names)


_JSON_BODY = {
    "requestBody": {
        "required": True,
        "content": {FHIR_JSON: {"schema": {"type": "object"}}},
    }
}
_PATCH_BODY = {
    "requestBody": {
        "required": True,
        "content": {"application/json-patch+json": {"schema": {"type": "array"}}},
    }
}


async def _context(request: Request) -> FhirContext:
    """Authenticates the caller (the first thing every FHIR route does) and returns the
    request's context: its policy and the store narrowed to what the token may reach."""
    return await context_for(request)


def _media(request: Request) -> str:
    return negotiate(request.query_params.get("_format"), request.headers.get("accept"))


def _render(request: Request, media: str, resp: FhirResponse) -> Response:
    body = resp.body
    headers = dict(resp.headers)
    if body is None:
        return Response(status_code=resp.status, headers=headers)
    if request.query_params.get("_pretty") == "true":
        body = json_codec.pretty(body)
    headers["Content-Type"] = f"{media}; charset=utf-8"
    return Response(content=body, status_code=resp.status, headers=headers)


def _base_request(request: Request, method: str, **kwargs: Any) -> FhirRequest:
    h = request.headers
    return FhirRequest(
        method=method,
        params=list(request.query_params.multi_items()),
        if_match=h.get("if-match"),
        if_none_exist=h.get("if-none-exist"),
        if_none_match=h.get("if-none-match"),
        if_modified_since=h.get("if-modified-since"),
        prefer=parse_prefer(h.get("prefer")),
        **kwargs,
    )


async def _form_params(request: Request) -> list[tuple[str, str]]:
    """Query parameters plus the form body of a POST search (R4 http.html#search)."""
    content_type = request.headers.get("content-type", "")
    if content_type.split(";")[0].strip().lower() != "application/x-www-form-urlencoded":
        raise UnsupportedMediaTypeError(
            "POST _search takes application/x-www-form-urlencoded parameters"
        )
    try:
        form = parse_qsl((await request.body()).decode(), keep_blank_values=True)
    except UnicodeDecodeError as exc:
        raise InvalidRequestError("The search form is not UTF-8") from exc
    return [*request.query_params.multi_items(), *form]


async def _json_body(request: Request) -> Any:
    check_body_type(request.headers.get("content-type"))
    return handlers.parse_json_body(await request.body())


async def _patch_body(request: Request) -> Any:
    check_patch_type(request.headers.get("content-type"))
    return handlers.parse_json_body(await request.body())


def install_fhir_routes(app: FastAPI) -> None:
    """Register the `/fhir` routes on ``app``, most specific paths first.

    Routes go on the application itself rather than through ``include_router``: FastAPI keeps an
    included router as a nested layer that every request scans, which measurably slows reads.
    """
    router = _Prefixed(app, "/fhir")

    @router.get("/metadata", summary="CapabilityStatement (R4 http.html#capabilities)")
    async def metadata(request: Request) -> Response:
        media = _media(request)
        settings = request.app.state.settings  # public (SMART App Launch: discovery)
        body = capability_statement_bytes(settings.fhir_base)
        return _render(request, media, FhirResponse(200, body))

    @router.post("/", summary="batch or transaction Bundle", openapi_extra=_JSON_BODY)
    @router.post("", include_in_schema=False)
    async def batch_or_transaction(request: Request) -> Response:
        ctx = await _context(request)
        media = _media(request)
        body = await _json_body(request)
        prefer = parse_prefer(request.headers.get("prefer"))
        return _render(request, media, await bundles.process_bundle(ctx, body, prefer))

    @router.post("/_search", summary="system search by POST (form body)")
    async def search_system_post(request: Request) -> Response:
        ctx = await _context(request)
        media = _media(request)
        req = replace(_base_request(request, "GET"), params=await _form_params(request))
        return _render(request, media, await handlers.search_system(ctx, req))

    @router.get("/_history", summary="system history")
    async def history_system(request: Request) -> Response:
        ctx = await _context(request)
        media = _media(request)
        resp = await handlers.history(ctx, _base_request(request, "GET"))
        return _render(request, media, resp)

    @router.get("/", summary="system search (`_type`)")
    @router.get("", include_in_schema=False)
    async def search_system(request: Request) -> Response:
        ctx = await _context(request)
        media = _media(request)
        resp = await handlers.search_system(ctx, _base_request(request, "GET"))
        return _render(request, media, resp)

    @router.get("/{resource_type}/_history", summary="type history")
    async def history_type(request: Request) -> Response:
        ctx = await _context(request)
        (resource_type,) = _path(request, "resource_type")
        media = _media(request)
        req = _base_request(request, "GET", resource_type=resource_type)
        return _render(request, media, await handlers.history(ctx, req))

    @router.get("/{resource_type}", summary="search-type")
    async def search_type(request: Request) -> Response:
        ctx = await _context(request)
        (resource_type,) = _path(request, "resource_type")
        media = _media(request)
        req = _base_request(request, "GET", resource_type=resource_type)
        return _render(request, media, await handlers.search_type(ctx, req))

    @router.post("/{resource_type}/_search", summary="search-type by POST (form body)")
    async def search_type_post(request: Request) -> Response:
        ctx = await _context(request)
        (resource_type,) = _path(request, "resource_type")
        media = _media(request)
        params = await _form_params(request)
        req = replace(_base_request(request, "GET", resource_type=resource_type), params=params)
        return _render(request, media, await handlers.search_type(ctx, req))

    @router.post("/{resource_type}", summary="create", status_code=201, openapi_extra=_JSON_BODY)
    async def create(request: Request) -> Response:
        ctx = await _context(request)
        (resource_type,) = _path(request, "resource_type")
        media = _media(request)
        handlers.check_type(resource_type)
        body = await _json_body(request)
        req = _base_request(request, "POST", resource_type=resource_type, body=body)
        return _render(request, media, await handlers.create(ctx, req))

    @router.put("/{resource_type}", summary="conditional update", openapi_extra=_JSON_BODY)
    async def conditional_update(request: Request) -> Response:
        ctx = await _context(request)
        (resource_type,) = _path(request, "resource_type")
        media = _media(request)
        handlers.check_type(resource_type)
        body = await _json_body(request)
        req = _base_request(
            request, "PUT", resource_type=resource_type, body=body, conditional=True
        )
        return _render(request, media, await handlers.update(ctx, req))

    @router.patch("/{resource_type}", summary="conditional patch", openapi_extra=_PATCH_BODY)
    async def conditional_patch(request: Request) -> Response:
        ctx = await _context(request)
        (resource_type,) = _path(request, "resource_type")
        media = _media(request)
        handlers.check_type(resource_type)
        body = await _patch_body(request)
        req = _base_request(
            request, "PATCH", resource_type=resource_type, body=body, conditional=True
        )
        return _render(request, media, await handlers.patch(ctx, req))

    @router.delete("/{resource_type}", summary="conditional delete")
    async def conditional_delete(request: Request) -> Response:
        ctx = await _context(request)
        (resource_type,) = _path(request, "resource_type")
        media = _media(request)
        req = _base_request(request, "DELETE", resource_type=resource_type, conditional=True)
        return _render(request, media, await handlers.delete(ctx, req))

    @router.get("/{resource_type}/{id}/_history/{version_id}", summary="vread")
    async def vread(request: Request) -> Response:
        ctx = await _context(request)
        resource_type, id, version_id = _path(request, "resource_type", "id", "version_id")
        media = _media(request)
        req = _base_request(
            request, "GET", resource_type=resource_type, id=id, version_id=version_id
        )
        return _render(request, media, await handlers.vread(ctx, req))

    @router.get("/{resource_type}/{id}/_history", summary="instance history")
    async def history_instance(request: Request) -> Response:
        ctx = await _context(request)
        resource_type, id = _path(request, "resource_type", "id")
        media = _media(request)
        req = _base_request(request, "GET", resource_type=resource_type, id=id)
        return _render(request, media, await handlers.history(ctx, req))

    @router.get("/{resource_type}/{id}", summary="read")
    async def read(request: Request) -> Response:
        ctx = await _context(request)
        resource_type, id = _path(request, "resource_type", "id")
        media = _media(request)
        req = _base_request(request, "GET", resource_type=resource_type, id=id)
        return _render(request, media, await handlers.read(ctx, req))

    @router.put("/{resource_type}/{id}", summary="update or create", openapi_extra=_JSON_BODY)
    async def update(request: Request) -> Response:
        ctx = await _context(request)
        resource_type, id = _path(request, "resource_type", "id")
        media = _media(request)
        handlers.check_type(resource_type)
        body = await _json_body(request)
        req = _base_request(request, "PUT", resource_type=resource_type, id=id, body=body)
        return _render(request, media, await handlers.update(ctx, req))

    @router.patch("/{resource_type}/{id}", summary="patch (JSON Patch)", openapi_extra=_PATCH_BODY)
    async def patch(request: Request) -> Response:
        ctx = await _context(request)
        resource_type, id = _path(request, "resource_type", "id")
        media = _media(request)
        handlers.check_type(resource_type)
        body = await _patch_body(request)
        req = _base_request(request, "PATCH", resource_type=resource_type, id=id, body=body)
        return _render(request, media, await handlers.patch(ctx, req))

    @router.delete("/{resource_type}/{id}", summary="delete")
    async def delete(request: Request) -> Response:
        ctx = await _context(request)
        resource_type, id = _path(request, "resource_type", "id")
        media = _media(request)
        req = _base_request(request, "DELETE", resource_type=resource_type, id=id)
        return _render(request, media, await handlers.delete(ctx, req))


class _Prefixed:
    """``app.get``/``post``/... with a path prefix and the FHIR tag, registered on the app."""

    def __init__(self, app: FastAPI, prefix: str) -> None:
        self._app, self._prefix = app, prefix

    def _route(self, method: str, path: str, **kwargs: Any) -> Callable[[Any], Any]:
        kwargs.setdefault("tags", ["FHIR"])
        names = [n for n in _PATH_PARAMETERS if "{" + n + "}" in path]
        if names:
            extra = dict(kwargs.get("openapi_extra") or {})
            extra["parameters"] = [_PATH_PARAMETERS[n] for n in names]
            kwargs["openapi_extra"] = extra
        register = getattr(self._app, method)
        decorator: Callable[[Any], Any] = register(self._prefix + path, **kwargs)
        return decorator

    def get(self, path: str, **kwargs: Any) -> Callable[[Any], Any]:
        return self._route("get", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> Callable[[Any], Any]:
        return self._route("post", path, **kwargs)

    def put(self, path: str, **kwargs: Any) -> Callable[[Any], Any]:
        return self._route("put", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Callable[[Any], Any]:
        return self._route("patch", path, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> Callable[[Any], Any]:
        return self._route("delete", path, **kwargs)
