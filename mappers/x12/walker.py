"""The loop walk of one transaction set: which guide segment each data segment is, in which loop.

A data segment is matched forward from the last one: first among the later positions of the
current loop (the same position again is a repeat), then the loops that start there, then,
closing the current loop, in its parent, up to the transaction set (TR3 section 2.3 "loops": a
loop is entered by its first segment and ends when a segment matches outside it). Each
(last segment, tag, qualifier) step is computed once and cached, so a file costs one dict lookup
and one compiled pattern match per segment; the element-by-element checks run only for the
segments that fail their pattern.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import lru_cache
from typing import Any

from mappers.x12.delimiters import Delimiters
from mappers.x12.elements import check_elements, check_syntax
from mappers.x12.errors import ElementError, SegmentError, SetReport
from mappers.x12.patterns import segment_pattern
from mappers.x12.rules import DATE_FORMAT_AT, check_dtp, check_zip9, npi_is_valid
from mappers.x12.schema import (
    FIRST_ELEMENT,
    CompositeDef,
    Guide,
    LoopDef,
    SegmentDef,
)
from mappers.x12.screens import Screen, segment_screen
from mappers.x12.tree import Loop, Segment

__all__ = ["STOP_TAGS", "SetWalker", "WalkState", "end_without_trailer", "start", "walker_for"]

# Envelope segments that end a transaction set even when its SE is missing.
STOP_TAGS = frozenset({"ISA", "IEA", "GS", "GE", "ST"})
_TAG = re.compile(r"[A-Z][A-Z0-9]{1,2}")


_FIRST = FIRST_ELEMENT
_SPECIAL = frozenset({"HL", "SE"})


@dataclass(slots=True, frozen=True)
class _Step:
    target: SegmentDef
    pops: int
    entered: tuple[LoopDef, ...]
    missing: tuple[SegmentDef | LoopDef, ...]
    alternatives: tuple[_Step, ...] = ()
    """Later definitions the same tag and qualifier also fit (837P 2400 PWK*CT is both "line
    supplemental information" and the DME certificate indicator): tried when this one's pattern
    fails."""
    pattern: re.Pattern[str] | None = None
    screen: Screen | None = None
    special: int = 0
    """1: an HL (hierarchy links to check); 2: the SE (the set ends)."""
    kind: int = 2
    """0: the same loop, nothing skipped; 1: close ``pops`` loops and open one, nothing
    skipped; 2: anything else (missing segments, several loops opened)."""


ANY_KEY = "\x00any"
"""Match by tag alone: a segment whose qualifier no definition allows is still placed, so the
bad code is reported as an element error (IK4 7) rather than as an unexpected segment."""


def _matches(seg: SegmentDef, tag: str, key: str | None) -> bool:
    if seg.tag != tag:
        return False
    k = seg.key
    return k is None or key in k[2] or (not key and not k[3]) or key == ANY_KEY


def _restarts(loop: LoopDef) -> bool:
    """Whether the loop's first segment, seen again, starts a new iteration (true of every
    loop but the transaction set and the HEADER/DETAIL/FOOTER table areas)."""
    return loop.parent is not None and not loop.wrapper


def _first_of_position(children: list[SegmentDef | LoopDef], pos: int) -> int:
    """The first sibling sharing ``children[pos]``'s position number: segments and loops at one
    position may come in any order (837P 2300 REF*D9 before REF*9A, 2310B before 2310A)."""
    number = children[pos].pos
    start = pos
    while number and start > 1 and children[start - 1].pos == number:
        start -= 1
    return start


def _resolve(state: SegmentDef, tag: str, key: str | None) -> _Step | None:
    loop: LoopDef | None = state.loop
    pos = state.index
    pops = 0
    missing: list[SegmentDef | LoopDef] = []
    while loop is not None:
        children = loop.children
        skipped: list[SegmentDef | LoopDef] = []
        found: list[_Step] = []
        for i in range(_first_of_position(children, pos), len(children)):
            child = children[i]
            if isinstance(child, SegmentDef):
                if i == 0 and _restarts(loop):
                    continue  # a loop's first segment again starts the next iteration
                if _matches(child, tag, key):
                    found.append(_Step(child, pops, (), tuple(missing + skipped)))
            else:
                trigger = child.trigger
                if _matches(trigger, tag, key):
                    found.append(
                        _Step(trigger, pops, child.entry_chain(), tuple(missing + skipped))
                    )
            if i > pos and child.usage == "R":
                skipped.append(child)
        if found:
            first = found[0]
            if len(found) == 1:
                return first
            return _Step(first.target, first.pops, first.entered, first.missing,
                         tuple(found[1:]))
        missing.extend(skipped)
        if loop.parent is None:
            return None
        pos = loop.index
        loop = loop.parent
        pops += 1
    return None


def _qualifier_decides(state: SegmentDef, tag: str) -> bool:
    """Whether the qualifier can change where ``tag`` goes from ``state``: true when more than
    one definition with that tag lies ahead. When only one does, the walk skips reading the
    qualifier (the segment's pattern still checks its code)."""
    loop: LoopDef | None = state.loop
    pos = state.index
    seen = 0
    while loop is not None:
        for i in range(_first_of_position(loop.children, pos), len(loop.children)):
            child = loop.children[i]
            if isinstance(child, SegmentDef):
                if i == 0 and _restarts(loop):
                    continue
                seen += child.tag == tag
            else:
                seen += child.trigger.tag == tag
        if seen > 1:
            return True
        pos = loop.index
        loop = loop.parent
    return False


# (kind, target, its pattern's fullmatch, its screen, its index, its max use, the step);
# kind -1: no definition fits.
_Record = tuple[int, Any, Any, Any, int, int, Any]
_NO_STEP: _Record = (-1, None, None, None, 0, 0, None)


@lru_cache(maxsize=64)
def walker_for(guide: Guide, d: Delimiters) -> SetWalker:
    """One walker per guide and delimiters per process: its compiled patterns and step cache
    are reused by every file."""
    return SetWalker(guide, d)


class _Frame:
    __slots__ = ("loop", "pos", "count", "node", "hl")

    def __init__(self, loop: LoopDef, node: Loop | None) -> None:
        self.loop = loop
        self.pos = 0
        self.count = 1
        self.node = node
        self.hl = ""


class SetWalker:
    """Walks ST..SE segments of one guide under one set of delimiters."""

    def __init__(self, guide: Guide, d: Delimiters) -> None:
        self.guide = guide
        self.d = d
        self.steps: dict[tuple[SegmentDef, str, str | None], _Record] = {}
        self.by_tag: dict[tuple[SegmentDef, str], _Record] = {}
        """Steps that do not depend on the qualifier (one definition of the tag ahead)."""

    def _bind(self, step: _Step) -> _Step:
        """Attach the target's compiled pattern and screen (compiled on first use)."""
        target = step.target
        return replace(
            step,
            alternatives=tuple(self._bind(a) for a in step.alternatives),
            pattern=segment_pattern(target, self.d),
            screen=segment_screen(target),
            special={"HL": 1, "SE": 2}.get(target.tag, 0),
            kind=0 if not (step.pops or step.entered or step.missing or target.tag in _SPECIAL)
            else 1 if len(step.entered) == 1 and not step.missing and target.usage != "N"
            else 2,
        )

    def _record(self, current: SegmentDef, tag: str, key: str | None, keyed: bool) -> _Record:
        """The cached step for (last segment, tag, qualifier), computed on first sight."""
        found = _resolve(current, tag, key)
        if found is None and keyed:
            found = _resolve(current, tag, ANY_KEY)
        record: _Record
        if found is None:
            record = _NO_STEP
        else:
            step = self._bind(found)
            target = step.target
            assert step.pattern is not None
            record = (step.kind, target, step.pattern.fullmatch, step.screen, target.index,
                      target.max_use, step)
        if len(self.steps) < 100_000:
            self.steps[current, tag, key] = record
            if not _qualifier_decides(current, tag):
                self.by_tag[current, tag] = record
        return record

    def _keyed(self, raw: str, tag: str, cut: int, current: SegmentDef) -> _Record:
        """The step for a segment whose qualifier may decide where it goes."""
        sep = self.d.element
        kp = self.guide.key_positions.get(tag)
        key: str | None = None
        if kp is not None:
            if kp is _FIRST:  # NM1*85, REF*EI...: the qualifier is the first element
                end = raw.find(sep, cut + 1)
                key = raw[cut + 1 : end] if end >= 0 else raw[cut + 1 :]
            else:
                parts = raw.split(sep)
                try:
                    key = parts[kp[0]]
                except IndexError:
                    pass
                else:
                    if kp[1]:
                        key = key.split(self.d.component)[0]
        record = self.steps.get((current, tag, key))
        if record is None:
            record = self._record(current, tag, key, kp is not None)
        return record

    def walk(
        self,
        segs: list[str],
        start: int,
        report: SetReport,
        state: WalkState,
    ) -> int | None:
        """Consume ``segs[start:]`` up to and including SE; the index after SE, or None when the
        batch ended first (call again with the next batch and the same ``state``)."""
        sep = self.d.element
        by_tag = self.by_tag
        steps = self.steps
        key_positions = self.guide.key_positions
        stack = state.stack
        build = state.build
        errors = report.errors
        current = state.current
        position = state.position
        frame = stack[-1]
        i = start
        for raw in segs[start:] if start else segs:
            i += 1
            position += 1
            cut = raw.find(sep)
            tag = raw[:cut] if cut >= 0 else raw
            parts: list[str] | None = None
            record = by_tag.get((current, tag))
            if record is None:
                if key_positions.get(tag) is _FIRST:
                    end = raw.find(sep, cut + 1)
                    key = raw[cut + 1 : end] if end >= 0 else raw[cut + 1 :]
                    record = steps.get((current, tag, key))
                if record is None:
                    record = self._keyed(raw, tag, cut, current)
            kind, target, fullmatch, screen, index, max_use, step = record
            if kind < 0:
                state.current = current
                if tag in STOP_TAGS:  # the set ended without its SE
                    report.codes.append("2")
                    state.finished = True
                    state.position = position - 1
                    return i - 1
                state.position = position
                errors.append(self._unexpected(raw, tag, state))
                continue
            matched = True
            if fullmatch(raw) is None:
                matched = False
                for alt in step.alternatives:
                    if alt.pattern.fullmatch(raw) is not None:
                        step, matched = alt, True
                        target = alt.target
                        kind, screen, index, max_use = alt.kind, alt.screen, target.index, \
                            target.max_use
                        break
            if kind == 0:
                if frame.pos == index:
                    frame.count += 1
                    if frame.count > max_use:
                        errors.append(SegmentError(tag, position, target.loop.id, "5"))
                else:
                    frame.pos = index
                    frame.count = 1
            elif kind == 1:
                if step.pops:
                    del stack[-step.pops :]
                    frame = stack[-1]
                loop = step.entered[0]
                if frame.pos == loop.index and frame.count:
                    frame.count += 1
                    if frame.count > loop.repeat:
                        errors.append(SegmentError(tag, position, loop.id, "4"))
                else:
                    frame.pos = loop.index
                    frame.count = 1
                node = None
                if build:
                    node = Loop(loop)
                    frame.node.children.append(node)  # type: ignore[union-attr]
                frame = _Frame(loop, node)
                stack.append(frame)
            else:
                state.position = position
                state.current = current
                frame = self._move(step, state, errors, tag)
            current = target
            if not matched:
                if parts is None:
                    parts = raw.split(sep)
                self._element_errors(target, parts, position, errors)
            if screen is not None:
                if parts is None:
                    parts = raw.split(sep)
                if screen(parts):
                    state.position = position
                    self._extra(target, parts, state, report)
            if build:
                node = frame.node
                assert node is not None
                node.children.append(Segment(parts, target, raw, sep, tag))
            if kind:  # an HL or the SE always opens or closes a loop
                special = step.special
                if special == 1:
                    if parts is None:
                        parts = raw.split(sep)
                    state.position = position
                    hl_errors = self._check_hl(parts, state)
                    if hl_errors:
                        self._merge(report, SegmentError(tag, position, target.loop.id, "8",
                                                         hl_errors))
                elif special == 2:
                    state.position = position
                    state.current = current
                    self._close(state, report, parts or raw.split(sep))
                    return i
        state.position = position
        state.current = current
        return None

    def _move(self, step: _Step, state: WalkState, errors: list[SegmentError], tag: str
              ) -> _Frame:
        """Close and open loops for a step that leaves the current loop or skips ahead."""
        stack = state.stack
        target = step.target
        for item in step.missing:
            self._missing(item, state, errors)
        for _ in range(step.pops):
            stack.pop()
        frame = stack[-1]
        if step.entered:
            for loop in step.entered:
                if frame.pos == loop.index and frame.count:
                    frame.count += 1
                    if frame.count > loop.repeat:
                        errors.append(SegmentError(tag, state.position, loop.id, "4"))
                else:
                    frame.pos = loop.index
                    frame.count = 1
                node = None
                if state.build:
                    node = Loop(loop)
                    parent_node = frame.node
                    assert parent_node is not None
                    parent_node.children.append(node)
                frame = _Frame(loop, node)
                frame.count = 0  # nothing of a loop opened with its parent is counted yet
                stack.append(frame)
            frame.count = 1  # the loop's first segment
        elif frame.pos == target.index:
            frame.count += 1
            if frame.count > target.max_use:
                errors.append(SegmentError(tag, state.position, target.loop.id, "5"))
        else:
            frame.pos = target.index
            frame.count = 1
        if target.usage == "N":
            errors.append(SegmentError(tag, state.position, target.loop.id, "I4"))
        return frame

    def _element_errors(
        self, target: SegmentDef, parts: list[str], position: int, errors: list[SegmentError]
    ) -> None:
        found = check_elements(target, parts, self.d)
        if target.syntax:
            found.extend(check_syntax(target, parts))
        if "zip9" in target.rules:
            z = check_zip9(parts)
            if z is not None:
                found.append(z)
        if target.tag in DATE_FORMAT_AT:
            dated = check_dtp(parts, DATE_FORMAT_AT[target.tag])
            if dated is not None:
                found.append(dated)
        found = self._name(target, found)
        if not found:
            found = [ElementError(0, "6", message="Segment does not match its definition")]
        errors.append(SegmentError(target.tag, position, target.loop.id, "8", found))

    def _extra(
        self, target: SegmentDef, parts: list[str], state: WalkState, report: SetReport
    ) -> None:
        """Name what the screen flagged: syntax notes, a date range's order, an NPI."""
        found: list[ElementError] = []
        if target.syntax:
            found.extend(check_syntax(target, parts))
        if target.tag in DATE_FORMAT_AT:
            e = check_dtp(parts, DATE_FORMAT_AT[target.tag])
            if e is not None:
                found.append(e)
        if found:
            self._merge(report, SegmentError(target.tag, state.position, target.loop.id, "8",
                                             self._name(target, found)))
        if target.tag == "NM1" and len(parts) > 9 and parts[8] == "XX" \
                and not npi_is_valid(parts[9]):
            report.warnings.append(SegmentError(
                target.tag, state.position, target.loop.id, "8",
                [ElementError(9, "I12", "NM109", "67", value=parts[9][:99],
                              message="NPI check digit does not verify")],
                warning=True,
            ))

    @staticmethod
    def _name(target: SegmentDef, found: list[ElementError]) -> list[ElementError]:
        """Fill in element references and data element numbers from the definition."""
        for e in found:
            if 0 < e.position <= len(target.elements) and not e.data_element:
                item = target.elements[e.position - 1]
                if e.component and isinstance(item, CompositeDef) \
                        and e.component <= len(item.components):
                    sub = item.components[e.component - 1]
                    e.ref, e.data_element = e.ref or sub.ref, sub.de
                else:
                    e.ref, e.data_element = e.ref or item.ref, item.de
        return found

    @staticmethod
    def _merge(report: SetReport, error: SegmentError) -> None:
        last = report.errors[-1] if report.errors else None
        if last is not None and last.position == error.position and last.code == "8":
            seen = {(e.position, e.component, e.code, e.value) for e in last.elements}
            last.elements.extend(e for e in error.elements
                                 if (e.position, e.component, e.code, e.value) not in seen)
        else:
            report.errors.append(error)

    def _check_hl(self, parts: list[str], state: WalkState) -> list[ElementError]:
        """HL01 counts from 1; HL02 names the enclosing HL; HL04 says whether a child follows."""
        out: list[ElementError] = []
        hl01 = parts[1] if len(parts) > 1 else ""
        hl02 = parts[2] if len(parts) > 2 else ""
        hl04 = parts[4] if len(parts) > 4 else ""
        state.hl_count += 1
        if hl01 != str(state.hl_count):
            out.append(ElementError(1, "I12", "HL01", "628", value=hl01,
                                    message=f"HL01 should be {state.hl_count}"))
        stack = state.stack
        frame = stack[-1]
        frame.hl = hl01
        parent = ""
        for f in reversed(stack[:-1]):
            if f.hl:
                parent = f.hl
                break
        if hl02 != parent:
            expected = parent or "empty"
            out.append(ElementError(2, "I12", "HL02", "734", value=hl02,
                                    message=f"HL02 should name the parent HL ({expected})"))
        self.settle_hl04(state, parent)
        state.pending_hl = (hl01, hl04, state.position, frame.loop.id)
        return out

    def settle_hl04(self, state: WalkState, new_parent: str | None) -> None:
        """The previous HL's HL04 against what followed it (a child HL or not)."""
        if state.pending_hl is None:
            return
        hl01, hl04, position, loop_id = state.pending_hl
        state.pending_hl = None
        had_child = new_parent is not None and new_parent == hl01
        if hl04 in ("0", "1") and (hl04 == "1") != had_child:
            word = "a child HL follows" if had_child else "no child HL follows"
            self._merge(state.report, SegmentError("HL", position, loop_id, "8", [
                ElementError(4, "I12", "HL04", "736", value=hl04,
                             message=f"HL04 is {hl04} but {word}")
            ]))

    def _close(self, state: WalkState, report: SetReport, parts: list[str]) -> None:
        state.finished = True
        self.settle_hl04(state, None)
        # Required loops and segments after the last one seen, up to SE, were matched above.
        se01 = parts[1] if len(parts) > 1 else ""
        se02 = parts[2] if len(parts) > 2 else ""
        report.segment_count = state.position
        if not se01.isdigit() or int(se01) != state.position:
            report.codes.append("4")
        if se02 != report.st02:
            report.codes.append("3")

    def _missing(self, item: SegmentDef | LoopDef, state: WalkState, errors: list[SegmentError]
                 ) -> None:
        seg = item if isinstance(item, SegmentDef) else item.trigger
        loop_id = item.loop.id if isinstance(item, SegmentDef) else item.id
        errors.append(SegmentError(seg.tag, state.position, loop_id, "3",
                                   message=f"Required {'segment' if item is seg else 'loop'} "
                                           f"{seg.tag} ({seg.name}) missing in loop {loop_id}"))

    def _unexpected(self, raw: str, tag: str, state: WalkState) -> SegmentError:
        loop_id = state.current.loop.id
        if not _TAG.fullmatch(tag):
            return SegmentError(tag[:3], state.position, loop_id, "1")
        if tag not in self.guide.tags:
            return SegmentError(tag, state.position, loop_id, "2"
                                if tag in _KNOWN_ELSEWHERE else "1")
        return SegmentError(tag, state.position, loop_id, "7",
                            message=f"Segment {tag} not in proper sequence after "
                                    f"{state.current.tag} in loop {loop_id}")


# Segment tags of the X12 005010 standard used by the HIPAA guides, for telling an unrecognised
# segment (IK304 1) from one that exists but is not expected here (IK304 2).
_KNOWN_ELSEWHERE = frozenset(
    "AAA ACT AK1 AK2 AK9 AMT BHT BPR CAS CL1 CLM CLP CN1 CR1 CR2 CR3 CR4 CR5 CR6 CR7 CR8 CRC CTP "
    "CTX CUR DMG DSB DTM DTP EB EQ FRM GE GS HCP HCR HD HI HL HLH HSD III IEA IK3 IK4 IK5 INS "
    "ISA K3 LE LIN LQ LS LUI LX MEA MIA MOA MPI N1 N2 N3 N4 NM1 NTE OI PAT PER PLB PRV PS1 PWK "
    "QTY RDM REF SBR SE SE SV1 SV2 SV3 SV4 SV5 SV6 SV7 SVC SVD ST STC TA1 TOO TRN TS2 TS3 UM "
    "UR".split()
)


class WalkState:
    """Where the walk of one transaction set is, across batches."""

    __slots__ = ("stack", "current", "position", "build", "root", "hl_count", "pending_hl",
                 "report", "finished")

    def __init__(self, guide: Guide, report: SetReport, build: bool) -> None:
        self.build = build
        self.root = Loop(guide.body) if build else None
        self.stack = [_Frame(guide.body, self.root)]
        st = guide.body.children[0]
        assert isinstance(st, SegmentDef)
        # The walk starts before ST: the first step matches ST itself.
        self.current = st
        self.stack[0].count = 0
        self.position = 0
        self.hl_count = 0
        self.pending_hl: tuple[str, str, int, str] | None = None
        self.report = report
        self.finished = False


def start(guide: Guide, report: SetReport, build: bool) -> WalkState:
    return WalkState(guide, report, build)


def end_without_trailer(walker: SetWalker, state: WalkState, report: SetReport) -> None:
    """The set ended (next ST/GE/IEA, or end of file) before its SE."""
    walker.settle_hl04(state, None)
    report.segment_count = state.position
    if "2" not in report.codes:
        report.codes.append("2")
    state.finished = True

