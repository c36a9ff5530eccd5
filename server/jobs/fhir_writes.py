"""Writing the resources the pipeline makes, inside its unit of work.

Mapped resources carry name-based ids (the same 835 always maps to the same ids), so each is
an update-or-create (R4 http.html#upsert): writing the same content again stores no new version.
"""

from __future__ import annotations

from typing import Any

from server.fhir import interactions, json_codec
from server.storage.port import Repository, ResourceVersion, UnitOfWork

__all__ = ["read_resource", "read_stored", "upsert"]


async def upsert(uow: UnitOfWork, resource: dict[str, Any]) -> ResourceVersion:
    """Store ``resource`` under its own id (a new version only when its content changed)."""
    result = await interactions.update(uow, resource["resourceType"], resource["id"], resource)
    return result.version


async def read_resource(uow: UnitOfWork, resource_type: str, id: str) -> dict[str, Any] | None:
    version = await uow.read(resource_type, id)
    if version is None or version.deleted or version.content is None:
        return None
    resource: dict[str, Any] = json_codec.loads(version.content)
    return resource


async def read_stored(repo: Repository, resource_type: str, id: str) -> dict[str, Any] | None:
    """The committed current resource, parsed; None when absent or deleted."""
    version = await repo.read(resource_type, id)
    if version is None or version.deleted or version.content is None:
        return None
    resource: dict[str, Any] = json_codec.loads(version.content)
    return resource
