"""The FHIR REST core, free of any web framework (R4 http.html).

Each interaction is a function ``(context, FhirRequest) -> FhirResponse``. The FastAPI routes in
``server/fhir/router.py`` only translate HTTP in and out; batch and transaction Bundles
(``server/fhir/bundles.py``) call the same functions for their entries, sharing one unit of work
in a transaction.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlencode

import orjson

from capability.resource_types import AUDIT_TYPES, RESOURCE_TYPES
from server.errors import (
    ForbiddenError,
    InvalidRequestError,
    PreconditionFailedError,
    ResourceGoneError,
    ResourceNotFoundError,
    UnsupportedResourceTypeError,
)
from server.fhir import interactions, json_codec
from server.fhir.media import Preferences
from server.fhir.outcomes import info_outcome
from server.fhir.search.parser import parse_history, parse_search
from server.fhir.search.searchset import page_links, render_searchset
from server.fhir.validation import validate_resource
from server.security.narrowing import by_id, compartment_driver
from server.security.policy import Policy
from server.settings import Settings
from server.storage.port import (
    HistoryPage,
    Repository,
    ResourceVersion,
    UnitOfWork,
    instant_from_us,
)
from server.storage.query import Guard

__all__ = [
    "FhirContext",
    "FhirRequest",
    "FhirResponse",
    "check_type",
    "create",
    "delete",
    "history",
    "now_us",
    "parse_json_body",
    "patch",
    "read",
    "search_system",
    "search_type",
    "update",
    "vread",
    "write_response",
]

_STATUS_TEXT = {
    200: "200 OK",
    201: "201 Created",
    204: "204 No Content",
    304: "304 Not Modified",
}


@dataclass(frozen=True, slots=True)
class FhirContext:
    """What every handler needs: the store, the settings and the caller's policy.

    For a request, ``repo`` is the store seen through the token's guard
    (``server/security/narrowing.py``) and ``policy`` decides each interaction; None means an
    internal caller acting for the system itself."""

    repo: Repository
    settings: Settings
    policy: Policy | None = None

    @property
    def fhir_base(self) -> str:
        return self.settings.fhir_base


@dataclass(frozen=True, slots=True)
class FhirRequest:
    """One FHIR interaction, as parsed from HTTP or from a Bundle entry."""

    method: str
    resource_type: str | None = None
    id: str | None = None
    version_id: str | None = None
    params: Sequence[tuple[str, str]] = ()
    body: Any = None
    body_validated: bool = False
    if_match: str | None = None
    if_none_exist: str | None = None
    if_none_match: str | None = None
    if_modified_since: str | None = None
    prefer: Preferences = field(default_factory=Preferences)
    conditional: bool = False  # PUT/PATCH/DELETE on [type]?criteria


@dataclass(slots=True)
class FhirResponse:
    """Status, JSON body bytes and headers; ``version`` feeds Bundle `entry.response`."""

    status: int
    body: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    version: ResourceVersion | None = None
    location: str | None = None

    @property
    def status_text(self) -> str:
        return _STATUS_TEXT.get(self.status, str(self.status))


def check_type(resource_type: str | None) -> str:
    if resource_type is None or resource_type not in RESOURCE_TYPES:
        raise UnsupportedResourceTypeError(
            f"Resource type '{resource_type}' is not served here", expression="type"
        )
    return resource_type


def _require(ctx: FhirContext, resource_type: str, permissions: str) -> None:
    """403 unless the token's scopes grant every one of ``permissions`` on the type."""
    if ctx.policy is not None:
        for permission in permissions:
            ctx.policy.require(resource_type, permission)


def _write_guard(ctx: FhirContext, permission: str) -> Guard | None:
    return ctx.policy.guard(permission) if ctx.policy is not None else None


async def _within(
    ctx: FhirContext, tx: UnitOfWork, resource_type: str, id: str, permission: str
) -> bool:
    """Whether the resource (as this unit of work sees it) lies within what the token may
    touch with ``permission``: its compartment and granular scope restrictions."""
    guard = _write_guard(ctx, permission)
    if guard is None or guard.whole(resource_type):
        return True
    return bool(await tx.find(by_id(resource_type, id, guard, ctx.fhir_base), 1))


async def _check_written(
    ctx: FhirContext, tx: UnitOfWork, req: FhirRequest, result: interactions.WriteResult
) -> None:
    """After a write, inside its unit of work: the new content must lie within the token's
    reach for the permission used, else the write is undone (403: the client sent it, so
    naming the reason leaks nothing)."""
    if ctx.policy is None or (req.method == "POST" and result.status != 201):
        return  # a conditional create that found its match wrote nothing
    v = result.version
    permission = "c" if result.status == 201 else "u"
    _require(ctx, v.resource_type, permission)
    if not await _within(ctx, tx, v.resource_type, v.id, permission):
        raise ForbiddenError(
            f"The {v.resource_type} written lies outside the patient compartment or the "
            "scope restrictions of the access token"
        )


def _version_headers(version: ResourceVersion) -> dict[str, str]:
    return {"ETag": version.etag, "Last-Modified": version.http_date}


def write_response(
    ctx: FhirContext, req: FhirRequest, result: interactions.WriteResult
) -> FhirResponse:
    """Location, ETag, Last-Modified and the body `Prefer: return` asks for (R4 http.html#ops)."""
    v = result.version
    location = f"{v.resource_type}/{v.id}/_history/{v.version}"
    headers = _version_headers(v)
    if result.status == 201 or req.method == "POST":
        headers["Location"] = f"{ctx.fhir_base}/{location}"
    if req.prefer.return_ == "minimal":
        body = None
    elif req.prefer.return_ == "OperationOutcome":
        verb = "created" if result.status == 201 else "stored"
        body = json_codec.dumps(
            info_outcome(f"{v.resource_type}/{v.id} {verb} as version {v.version}")
        )
    else:
        body = v.content
    return FhirResponse(result.status, body, headers, v, location)


def _body(req: FhirRequest, resource_type: str) -> dict[str, Any]:
    if not req.body_validated:
        validate_resource(req.body, expected_type=resource_type)
    body: dict[str, Any] = req.body
    return body


# --- reads -----------------------------------------------------------------------------------


def _not_modified(req: FhirRequest, version: ResourceVersion) -> bool:
    """`If-None-Match` / `If-Modified-Since` on read (R4 http.html#cread)."""
    if req.if_none_match is not None:
        tags = [t.strip() for t in req.if_none_match.split(",")]
        return "*" in tags or any(t in (version.etag, f'"{version.version}"') for t in tags)
    if req.if_modified_since is not None:
        try:
            since = parsedate_to_datetime(req.if_modified_since).timestamp()
        except (TypeError, ValueError):
            return False
        return version.updated_us // 1_000_000 <= since
    return False


async def read(ctx: FhirContext, req: FhirRequest) -> FhirResponse:
    resource_type = check_type(req.resource_type)
    _require(ctx, resource_type, "r")
    assert req.id is not None
    interactions.check_id(req.id)
    version = await ctx.repo.read(resource_type, req.id)
    if version is None:
        raise ResourceNotFoundError(f"{resource_type}/{req.id} is not known")
    if version.deleted or version.content is None:
        raise ResourceGoneError(
            f"{resource_type}/{req.id} was deleted", headers=_version_headers(version)
        )
    if _not_modified(req, version):
        return FhirResponse(304, None, _version_headers(version), version)
    return FhirResponse(200, version.content, _version_headers(version), version)


async def vread(ctx: FhirContext, req: FhirRequest) -> FhirResponse:
    resource_type = check_type(req.resource_type)
    _require(ctx, resource_type, "r")
    assert req.id is not None and req.version_id is not None
    interactions.check_id(req.id)
    if not req.version_id.isdigit() or len(req.version_id) > 18:
        raise ResourceNotFoundError(
            f"{resource_type}/{req.id} has no version '{req.version_id}'", expression="vid"
        )
    version = await ctx.repo.vread(resource_type, req.id, int(req.version_id))
    if version is None:
        raise ResourceNotFoundError(f"{resource_type}/{req.id} has no version {req.version_id}")
    if version.deleted or version.content is None:
        raise ResourceGoneError(
            f"Version {req.version_id} of {resource_type}/{req.id} is a deletion",
            headers=_version_headers(version),
        )
    return FhirResponse(200, version.content, _version_headers(version), version)


# --- writes ----------------------------------------------------------------------------------


class _OwnUnitOfWork:
    """Use the caller's unit of work (transaction entries) or open one for this request."""

    def __init__(self, ctx: FhirContext, uow: UnitOfWork | None) -> None:
        self._ctx, self._uow = ctx, uow
        self._cm: Any = None

    async def __aenter__(self) -> UnitOfWork:
        if self._uow is not None:
            return self._uow
        self._cm = self._ctx.repo.unit_of_work()
        uow: UnitOfWork = await self._cm.__aenter__()
        return uow

    async def __aexit__(self, *exc: Any) -> None:
        if self._cm is not None:
            await self._cm.__aexit__(*exc)


async def create(ctx: FhirContext, req: FhirRequest, uow: UnitOfWork | None = None) -> FhirResponse:
    resource_type = check_type(req.resource_type)
    _require(ctx, resource_type, "cs" if req.if_none_exist is not None else "c")
    body = _body(req, resource_type)
    async with _OwnUnitOfWork(ctx, uow) as tx:
        result = await interactions.create(
            tx,
            resource_type,
            body,
            limits=ctx.settings.limits,
            fhir_base=ctx.fhir_base,
            if_none_exist=req.if_none_exist,
            id=req.id,
        )
        await _check_written(ctx, tx, req, result)
    return write_response(ctx, req, result)


async def update(ctx: FhirContext, req: FhirRequest, uow: UnitOfWork | None = None) -> FhirResponse:
    resource_type = check_type(req.resource_type)
    _require(ctx, resource_type, "us" if req.conditional else "u")
    body = _body(req, resource_type)
    async with _OwnUnitOfWork(ctx, uow) as tx:
        if req.conditional:
            result = await interactions.conditional_update(
                tx,
                resource_type,
                urlencode(req.params),
                body,
                limits=ctx.settings.limits,
                fhir_base=ctx.fhir_base,
                if_match=req.if_match,
            )
        else:
            assert req.id is not None
            interactions.check_id(req.id)
            if req.if_none_match is not None and req.if_none_match.strip() == "*":
                current = await tx.read(resource_type, req.id)
                if current is not None and not current.deleted:
                    raise PreconditionFailedError(
                        f"If-None-Match: * but {resource_type}/{req.id} exists", expression="id"
                    )
            result = await interactions.update(
                tx, resource_type, req.id, body, if_match=req.if_match
            )
        await _check_written(ctx, tx, req, result)
    return write_response(ctx, req, result)


async def patch(ctx: FhirContext, req: FhirRequest, uow: UnitOfWork | None = None) -> FhirResponse:
    resource_type = check_type(req.resource_type)
    _require(ctx, resource_type, "us" if req.conditional else "u")
    operations = interactions.compile_patch(req.body)
    async with _OwnUnitOfWork(ctx, uow) as tx:
        if req.conditional:
            result = await interactions.conditional_patch(
                tx,
                resource_type,
                urlencode(req.params),
                operations,
                limits=ctx.settings.limits,
                fhir_base=ctx.fhir_base,
                if_match=req.if_match,
            )
        else:
            assert req.id is not None
            interactions.check_id(req.id)
            result = await interactions.patch(
                tx, resource_type, req.id, operations, if_match=req.if_match
            )
        await _check_written(ctx, tx, req, result)
    return write_response(ctx, req, result)


async def delete(ctx: FhirContext, req: FhirRequest, uow: UnitOfWork | None = None) -> FhirResponse:
    resource_type = check_type(req.resource_type)
    _require(ctx, resource_type, "ds" if req.conditional else "d")
    if req.conditional and ctx.policy is not None:
        if ctx.policy.guard("d") != ctx.policy.guard("rs"):
            raise ForbiddenError(
                "Conditional delete needs delete scopes as wide as the token's read scopes"
            )
    async with _OwnUnitOfWork(ctx, uow) as tx:
        if req.conditional:
            gone = await interactions.conditional_delete(
                tx,
                resource_type,
                urlencode(req.params),
                limits=ctx.settings.limits,
                fhir_base=ctx.fhir_base,
            )
        else:
            assert req.id is not None
            interactions.check_id(req.id)
            try:
                current = await tx.read(resource_type, req.id)
            except ResourceNotFoundError:
                # Out of reach: answered as for an id that never existed.
                interactions.check_if_match(None, req.if_match)
                gone = None
            else:
                if current is not None and not current.deleted:
                    if not await _within(ctx, tx, resource_type, req.id, "d"):
                        raise ResourceNotFoundError(f"{resource_type}/{req.id} is not known")
                gone = await interactions.delete(tx, resource_type, req.id, if_match=req.if_match)
    headers = _version_headers(gone) if gone is not None else {}
    if req.prefer.return_ == "minimal":
        return FhirResponse(204, None, headers, gone)
    message = (
        f"{gone.resource_type}/{gone.id} deleted (version {gone.version})"
        if gone is not None
        else "Nothing to delete"
    )
    return FhirResponse(200, json_codec.dumps(info_outcome(message)), headers, gone)


# --- search and history ----------------------------------------------------------------------


def _entry_resource(version: ResourceVersion) -> orjson.Fragment:
    assert version.content is not None
    return orjson.Fragment(version.content)


def _bundle_bytes(bundle: dict[str, Any]) -> bytes:
    return json_codec.dumps(bundle)


def now_us() -> int:
    """Wall-clock microseconds since the epoch (Bundle `meta.lastUpdated`)."""
    return time.time_ns() // 1000


async def search_type(ctx: FhirContext, req: FhirRequest) -> FhirResponse:
    resource_type = check_type(req.resource_type)
    _require(ctx, resource_type, "s")
    parsed = parse_search(
        (resource_type,),
        req.params,
        strict=req.prefer.handling == "strict",
        limits=ctx.settings.limits,
        fhir_base=ctx.fhir_base,
    )
    query = parsed.query
    if ctx.policy is not None:
        driver = compartment_driver(ctx.policy.guard(), resource_type)
        if driver is not None:
            query = replace(query, where=(*query.where, driver))
    page = await ctx.repo.search(query)
    return FhirResponse(200, render_searchset(ctx.fhir_base, page, resource_type, parsed))


async def search_system(ctx: FhirContext, req: FhirRequest) -> FhirResponse:
    """Search across types; `_type` narrows them (R4 http.html#search)."""
    types: list[str] = []
    for name, value in req.params:
        if name == "_type":
            types += [check_type(t.strip()) for t in value.split(",") if t.strip()]
    explicit = bool(types)
    # Without `_type`, the served data: the audit trail is searched by naming it.
    types = sorted(set(types)) if types else sorted(RESOURCE_TYPES.difference(AUDIT_TYPES))
    if ctx.policy is not None:
        if explicit:
            for t in types:
                _require(ctx, t, "s")
        else:
            types = [t for t in ctx.policy.readable_types("s") if t not in AUDIT_TYPES]
            if not types:
                raise ForbiddenError("The access token grants no search permission")
    parsed = parse_search(
        types,
        req.params,
        strict=req.prefer.handling == "strict",
        limits=ctx.settings.limits,
        fhir_base=ctx.fhir_base,
    )
    if explicit:
        parsed = replace(parsed, applied=(("_type", ",".join(types)), *parsed.applied))
    page = await ctx.repo.search(parsed.query)
    return FhirResponse(200, render_searchset(ctx.fhir_base, page, "", parsed))


def _history_entry(ctx: FhirContext, v: ResourceVersion) -> dict[str, Any]:
    url = f"{v.resource_type}/{v.id}"
    entry: dict[str, Any] = {"fullUrl": f"{ctx.fhir_base}/{url}"}
    if not v.deleted and v.content is not None:
        entry["resource"] = _entry_resource(v)
    status = {"POST": "201 Created", "DELETE": "204 No Content"}.get(
        v.method, "201 Created" if v.version == 1 else "200 OK"
    )
    entry["request"] = {"method": v.method, "url": v.resource_type if v.method == "POST" else url}
    entry["response"] = {
        "status": status,
        "etag": v.etag,
        "lastModified": v.last_updated,
    }
    if not v.deleted:
        entry["response"]["location"] = f"{url}/_history/{v.version}"
    return entry


async def history(ctx: FhirContext, req: FhirRequest) -> FhirResponse:
    """Instance, type or system history, newest first (R4 http.html#history)."""
    resource_type = check_type(req.resource_type) if req.resource_type is not None else None
    if ctx.policy is not None:
        if resource_type is not None:
            _require(ctx, resource_type, "r" if req.id is not None else "s")
        elif not ctx.policy.readable_types("s"):
            raise ForbiddenError("The access token grants no search permission")
    query, applied = parse_history(
        req.params,
        resource_type=resource_type,
        id=req.id,
        strict=req.prefer.handling == "strict",
        limits=ctx.settings.limits,
    )
    if req.id is not None:
        assert resource_type is not None
        interactions.check_id(req.id)
        if await ctx.repo.read(resource_type, req.id) is None:
            raise ResourceNotFoundError(f"{resource_type}/{req.id} is not known")
    page: HistoryPage = await ctx.repo.history(query)
    path = "/".join(p for p in (resource_type, req.id) if p) + (
        "/_history" if resource_type else "_history"
    )
    links = page_links(ctx.fhir_base, path, applied, query.after, page.next_cursor)
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": instant_from_us(now_us())},
        "type": "history",
    }
    if page.total is not None:
        bundle["total"] = page.total
    bundle["link"] = links
    if page.versions:
        bundle["entry"] = [_history_entry(ctx, v) for v in page.versions]
    return FhirResponse(200, _bundle_bytes(bundle))


def parse_json_body(raw: bytes) -> Any:
    if not raw.strip():
        raise InvalidRequestError("The request has no body", expression="body")
    return json_codec.loads(raw)
