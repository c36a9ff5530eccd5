"""Guide schemas: the loops, segments and elements of one TR3, loaded from ``guides/*.json``.

A guide (an ASC X12 Technical Report Type 3, e.g. 005010X222A1) fixes for its transaction set the
loop hierarchy, each segment's usage (R required, S situational, N not used) and maximum use,
each loop's repeat, and for each element its usage, data type (AN, ID, DT, TM, R, Nn), length
bounds and the code values it allows. The JSON form is produced by
``scripts/x12_guides_from_pyx12.py`` (for the guides pyx12 maps) or written from the TR3.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "FIRST_ELEMENT",
    "CompositeDef",
    "ElementDef",
    "Guide",
    "LoopDef",
    "SegmentDef",
    "code_set",
    "load_guide",
]

_UNBOUNDED = 1 << 30

FIRST_ELEMENT = (1, 0)
"""The usual qualifier position; ``Guide.key_positions`` holds this very object for it."""


@dataclass(slots=True, eq=False)
class ElementDef:
    """A simple data element at ``position`` (1-based) of a segment or composite."""

    ref: str
    name: str
    usage: str
    type: str
    de: str
    """The X12 data element number (IK402)."""
    min: int
    max: int
    codes: frozenset[str] | None
    external: str | None
    pattern: str | None
    repeat: int
    position: int


@dataclass(slots=True, eq=False)
class CompositeDef:
    """A composite data structure (e.g. SV101 C003) at ``position`` of a segment."""

    ref: str
    name: str
    usage: str
    de: str
    components: tuple[ElementDef, ...]
    repeat: int
    position: int
    type: str = "composite"


@dataclass(slots=True, eq=False)
class SegmentDef:
    """One segment position of a loop, e.g. 2010AA NM1*85."""

    tag: str
    name: str
    usage: str
    max_use: int
    syntax: tuple[str, ...]
    rules: tuple[str, ...]
    elements: tuple[ElementDef | CompositeDef, ...]
    loop: LoopDef
    index: int
    uid: int = 0
    key: tuple[int, int, frozenset[str], bool] | None = None
    pos: int = 0
    """Position number in the table; siblings sharing one may come in any order (X12.6)."""
    """(element position, component position or 0, values, required) that identify this
    definition; a situational qualifier left empty matches by tag alone."""

    @property
    def loop_id(self) -> str:
        return self.loop.id


@dataclass(slots=True, eq=False)
class LoopDef:
    id: str
    name: str
    usage: str
    repeat: int
    wrapper: bool
    parent: LoopDef | None
    index: int
    children: list[SegmentDef | LoopDef] = field(default_factory=list)
    uid: int = 0
    pos: int = 0

    @property
    def trigger(self) -> SegmentDef:
        """The segment that opens an instance of this loop (its first segment)."""
        first = self.children[0]
        return first if isinstance(first, SegmentDef) else first.trigger

    def entry_chain(self) -> tuple[LoopDef, ...]:
        """This loop plus the nested loops opened with it when its first child is a loop."""
        chain: list[LoopDef] = [self]
        while isinstance(chain[-1].children[0], LoopDef):
            child = chain[-1].children[0]
            assert isinstance(child, LoopDef)
            chain.append(child)
        return tuple(chain)


@dataclass(slots=True, eq=False)
class Guide:
    id: str
    transaction: str
    functional_group: str
    name: str
    select: dict[str, frozenset[str]]
    body: LoopDef
    segments: list[SegmentDef]
    loops: list[LoopDef]
    key_positions: dict[str, tuple[int, int]]
    """Per segment tag, where the qualifier that tells its definitions apart is read."""
    tags: frozenset[str]


def _repeat(value: int | None) -> int:
    return _UNBOUNDED if value is None else int(value)


def _element(raw: dict[str, Any], position: int, ref: str) -> ElementDef:
    codes = raw.get("codes")
    external = raw.get("external")
    if external and not codes:
        codes = None
    return ElementDef(
        ref=ref,
        name=raw.get("name") or "",
        usage=raw.get("usage") or "S",
        type=raw.get("type") or "AN",
        de=str(raw.get("de") or ""),
        min=int(raw.get("min", 1)),
        max=int(raw.get("max", 80)),
        codes=frozenset(codes) if codes else None,
        external=external,
        pattern=raw.get("pattern"),
        repeat=_repeat(raw["repeat"]) if "repeat" in raw else 1,
        position=position,
    )


def _item(raw: dict[str, Any], tag: str, position: int) -> ElementDef | CompositeDef:
    """Element references are derived from the position: NM109, SV101-1 (TR3 notation)."""
    ref = f"{tag}{position:02d}"
    if "components" in raw:
        return CompositeDef(
            ref=ref,
            name=raw.get("name") or "",
            usage=raw.get("usage") or "S",
            de=str(raw.get("de") or ""),
            components=tuple(
                _element(c, i, f"{ref}-{i}") for i, c in enumerate(raw["components"], 1)
            ),
            repeat=_repeat(raw["repeat"]) if "repeat" in raw else 1,
            position=position,
        )
    return _element(raw, position, ref)


def _key(
    tag: str, elements: tuple[ElementDef | CompositeDef, ...]
) -> tuple[int, int, frozenset[str], bool] | None:
    """The qualifier that identifies a segment definition among its same-tag siblings.

    As in the TR3 "industry usage" tables: the first element when it is an ID with fixed codes
    (NM101, REF01, DTP01...), the first component of a first composite (SVC01-1), and for HL the
    hierarchical level code HL03.
    """
    if not elements:
        return None
    if tag == "HL" and len(elements) >= 3:
        third = elements[2]
        if isinstance(third, ElementDef) and third.codes:
            return (3, 0, third.codes, third.usage == "R")
        return None
    first = elements[0]
    if isinstance(first, ElementDef):
        if first.type == "ID" and first.codes:
            return (1, 0, first.codes, first.usage == "R")
        return None
    head = first.components[0]
    if head.codes:  # ID qualifiers (SVC01-1) and the fixed context names of CTX01-1
        return (1, 1, head.codes, first.usage == "R" and head.usage == "R")
    return None


class _Builder:
    def __init__(self) -> None:
        self.segments: list[SegmentDef] = []
        self.loops: list[LoopDef] = []

    def loop(self, raw: dict[str, Any], parent: LoopDef | None, index: int) -> LoopDef:
        node = LoopDef(
            id=raw["loop"],
            name=raw.get("name") or "",
            usage=raw.get("usage") or "S",
            repeat=_repeat(raw.get("repeat")),
            wrapper=bool(raw.get("wrapper")),
            parent=parent,
            index=index,
            uid=len(self.loops),
            pos=int(raw.get("pos") or 0),
        )
        self.loops.append(node)
        kept = [c for c in raw["children"] if "loop" not in c or c["children"]]
        for i, child in enumerate(kept):  # an empty table area (FOOTER) holds nothing to match
            if "loop" in child:
                node.children.append(self.loop(child, node, i))
            else:
                node.children.append(self.segment(child, node, i))
        return node

    def segment(self, raw: dict[str, Any], loop: LoopDef, index: int) -> SegmentDef:
        tag = raw["segment"]
        elements = tuple(_item(e, tag, i) for i, e in enumerate(raw["elements"], 1))
        seg = SegmentDef(
            tag=tag,
            name=raw.get("name") or "",
            usage=raw.get("usage") or "S",
            max_use=_repeat(raw.get("max_use")),
            syntax=tuple(raw.get("syntax", ())),
            rules=tuple(raw.get("rules", ())),
            elements=elements,
            loop=loop,
            index=index,
            uid=len(self.segments),
            key=_key(tag, elements),
            pos=int(raw.get("pos") or 0),
        )
        self.segments.append(seg)
        return seg


def parse_guide(raw: dict[str, Any]) -> Guide:
    builder = _Builder()
    body = builder.loop(raw["body"], None, 0)
    positions: dict[str, tuple[int, int]] = {}
    for seg in builder.segments:
        if seg.key is not None:
            at = (seg.key[0], seg.key[1])
            positions.setdefault(seg.tag, FIRST_ELEMENT if at == FIRST_ELEMENT else at)
    return Guide(
        id=raw["guide"],
        transaction=raw["transaction"],
        functional_group=raw["functional_group"],
        name=raw.get("name") or "",
        select={k: frozenset(v) for k, v in raw.get("select", {}).items()},
        body=body,
        segments=builder.segments,
        loops=builder.loops,
        key_positions=positions,
        tags=frozenset(s.tag for s in builder.segments),
    )


@cache
def load_guide(name: str) -> Guide:
    """Load ``guides/<name>.json`` once per process."""
    text = resources.files("mappers.x12.guides").joinpath(f"{name}.json").read_text("utf-8")
    return parse_guide(json.loads(text))


@cache
def _code_sets() -> dict[str, frozenset[str]]:
    text = resources.files("mappers.x12.guides").joinpath("code_sets.json").read_text("utf-8")
    return {k: frozenset(v) for k, v in json.loads(text).items()}


def code_set(name: str) -> frozenset[str] | None:
    """An external code list by the name the guides use (``states``, ``country``...)."""
    return _code_sets().get(name)
