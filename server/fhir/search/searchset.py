"""The searchset Bundle (R4 bundle.html, search.html#return): matches, included resources, an
outcome entry for dropped parameters, and `self`/`next`/`previous` links.

Stored bytes go into the Bundle as they are (``orjson.Fragment``); only `_summary`/`_elements`
subsets are re-serialised.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from typing import Any
from urllib.parse import urlencode

import orjson

from server.fhir import json_codec
from server.fhir.search.parser import ParsedSearch
from server.fhir.search.shaping import shape
from server.storage.port import ResourceVersion, SearchPage, instant_from_us

__all__ = ["link_url", "page_links", "render_searchset"]


def link_url(fhir_base: str, path: str, params: Sequence[tuple[str, str]]) -> str:
    url = f"{fhir_base}/{path}" if path else fhir_base
    return f"{url}?{urlencode(params)}" if params else url


def page_links(
    fhir_base: str,
    path: str,
    applied: Sequence[tuple[str, str]],
    cursor: str | None,
    next_cursor: str | None,
    previous_cursor: str | None = None,
) -> list[dict[str, str]]:
    """`self`, `next` and `previous` links; each repeats the applied parameters."""

    def url(at: str | None) -> str:
        return link_url(fhir_base, path, [*applied, *([("_cursor", at)] if at else [])])

    links = [{"relation": "self", "url": url(cursor)}]
    if next_cursor:
        links.append({"relation": "next", "url": url(next_cursor)})
    if previous_cursor:
        links.append({"relation": "previous", "url": url(previous_cursor)})
    return links


def _entry(fhir_base: str, v: ResourceVersion, mode: str, parsed: ParsedSearch) -> dict[str, Any]:
    assert v.content is not None
    content = shape(v.content, parsed.summary, parsed.elements) if mode == "match" else v.content
    return {
        "fullUrl": f"{fhir_base}/{v.resource_type}/{v.id}",
        "resource": orjson.Fragment(content),
        "search": {"mode": mode},
    }


def _outcome(ignored: Sequence[tuple[str, str]]) -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "warning",
                "code": "not-supported",
                "details": {"text": reason},
                "expression": [name],
            }
            for name, reason in ignored
        ],
    }


def render_searchset(fhir_base: str, page: SearchPage, path: str, parsed: ParsedSearch) -> bytes:
    """The Bundle for one page of a parsed search at ``path`` (``Claim`` or ``""``)."""
    links = page_links(
        fhir_base, path, parsed.applied, parsed.query.after, page.next_cursor, page.previous_cursor
    )
    entries = [_entry(fhir_base, v, "match", parsed) for v in page.matches]
    entries += [_entry(fhir_base, v, "include", parsed) for v in page.included]
    if parsed.ignored:
        entries.append({"resource": _outcome(parsed.ignored), "search": {"mode": "outcome"}})
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": instant_from_us(time.time_ns() // 1000)},
        "type": "searchset",
    }
    if page.total is not None:
        bundle["total"] = page.total
    bundle["link"] = links
    if entries:
        bundle["entry"] = entries
    return json_codec.dumps(bundle)
