"""One compiled regular expression per segment definition: the fast path of validation.

A data segment that matches its definition's pattern has the right number of elements and
components, every element has the right data type (X12.5 "Data element types": AN, ID, DT, TM,
R, Nn), length, and code value where the guide fixes the codes, and no trailing delimiters.
Only segments that fail the pattern go through the element-by-element check that names the
error (``elements.py``); valid files never pay for it.
"""

from __future__ import annotations

import re
from dataclasses import replace
from functools import lru_cache

from mappers.x12.dates import DATE6, DATE8, TIME
from mappers.x12.delimiters import Delimiters
from mappers.x12.elements import implied, parse_syntax, requalified
from mappers.x12.rules import DATE_FORMAT_AT
from mappers.x12.schema import CompositeDef, ElementDef, SegmentDef, code_set

__all__ = ["element_value", "segment_pattern", "segment_source", "syntax_guards"]

def _optional(pattern: str) -> str:
    """``pattern`` or nothing, as an alternation: the engine runs an empty branch much faster
    than a ``{0,1}`` repeat of a group."""
    return f"(?:{pattern}|)"


def _trie(values: list[str]) -> str:
    """An alternation factored by leading character, so the engine tries one branch per
    character instead of every code (code lists run to hundreds of values)."""
    if len(values) == 1:
        return re.escape(values[0])
    ends = "" in values
    heads: dict[str, list[str]] = {}
    for v in values:
        if v:
            heads.setdefault(v[0], []).append(v[1:])
    branches = []
    singles = [h for h, rest in heads.items() if rest == [""]]
    if len(singles) > 1:
        branches.append("[" + "".join(re.escape(h) for h in sorted(singles)) + "]")
    else:
        singles = []
    for h in sorted(heads):
        if h in singles:
            continue
        rest = heads[h]
        branches.append(re.escape(h) + (_trie(rest) if rest != [""] else ""))
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return _optional(body) if ends else body


def _codes(values: frozenset[str]) -> str:
    # Longer codes first within each branch: "1" and "12" both allowed means "12" must be tried
    # before the element boundary decides; the trie keeps "1" as an optional end instead.
    return "(?:" + _trie(sorted(values)) + ")"


def element_value(e: ElementDef, free: str, boundary: str) -> str:
    """The pattern of one non-empty value of ``e``; ``free`` is one non-delimiter character."""
    if e.usage == "N":
        return "(?!)"
    if e.pattern:
        return f"(?:{e.pattern})"
    lo, hi = e.min, e.max
    kind = e.type
    if e.codes:  # the guide fixes the values, whatever the type (ST03 is AN)
        return _codes(e.codes)
    if e.external and (listed := code_set(e.external)) is not None:
        return _codes(listed)
    if kind == "ID":
        return _text(free, lo, hi, boundary)
    if kind == "DT":
        return DATE8 if hi >= 8 else DATE6
    if kind == "TM":
        return f"(?=\\d{{{lo},{hi}}}{boundary})" + TIME
    if kind == "R":
        # Digits count towards the length, the sign and the decimal point do not: without a
        # point the value is plain digits; with one, the lookahead bounds digits + point.
        return (
            f"-?(?:\\d{{{lo},{hi}}}|(?=[\\d.]{{{lo + 1},{hi + 1}}}{boundary})"
            f"(?:\\d+\\.\\d*|\\.\\d+))"
        )
    if kind.startswith("N"):
        return f"-?\\d{{{lo},{hi}}}"
    return _text(free, lo, hi, boundary)


def _text(free: str, lo: int, hi: int, boundary: str) -> str:
    """AN and uncoded ID values: no trailing spaces (X12.6: they are suppressed unless the
    minimum length needs them), hence never all spaces."""
    if lo <= 1:
        return f"{free}{{1,{hi}}}(?<! )"
    # Trailing spaces only where the minimum length needs them (rstrip shorter than lo).
    solid = free[:-1] + " ]"
    padded_beyond_minimum = f"(?!{free}{{{lo - 1},}}{solid} +{boundary})"
    return f"(?! +{boundary}){padded_beyond_minimum}{free}{{{lo},{hi}}}"


def _repeated(value: str, repeat: int, rep: str) -> str:
    if repeat <= 1:
        return value
    upper = "" if repeat >= 1 << 29 else str(repeat - 1)
    return f"{value}(?:{rep}{value}){{0,{upper}}}"


def _sequence(parts: list[tuple[str, bool]], sep: str) -> str:
    """``sep``-joined values where trailing optional ones may be left off entirely."""
    tail = ""
    required_after = False
    for value, required in reversed(parts):
        group = f"{sep}{value}{tail}"
        group = f"(?:{group})" if required or required_after else _optional(group)
        required_after = required_after or required
        tail = group
    return tail


def _composite(c: CompositeDef, free: str, boundary: str, comp: str) -> str:
    parts = []
    for e in c.components:
        value = element_value(e, free, boundary)
        if requalified(c, e):
            # C043-04 names another code source (RX: NCPDP reject/payment codes): then the
            # status code is not one of code source 508 (X12 C043 semantic note).
            plain = element_value(replace(e, external=None), free, boundary)
            value = f"(?:{value}|{plain}(?={comp}{free}*{comp}[A-Z0-9]+{boundary}))"
        parts.append((value if e.usage == "R" else _optional(value), e.usage == "R"))
    first_value, _ = parts[0]
    return first_value + _sequence(parts[1:], comp)


# Date value formats by the qualifier (1250) that names them.
_DATE_FORMATS = {
    "D8": DATE8,
    "RD8": f"{DATE8}-{DATE8}",
    "DT": DATE8 + TIME,
    "RDT": f"{DATE8}{TIME}-{DATE8}{TIME}",
    "TM": TIME,
}


def _dated_pair(seg: SegmentDef, sep: str) -> tuple[int, str, bool] | None:
    """DTP02/DTP03 and DMG01/DMG02: the value's pattern depends on the qualifier, so the two
    are matched as one alternation (position of the qualifier, pattern, required)."""
    at = DATE_FORMAT_AT.get(seg.tag)
    if at is None or len(seg.elements) <= at:
        return None
    qualifier, value = seg.elements[at - 1], seg.elements[at]
    if not isinstance(qualifier, ElementDef) or not isinstance(value, ElementDef):
        return None
    codes = qualifier.codes
    if not codes or not codes <= _DATE_FORMATS.keys() or value.pattern or value.usage == "N":
        return None
    pairs = "|".join(f"{re.escape(c)}{sep}(?:{_DATE_FORMATS[c]})" for c in sorted(codes))
    required = qualifier.usage == "R" or value.usage == "R"
    return at, (f"(?:{pairs})" if required else f"(?:{pairs}|{sep})"), required


@lru_cache(maxsize=4096)
def segment_pattern(seg: SegmentDef, d: Delimiters) -> re.Pattern[str]:
    """The full-match pattern of ``seg`` under the interchange's delimiters."""
    return re.compile(segment_source(seg, d))


def segment_source(seg: SegmentDef, d: Delimiters) -> str:
    """The pattern source of one segment (no terminator): used alone on a segment and, followed
    by a line break, inside the pattern of a whole transaction set (``setmatch.py``)."""
    delims = re.escape(d.element + d.component + d.repetition + d.segment)
    free = f"[^{delims}\\x00-\\x1f\\ufffd]"
    boundary = f"(?:[{delims}\\n]|\\Z)"
    sep, comp, rep = (re.escape(x) for x in (d.element, d.component, d.repetition))
    parts: list[tuple[str, bool]] = []
    dated = _dated_pair(seg, sep)
    for item in seg.elements:
        if dated is not None and item.position == dated[0] + 1:
            continue  # matched together with its format qualifier
        if dated is not None and item.position == dated[0]:
            parts.append((dated[1], dated[2]))
            continue
        if isinstance(item, CompositeDef):
            value = _composite(item, free, boundary, comp) if item.usage != "N" else "(?!)"
        elif "zip9" in seg.rules and seg.tag == "N4" and item.position == 3:
            value = _zip9(item, free, sep)
        else:
            value = element_value(item, free, boundary)
        value = _repeated(value, item.repeat, rep)
        required = item.usage == "R"
        parts.append((value if required else _optional(value), required))
    body = re.escape(seg.tag) + _sequence(parts, sep)
    return body + f"(?<![{delims}])"


def _zip9(e: ElementDef, free: str, sep: str) -> str:
    """N403 where the guide wants ZIP+4: nine digits, unless N404 names a country other than
    the US (TR3 837 2010AA / 2310C / 2310E N403 notes)."""
    other_country = f"(?={sep}(?!US(?:{sep}|\\n|\\Z))[A-Z])"
    return f"(?:\\d{{9}}|{free}{{{e.min},{e.max}}}{other_country})"


def syntax_guards(seg: SegmentDef, sep: str) -> str:
    """X12 syntax notes the usages do not settle, as look-aheads at the segment's start
    (the whole-set fast path searches for segments that break them, ``setmatch.py``).

    P paired (all or none), R required (at least one), E exclusion (at most one), C conditional
    (if the first, all the others), L list conditional (if the first, at least one other).
    """
    guards = []
    for note in seg.syntax:
        kind, refs = parse_syntax(note)
        if implied(seg, kind, refs):
            continue
        present = {k: _present(k, sep) for k in refs}
        p = {k: f"(?={v})" for k, v in present.items()}
        a = {k: f"(?!{v})" for k, v in present.items()}
        if kind == "P":
            guards += [f"(?!{p[i]}{a[j]})" for i in refs for j in refs if i != j]
        elif kind == "R":
            guards.append("(?!" + "".join(a[k] for k in refs) + ")")
        elif kind == "E":
            guards += [f"(?!{p[i]}{p[j]})" for i in refs for j in refs if i < j]
        elif kind == "C":
            guards += [f"(?!{p[refs[0]]}{a[k]})" for k in refs[1:]]
        elif kind == "L":
            guards.append(f"(?!{p[refs[0]]}" + "".join(a[k] for k in refs[1:]) + ")")
    return "".join(guards)


def _present(position: int, sep: str) -> str:
    """Element ``position`` of the segment starting here holds a value."""
    other = f"[^{sep}\\n]"
    return f"{other}*(?:{sep}{other}*){{{position - 1}}}{sep}{other}"
