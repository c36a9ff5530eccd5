"""Resolve references inside the Bundle a translation starts from (R4 references.html,
bundle.html#references).

A Claim arrives with what it references: Patient, Coverage, payer and provider Organizations,
Practitioners, PractitionerRoles, Locations, Conditions, earlier ExplanationOfBenefits. A
reference can be a full URL (``urn:uuid:...`` or absolute), a relative ``Type/id``, a contained
``#id``, or only a logical ``identifier``; all four are resolved here. Resources not in the
Bundle are simply not found: the builders report what that leaves missing.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

__all__ = ["BundleIndex", "Resource"]

Resource = dict[str, Any]


class BundleIndex:
    """The resources of a Bundle (or a single resource), addressable the ways references use."""

    __slots__ = ("_by_identifier", "_by_key", "_by_url", "resources")

    def __init__(self, source: Mapping[str, Any]) -> None:
        self.resources: list[Resource] = []
        self._by_url: dict[str, Resource] = {}
        self._by_key: dict[str, Resource] = {}
        self._by_identifier: dict[tuple[str, str, str], Resource] | None = None
        if source.get("resourceType") == "Bundle":
            for entry in source.get("entry") or []:
                resource = entry.get("resource")
                if isinstance(resource, dict) and "resourceType" in resource:
                    self._add(resource, entry.get("fullUrl"))
        elif isinstance(source.get("resourceType"), str):
            self._add(dict(source), None)

    def _add(self, resource: Resource, full_url: str | None) -> None:
        self.resources.append(resource)
        kind = resource["resourceType"]
        if full_url:
            self._by_url[full_url] = resource
        rid = resource.get("id")
        if rid:
            self._by_key.setdefault(f"{kind}/{rid}", resource)
        if full_url and not rid and "/" in full_url and not full_url.startswith("urn:"):
            tail = "/".join(full_url.rstrip("/").rsplit("/", 2)[-2:])
            self._by_key.setdefault(tail, resource)

    def of_type(self, kind: str) -> list[Resource]:
        """Every resource of ``kind``, in Bundle order."""
        return [r for r in self.resources if r["resourceType"] == kind]

    def first(self, kind: str) -> Resource | None:
        return next((r for r in self.resources if r["resourceType"] == kind), None)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.resources)

    def resolve(
        self, reference: Mapping[str, Any] | None, source: Resource | None = None,
        kind: str | None = None,
    ) -> Resource | None:
        """The resource a Reference points at, or None.

        ``source`` is the resource holding the reference (for contained ``#id``); ``kind``
        restricts the answer to one resource type.
        """
        if not reference:
            return None
        found: Resource | None = None
        ref = reference.get("reference")
        if isinstance(ref, str) and ref:
            if ref.startswith("#"):
                for contained in (source or {}).get("contained") or []:
                    if contained.get("id") == ref[1:]:
                        found = contained
                        break
            else:
                found = self._by_url.get(ref)
                if found is None:
                    path = ref.split("/_history/")[0]
                    found = self._by_key.get("/".join(path.rsplit("/", 2)[-2:]))
        if found is None and isinstance(reference.get("identifier"), dict):
            found = self._find_identifier(reference["identifier"], kind or reference.get("type"))
        if found is not None and kind is not None and found.get("resourceType") != kind:
            return None
        return found

    def _find_identifier(self, identifier: Mapping[str, Any], kind: str | None) -> Resource | None:
        if self._by_identifier is None:
            table: dict[tuple[str, str, str], Resource] = {}
            for resource in self.resources:
                for ident in resource.get("identifier") or []:
                    if isinstance(ident, dict) and ident.get("value"):
                        key = (resource["resourceType"], ident.get("system", ""), ident["value"])
                        table.setdefault(key, resource)
            self._by_identifier = table
        system, value = identifier.get("system", ""), identifier.get("value")
        if not value:
            return None
        kinds = [kind] if kind else sorted({r["resourceType"] for r in self.resources})
        for k in kinds:
            hit = self._by_identifier.get((k, system, value))
            if hit is not None:
                return hit
        return None
