"""Turn segments and loop trees back into X12 text with correct counts and control numbers.

SE01 counts ST..SE (X12.6 SE segment), GE01 the sets of a group, IEA01 the groups of an
interchange; ISA13 = IEA02, GS06 = GE02, ST02 = SE02. Control numbers come from a counter the
caller supplies (durable in the server, so a number is never reused after a restart).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from itertools import count
from typing import Protocol

from mappers.x12.delimiters import DEFAULT, Delimiters
from mappers.x12.tree import Loop, Segment, TransactionSet

__all__ = [
    "ControlNumbers",
    "CountingControlNumbers",
    "Envelope",
    "Group",
    "SetSource",
    "X12WriteError",
    "format_segment",
    "terminator",
    "write_file",
    "write_groups",
    "write_interchange",
]


class X12WriteError(ValueError):
    """A value cannot be written: it holds a delimiter or does not fit the envelope."""


class ControlNumbers(Protocol):
    """Where ISA13, GS06 and ST02 come from."""

    def next(self, kind: str) -> int:
        """The next number for ``kind`` ("ISA", "GS" or "ST")."""
        ...


@dataclass
class CountingControlNumbers:
    """In-memory counters, each starting at ``start`` (tests and one-off files)."""

    start: int = 1
    _counters: dict[str, count[int]] = field(default_factory=dict)

    def next(self, kind: str) -> int:
        counter = self._counters.setdefault(kind, count(self.start))
        return next(counter)


@dataclass(frozen=True)
class Envelope:
    """Who an interchange is from and to, and how it is to be read."""

    sender_id: str
    receiver_id: str
    functional_id: str
    version: str
    sender_qualifier: str = "ZZ"
    receiver_qualifier: str = "ZZ"
    application_sender: str | None = None
    application_receiver: str | None = None
    usage: str = "T"
    """ISA15: T test, P production."""
    ack_requested: bool = False
    when: datetime | None = None


SetSource = TransactionSet | Loop | Sequence[Sequence[str]]
"""A transaction set to write: a parsed set, a loop tree, or its segments as element lists
(``["ST", "837", "", "005010X222A1"]``...; ST02, SE01 and SE02 are filled in when written)."""


@dataclass(frozen=True)
class Group:
    """One functional group of an interchange: GS01, GS08 and the sets it holds."""

    functional_id: str
    version: str
    sets: Sequence[SetSource]


def format_segment(elements: Sequence[str], d: Delimiters) -> str:
    """One segment without its terminator; trailing empty elements are left off (X12.6)."""
    end = len(elements)
    while end > 1 and elements[end - 1] == "":
        end -= 1
    forbidden = (d.element, d.segment)
    for value in elements[:end]:
        if any(ch in value for ch in forbidden):
            raise X12WriteError(f"{elements[0]}: value {value!r} holds a delimiter")
    return d.element.join(elements[:end])


def _segments_of(node: Loop) -> Iterable[Segment]:
    return node.walk()


def _translator(src: Delimiters, dst: Delimiters) -> dict[int, str] | None:
    """Composite and repetition separators inside element values, from ``src`` to ``dst``."""
    if (src.component, src.repetition) == (dst.component, dst.repetition):
        return None
    return {ord(src.component): dst.component, ord(src.repetition): dst.repetition}


def _convert(elements: list[str], table: dict[int, str] | None, dst: Delimiters) -> list[str]:
    if table is None:
        return list(elements)
    out = [elements[0]]
    for value in elements[1:]:
        if any(ch in value for ch in (dst.component, dst.repetition) if ord(ch) not in table):
            raise X12WriteError(f"{elements[0]}: value {value!r} holds a target delimiter")
        out.append(value.translate(table))
    return out


def _body(ts: SetSource, st02: str | None, d: Delimiters | None = None) -> list[list[str]]:
    if isinstance(ts, TransactionSet | Loop):
        root = ts.root if isinstance(ts, TransactionSet) else ts
        table = None
        if d is not None and isinstance(ts, TransactionSet):
            table = _translator(ts.delimiters, d)
        segs = [_convert(s.elements, table, d or DEFAULT) for s in _segments_of(root)]
    else:
        segs = [list(s) for s in ts]
    if not segs or segs[0][0] != "ST":
        raise X12WriteError("A transaction set must start with ST")
    if segs[-1][0] != "SE":
        segs.append(["SE", "", ""])
    if st02 is not None:
        segs[0][2] = st02
    segs[-1] = ["SE", str(len(segs)), segs[0][2]]
    return segs


def _isa(env: Envelope, d: Delimiters, control: int) -> list[str]:
    when = env.when or datetime.now()
    if len(env.sender_id) > 15 or len(env.receiver_id) > 15:
        raise X12WriteError("ISA06/ISA08 hold at most 15 characters")
    return [
        "ISA", "00", " " * 10, "00", " " * 10,
        env.sender_qualifier, env.sender_id.ljust(15),
        env.receiver_qualifier, env.receiver_id.ljust(15),
        when.strftime("%y%m%d"), when.strftime("%H%M"), d.repetition, "00501",
        f"{control:09d}", "1" if env.ack_requested else "0", env.usage, d.component,
    ]


def write_interchange(
    sets: Sequence[SetSource],
    env: Envelope,
    numbers: ControlNumbers,
    d: Delimiters = DEFAULT,
    line_break: str = "\n",
) -> str:
    """One interchange with one functional group holding ``sets``, freshly numbered."""
    return write_groups([Group(env.functional_id, env.version, sets)], env, numbers, d, line_break)


def write_groups(
    groups: Sequence[Group],
    env: Envelope,
    numbers: ControlNumbers,
    d: Delimiters = DEFAULT,
    line_break: str = "\n",
) -> str:
    """One interchange holding ``groups`` (GS01/GS08 from each group; the envelope's own
    ``functional_id`` and ``version`` are not used), freshly numbered."""
    isa13 = numbers.next("ISA")
    if not 0 < isa13 < 10**9:
        raise X12WriteError("Control numbers must be 1 to 999999999")
    when = env.when or datetime.now()
    out = [_isa(env, d, isa13)]
    for group in groups:
        gs06 = numbers.next("GS")
        if not 0 < gs06 < 10**9:
            raise X12WriteError("Control numbers must be 1 to 999999999")
        out.append([
            "GS", group.functional_id, env.application_sender or env.sender_id,
            env.application_receiver or env.receiver_id, when.strftime("%Y%m%d"),
            when.strftime("%H%M"), str(gs06), "X", group.version,
        ])
        for ts in group.sets:
            out.extend(_body(ts, f"{numbers.next('ST'):04d}", d))
        out.append(["GE", str(len(group.sets)), str(gs06)])
    out.append(["IEA", str(len(groups)), f"{isa13:09d}"])
    return _join(out, d, line_break)


def terminator(d: Delimiters, line_break: str) -> str:
    """The segment terminator plus the layout line break (none when the terminator is one)."""
    return d.segment if d.segment in "\r\n" else d.segment + line_break


def _join(segs: list[list[str]], d: Delimiters, line_break: str) -> str:
    term = terminator(d, line_break)
    return "".join(format_segment(s, d) + term for s in segs)


def write_file(
    sets: Sequence[TransactionSet], d: Delimiters | None = None, line_break: str = "\n"
) -> str:
    """Write parsed sets back under their own envelopes (same ISA/GS, counts recomputed).

    Consecutive sets read from the same interchange and group stay together, so reading a valid
    file and writing it with its delimiters gives the same segments back.
    """
    if not sets:
        return ""
    delims = d or sets[0].delimiters
    out: list[list[str]] = []
    groups: list[tuple[list[str], list[str], list[TransactionSet]]] = []
    for ts in sets:
        if groups and groups[-1][0] is ts.isa and groups[-1][1] is ts.gs:
            groups[-1][2].append(ts)
        else:
            groups.append((ts.isa, ts.gs, [ts]))
    i = 0
    while i < len(groups):
        source_isa = groups[i][0]
        if len(source_isa) != 17:
            raise X12WriteError("The set was read without a complete ISA to write it under")
        isa = list(source_isa)
        isa[11], isa[16] = delims.repetition, delims.component
        out.append(isa)
        n_groups = 0
        while i < len(groups) and groups[i][0] is source_isa:
            _, gs, members = groups[i]
            if len(gs) != 9:
                raise X12WriteError("The set was read without a complete GS to write it under")
            out.append(list(gs))
            for ts in members:
                out.extend(_body(ts, None, delims))
            out.append(["GE", str(len(members)), gs[6]])
            n_groups += 1
            i += 1
        out.append(["IEA", str(n_groups), isa[13]])
    return _join(out, delims, line_break)
