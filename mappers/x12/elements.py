"""Element-by-element checks that name each error (999 IK4), and the X12 syntax notes.

Runs only for segments that fail their fast pattern (``patterns.py``) or carry rules the pattern
cannot express: syntax notes (X12.6 "Syntax notes": P paired, R required, E exclusion,
C conditional, L list conditional) and external code lists.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import cache

from mappers.x12.dates import DATE6, DATE8, TIME
from mappers.x12.delimiters import Delimiters
from mappers.x12.errors import ElementError
from mappers.x12.schema import CompositeDef, ElementDef, SegmentDef, code_set

__all__ = [
    "check_elements", "check_syntax", "implied", "parse_syntax", "requalified", "usage_of"
]

_DATE8 = re.compile(DATE8)
_DATE6 = re.compile(DATE6)
_TIME = re.compile(TIME)
_NUMERIC = re.compile(r"-?\d+")
_DECIMAL = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")


def _digits(value: str) -> int:
    return sum(1 for c in value if c.isdigit())


def _check_value(e: ElementDef, value: str, d: Delimiters) -> str | None:
    """The IK403 code for one present value of ``e``, or None when it is valid."""
    if e.usage == "N":
        return "I10"
    if any(ord(c) < 0x20 or c in (d.component, d.repetition, "\ufffd") for c in value):
        return "6"
    kind = e.type
    if kind.startswith("N") and kind != "N":
        if not _NUMERIC.fullmatch(value):
            return "6"
        length = _digits(value)
    elif kind == "R":
        if not _DECIMAL.fullmatch(value):
            return "6"
        length = _digits(value)
    else:
        length = len(value)
    if kind == "DT":
        ok = _DATE8.fullmatch(value) if e.max >= 8 else _DATE6.fullmatch(value)
        return None if ok and len(value) in (e.min, e.max) else "8"
    if kind == "TM":
        return None if _TIME.fullmatch(value) and e.min <= len(value) <= e.max else "9"
    if length < e.min:
        return "4"
    if length > e.max:
        return "5"
    if e.external and e.codes is None:
        listed = code_set(e.external)
        if listed is not None and value not in listed:
            return "7"
    if e.codes is not None and value not in e.codes:
        return "7"
    if kind in ("AN", "ID") and value.endswith(" ") and (
        not value.strip(" ") or len(value.rstrip(" ")) >= e.min
    ):
        return "6"  # all spaces, or trailing spaces the minimum length does not need
    if e.pattern and not re.fullmatch(e.pattern, value):
        return "I12"
    return None


def _check_simple(
    e: ElementDef, raw: str, d: Delimiters, out: list[ElementError], composite_pos: int = 0
) -> None:
    position = composite_pos or e.position
    component = e.position if composite_pos else 0
    de = e.de
    values = raw.split(d.repetition) if e.repeat > 1 else [raw]
    if len(values) > e.repeat:
        out.append(ElementError(position, "12", e.ref, de, component=component, value=raw))
        values = values[: e.repeat]
    for n, value in enumerate(values, 1):
        if value == "":
            if e.usage == "R":
                out.append(ElementError(position, "1", e.ref, de, component=component,
                                        repetition=n if e.repeat > 1 else 0))
            continue
        code = _check_value(e, value, d)
        if code:
            out.append(ElementError(position, code, e.ref, de, component=component,
                                    repetition=n if e.repeat > 1 else 0, value=value[:99]))


def _check_composite(c: CompositeDef, raw: str, d: Delimiters, out: list[ElementError]) -> None:
    if c.usage == "N":
        out.append(ElementError(c.position, "I10", c.ref, c.de, value=raw[:99]))
        return
    for rep, value in enumerate(raw.split(d.repetition) if c.repeat > 1 else [raw], 1):
        if rep > c.repeat:
            out.append(ElementError(c.position, "12", c.ref, c.de, value=raw[:99]))
            break
        parts = value.split(d.component)
        if len(parts) > len(c.components) or (parts and parts[-1] == "" and len(parts) > 1):
            code = "13" if len(parts) > len(c.components) else "6"
            out.append(ElementError(c.position, code, c.ref, c.de, value=value[:99]))
            parts = parts[: len(c.components)]
        padded = parts + [""] * (len(c.components) - len(parts))
        for comp, part in zip(c.components, padded, strict=True):
            if requalified(c, comp) and padded[3]:
                comp = replace(comp, external=None)  # C043-04 names another code source
            _check_simple(comp, part, d, out, composite_pos=c.position)


def requalified(c: CompositeDef, e: ElementDef) -> bool:
    """C043-02 (health care claim status code) follows code source 508 unless C043-04 names
    another one (X12 C043 semantic note): its list then does not apply."""
    return c.de == "C043" and e.position == 2 and e.external == "claim_status" \
        and len(c.components) >= 4


def check_elements(seg: SegmentDef, parts: list[str], d: Delimiters) -> list[ElementError]:
    """Every element error of a data segment split on the element separator."""
    out: list[ElementError] = []
    values = parts[1:]
    if len(values) > len(seg.elements):
        out.append(ElementError(len(seg.elements) + 1, "3", value=values[len(seg.elements)][:99]))
        values = values[: len(seg.elements)]
    if values and values[-1] == "":
        out.append(ElementError(len(values), "6", message="Trailing element separator"))
    values = values + [""] * (len(seg.elements) - len(values))
    for item, value in zip(seg.elements, values, strict=True):
        if isinstance(item, CompositeDef):
            if value == "":
                if item.usage == "R":
                    out.append(ElementError(item.position, "1", item.ref, item.de))
                continue
            _check_composite(item, value, d, out)
        else:
            _check_simple(item, value, d, out)
    return out


@cache
def parse_syntax(note: str) -> tuple[str, tuple[int, ...]]:
    kind, digits = note[0], note[1:]
    return kind, tuple(int(digits[i : i + 2]) for i in range(0, len(digits), 2))


def check_syntax(seg: SegmentDef, parts: list[str]) -> list[ElementError]:
    """X12 syntax notes: P (all or none), R (at least one), E (not more than one),
    C (if the first then all others), L (if the first then at least one other)."""
    out: list[ElementError] = []

    def present(i: int) -> bool:
        return i < len(parts) and parts[i] != ""

    for note in seg.syntax:
        kind, refs = parse_syntax(note)
        have = [present(i) for i in refs]
        if kind == "P" and any(have) and not all(have):
            missing = refs[have.index(False)]
            out.append(ElementError(missing, "2", message=f"Paired elements ({note})"))
        elif kind == "R" and not any(have):
            out.append(ElementError(refs[0], "2", message=f"One of the elements required ({note})"))
        elif kind == "E" and sum(have) > 1:
            out.append(ElementError(refs[1], "10", message=f"Only one of the elements ({note})"))
        elif kind == "C" and have[0] and not all(have[1:]):
            missing = refs[1:][have[1:].index(False)]
            out.append(ElementError(missing, "2", message=f"Conditional element ({note})"))
        elif kind == "L" and have[0] and not any(have[1:]):
            out.append(ElementError(refs[1], "2", message=f"List conditional ({note})"))
    return out


def usage_of(seg: SegmentDef, position: int) -> str:
    return seg.elements[position - 1].usage if position <= len(seg.elements) else "N"


def implied(seg: SegmentDef, kind: str, refs: tuple[int, ...]) -> bool:
    """Whether the guide's usages already settle a syntax note: the pattern makes every R
    element present and every N element absent, so e.g. P0809 on an NM1 whose NM108 and NM109
    are both required can never fail."""
    use = [usage_of(seg, i) for i in refs]
    if kind == "P":
        return all(u == "R" for u in use) or all(u == "N" for u in use)
    if kind == "R":
        return "R" in use
    if kind == "E":
        return sum(u != "N" for u in use) <= 1
    if kind == "C":
        return use[0] == "N" or all(u == "R" for u in use[1:])
    if kind == "L":
        return use[0] == "N" or "R" in use[1:]
    return False
