"""FHIR REST write semantics, written once on top of the storage port's unit of work.

create, conditional create, update (update-as-create), conditional update, patch, conditional
patch, delete and conditional delete, with `If-Match` version checks: R4 http.html#create,
#cond-update, #update, #patch, #delete and #concurrency. Everything here runs inside one
:class:`~server.storage.port.UnitOfWork`, so a check and the write that depends on it are atomic;
the same functions serve single requests and the entries of a transaction Bundle.

Resources arrive already validated; they leave as canonical JSON bytes with ``id``,
``meta.versionId`` and ``meta.lastUpdated`` set by the server (law 1: validate once, serve bytes).
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

import jsonpatch
import jsonpointer

from server.errors import (
    FacadeError,
    IdMismatchError,
    InvalidPatchError,
    InvalidRequestError,
    MultipleMatchesError,
    PatchFailedError,
    PatchResultInvalidError,
    PreconditionFailedError,
    ResourceGoneError,
    ResourceNotFoundError,
    ResourceValidationError,
    VersionConflictError,
)
from server.fhir import json_codec
from server.fhir.search.parser import parse_search
from server.fhir.validation import validate_resource
from server.settings import LimitsSettings
from server.storage.indexing import extract_index
from server.storage.port import ResourceKey, ResourceVersion, UnitOfWork, instant_from_us

__all__ = [
    "WriteResult",
    "check_id",
    "compile_patch",
    "conditional_delete",
    "conditional_patch",
    "conditional_update",
    "create",
    "delete",
    "find_matches",
    "parse_etag",
    "patch",
    "stamp",
    "update",
]

_ID_RE = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_ETAG_RE = re.compile(r'^\s*(?:W/)?"?(\d+)"?\s*$')


@dataclass(frozen=True, slots=True)
class WriteResult:
    """The version now current and the HTTP status of the interaction (201 or 200)."""

    version: ResourceVersion
    status: int


def check_id(id: str, expression: str = "id") -> None:
    """Logical ids are 1-64 of ``[A-Za-z0-9-.]`` (R4 datatypes.html#id)."""
    if not _ID_RE.match(id):
        raise InvalidRequestError(
            "A resource id is 1 to 64 letters, digits, '-' or '.'", expression=expression
        )


def parse_etag(header: str) -> int | None:
    """The version number of an `If-Match` ETag (``W/"3"``); None for ``*``."""
    if header.strip() == "*":
        return None
    match = _ETAG_RE.match(header)
    if match is None:
        raise InvalidRequestError('If-Match takes an ETag such as W/"3"', expression="If-Match")
    return int(match.group(1))


def check_if_match(current: ResourceVersion | None, if_match: str | None) -> None:
    """`If-Match` against the current version (R4 http.html#concurrency)."""
    if if_match is None:
        return
    wanted = parse_etag(if_match)
    if current is None or current.deleted:
        raise PreconditionFailedError("If-Match names a version of a resource that does not exist")
    if wanted is not None and wanted != current.version:
        raise PreconditionFailedError(
            f'The resource is at version W/"{current.version}", not W/"{wanted}"'
        )


def stamp(
    resource: dict[str, Any], resource_type: str, id: str, version: int, updated_us: int
) -> bytes:
    """Canonical bytes: ``resourceType``, ``id``, ``meta`` first, then the client's elements."""
    meta: dict[str, Any] = {"versionId": str(version), "lastUpdated": instant_from_us(updated_us)}
    old_meta = resource.get("meta")
    if isinstance(old_meta, dict):
        for key, value in old_meta.items():
            if key not in ("versionId", "lastUpdated", "_versionId", "_lastUpdated"):
                meta[key] = value
    out: dict[str, Any] = {"resourceType": resource_type, "id": id, "meta": meta}
    for key, value in resource.items():
        if key not in out:
            out[key] = value
    return json_codec.dumps(out)


def _unchanged(current: ResourceVersion, resource: dict[str, Any]) -> bool:
    """True when ``resource`` would be stored as exactly the current bytes (same elements in
    the same order); such an update or patch writes no new version."""
    if current.content is None or current.deleted:
        return False
    same_meta = stamp(
        resource, current.resource_type, current.id, current.version, current.updated_us
    )
    return same_meta == current.content


async def _write(
    uow: UnitOfWork,
    resource_type: str,
    id: str,
    resource: dict[str, Any],
    previous: ResourceVersion | None,
    method: str,
) -> ResourceVersion:
    version = 1 if previous is None else previous.version + 1
    now = uow.now_us()
    content = stamp(resource, resource_type, id, version, now)
    written = ResourceVersion(resource_type, id, version, now, False, method, content)
    await uow.write(written, extract_index(resource_type, resource))
    return written


async def find_matches(
    uow: UnitOfWork,
    resource_type: str,
    criteria: str,
    limits: LimitsSettings,
    fhir_base: str = "",
) -> list[ResourceKey]:
    """Up to two resources matching conditional ``criteria`` (a query string, strict);
    ``fhir_base`` tells local absolute references from other servers'."""
    pairs = parse_qsl(criteria.lstrip("?"), keep_blank_values=True)
    parsed = parse_search((resource_type,), pairs, strict=True, limits=limits, fhir_base=fhir_base)
    if not parsed.query.where:
        raise InvalidRequestError(
            "A conditional interaction needs search criteria", expression="If-None-Exist"
        )
    return await uow.find(parsed.query, limit=2)


async def create(
    uow: UnitOfWork,
    resource_type: str,
    resource: dict[str, Any],
    *,
    limits: LimitsSettings,
    fhir_base: str = "",
    if_none_exist: str | None = None,
    id: str | None = None,
) -> WriteResult:
    """Create with a server-assigned id (a body id is ignored); conditional with If-None-Exist."""
    if if_none_exist is not None:
        if not if_none_exist.strip():
            raise InvalidRequestError(
                "If-None-Exist is empty; send search criteria or leave it out",
                expression="If-None-Exist",
            )
        matches = await find_matches(uow, resource_type, if_none_exist, limits, fhir_base)
        if len(matches) > 1:
            raise MultipleMatchesError("If-None-Exist matches more than one resource")
        if matches:
            current = await uow.read(resource_type, matches[0].id)
            if current is not None:
                return WriteResult(current, 200)
    new_id = id or str(uuid.uuid4())
    return WriteResult(await _write(uow, resource_type, new_id, resource, None, "POST"), 201)


async def update(
    uow: UnitOfWork,
    resource_type: str,
    id: str,
    resource: dict[str, Any],
    *,
    if_match: str | None = None,
) -> WriteResult:
    """Update, or create with the client's id when none exists (R4 http.html#upsert)."""
    if resource.get("id") != id:
        raise IdMismatchError(
            "The resource id must be present and equal the id in the URL", expression="id"
        )
    current = await uow.read(resource_type, id)
    check_if_match(current, if_match)
    if current is not None and _unchanged(current, resource):
        return WriteResult(current, 200)
    status = 201 if current is None or current.deleted else 200
    return WriteResult(await _write(uow, resource_type, id, resource, current, "PUT"), status)


async def conditional_update(
    uow: UnitOfWork,
    resource_type: str,
    criteria: str,
    resource: dict[str, Any],
    *,
    limits: LimitsSettings,
    fhir_base: str = "",
    if_match: str | None = None,
) -> WriteResult:
    """PUT [type]?criteria (R4 http.html#cond-update)."""
    matches = await find_matches(uow, resource_type, criteria, limits, fhir_base)
    if len(matches) > 1:
        raise MultipleMatchesError("The conditional update matches more than one resource")
    body_id = resource.get("id")
    if not matches:
        if body_id is None:
            return await create(uow, resource_type, resource, limits=limits, fhir_base=fhir_base)
        existing = await uow.read(resource_type, body_id)
        if existing is not None and not existing.deleted:
            raise VersionConflictError(
                "No resource matches the criteria, but the body's id names an existing one",
                expression="id",
            )
        return await update(uow, resource_type, body_id, resource, if_match=if_match)
    match_id = matches[0].id
    if body_id is not None and body_id != match_id:
        raise IdMismatchError(
            "The body's id differs from the id of the resource the criteria match",
            expression="id",
        )
    return await update(
        uow, resource_type, match_id, {**resource, "id": match_id}, if_match=if_match
    )


def compile_patch(document: Any) -> jsonpatch.JsonPatch:
    """Check a JSON Patch document (RFC 6902) before any resource is read."""
    if not isinstance(document, list) or not document:
        raise InvalidPatchError("A JSON Patch document is a non-empty array of operations")
    for index, op in enumerate(document):
        if (
            not isinstance(op, dict)
            or op.get("op") not in ("add", "remove", "replace", "move", "copy", "test")
            or not isinstance(op.get("path"), str)
        ):
            raise InvalidPatchError(
                f"Operation {index} needs an 'op' (add, remove, replace, move, copy, test) "
                "and a 'path'",
                expression=f"[{index}]",
            )
        if op["op"] in ("add", "replace", "test") and "value" not in op:
            raise InvalidPatchError(f"Operation {index} needs a 'value'", expression=f"[{index}]")
        if op["op"] in ("move", "copy") and not isinstance(op.get("from"), str):
            raise InvalidPatchError(f"Operation {index} needs a 'from'", expression=f"[{index}]")
    try:
        return jsonpatch.JsonPatch(document)
    except (jsonpatch.InvalidJsonPatch, jsonpointer.JsonPointerException) as exc:
        raise InvalidPatchError("The JSON Patch document is not valid") from exc


async def patch(
    uow: UnitOfWork,
    resource_type: str,
    id: str,
    operations: jsonpatch.JsonPatch,
    *,
    if_match: str | None = None,
) -> WriteResult:
    """Apply a JSON Patch to the current version and re-validate (R4 http.html#patch)."""
    current = await uow.read(resource_type, id)
    if current is None:
        raise ResourceNotFoundError(f"{resource_type}/{id} does not exist")
    if current.deleted or current.content is None:
        raise ResourceGoneError(f"{resource_type}/{id} has been deleted")
    check_if_match(current, if_match)
    document = json_codec.loads(current.content)
    try:
        patched = operations.apply(document, in_place=False)
    except jsonpatch.JsonPatchTestFailed as exc:
        raise PatchFailedError("A JSON Patch 'test' operation failed") from exc
    except (jsonpatch.JsonPatchException, jsonpointer.JsonPointerException) as exc:
        # The library's message quotes the document; name only the failing operation's path.
        raise PatchFailedError(
            "The JSON Patch cannot be applied: a path it names does not exist or does not fit"
        ) from exc
    if not isinstance(patched, dict):
        raise PatchFailedError("The JSON Patch replaced the whole resource with a non-object")
    if patched.get("resourceType") != resource_type or patched.get("id") != id:
        raise PatchFailedError("A JSON Patch may not change resourceType or id")
    try:
        validate_resource(patched, expected_type=resource_type)
    except ResourceValidationError as exc:
        raise PatchResultInvalidError(
            "The patched resource is not valid", issues=exc.issues
        ) from exc
    except FacadeError as exc:
        raise PatchResultInvalidError(exc.message, issues=exc.issues) from exc
    if _unchanged(current, patched):
        return WriteResult(current, 200)
    return WriteResult(await _write(uow, resource_type, id, patched, current, "PATCH"), 200)


async def conditional_patch(
    uow: UnitOfWork,
    resource_type: str,
    criteria: str,
    operations: jsonpatch.JsonPatch,
    *,
    limits: LimitsSettings,
    fhir_base: str = "",
    if_match: str | None = None,
) -> WriteResult:
    """PATCH [type]?criteria: exactly one match is patched."""
    matches = await find_matches(uow, resource_type, criteria, limits, fhir_base)
    if len(matches) > 1:
        raise MultipleMatchesError("The conditional patch matches more than one resource")
    if not matches:
        raise ResourceNotFoundError("No resource matches the conditional patch criteria")
    return await patch(uow, resource_type, matches[0].id, operations, if_match=if_match)


async def delete(
    uow: UnitOfWork, resource_type: str, id: str, *, if_match: str | None = None
) -> ResourceVersion | None:
    """Write a deletion version; None when there was nothing to delete (R4 http.html#delete)."""
    current = await uow.read(resource_type, id)
    check_if_match(current, if_match)
    if current is None or current.deleted:
        return None
    gone = ResourceVersion(
        resource_type, id, current.version + 1, uow.now_us(), True, "DELETE", None
    )
    await uow.write(gone, ())
    return gone


async def conditional_delete(
    uow: UnitOfWork,
    resource_type: str,
    criteria: str,
    *,
    limits: LimitsSettings,
    fhir_base: str = "",
) -> ResourceVersion | None:
    """DELETE [type]?criteria: one match is deleted; several are a 412 (single)."""
    matches = await find_matches(uow, resource_type, criteria, limits, fhir_base)
    if len(matches) > 1:
        raise MultipleMatchesError("The conditional delete matches more than one resource")
    if not matches:
        return None
    return await delete(uow, resource_type, matches[0].id)
