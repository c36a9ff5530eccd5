"""One compiled yes/no test per segment definition for the rules a pattern cannot express.

The test is true when the segment may break a syntax note, a date range's order or an NPI check
digit (patterns check ZIP+4 and date formats); only then does the walker run the checks that
name the problem. Valid segments pay one call.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import Any

from mappers.x12.elements import implied, parse_syntax
from mappers.x12.rules import DATE_FORMAT_AT, check_dtp, npi_is_valid
from mappers.x12.schema import SegmentDef

__all__ = ["Screen", "segment_screen"]

Screen = Callable[[list[str]], bool]


def _dtp_bad(parts: list[str], at: int) -> bool:
    return check_dtp(parts, at) is not None


@lru_cache(maxsize=4096)
def segment_screen(seg: SegmentDef) -> Screen | None:
    """The compiled test of ``seg``, or None when nothing beyond its pattern applies.

    Terms are grouped by the first element that can make them fail, so a short segment (most
    CAS segments use 3 of their 19 elements) returns after a length test.
    """
    top = 0
    always: list[str] = []
    by_first: dict[int, list[str]] = {}
    namespace: dict[str, Any] = {
        "_dtp": _dtp_bad, "_npi": npi_is_valid,
    }

    def add(first: int, term: str) -> None:
        by_first.setdefault(first, []).append(term)

    for note in seg.syntax:
        kind, refs = parse_syntax(note)
        if implied(seg, kind, refs):
            continue
        top = max(top, *refs)
        v = [f"p[{i}]" for i in refs]
        if kind == "P":
            add(min(refs), f"(({' or '.join(v)}) and not ({' and '.join(v)}))")
        elif kind == "R":
            always.append(f"not ({' or '.join(v)})")
        elif kind == "E":
            add(sorted(refs)[1], f"({' + '.join(f'bool({x})' for x in v)} > 1)")
        elif kind == "C":
            add(refs[0], f"({v[0]} and not ({' and '.join(v[1:])}))")
        elif kind == "L":
            add(refs[0], f"({v[0]} and not ({' or '.join(v[1:])}))")
    if seg.tag in DATE_FORMAT_AT and len(seg.elements) > DATE_FORMAT_AT[seg.tag]:
        at = DATE_FORMAT_AT[seg.tag]
        qualifier = seg.elements[at - 1]
        codes = getattr(qualifier, "codes", None)
        if codes is None or "RD8" in codes:
            top = max(top, at + 1)
            # The pattern checks each format; a range's order is checked here.
            add(at, f"(p[{at}] == 'RD8' and _dtp(p, {at}))")
    if seg.tag == "NM1" and len(seg.elements) >= 9:
        qualifier = seg.elements[7]
        codes = getattr(qualifier, "codes", None)
        if qualifier.usage != "N" and (codes is None or "XX" in codes):
            top = max(top, 9)
            add(8, "(p[8] == 'XX' and not _npi(p[9]))")
    if not (always or by_first):
        return None
    size = top + 1
    lines = [
        "def screen(parts):",
        "    n = len(parts)",
        f"    p = parts if n >= {size} else parts + [''] * ({size} - n)",
    ]
    if always:
        lines.append(f"    if {' or '.join(always)}:")
        lines.append("        return True")
    for first in sorted(by_first):
        # Element ``first`` is parts[first]: absent when n <= first.
        lines.append(f"    if n <= {first}:")
        lines.append("        return False")
        lines.append(f"    if {' or '.join(by_first[first])}:")
        lines.append("        return True")
    lines.append("    return False")
    exec(compile("\n".join(lines) + "\n", f"<screen {seg.tag} {seg.loop.id}>", "exec"), namespace)
    screen: Screen = namespace["screen"]
    return screen
