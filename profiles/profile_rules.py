"""The shapes of profile rules kept as data (``profiles/carin_bb.py``): an element's
cardinality, binding, pattern and types; a slice of a repeating element; a profile with its
parent, rows and invariants (FHIR R4 profiling.html, elementdefinition.html)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Element", "Profile", "Slice"]


@dataclass(frozen=True, slots=True)
class Element:
    """What the profile demands of one element path."""

    path: str
    min: int = 0
    max: int | None = None  # None: unbounded
    binding: str = ""  # a required value set (key of VALUE_SETS)
    pattern: Any = None  # ((system, code), ...) for codings, or a primitive value
    types: tuple[str, ...] = ()  # the allowed types of a choice element


@dataclass(frozen=True, slots=True)
class Slice:
    """A named slice of a repeating element and the rules its members follow."""

    path: str
    name: str
    min: int
    max: int | None
    on: str  # the discriminator path inside a member
    pattern: tuple[tuple[str, str], ...] | None = None
    member_of: str = ""  # a value set deciding membership when there is no pattern
    elements: tuple[Element, ...] = ()


@dataclass(frozen=True, slots=True)
class Profile:
    """One StructureDefinition: its canonical URL and version and its rows."""

    name: str
    url: str
    version: str
    parent: Profile | None
    elements: tuple[Element, ...]
    slices: tuple[Slice, ...]
    invariants: tuple[tuple[str, str], ...]  # (key, what it demands) as the guide words it
