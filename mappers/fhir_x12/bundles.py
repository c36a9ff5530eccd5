"""Mapped resources as a FHIR transaction Bundle the server can take as it is."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

__all__ = ["transaction"]

Resource = dict[str, Any]


def transaction(resources: Iterable[Resource]) -> Resource:
    """A transaction Bundle creating each resource only if its first identifier is new
    (``ifNoneExist``), so the same file imported twice changes nothing; the resources' ids
    become ``urn:uuid:`` full URLs, which references between them use."""
    entries = []
    for resource in resources:
        identifier = (resource.get("identifier") or [None])[0]
        request: dict[str, Any] = {"method": "POST", "url": resource["resourceType"]}
        if identifier is not None:
            request["ifNoneExist"] = f"identifier={identifier['system']}|{identifier['value']}"
        body = {k: v for k, v in resource.items() if k != "id"}
        entries.append({"fullUrl": f"urn:uuid:{resource['id']}", "resource": body,
                        "request": request})
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}
