"""The values write-time index extraction hands to a storage adapter, one class per search
parameter type (R4 search.html#ptypes).

Ranges are half-open ``[low, high)``. Dates are microseconds since the Unix epoch (UTC); an open
end of a Period is :data:`DATE_MIN_US` / :data:`DATE_MAX_US`. Numbers and quantities carry the
range their precision implies (``100`` is ``[99.5, 100.5)``, R4 search.html#number).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "DATE_MAX_US",
    "DATE_MIN_US",
    "CompositeEntry",
    "DateEntry",
    "IndexEntry",
    "NumberEntry",
    "PositionEntry",
    "QuantityEntry",
    "ReferenceEntry",
    "StringEntry",
    "TokenEntry",
    "UriEntry",
]

#: Open ends of date ranges (years 0001 and 9999).
DATE_MIN_US = -62_135_596_800_000_000
DATE_MAX_US = 253_402_300_800_000_000


@dataclass(frozen=True, slots=True)
class TokenEntry:
    """A coded value: Coding, CodeableConcept, Identifier, ContactPoint, code, boolean, id, uri
    used as token.

    ``system`` / ``code`` may be None. ``text`` is the normalised display or text
    (CodeableConcept.text, Coding.display, Identifier.type.text) for the ``:text`` modifier.
    Identifiers with a type also yield an entry under ``<param>:of-type`` whose system and code
    are the type coding's and whose ``value`` is the identifier value.
    """

    param: str
    system: str | None
    code: str | None
    text: str | None = None
    value: str | None = None


@dataclass(frozen=True, slots=True)
class StringEntry:
    """A string: ``normalized`` is case- and accent-folded (for the default and ``:contains``
    matches), ``exact`` is the value as written (for ``:exact``)."""

    param: str
    normalized: str
    exact: str


@dataclass(frozen=True, slots=True)
class DateEntry:
    param: str
    low_us: int
    high_us: int


@dataclass(frozen=True, slots=True)
class ReferenceEntry:
    """A reference. Literal references yield ``target_type``/``target_id`` (relative, absolute or
    versioned: ``Patient/1``, ``http://x/fhir/Patient/1``, ``Patient/1/_history/2``) and ``url``
    (the reference as written, version removed). A logical reference (``Reference.identifier``)
    yields ``identifier_system``/``identifier_value`` for the ``:identifier`` modifier, with
    ``target_type`` from ``Reference.type`` when present. Canonicals yield ``url`` only."""

    param: str
    target_type: str | None
    target_id: str | None
    url: str | None
    identifier_system: str | None = None
    identifier_value: str | None = None


@dataclass(frozen=True, slots=True)
class NumberEntry:
    param: str
    low: float
    high: float


@dataclass(frozen=True, slots=True)
class QuantityEntry:
    """A Quantity (or Money: system ``urn:iso:std:iso:4217``, code the currency)."""

    param: str
    low: float
    high: float
    system: str | None
    code: str | None
    unit: str | None


@dataclass(frozen=True, slots=True)
class UriEntry:
    param: str
    value: str


@dataclass(frozen=True, slots=True)
class CompositeEntry:
    """A composite of two token components (``Group`` ``characteristic-value``:
    ``code$value``)."""

    param: str
    first_system: str | None
    first_code: str | None
    second_system: str | None
    second_code: str | None


@dataclass(frozen=True, slots=True)
class PositionEntry:
    """A WGS84 position (``Location.position``) for the special ``near`` parameter."""

    param: str
    latitude: float
    longitude: float


IndexEntry = (
    TokenEntry
    | StringEntry
    | DateEntry
    | ReferenceEntry
    | NumberEntry
    | QuantityEntry
    | UriEntry
    | CompositeEntry
    | PositionEntry
)
