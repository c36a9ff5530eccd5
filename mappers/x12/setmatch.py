"""The fast path for a whole transaction set: the guide's loop grammar as one compiled pattern.

A valid set is accepted without walking it segment by segment: its text (segments joined by
line breaks) must fully match the guide compiled as a regular expression (each segment's
pattern, segment repeats and loop repeats as bounded possessive repetitions, in TR3 order), no
segment may break a syntax note, its HL numbering and parent links must hold, its SE must count
it, and every NPI and date range must check out. Anything else - an error, a warning - sends
the set to the walker (``walker.py``), which names every finding. The two must agree: a set
the fast path accepts is one the walker accepts with no finding (tested differentially).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from mappers.x12.delimiters import Delimiters
from mappers.x12.elements import implied, parse_syntax
from mappers.x12.patterns import segment_source
from mappers.x12.rules import npi_is_valid
from mappers.x12.schema import Guide, LoopDef, SegmentDef

__all__ = ["SetMatcher", "FAST_MIN_SEGMENTS", "set_matcher"]

FAST_MIN_SEGMENTS = 200
"""Smaller sets are walked directly: compiling a guide's grammar costs up to ~0.5 s once."""


def _repeat(lo: int, hi: int) -> str:
    return f"{{{lo},}}+" if hi >= 1 << 29 else f"{{{lo},{hi}}}+"


def _loop(loop: LoopDef, d: Delimiters) -> str:
    parts = []
    for index, child in enumerate(loop.children):
        if child.usage == "N" and index:
            continue  # present means an error: the walker reports it
        # A loop is entered by its first segment, whatever that segment's usage says.
        lo = 1 if child.usage == "R" or (index == 0 and loop.parent is not None) else 0
        if isinstance(child, SegmentDef):
            parts.append(f"(?:{segment_source(child, d)}\\n){_repeat(lo, child.max_use)}")
        else:
            parts.append(f"(?:{_loop(child, d)}){_repeat(lo, child.repeat)}")
    return "".join(parts)


def _present(position: int, sep: str) -> str:
    """Element ``position`` holds a value, looking from the start of element 1 (possessive: a
    miss costs one pass over the elements)."""
    other = f"[^{sep}\\n]"
    return f"(?=(?:{other}*+{sep}){{{position - 1}}}+{other})"


def _absent(position: int, sep: str) -> str:
    return "(?!" + _present(position, sep)[3:]


def _violations(guide: Guide, sep: str) -> str | None:
    """A search pattern finding any segment that breaks a syntax note some definition of its
    tag does not settle by usage (the union over definitions: stricter, never laxer).

    Each branch starts with its tag as a literal, which the engine rejects at the first
    character; tests that need an element present sit behind one look-ahead for the lowest
    such element, so the common short segment (a CAS with one adjustment) is passed at once.
    """
    notes: dict[str, set[str]] = {}
    for seg in guide.segments:
        for note in seg.syntax:
            kind, refs = parse_syntax(note)
            if not implied(seg, kind, refs):
                notes.setdefault(seg.tag, set()).add(note)
    branches = []
    for tag, found in sorted(notes.items()):
        absent_only: list[str] = []
        with_present: list[tuple[int, str]] = []
        for note in sorted(found):
            kind, refs = parse_syntax(note)
            p = {k: _present(k, sep) for k in refs}
            a = {k: _absent(k, sep) for k in refs}
            if kind == "P":
                with_present += [(i, p[i] + a[j]) for i in refs for j in refs if i != j]
            elif kind == "R":
                absent_only.append("".join(a[k] for k in refs))
            elif kind == "E":
                with_present += [(i, p[i] + p[j]) for i in refs for j in refs if i < j]
            elif kind == "C":
                with_present += [(refs[0], p[refs[0]] + a[k]) for k in refs[1:]]
            elif kind == "L":
                with_present.append((refs[0], p[refs[0]] + "".join(a[k] for k in refs[1:])))
        tests = list(absent_only)
        if with_present:
            # Every such test needs some element at ``lowest`` or beyond: a segment with fewer
            # elements is passed over after one look-ahead.
            lowest = min(position for position, _ in with_present)
            reaches = f"(?=(?:[^{sep}\\n]*+{sep}){{{lowest - 1}}}+)"
            tests.append(reaches + "(?:" + "|".join(t for _, t in with_present) + ")")
        # "TAG*" then the tests; a segment that is the bare tag has no element present.
        bare = f"|{re.escape(tag)}(?=\\n)" if absent_only else ""
        branches.append(f"{re.escape(tag)}{sep}(?:" + "|".join(tests) + ")" + bare)
    if not branches:
        return None
    return "\\n(?:" + "|".join(branches) + ")"


def _hl_parents(guide: Guide) -> dict[str, frozenset[str]]:
    """For each HL03 level code, the level codes of the HL loops that may enclose it ("" for
    none)."""
    out: dict[str, set[str]] = {}

    def walk(loop: LoopDef, enclosing: frozenset[str]) -> None:
        first = loop.children[0] if loop.children else None
        here = enclosing
        if isinstance(first, SegmentDef) and first.tag == "HL" and first.key is not None:
            for code in first.key[2]:
                out.setdefault(code, set()).update(enclosing)
            here = first.key[2]
        for child in loop.children:
            if isinstance(child, LoopDef):
                walk(child, here)

    walk(guide.body, frozenset({""}))
    return {k: frozenset(v) for k, v in out.items()}


@dataclass(frozen=True)
class SetMatcher:
    grammar: re.Pattern[str]
    violations: re.Pattern[str] | None
    hl_parents: dict[str, frozenset[str]]
    hl: re.Pattern[str]
    npi: re.Pattern[str]
    date_range: re.Pattern[str]

    def accepts(self, text: str, st02: str, sep: str) -> bool:
        """Whether the set ``text`` (a line break, then its segments each followed by a line
        break) is valid with no finding at all. Every search below starts with a line break,
        so the engine skips from segment to segment."""
        if self.grammar.fullmatch(text, 1) is None:
            return False
        if self.violations is not None and self.violations.search(text) is not None:
            return False
        at = text.rfind("\nSE" + sep)
        se = text[at + 1 : -1].split(sep)
        if len(se) < 3 or not se[1].isdigit() or int(se[1]) != text.count("\n") - 1 \
                or se[2] != st02:
            return False
        if not self._hierarchy_holds(text):
            return False
        if not all(npi_is_valid(n) for n in set(self.npi.findall(text))):
            return False
        return all(start <= end for start, end in self.date_range.findall(text))

    def _hierarchy_holds(self, text: str) -> bool:
        """HL01 counts from 1, HL02 names the enclosing HL, HL04 says whether a child follows
        (the walker's rules, over the HL segments only)."""
        stack: list[tuple[str, str]] = []
        previous: tuple[str, str] | None = None
        count = 0
        for hl01, hl02, hl03, hl04 in self.hl.findall(text):
            count += 1
            if hl01 != str(count):
                return False
            parents = self.hl_parents.get(hl03)
            if parents is None:
                return False
            while stack and stack[-1][1] not in parents:
                stack.pop()
            if not stack and "" not in parents:
                return False
            parent = stack[-1][0] if stack else ""
            if hl02 != parent:
                return False
            if previous is not None and previous[1] in ("0", "1") \
                    and (previous[1] == "1") != (previous[0] == parent):
                return False
            stack.append((hl01, hl03))
            previous = (hl01, hl04)
        return previous is None or previous[1] != "1"


@lru_cache(maxsize=32)
def set_matcher(guide: Guide, d: Delimiters) -> SetMatcher | None:
    """The compiled fast path of ``guide`` under ``d``; None when a delimiter is a line break."""
    if "\n" in (d.element, d.component, d.repetition):
        return None
    sep = re.escape(d.element)
    other = f"[^{sep}\\n]"
    violations = _violations(guide, sep)
    return SetMatcher(
        grammar=re.compile(_loop(guide.body, d)),
        violations=re.compile(violations) if violations else None,
        hl_parents=_hl_parents(guide),
        hl=re.compile(
            f"\\nHL{sep}({other}*){sep}({other}*){sep}({other}*)(?:{sep}({other}*))?"
        ),
        npi=re.compile(f"\\nNM1(?:{sep}{other}*){{7}}{sep}XX{sep}({other}*)"),
        date_range=re.compile(
            f"\\n(?:DTP{sep}{other}*|DMG){sep}RD8{sep}(\\d{{8}})-(\\d{{8}})"
        ),
    )
