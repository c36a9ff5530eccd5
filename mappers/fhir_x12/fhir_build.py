"""The FHIR datatypes the X12 -> FHIR mappings write (R4 datatypes.html): Coding,
CodeableConcept, Money (USD, as X12 amounts are), and displays from the code tables."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from mappers import codes

__all__ = ["coding", "concept", "display", "money"]


def coding(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    """A Coding; ``display`` only when there is one."""
    out: dict[str, Any] = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(system: str, code: str, display: str | None = None) -> dict[str, Any]:
    """A CodeableConcept with one Coding."""
    return {"coding": [coding(system, code, display)]}


def money(value: Decimal | str) -> dict[str, Any]:
    """A Money in US dollars; X12 R text becomes a Decimal with its digits kept."""
    return {"value": value if isinstance(value, Decimal) else Decimal(value), "currency": "USD"}


def display(table: str, code: str) -> str | None:
    """The description of ``code`` in code table ``table`` (``mappers.codes``), or None."""
    return codes.describe(table, code) if table in codes.TABLES else None
