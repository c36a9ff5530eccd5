"""Batch and transaction Bundles (R4 http.html#transaction).

A transaction is all-or-nothing: every entry is parsed and validated first, then one unit of work
resolves `urn:uuid:` full URLs (and conditional references) to real ids, rewrites references in
every entry, and processes DELETE, POST, PUT/PATCH, then GET (R4 http.html#trules). The first
failing entry rolls everything back and its error is returned, naming the entry. A batch runs
each entry on its own and reports each entry's outcome in the response Bundle.
"""

from __future__ import annotations

import base64
import binascii
import uuid
from dataclasses import dataclass, replace
from typing import Any
from urllib.parse import parse_qsl, unquote, urlencode

import orjson

from server.errors import (
    FacadeError,
    IdMismatchError,
    InvalidRequestError,
    Issue,
    MethodNotAllowedError,
    MultipleMatchesError,
    ResourceGoneError,
    ResourceNotFoundError,
    ResourceTypeMismatchError,
    ResourceValidationError,
    TransactionEntryError,
)
from server.fhir import handlers, interactions, json_codec
from server.fhir.handlers import (
    FhirContext,
    FhirRequest,
    FhirResponse,
    check_type,
    now_us,
    write_response,
)
from server.fhir.media import Preferences
from server.fhir.outcomes import error_outcome
from server.fhir.search.parser import parse_search
from server.fhir.validation import validate_resource
from server.storage.port import UnitOfWork, instant_from_us

__all__ = ["process_bundle"]

# Processing order inside a transaction (R4 http.html#trules).
_ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}


@dataclass(slots=True)
class _Entry:
    index: int
    method: str
    url: str
    full_url: str | None
    request: FhirRequest
    kind: str  # read, vread, search, history, create, update, patch, delete


def _path_and_params(ctx: FhirContext, url: str) -> tuple[list[str], list[tuple[str, str]]]:
    base = ctx.fhir_base + "/"
    if url.startswith(base):
        url = url[len(base) :]
    path, _, query = url.partition("?")
    segments = [unquote(s) for s in path.strip("/").split("/") if s]
    return segments, parse_qsl(query, keep_blank_values=True)


def _patch_body(index: int, resource: Any) -> Any:
    """A PATCH entry carries its JSON Patch as a Binary (R4 http.html#patch)."""
    if not isinstance(resource, dict) or resource.get("resourceType") != "Binary":
        raise InvalidRequestError(
            "A PATCH entry carries a Binary with contentType application/json-patch+json",
            expression=f"Bundle.entry[{index}].resource",
        )
    try:
        return json_codec.loads(base64.b64decode(resource.get("data", ""), validate=True))
    except (binascii.Error, ValueError) as exc:
        raise InvalidRequestError(
            "The Binary's data is not base64 JSON Patch",
            expression=f"Bundle.entry[{index}].resource.data",
        ) from exc


def _parse_entry(ctx: FhirContext, index: int, raw: Any, prefer: Preferences) -> _Entry:
    where = f"Bundle.entry[{index}]"
    if not isinstance(raw, dict):
        raise InvalidRequestError("A Bundle entry is an object", expression=where)
    request = raw.get("request")
    if not isinstance(request, dict):
        raise InvalidRequestError("Each entry needs a request", expression=f"{where}.request")
    method, url = request.get("method"), request.get("url")
    if method not in _ORDER or not isinstance(url, str) or not url:
        raise InvalidRequestError(
            "entry.request needs a method (GET, HEAD, POST, PUT, PATCH, DELETE) and a url",
            expression=f"{where}.request",
        )
    segments, params = _path_and_params(ctx, url)
    resource = raw.get("resource")
    kind: str
    rtype = segments[0] if segments else None
    rid = segments[1] if len(segments) > 1 and segments[1] != "_history" else None
    version_id: str | None = None
    conditional = False
    if method in ("GET", "HEAD"):
        if segments == ["_history"] or segments[-1:] == ["_history"]:
            kind = "history"
            if segments == ["_history"]:
                rtype = None
        elif len(segments) == 4 and segments[2] == "_history":
            kind, version_id = "vread", segments[3]
        elif len(segments) == 2:
            kind = "read"
        elif len(segments) == 1:
            kind = "search"
        else:
            raise InvalidRequestError(
                "Unsupported GET url in a Bundle entry", expression=f"{where}.request.url"
            )
    elif method == "POST":
        if len(segments) != 1:
            raise InvalidRequestError(
                "POST entries name a type: 'Claim'", expression=f"{where}.request.url"
            )
        kind = "create"
    elif len(segments) == 1 and params:
        kind, conditional = {"PUT": "update", "DELETE": "delete", "PATCH": "patch"}[method], True
    elif len(segments) == 2:
        kind = {"PUT": "update", "DELETE": "delete", "PATCH": "patch"}[method]
    else:
        raise InvalidRequestError(
            f"{method} entries name 'Type/id' or 'Type?criteria'", expression=f"{where}.request.url"
        )
    if rtype is not None:
        check_type(rtype)
    body: Any = None
    if kind in ("create", "update"):
        if not isinstance(resource, dict):
            raise InvalidRequestError(
                f"{method} entries carry a resource", expression=f"{where}.resource"
            )
        if resource.get("resourceType") != rtype:
            raise ResourceTypeMismatchError(
                f"The entry's resource is not a {rtype}",
                expression=f"{where}.resource.resourceType",
            )
        body = resource
    elif kind == "patch":
        body = _patch_body(index, resource)
    req = FhirRequest(
        method=method,
        resource_type=rtype,
        id=rid,
        version_id=version_id,
        params=params,
        body=body,
        if_match=request.get("ifMatch"),
        if_none_exist=request.get("ifNoneExist"),
        if_none_match=request.get("ifNoneMatch"),
        if_modified_since=request.get("ifModifiedSince"),
        prefer=prefer,
        conditional=conditional,
    )
    full_url = raw.get("fullUrl") if isinstance(raw.get("fullUrl"), str) else None
    return _Entry(index, method, url, full_url, req, kind)


def _validate_entry(entry: _Entry) -> list[Issue]:
    """Issues of an entry's resource, with expressions rooted at the entry."""
    if entry.kind not in ("create", "update"):
        return []
    try:
        validate_resource(entry.request.body, expected_type=entry.request.resource_type)
    except FacadeError as exc:
        prefix = f"Bundle.entry[{entry.index}].resource"
        return [
            Issue(
                message=issue.message,
                code=issue.code,
                severity=issue.severity,
                expression=tuple(
                    prefix + e[e.index(".") :] if "." in e else prefix for e in issue.expression
                )
                or (prefix,),
            )
            for issue in exc.issues
        ]
    entry.request = replace(entry.request, body_validated=True)
    return []


def _references(node: Any) -> list[dict[str, Any]]:
    """Every object holding a `reference` string, anywhere in a resource (iterative: this
    runs over every entry of every transaction)."""
    found: list[dict[str, Any]] = []
    stack = [node]
    while stack:
        item = stack.pop()
        if type(item) is dict:
            if type(item.get("reference")) is str:
                found.append(item)
            stack.extend(v for v in item.values() if type(v) is dict or type(v) is list)
        elif type(item) is list:
            stack.extend(v for v in item if type(v) is dict or type(v) is list)
    return found


async def _resolve_identities(
    ctx: FhirContext, uow: UnitOfWork, entries: list[_Entry]
) -> dict[str, str]:
    """Map each entry's fullUrl to the `Type/id` it will have (R4 http.html#trules)."""
    mapping: dict[str, str] = {}
    limits = ctx.settings.limits
    for entry in entries:
        req = entry.request
        try:
            if entry.kind == "create":
                target: str | None = None
                if req.if_none_exist:
                    matches = await interactions.find_matches(
                        uow, req.resource_type or "", req.if_none_exist, limits, ctx.fhir_base
                    )
                    if len(matches) > 1:
                        raise MultipleMatchesError("ifNoneExist matches more than one resource")
                    if matches:
                        target = matches[0].id
                if target is None:
                    entry.request = replace(req, id=str(uuid.uuid4()), if_none_exist=None)
                    target = entry.request.id
                else:
                    entry.kind = "existing"
                    entry.request = replace(req, id=target)
                if entry.full_url:
                    mapping[entry.full_url] = f"{req.resource_type}/{target}"
            elif entry.kind == "update" and entry.full_url:
                if req.conditional:
                    matches = await interactions.find_matches(
                        uow, req.resource_type or "", urlencode(req.params), limits, ctx.fhir_base
                    )
                    if len(matches) > 1:
                        raise MultipleMatchesError(
                            "The conditional update matches more than one resource"
                        )
                    body_id = req.body.get("id") if isinstance(req.body, dict) else None
                    if matches and body_id is not None and body_id != matches[0].id:
                        raise IdMismatchError(
                            "The body's id differs from the id of the resource the criteria match",
                            expression="id",
                        )
                    target = matches[0].id if matches else body_id or str(uuid.uuid4())
                    entry.request = replace(req, body={**req.body, "id": target})
                else:
                    target = req.id
                mapping[entry.full_url] = f"{req.resource_type}/{target}"
        except FacadeError as exc:
            raise TransactionEntryError(entry.index, exc) from exc
    return mapping


async def _rewrite_references(
    ctx: FhirContext, uow: UnitOfWork, entries: list[_Entry], mapping: dict[str, str]
) -> None:
    """Replace `urn:uuid:` and conditional (`Type?query`) references with `Type/id`."""
    for entry in entries:
        body = entry.request.body
        if entry.kind not in ("create", "update", "existing") or not isinstance(body, dict):
            continue
        for holder in _references(body):
            ref: str = holder["reference"]
            if ref in mapping:
                holder["reference"] = mapping[ref]
            elif ref.startswith(("urn:uuid:", "urn:oid:")):
                raise TransactionEntryError(
                    entry.index,
                    InvalidRequestError(f"Reference '{ref}' names no entry of this transaction"),
                )
            elif "?" in ref and "/" not in ref.split("?", 1)[0]:
                rtype, _, query = ref.partition("?")
                try:
                    check_type(rtype)
                    pairs = parse_qsl(query, keep_blank_values=True)
                    parsed = parse_search(
                        (rtype,),
                        pairs,
                        strict=True,
                        limits=ctx.settings.limits,
                        fhir_base=ctx.fhir_base,
                    )
                    found = await uow.find(parsed.query, limit=2)
                    if len(found) != 1:
                        raise (MultipleMatchesError if found else ResourceNotFoundError)(
                            f"Conditional reference '{ref}' matches {len(found)} resources"
                        )
                except FacadeError as exc:
                    raise TransactionEntryError(entry.index, exc) from exc
                holder["reference"] = f"{rtype}/{found[0].id}"
        if mapping:
            _rewrite_links(body, mapping)


def _rewrite_links(resource: dict[str, Any], mapping: dict[str, str]) -> None:
    """Full URLs of entries used as `uri` values or as links in the narrative (`href`,
    `src`) are replaced too (R4 http.html#trules)."""
    stack: list[Any] = [resource]
    while stack:
        node = stack.pop()
        items = node.items() if type(node) is dict else enumerate(node)
        for key, value in items:
            if type(value) is str:
                if value in mapping:
                    node[key] = mapping[value]
                elif key == "div" and "urn:" in value:
                    for old, new in mapping.items():
                        value = value.replace(f'"{old}"', f'"{new}"')
                    node[key] = value
            elif type(value) is dict or type(value) is list:
                stack.append(value)


async def _read_in(uow: UnitOfWork, ctx: FhirContext, entry: _Entry) -> FhirResponse:
    """GET entries of a transaction see the transaction's own writes."""
    req = entry.request
    rtype = check_type(req.resource_type)
    if ctx.policy is not None:
        ctx.policy.require(rtype, "r" if entry.kind in ("read", "vread") else "s")
    if entry.kind in ("read", "vread"):
        assert req.id is not None
        if entry.kind == "read":
            found = await uow.read(rtype, req.id)
        elif req.version_id is not None and req.version_id.isdigit() and len(req.version_id) < 19:
            found = await uow.vread(rtype, req.id, int(req.version_id))
        else:
            found = None
        if found is None:
            raise ResourceNotFoundError(f"{rtype}/{req.id} has no such version")
        if found.deleted or found.content is None:
            raise ResourceGoneError(f"{rtype}/{req.id} is deleted")
        return FhirResponse(200, found.content, {"ETag": found.etag}, found)
    if entry.kind == "history":
        raise InvalidRequestError(
            "History entries are not supported inside a transaction; send them in a batch",
            expression=f"Bundle.entry[{entry.index}].request.url",
        )
    if entry.kind == "search":
        parsed = parse_search(
            (rtype,), req.params, strict=True, limits=ctx.settings.limits, fhir_base=ctx.fhir_base
        )
        keys = await uow.find(parsed.query, limit=parsed.query.count)
        matches = [v for k in keys if (v := await uow.read(k.resource_type, k.id)) is not None]
        bundle = {
            "resourceType": "Bundle",
            "type": "searchset",
            "entry": [
                {
                    "fullUrl": f"{ctx.fhir_base}/{v.resource_type}/{v.id}",
                    "resource": orjson.Fragment(v.content),
                    "search": {"mode": "match"},
                }
                for v in matches
                if v.content is not None
            ],
        }
        return FhirResponse(200, json_codec.dumps(bundle))
    return await _dispatch(ctx, entry)


async def _dispatch(ctx: FhirContext, entry: _Entry, uow: UnitOfWork | None = None) -> FhirResponse:
    req = entry.request
    match entry.kind:
        case "read":
            return await handlers.read(ctx, req)
        case "vread":
            return await handlers.vread(ctx, req)
        case "search":
            return await handlers.search_type(ctx, req)
        case "history":
            return await handlers.history(ctx, req)
        case "create":
            return await handlers.create(ctx, req, uow)
        case "update":
            return await handlers.update(ctx, req, uow)
        case "patch":
            return await handlers.patch(ctx, req, uow)
        case "delete":
            return await handlers.delete(ctx, req, uow)
        case "existing":
            assert uow is not None and req.id is not None
            current = await uow.read(req.resource_type or "", req.id)
            assert current is not None
            return write_response(ctx, req, interactions.WriteResult(current, 200))
    raise MethodNotAllowedError(f"Unsupported entry kind {entry.kind}")  # pragma: no cover


def _response_entry(response: FhirResponse, ctx: FhirContext) -> dict[str, Any]:
    out: dict[str, Any] = {}
    version = response.version
    if version is not None and not version.deleted:
        out["fullUrl"] = f"{ctx.fhir_base}/{version.resource_type}/{version.id}"
    if response.body is not None:
        out["resource"] = orjson.Fragment(response.body)
    resp: dict[str, Any] = {"status": response.status_text}
    if response.location:
        resp["location"] = response.location
    if version is not None:
        resp["etag"] = version.etag
        resp["lastModified"] = version.last_updated
    out["response"] = resp
    return out


def _error_entry(error: FacadeError) -> dict[str, Any]:
    return {"response": {"status": str(error.http_status), "outcome": error_outcome(error)}}


async def _transaction(ctx: FhirContext, entries: list[_Entry]) -> list[dict[str, Any]]:
    issues = [issue for entry in entries for issue in _validate_entry(entry)]
    if issues:
        raise ResourceValidationError("The transaction holds invalid resources", issues=issues)
    full_urls: dict[str, int] = {}
    conditions: dict[str, int] = {}
    for entry in entries:
        where = f"Bundle.entry[{entry.index}]"
        if entry.full_url is not None:
            if entry.full_url in full_urls:
                raise InvalidRequestError(
                    f"Entries {full_urls[entry.full_url]} and {entry.index} share a fullUrl "
                    "(bdl-7)",
                    expression=f"{where}.fullUrl",
                )
            full_urls[entry.full_url] = entry.index
        criteria = entry.request.if_none_exist if entry.kind == "create" else None
        if entry.request.conditional:
            criteria = urlencode(entry.request.params)
        if criteria:
            key = f"{entry.request.resource_type}?{criteria}"
            if key in conditions:
                raise InvalidRequestError(
                    f"Entries {conditions[key]} and {entry.index} have the same conditions; "
                    "a transaction may not touch one resource twice",
                    expression=f"{where}.request",
                )
            conditions[key] = entry.index
    seen: dict[str, int] = {}
    for entry in entries:
        req = entry.request
        if entry.kind in ("update", "delete", "patch") and not req.conditional:
            key = f"{req.resource_type}/{req.id}"
            if key in seen:
                raise InvalidRequestError(
                    f"Entries {seen[key]} and {entry.index} both change {key}",
                    expression=f"Bundle.entry[{entry.index}].request.url",
                )
            seen[key] = entry.index
    results: dict[int, FhirResponse] = {}
    async with ctx.repo.unit_of_work() as uow:
        mapping = await _resolve_identities(ctx, uow, entries)
        await _rewrite_references(ctx, uow, entries, mapping)
        for entry in sorted(entries, key=lambda e: _ORDER[e.method]):
            try:
                if entry.method in ("GET", "HEAD"):
                    results[entry.index] = await _read_in(uow, ctx, entry)
                else:
                    results[entry.index] = await _dispatch(ctx, entry, uow)
            except TransactionEntryError:
                raise
            except FacadeError as exc:
                raise TransactionEntryError(entry.index, exc) from exc
    return [_response_entry(results[e.index], ctx) for e in entries]


async def _batch(
    ctx: FhirContext, raw_entries: list[Any], prefer: Preferences
) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for index, raw in enumerate(raw_entries):
        try:
            entry = _parse_entry(ctx, index, raw, prefer)
            issues = _validate_entry(entry)
            if issues:
                raise ResourceValidationError("The entry's resource is not valid", issues=issues)
            out.append(_response_entry(await _dispatch(ctx, entry), ctx))
        except FacadeError as exc:
            out.append(_error_entry(exc))
    return out


async def process_bundle(ctx: FhirContext, body: Any, prefer: Preferences) -> FhirResponse:
    """POST [base] with a batch or transaction Bundle."""
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise ResourceTypeMismatchError(
            "POST to the base takes a batch or transaction Bundle", expression="resourceType"
        )
    bundle_type = body.get("type")
    if bundle_type not in ("batch", "transaction"):
        raise InvalidRequestError(
            "Bundle.type must be batch or transaction", expression="Bundle.type"
        )
    raw_entries = body.get("entry", [])
    if not isinstance(raw_entries, list):
        raise InvalidRequestError("Bundle.entry is an array", expression="Bundle.entry")
    if len(raw_entries) > ctx.settings.limits.max_bundle_entries:
        raise InvalidRequestError(
            f"A Bundle may hold at most {ctx.settings.limits.max_bundle_entries} entries",
            expression="Bundle.entry",
        )
    if bundle_type == "transaction":
        entries = [_parse_entry(ctx, i, raw, prefer) for i, raw in enumerate(raw_entries)]
        response_entries = await _transaction(ctx, entries)
    else:
        response_entries = await _batch(ctx, raw_entries, prefer)
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": instant_from_us(now_us())},
        "type": f"{bundle_type}-response",
        "entry": response_entries,
    }
    return FhirResponse(200, json_codec.dumps(bundle))
