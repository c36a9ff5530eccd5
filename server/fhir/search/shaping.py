"""`_summary` and `_elements`: subsets of stored resources (R4 search.html#summary,
search.html#elements).

Only requests that ask for a subset pay for parsing stored bytes; everything else is served as
stored. A subset is marked with the `SUBSETTED` tag (R4 search.html#summary).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from server.fhir import json_codec
from server.fhir.models import element_table, mandatory_elements, summary_elements

__all__ = ["SUBSETTED", "shape"]

SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
}
_ALWAYS = frozenset({"resourceType", "id", "meta"})


def _tagged(resource: dict[str, Any]) -> dict[str, Any]:
    meta = dict(resource.get("meta") or {})
    tags = [t for t in meta.get("tag", []) if t.get("code") != "SUBSETTED"]
    meta["tag"] = [*tags, SUBSETTED]
    return {**resource, "meta": meta}


def _keep(resource: dict[str, Any], names: frozenset[str]) -> dict[str, Any]:
    """Top-level elements in ``names`` (and their `_element` extension siblings); a choice
    element is named with or without its type (``deceased`` keeps ``deceasedDateTime``)."""
    try:
        table = element_table(resource["resourceType"])
    except KeyError:
        table = {}
    kept: dict[str, Any] = {}
    for key, value in resource.items():
        name = key.lstrip("_")
        info = table.get(name)
        if name in names or (info is not None and info.choice in names):
            kept[key] = value
    return kept


def shape(content: bytes, summary: str | None, elements: Sequence[str] | None) -> bytes:
    """The stored ``content`` reduced per `_summary` / `_elements`; unchanged when neither."""
    if summary in (None, "false", "count") and not elements:
        return content
    resource: dict[str, Any] = json_codec.loads(content)
    rtype = resource["resourceType"]
    if summary == "true":
        kept = _keep(resource, _ALWAYS | summary_elements(rtype))
    elif summary == "text":
        kept = _keep(resource, _ALWAYS | {"text"} | mandatory_elements(rtype))
    elif summary == "data":
        kept = {k: v for k, v in resource.items() if k not in ("text", "_text")}
    else:
        assert elements is not None
        names = frozenset(e.removeprefix(f"{rtype}.") for e in elements)
        kept = _keep(resource, _ALWAYS | mandatory_elements(rtype) | names)
    return json_codec.dumps(_tagged(kept))
