"""The typed loop tree of a transaction set: loops (2000B, 2300, 2400...) holding segments whose
elements are named by their guide references (CLM01, SV101-1...)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mappers.x12.delimiters import Delimiters
from mappers.x12.schema import CompositeDef, LoopDef, SegmentDef

__all__ = ["Loop", "Segment", "TransactionSet"]


class Segment:
    """A data segment: ``elements[0]`` is the tag, ``elements[n]`` the n-th element as text.

    A segment read from a file keeps its text and splits it into elements on first use.
    """

    __slots__ = ("_elements", "_raw", "_sep", "definition", "tag")

    def __init__(
        self,
        elements: list[str] | None = None,
        definition: SegmentDef | None = None,
        raw: str = "",
        sep: str = "*",
        tag: str | None = None,
    ) -> None:
        self._elements = elements
        self._raw = raw
        self._sep = sep
        self.definition = definition
        self.tag: str = tag if tag is not None else self.elements[0]

    @property
    def elements(self) -> list[str]:
        found = self._elements
        if found is None:
            found = self._elements = self._raw.split(self._sep)
        return found

    @elements.setter
    def elements(self, value: list[str]) -> None:
        self._elements = value
        self.tag = value[0]

    def get(self, position: int, component: int = 0, *, component_separator: str = ":") -> str:
        """Element ``position`` (1-based), or one component of it; "" when absent."""
        if position >= len(self.elements):
            return ""
        value = self.elements[position]
        if component:
            parts = value.split(component_separator)
            return parts[component - 1] if component <= len(parts) else ""
        return value

    def __repr__(self) -> str:
        return "Segment(" + "*".join(self.elements) + ")"

    def as_dict(self, d: Delimiters) -> dict[str, Any]:
        out: dict[str, Any] = {"segment": self.tag}
        defn = self.definition
        if defn is not None:
            out["name"] = defn.name
        named: dict[str, Any] = {}
        for i, value in enumerate(self.elements[1:], 1):
            if value == "":
                continue
            item = defn.elements[i - 1] if defn is not None and i <= len(defn.elements) else None
            ref = item.ref if item is not None else f"{self.tag}{i:02d}"
            if isinstance(item, CompositeDef):
                parts = value.split(d.component)
                named[ref] = {
                    (item.components[j].ref if j < len(item.components) else f"{ref}-{j + 1}"): p
                    for j, p in enumerate(parts)
                    if p != ""
                }
            else:
                named[ref] = value
        out["elements"] = named
        return out


class Loop:
    """One instance of a loop: its segments and child loops in document order."""

    __slots__ = ("definition", "children")

    def __init__(self, definition: LoopDef, children: list[Segment | Loop] | None = None) -> None:
        self.definition = definition
        self.children: list[Segment | Loop] = children if children is not None else []

    def __repr__(self) -> str:
        return f"Loop({self.id}, {len(self.children)} children)"

    @property
    def id(self) -> str:
        return self.definition.id

    def segments(self, tag: str | None = None) -> Iterator[Segment]:
        for c in self.children:
            if isinstance(c, Segment) and (tag is None or c.tag == tag):
                yield c

    def loops(self, loop_id: str | None = None) -> Iterator[Loop]:
        """Child loops (looking through the HEADER/DETAIL wrappers)."""
        for c in self.children:
            if isinstance(c, Loop):
                if c.definition.wrapper and loop_id is not None and c.id != loop_id:
                    yield from c.loops(loop_id)
                elif loop_id is None or c.id == loop_id:
                    yield c

    def find(self, loop_id: str) -> Iterator[Loop]:
        """Loops with this id at any depth below (not looking inside a match): all the 2100
        claim loops of an 835, the 2200D claim loops of a 277CA."""
        for c in self.children:
            if isinstance(c, Loop):
                if c.id == loop_id:
                    yield c
                else:
                    yield from c.find(loop_id)

    def walk(self) -> Iterator[Segment]:
        """Every segment below this loop in document order."""
        for c in self.children:
            if isinstance(c, Segment):
                yield c
            else:
                yield from c.walk()

    def as_dict(self, d: Delimiters) -> dict[str, Any]:
        return {
            "loop": self.id,
            "name": self.definition.name,
            "children": [c.as_dict(d) for c in self.children],
        }


@dataclass(slots=True)
class TransactionSet:
    """One ST..SE with the envelope it came in."""

    root: Loop
    isa: list[str]
    gs: list[str]
    delimiters: Delimiters
    guide: str

    @property
    def st(self) -> Segment:
        return next(self.root.segments("ST"))

    def as_dict(self) -> dict[str, Any]:
        def at(fields: list[str], i: int) -> str:
            return fields[i].strip() if len(fields) > i else ""

        return {
            "interchange": {"sender": at(self.isa, 6), "receiver": at(self.isa, 8),
                            "control_number": at(self.isa, 13)},
            "group": {"functional_id": at(self.gs, 1), "control_number": at(self.gs, 6),
                      "version": at(self.gs, 8)},
            "guide": self.guide,
            "tree": self.root.as_dict(self.delimiters),
        }
