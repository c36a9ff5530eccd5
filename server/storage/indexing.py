"""Write-time index extraction: search values pulled out of a resource once, when it is stored.

Like HAPI's index tables and Medplum's lookup tables, every registered search parameter
(``capability/search_parameters.py``) is evaluated on the resource as it is written, and the
values go to the adapter as plain entries; searches then never parse stored JSON.

The expressions of the registered parameters are simple element paths (``Claim.identifier``);
values are mapped by their FHIR data type (R4 search.html#token for Identifier, Coding,
CodeableConcept, code, boolean and id).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from capability.search_parameters import parameters_for

__all__ = ["IndexEntry", "TokenEntry", "extract_index"]


@dataclass(frozen=True, slots=True)
class TokenEntry:
    """A token value (R4 search.html#token): ``system`` may be None, ``code`` may be None."""

    param: str
    system: str | None
    code: str | None


IndexEntry = TokenEntry


def _walk(node: Any, path: list[str]) -> Iterator[Any]:
    """Values at ``path`` below ``node``, flattening arrays (FHIRPath member navigation)."""
    if not path:
        if isinstance(node, list):
            yield from node
        else:
            yield node
        return
    if isinstance(node, list):
        for item in node:
            yield from _walk(item, path)
        return
    if isinstance(node, dict):
        child = node.get(path[0])
        if child is not None:
            yield from _walk(child, path[1:])


def _tokens(param: str, value: Any) -> Iterator[TokenEntry]:
    if isinstance(value, dict):
        if "value" in value or "system" in value:  # Identifier
            if isinstance(value.get("value"), str):
                yield TokenEntry(param, value.get("system"), value["value"])
        elif "coding" in value:  # CodeableConcept
            for coding in value.get("coding") or ():
                yield from _tokens(param, coding)
        elif "code" in value:  # Coding
            yield TokenEntry(param, value.get("system"), value.get("code"))
    elif isinstance(value, bool):
        yield TokenEntry(param, None, "true" if value else "false")
    elif isinstance(value, str):
        yield TokenEntry(param, None, value)


def extract_index(resource_type: str, resource: dict[str, Any]) -> list[IndexEntry]:
    """Index entries of every registered parameter with an expression, de-duplicated."""
    entries: dict[IndexEntry, None] = {}
    for param in parameters_for(resource_type).values():
        if param.expression is None:
            continue
        for alternative in param.expression.split("|"):
            steps = alternative.strip().split(".")
            if steps[0] != resource_type:
                continue
            for value in _walk(resource, steps[1:]):
                if param.type == "token":
                    for entry in _tokens(param.code, value):
                        entries[entry] = None
    return list(entries)
