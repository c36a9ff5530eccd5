"""The Bundle a translation starts from: a Claim (or CoverageEligibilityRequest) and what it
references, read from the store (R4 references.html).

References are followed from the focal resource and, one level further, from what it
references (a Coverage's payor and subscriber, a PractitionerRole's practitioner and
organization), so the 837/270/276 builders find every party they need. Only literal local
references (``Type/id``, or absolute URLs on this server's FHIR base) are read; a reference the
reader may not see (narrowed by the token) is simply left out, and the builders report the gap.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from server.fhir import json_codec
from server.storage.port import Repository

__all__ = ["assemble_bundle", "local_references", "rewrite_references"]

Resource = dict[str, Any]

#: Types a claim or an eligibility request draws on (resources of other types are not read).
_CONTEXT_TYPES = frozenset({
    "Patient", "Coverage", "Organization", "Practitioner", "PractitionerRole", "Location",
    "RelatedPerson", "Condition", "Procedure", "Encounter", "ExplanationOfBenefit",
    "ServiceRequest", "Device", "Medication", "MedicationRequest", "Claim",
})
_DEPTH = 2


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "reference" and isinstance(value, str):
                yield value
            else:
                yield from _references(value)
    elif isinstance(node, list):
        for item in node:
            yield from _references(item)


def local_references(resource: Mapping[str, Any], fhir_base: str) -> list[tuple[str, str]]:
    """(type, id) of every literal local reference in ``resource``, in document order."""
    out: list[tuple[str, str]] = []
    prefix = fhir_base.rstrip("/") + "/"
    for ref in _references(resource):
        if ref.startswith(prefix):
            ref = ref[len(prefix):]
        parts = ref.split("/")
        if len(parts) in (2, 4) and parts[0] in _CONTEXT_TYPES and parts[1]:
            key = (parts[0], parts[1])
            if key not in out:
                out.append(key)
    return out


async def assemble_bundle(repo: Repository, focal: Resource, fhir_base: str) -> Resource:
    """A collection Bundle: ``focal`` first, then every resource it reaches (depth 2)."""
    entries: list[Resource] = [focal]
    seen = {(focal.get("resourceType"), focal.get("id"))}
    frontier: list[Resource] = [focal]
    for _ in range(_DEPTH):
        following: list[Resource] = []
        for holder in frontier:
            for kind, rid in local_references(holder, fhir_base):
                if (kind, rid) in seen:
                    continue
                seen.add((kind, rid))
                version = await repo.read(kind, rid)
                if version is None or version.deleted or version.content is None:
                    continue
                resource = json_codec.loads(version.content)
                entries.append(resource)
                following.append(resource)
        frontier = following
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [
            {"fullUrl": f"{fhir_base}/{r['resourceType']}/{r['id']}", "resource": r}
            if r.get("id") else {"resource": r}
            for r in entries
        ],
    }


def rewrite_references(node: Any, mapping: Mapping[str, str]) -> Any:
    """A copy of ``node`` whose ``reference`` values found in ``mapping`` are replaced."""
    if isinstance(node, dict):
        return {
            key: (mapping.get(value, value) if key == "reference" and isinstance(value, str)
                  else rewrite_references(value, mapping))
            for key, value in node.items()
        }
    if isinstance(node, list):
        return [rewrite_references(item, mapping) for item in node]
    return node
