"""The CHC JSON objects every Medical Network API shares, read from the X12 segments our FHIR
mappers build (CLEARINGHOUSES.md section 3: each CHC field names the loop/segment/element it
stands for), and the small readers the response mappers share.

Requests are built from the segments of the X12 transaction the same FHIR would have become
(``mappers/fhir_x12``): the FHIR reading, its gaps and its element rules live in one place, and
a claim sent as JSON says exactly what the same claim sent as an 837 says. Segments are element
lists (``["NM1", "85", "2", "Riverside", ...]``) with ``:`` between composite components, as
the builders write them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import Any

from mappers.x12.dates import iso_date
from mappers.x12.delimiters import DEFAULT

__all__ = [
    "CHC_ERROR_SYSTEM",
    "CORRELATION_SYSTEM",
    "JsonObject",
    "address",
    "components",
    "element",
    "errors_of",
    "fhir_date",
    "party_name",
    "put",
]

JsonObject = dict[str, Any]
Segment = Sequence[str]

#: Identifier system of a CHC claim submission's ``claimReference.correlationId``.
CORRELATION_SYSTEM = "urn:fhir-facade:chc:correlation-id"
#: Code system of CHC error and edit codes (``errors[].code``, ``editResponses[].editName``,
#: ``errors[].field`` when it is the only code given).
CHC_ERROR_SYSTEM = "urn:fhir-facade:chc:error"


def element(segment: Segment, position: int) -> str:
    """Element ``position`` (1-based) of a segment, "" when absent."""
    return segment[position] if 0 < position < len(segment) else ""


def components(value: str) -> list[str]:
    """The components of a composite element (``HC:99214:25``)."""
    return value.split(DEFAULT.component) if value else []


def put(target: JsonObject, key: str, value: Any) -> None:
    """Set ``key`` only when ``value`` says something (no empty strings, lists or objects)."""
    if value not in (None, "", [], {}):
        target[key] = value


def party_name(nm1: Segment) -> JsonObject:
    """NM103-NM107 as CHC names them: ``organizationName`` for a non-person (NM102 2), else
    ``lastName``, ``firstName``, ``middleName``, ``suffix``."""
    out: JsonObject = {}
    if element(nm1, 2) == "2":
        put(out, "organizationName", element(nm1, 3))
        return out
    put(out, "lastName", element(nm1, 3))
    put(out, "firstName", element(nm1, 4))
    put(out, "middleName", element(nm1, 5))
    put(out, "suffix", element(nm1, 7))
    return out


def address(n3: Segment | None, n4: Segment | None) -> JsonObject:
    """N3/N4 as a CHC ``address``: ``address1``, ``address2``, ``city``, ``state``,
    ``postalCode`` (N403, ZIP+4 without its dash) and ``countryCode`` (N404)."""
    out: JsonObject = {}
    if n3 is not None:
        put(out, "address1", element(n3, 1))
        put(out, "address2", element(n3, 2))
    if n4 is not None:
        put(out, "city", element(n4, 1))
        put(out, "state", element(n4, 2))
        put(out, "postalCode", element(n4, 3))
        put(out, "countryCode", element(n4, 4))
    return out


def fhir_date(value: Any) -> str:
    """A CHC date (``YYYYMMDD``, or already ``YYYY-MM-DD``) as a FHIR date; "" otherwise."""
    text = str(value or "").strip()
    if len(text) == 8 and text.isdigit():
        try:
            date(int(text[:4]), int(text[4:6]), int(text[6:]))
        except ValueError:
            return ""
        return iso_date(text)
    if len(text) >= 10 and text[4] == "-" and text[7] == "-":
        return text[:10]
    return ""


def errors_of(body: Mapping[str, Any]) -> list[JsonObject]:
    """The vendor's error list (``errors[]``, CLEARINGHOUSES.md section 2), each with a
    ``code`` (``code``, else ``field``) and a ``description``; ``editResponses[]`` of a claim
    answer join them (``editName`` / ``errorDescription``)."""
    out: list[JsonObject] = []
    for entry in body.get("errors") or []:
        if isinstance(entry, Mapping):
            out.append({
                "code": str(entry.get("code") or entry.get("field") or "error"),
                "description": str(entry.get("description") or entry.get("message") or ""),
                "followupAction": str(entry.get("followupAction") or ""),
                "location": str(entry.get("location") or ""),
            })
    for entry in body.get("editResponses") or []:
        if isinstance(entry, Mapping):
            where = " ".join(str(entry.get(k) or "") for k in ("loop", "segment", "element"))
            out.append({
                "code": str(entry.get("editName") or entry.get("qualifierCode") or "edit"),
                "description": str(entry.get("errorDescription") or ""),
                "followupAction": "",
                "location": where.strip(),
            })
    if not out and body.get("message") and str(body.get("status", "")).upper() != "SUCCESS":
        out.append({"code": str(body.get("code") or "error"),
                    "description": str(body["message"]), "followupAction": "", "location": ""})
    return out
