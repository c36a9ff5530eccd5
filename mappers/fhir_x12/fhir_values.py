"""Reading the FHIR values the X12 builders need, and writing them as X12 element text.

FHIR side: identifiers by system or type (R4 datatypes.html#Identifier; US NPI, TIN and SSN
systems), codes by system, names, addresses, phones, dates, money. X12 side: dates as CCYYMMDD
(X12.6 DT), amounts as R without superfluous zeros (X12.6 §3.3.3: "trailing zeros... should be
suppressed"), and free text with the delimiters removed, folded to the element's maximum length.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "NPI_SYSTEM",
    "SSN_SYSTEM",
    "TIN_SYSTEMS",
    "amount",
    "code",
    "codes",
    "decimal",
    "first_address",
    "human_name",
    "identifier",
    "identifier_of_type",
    "phone",
    "quantity",
    "text",
    "x12_amount",
    "x12_date",
]

NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
#: Employer identification numbers (the OID US Core and CARIN BB use) and the facade's own.
TIN_SYSTEMS = ("urn:oid:2.16.840.1.113883.4.4", "http://hl7.org/fhir/sid/us-tin",
               "urn:fhir-facade:tin")

_DELIMS = re.compile(r"[*~:^|>\r\n\t]+")
_SPACES = re.compile(r"\s{2,}")
_DATE = re.compile(r"(\d{4})-(\d{2})-(\d{2})(?:$|T)")


def text(value: Any, max_length: int | None = None) -> str:
    """Free text fit for an X12 AN element: delimiters and line breaks become spaces,
    surrounding space is dropped, and the value is cut at ``max_length``."""
    if value is None:
        return ""
    out = _SPACES.sub(" ", _DELIMS.sub(" ", str(value))).strip()
    if max_length is not None and len(out) > max_length:
        out = out[:max_length].rstrip()
    return out


def x12_date(value: str | None) -> str:
    """A FHIR date or dateTime as CCYYMMDD; "" when absent, only a year/month, or not a
    calendar date (R4 datatypes.html#date: YYYY-MM-DD)."""
    match = _DATE.match(value) if isinstance(value, str) else None
    if match is None:
        return ""
    try:
        date(int(match[1]), int(match[2]), int(match[3]))
    except ValueError:
        return ""
    return match[1] + match[2] + match[3]


def decimal(value: Any) -> Decimal | None:
    """A FHIR decimal (number or string as parsed) as Decimal, None when absent or unusable."""
    if value is None or isinstance(value, bool):
        return None
    try:
        out = value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None
    return out if out.is_finite() else None


def amount(money: Mapping[str, Any] | None) -> Decimal | None:
    """The value of a FHIR Money, None when absent."""
    return decimal(money.get("value")) if money else None


def quantity(value: Mapping[str, Any] | None) -> Decimal | None:
    return decimal(value.get("value")) if value else None


def x12_amount(value: Decimal) -> str:
    """An amount as X12 R: no exponent, no trailing zeros after the point, no lone point."""
    out = format(value, "f")
    if "." in out:
        out = out.rstrip("0").rstrip(".")
    return "0" if out in ("", "-0") else out


def identifier(resource: Mapping[str, Any] | None, *systems: str) -> str:
    """The value of the first identifier in one of ``systems`` (in the order given)."""
    if not resource:
        return ""
    idents = resource.get("identifier") or []
    for system in systems:
        for ident in idents:
            if ident.get("system") == system and ident.get("value"):
                return str(ident["value"])
    return ""


def identifier_of_type(resource: Mapping[str, Any] | None, *type_codes: str) -> str:
    """The value of the first identifier whose ``type`` has one of ``type_codes`` (v2-0203)."""
    if not resource:
        return ""
    for ident in resource.get("identifier") or []:
        for coding in (ident.get("type") or {}).get("coding") or []:
            if coding.get("code") in type_codes and ident.get("value"):
                return str(ident["value"])
    return ""


def codes(concept: Mapping[str, Any] | None, system: str | None = None) -> list[str]:
    """Every code of a CodeableConcept, or those in ``system``."""
    if not concept:
        return []
    return [c["code"] for c in concept.get("coding") or []
            if c.get("code") and (system is None or c.get("system") == system)]


def code(concept: Mapping[str, Any] | None, *systems: str) -> str:
    """The first code of a CodeableConcept in one of ``systems`` (any system when none given)."""
    if not concept:
        return ""
    codings = concept.get("coding") or []
    if not systems:
        return next((str(c["code"]) for c in codings if c.get("code")), "")
    for system in systems:
        for coding in codings:
            if coding.get("system") == system and coding.get("code"):
                return str(coding["code"])
    return ""


def human_name(resource: Mapping[str, Any] | None) -> dict[str, str]:
    """Family, given, middle, prefix and suffix of the official (else first) HumanName."""
    found = (resource or {}).get("name") or []
    names: list[Mapping[str, Any]] = [n for n in found if isinstance(n, dict)] \
        if isinstance(found, list) else []
    if not names:
        return {}
    chosen = next((n for n in names if n.get("use") == "official"), names[0])
    given = list(chosen.get("given") or [])
    return {
        "family": chosen.get("family") or "",
        "given": given[0] if given else "",
        "middle": " ".join(given[1:]),
        "prefix": " ".join(chosen.get("prefix") or []),
        "suffix": " ".join(chosen.get("suffix") or []),
        "text": chosen.get("text") or "",
    }


def first_address(resource: Mapping[str, Any] | None, *uses: str) -> Mapping[str, Any] | None:
    """The first address with one of ``uses`` (any when none given or none match)."""
    addresses = (resource or {}).get("address") or []
    if isinstance(addresses, dict):  # Location.address is a single Address
        single: Mapping[str, Any] = addresses
        return single
    for use in uses:
        for address in addresses:
            if address.get("use") == use:
                found: Mapping[str, Any] = address
                return found
    first: Mapping[str, Any] | None = addresses[0] if addresses else None
    return first


def phone(resource: Mapping[str, Any] | None) -> str:
    """The first phone number, digits only."""
    for point in (resource or {}).get("telecom") or []:
        if point.get("system") == "phone" and point.get("value"):
            return re.sub(r"\D", "", point["value"])
    return ""
