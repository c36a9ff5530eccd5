"""Read, check and (optionally) parse a whole file: envelopes, groups and transaction sets.

Envelope rules (X12.5 / X12.6, summarised in the TR3 appendix B): ISA is fixed width and its
control number equals IEA02; IEA01 counts the groups; GS06 equals GE02 and GE01 counts the sets;
ST02 equals SE02, is unique in its group, and SE01 counts the segments from ST to SE. Interchange
problems carry TA1 note codes, group problems AK9 codes and set problems IK5 codes.
"""

from __future__ import annotations

import gc
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from mappers.x12.balancing import check_835
from mappers.x12.dates import DATE6, DATE8, TIME
from mappers.x12.delimiters import Delimiters
from mappers.x12.elements import check_elements
from mappers.x12.errors import (
    IK403,
    ElementError,
    GroupReport,
    InterchangeReport,
    Report,
    SegmentError,
    SetReport,
)
from mappers.x12.guides import SUPPORTED_VERSIONS, guides_for
from mappers.x12.patterns import segment_pattern
from mappers.x12.reader import Batch, Source, read_batches
from mappers.x12.schema import Guide, load_guide
from mappers.x12.setmatch import FAST_MIN_SEGMENTS, set_matcher
from mappers.x12.tree import TransactionSet
from mappers.x12.walker import (
    STOP_TAGS,
    SetWalker,
    WalkState,
    end_without_trailer,
    start,
    walker_for,
)

__all__ = ["SetStream", "iter_transaction_sets", "parse", "validate", "validate_bytes"]

_ID_QUALIFIERS = frozenset({"01", "14", "20", "27", "28", "29", "30", "33", "ZZ"})
_DATE6 = re.compile(DATE6)
_DATE8 = re.compile(DATE8)
_TIME4 = re.compile(r"(?:[01]\d|2[0-3])[0-5]\d")
_GS_TIME = re.compile(TIME)
_DIGITS9 = re.compile(r"\d{9}")
_GROUP_CONTROL = re.compile(r"\d{1,9}")
_FUNCTIONAL_IDS = frozenset({"HC", "HP", "HS", "HB", "HR", "HN", "HI", "FA"})


# ISA is fixed width: (start, end) of ISA01..ISA16 (X12.5 interchange control header).
_ISA_FIELDS = ((4, 6), (7, 17), (18, 20), (21, 31), (32, 34), (35, 50), (51, 53), (54, 69),
               (70, 76), (77, 81), (82, 83), (84, 89), (90, 99), (100, 101), (102, 103),
               (104, 105))


def _isa_fields(isa: str, sep: str) -> list[str]:
    """ISA01..ISA16 by their fixed offsets, so a separator typed inside a field cannot shift
    the others; a short ISA falls back to splitting."""
    if len(isa) < 105:
        return isa.split(sep)
    return ["ISA", *(isa[a:b] for a, b in _ISA_FIELDS)]


def _isa_codes(isa: list[str], sep: str) -> list[str]:
    """TA105 note codes for the ISA fields (X12.5 interchange control structure)."""
    if len(isa) != 17:
        return ["022"]
    codes = []
    for i, code in ((6, "006"), (8, "008"), (2, "011"), (4, "013")):
        if sep in isa[i]:
            codes.append(code)  # a separator inside a fixed-width field
    checks = [
        (isa[1] in ("00", "03"), "010"),
        (isa[3] in ("00", "01"), "012"),
        (isa[5] in _ID_QUALIFIERS, "005"),
        (isa[6].strip() != "", "006"),
        (isa[7] in _ID_QUALIFIERS, "007"),
        (isa[8].strip() != "", "008"),
        (_DATE6.fullmatch(isa[9]) is not None, "014"),
        (_TIME4.fullmatch(isa[10]) is not None, "015"),
        (isa[12] == "00501", "017"),
        (_DIGITS9.fullmatch(isa[13]) is not None, "018"),
        (isa[14] in ("0", "1"), "019"),
        (isa[15] in ("P", "T"), "020"),
    ]
    return codes + [code for ok, code in checks if not ok and code not in codes]


def _gs_problems(gs: list[str]) -> list[str]:
    """GS element problems (X12.6 GS segment); the group is then not processable."""
    if len(gs) != 9:
        return [f"GS has {len(gs) - 1} elements, 8 expected"]
    problems = []
    if gs[1] not in _FUNCTIONAL_IDS:
        problems.append(f"GS01 {gs[1]!r} is not a supported functional identifier")
    if not gs[2] or not gs[3]:
        problems.append("GS02/GS03 application sender and receiver codes are required")
    if not _DATE8.fullmatch(gs[4]):
        problems.append(f"GS04 {gs[4]!r} is not a valid CCYYMMDD date")
    if not (_GS_TIME.fullmatch(gs[5]) and 4 <= len(gs[5]) <= 8):
        problems.append(f"GS05 {gs[5]!r} is not a valid HHMM[SS[dd]] time")
    if not _GROUP_CONTROL.fullmatch(gs[6]):
        problems.append(f"GS06 {gs[6]!r} is not a 1-9 digit control number")
    if gs[7] != "X":
        problems.append(f"GS07 {gs[7]!r} must be X")
    return problems


@dataclass
class _SetInProgress:
    report: SetReport
    walker: SetWalker | None
    state: WalkState | None
    guide: Guide | None
    skip_count: int = 0
    fast: bool = False
    """Held until its SE to be matched whole (``setmatch.py``); walked when that fails."""
    held_text: list[str] = field(default_factory=list)
    held_segs: list[str] = field(default_factory=list)


class _BatchText:
    """A batch's segments as one text, each followed by a line break, with a cursor that maps
    segment indexes to offsets without rescanning.

    Only the segment terminator ends a segment (X12.5 §3.3): a line break inside one is data (an
    invalid character, IK4 6). Such a batch has more breaks than segments, so ``exact`` is false
    and its sets are walked: a value holding ``\nSE*`` must not pass for the set's SE."""

    def __init__(self, segs: list[str]) -> None:
        self.segs = segs
        self.text = "\n" + "\n".join(segs) + "\n"
        self.exact = self.text.count("\n") == len(segs) + 1
        self.index = 0
        self.offset = 1

    def offset_of(self, i: int) -> int:
        if i < self.index:
            self.index, self.offset = 0, 1
        self.offset += sum(map(len, self.segs[self.index : i])) + (i - self.index)
        self.index = i
        return self.offset


@lru_cache(maxsize=16)
def _stop_pattern(sep: str) -> re.Pattern[str]:
    """An envelope segment (ISA, GS, ST, GE, IEA) starting a line: a set breaks there."""
    tags = "|".join(sorted(STOP_TAGS))
    return re.compile(f"\\n(?:{tags})(?:{re.escape(sep)}|\\n)")


_BALANCING_LIMIT = 200_000

# Sets held longer than this (one ST with a hundred thousand claims) are walked as they stream.
_HOLD_LIMIT = 8 << 20


@dataclass
class _Engine:
    build: bool
    balancing: bool = False
    report: Report = field(default_factory=Report)
    interchange: InterchangeReport | None = None
    group: GroupReport | None = None
    current: _SetInProgress | None = None
    delimiters: Delimiters | None = None
    seen_isa13: set[str] = field(default_factory=set)
    seen_st02: set[str] = field(default_factory=set)
    pending: list[str] = field(default_factory=list)
    finished_sets: list[tuple[TransactionSet, SetReport]] = field(default_factory=list)

    def feed(self, batch: Batch) -> None:
        d = batch.delimiters
        self.delimiters = d
        segs = batch.segments
        if self.pending:
            segs = self.pending + segs
            self.pending = []
        sep = d.element
        i, n = 0, len(segs)
        if batch.starts_interchange:
            self._open_interchange(_isa_fields(segs[0], sep))
            i = 1
        text: _BatchText | None = None
        while i < n:
            cur = self.current
            if cur is not None:
                if cur.fast:
                    if text is None:
                        text = _BatchText(segs)
                    fast_after = self._fast(cur, text, i, d)
                    if fast_after is None:
                        return
                    i = fast_after
                    continue
                if cur.walker is not None and cur.state is not None:
                    after = cur.walker.walk(segs, i, cur.report, cur.state)
                    if after is None:
                        self._bound_balancing_tree(cur)
                        return
                    i = after
                    self._finish_set()
                    continue
                i = self._skip_set(segs, i, sep)
                continue
            raw = segs[i]
            tag = raw.split(sep, 1)[0]
            if tag == "ST":
                if not self._open_set(segs, i, d):
                    self.pending = segs[i:]
                    return
                continue
            i += 1
            self._envelope(tag, raw.split(sep), d)

    def _fast(self, cur: _SetInProgress, bt: _BatchText, i: int, d: Delimiters) -> int | None:
        """Hold the set until its SE, then accept it whole or walk it; the index to go on
        from, or None when the batch ended inside the set."""
        if not bt.exact:
            return self._unhold(cur, i)  # a segment holds a line break: only a walk is exact
        text, sep = bt.text, d.element
        offset = bt.offset_of(i)
        se = text.find("\nSE" + sep, offset - 1)
        limit = len(text) if se < 0 else se
        # A fresh set starts with its own ST at ``offset``; a held one goes on from a break.
        start = offset if not cur.held_text else offset - 1
        if _stop_pattern(sep).search(text, start, limit) is not None:
            return self._unhold(cur, i)  # the envelope breaks inside: walk to say where
        if se < 0:
            cur.held_text.append(text[offset - (0 if cur.held_text else 1) :])
            cur.held_segs.extend(bt.segs[i:])
            if sum(map(len, cur.held_text)) > _HOLD_LIMIT:
                self._unhold(cur, len(bt.segs))
            return None
        end = text.find("\n", se + 1) + 1
        after = i + text.count("\n", offset, end)
        bt.index, bt.offset = after, end
        total = len(cur.held_segs) + (after - i)
        assert cur.guide is not None and cur.walker is not None and cur.state is not None
        matcher = set_matcher(cur.guide, d) if total >= FAST_MIN_SEGMENTS else None
        if matcher is not None and matcher.accepts(
            "".join(cur.held_text) + text[offset - (0 if cur.held_text else 1) : end],
            cur.report.st02, sep,
        ):
            cur.report.segment_count = total
            cur.state.finished = True
            self.current = None
            return after
        whole = cur.held_segs + bt.segs[i:after]
        cur.held_text, cur.held_segs, cur.fast = [], [], False
        stopped = cur.walker.walk(whole, 0, cur.report, cur.state)
        self._finish_set()
        if stopped is not None and stopped < len(whole):
            # A bare "SE" ended the set early: what follows goes through the envelope again.
            self.feed(Batch(d, whole[stopped:], False))
        return after

    def _bound_balancing_tree(self, cur: _SetInProgress) -> None:
        """A tree held only for 835 balancing is dropped when the set grows past
        ``_BALANCING_LIMIT`` segments, so memory stays flat; the set is then not balanced."""
        state = cur.state
        if self.build or state is None or not state.build or state.position < _BALANCING_LIMIT:
            return
        state.build = False
        state.root = None
        for frame in state.stack:
            frame.node = None
        cur.report.warnings.append(SegmentError(
            "ST", 1, "ST_LOOP", "8", warning=True,
            message=f"835 balancing not checked: the set has over {_BALANCING_LIMIT:,} segments",
        ))

    def _unhold(self, cur: _SetInProgress, i: int) -> int:
        """Leave the fast path: walk what was held; the walk goes on from ``i``."""
        cur.fast = False
        if cur.held_segs:
            assert cur.walker is not None and cur.state is not None
            cur.walker.walk(cur.held_segs, 0, cur.report, cur.state)
        cur.held_text, cur.held_segs = [], []
        return i

    def _open_interchange(self, isa: list[str]) -> None:
        self._close_interchange(premature=True)
        ic = InterchangeReport(isa)
        ic.note_codes.extend(_isa_codes(isa, self.delimiters.element if self.delimiters else "*"))
        if ic.control_number in self.seen_isa13:
            ic.note_codes.append("025")
        self.seen_isa13.add(ic.control_number)
        self.report.interchanges.append(ic)
        self.interchange = ic

    def _envelope(self, tag: str, parts: list[str], d: Delimiters) -> None:
        ic = self.interchange
        if ic is None:
            self.report.problems.append(f"{tag} segment outside an interchange")
            return
        if tag == "GS":
            self._close_group(missing_trailer=True)
            self.group = GroupReport(parts)
            if any(g.control_number == self.group.control_number for g in ic.groups):
                self.group.codes.append("19")  # GS06 not unique within the interchange
            ic.groups.append(self.group)
            self.seen_st02 = set()
            if len(parts) > 8 and parts[8] not in SUPPORTED_VERSIONS:
                self.group.codes.append("2")
            for problem in _gs_problems(parts):
                self.report.problems.append(f"ISA13={ic.control_number}: {problem}")
                if "024" not in ic.note_codes:
                    ic.note_codes.append("024")
        elif tag == "GE":
            g = self.group
            if g is None:
                ic.note_codes.append("024")
                return
            ge01 = parts[1] if len(parts) > 1 else ""
            ge02 = parts[2] if len(parts) > 2 else ""
            if not ge01.isdigit() or int(ge01) != len(g.sets):
                g.codes.append("5")
            if ge02 != g.control_number:
                g.codes.append("4")
            g.declared_sets = int(ge01) if ge01.isdigit() else None
            self.group = None
        elif tag == "IEA":
            self._close_group(missing_trailer=True)
            iea01 = parts[1] if len(parts) > 1 else ""
            iea02 = parts[2] if len(parts) > 2 else ""
            if not iea01.isdigit() or int(iea01) != len(ic.groups):
                ic.note_codes.append("021")
            if iea02 != ic.control_number:
                ic.note_codes.append("001")
            self.interchange = None
        elif tag == "TA1" and self.group is None:
            self._check_ta1(ic, parts, d)
        else:
            if "024" not in ic.note_codes:
                ic.note_codes.append("024")
            self.report.problems.append(
                f"ISA13={ic.control_number}: {tag} segment outside a transaction set"
            )

    def _check_ta1(self, ic: InterchangeReport, parts: list[str], d: Delimiters) -> None:
        """A TA1 after the ISA (X12.5): its elements against the TA1 definition."""
        ta1 = load_guide("ta1").segments[0]
        found = check_elements(ta1, parts, d)
        if segment_pattern(ta1, d).fullmatch(d.element.join(parts)) is None and not found:
            found = [ElementError(0, "6", message="TA1 does not match its definition")]
        for e in found:
            item = ta1.elements[e.position - 1] if 0 < e.position <= len(ta1.elements) else None
            ref = e.ref or (item.ref if item is not None else "TA1")
            self.report.problems.append(
                f"ISA13={ic.control_number}: TA1 {ref}: {e.message or IK403.get(e.code, '')}"
                + (f" value {e.value!r}" if e.value is not None else "")
            )
        if found and "024" not in ic.note_codes:
            ic.note_codes.append("024")

    def _open_set(self, segs: list[str], i: int, d: Delimiters) -> bool:
        """Start walking the ST at ``segs[i]``; False when the next segment is needed first."""
        parts = segs[i].split(d.element)
        st01 = parts[1] if len(parts) > 1 else ""
        st02 = parts[2] if len(parts) > 2 else ""
        st03 = parts[3] if len(parts) > 3 else ""
        g = self.group
        report = SetReport(st01, st02, st03, None)
        # GS08 names the guide of the group; ST03 must repeat it (its code list says so), so a
        # set whose ST03 differs is checked against GS08's guide and fails on ST03.
        candidates = guides_for(st01, g.version) if g is not None and g.version else []
        if not candidates and st03:
            candidates = guides_for(st01, st03)
        guide: Guide | None = None
        if len(candidates) > 1:
            if i + 1 >= len(segs):
                return False
            guide = _select(candidates, segs[i + 1].split(d.element))
        elif candidates:
            guide = candidates[0]
        if g is None:
            ic = self.interchange
            if ic is not None and "024" not in ic.note_codes:
                ic.note_codes.append("024")
            self.report.problems.append(f"ST02={st02}: transaction set outside a functional group")
            g = GroupReport(["GS"])
            if ic is not None:
                ic.groups.append(g)
            self.group = g
        g.sets.append(report)
        if not st02 or not (4 <= len(st02) <= 9):
            report.codes.append("7")
        if st02 in self.seen_st02:
            report.codes.append("23")
        self.seen_st02.add(st02)
        if guide is None:
            report.codes.append("6" if not st01 else ("I6" if candidates or st01 in _KNOWN
                                                      else "1"))
            self.current = _SetInProgress(report, None, None, None)
            return True
        report.guide = guide.id
        if g.functional_id and guide.functional_group != g.functional_id:
            report.codes.append("1")
        walker = walker_for(guide, d)
        build = self.build or (self.balancing and guide.transaction == "835")
        self.current = _SetInProgress(report, walker, start(guide, report, build), guide,
                                      fast=not build)
        return True

    def _skip_set(self, segs: list[str], i: int, sep: str) -> int:
        """Skip an unsupported set up to its SE (its segments cannot be checked)."""
        cur = self.current
        assert cur is not None
        while i < len(segs):
            tag = segs[i].split(sep, 1)[0]
            if tag in ("GE", "IEA", "ISA", "GS") or (tag == "ST" and cur.skip_count):
                cur.report.codes.append("2")
                self.current = None
                return i
            cur.skip_count += 1
            i += 1
            if tag == "SE":
                cur.report.segment_count = cur.skip_count
                self.current = None
                return i
        return i

    def _finish_set(self) -> None:
        cur = self.current
        if cur is not None and cur.fast:
            self._unhold(cur, 0)  # the input ended inside a held set: walk what there is
        self.current = None
        if cur is None or cur.state is None or cur.guide is None:
            return
        state = cur.state
        if not state.finished:
            assert cur.walker is not None
            end_without_trailer(cur.walker, state, cur.report)
        root = state.root
        if root is None:
            return
        ic, g = self.interchange, self.group
        ts = TransactionSet(root, ic.isa if ic else [], g.gs if g else [],
                            self.delimiters or Delimiters(), cur.guide.id)
        if cur.guide.transaction == "835" and self.balancing:
            cur.report.warnings.extend(check_835(ts))
        if self.build:
            self.finished_sets.append((ts, cur.report))

    def _close_group(self, missing_trailer: bool) -> None:
        if self.group is not None and missing_trailer:
            self.group.codes.append("3")
        self.group = None

    def _close_interchange(self, premature: bool) -> None:
        if self.current is not None:
            self._finish_set()
        if self.interchange is not None:
            self._close_group(missing_trailer=True)
            if premature:
                self.interchange.note_codes.append("023")
            self.interchange = None

    def finish(self) -> Report:
        if self.pending:
            # A lone ST at the very end: nothing follows it to select a guide with.
            for raw in self.pending:
                self.report.problems.append(f"Dangling segment at end of file: {raw[:40]!r}")
            self.pending = []
        self._close_interchange(premature=True)
        if not self.report.interchanges and not self.report.problems:
            self.report.problems.append("No interchange: the input holds no ISA segment")
        return self.report


_KNOWN = frozenset({"270", "271", "276", "277", "278", "835", "837", "999", "997", "834", "820"})


def _select(candidates: list[Guide], next_parts: list[str]) -> Guide | None:
    for guide in candidates:
        ok = True
        for ref, codes in guide.select.items():
            tag, pos = ref[:-2], int(ref[-2:])
            if not next_parts or next_parts[0] != tag or len(next_parts) <= pos \
                    or next_parts[pos] not in codes:
                ok = False
        if ok:
            return guide
    return None


def _run(
    source: Source, build: bool, balancing: bool = False
) -> Iterator[tuple[_Engine, list[tuple[TransactionSet, SetReport]]]]:
    engine = _Engine(build=build, balancing=balancing)
    for item in read_batches(source):
        if isinstance(item, Batch):
            # The walk allocates many small acyclic objects (segments, loops, findings): the
            # cycle collector would rescan the growing heap over and over for nothing.
            paused = gc.isenabled()
            gc.disable()
            try:
                engine.feed(item)
            finally:
                if paused:
                    gc.enable()
        else:
            if item.code and engine.interchange is not None:
                engine.interchange.note_codes.append(item.code)
            engine.report.problems.append(item.message)
        if engine.finished_sets:
            done, engine.finished_sets = engine.finished_sets, []
            yield engine, done
    engine.finish()
    yield engine, engine.finished_sets


def validate(source: Source, balancing: bool = False) -> Report:
    """Check a whole file (bytes, text, path or binary stream) without keeping its segments.

    ``balancing`` adds the 835 balancing warnings (``balancing.py``), for which each 835 set is
    held as a tree while it is checked; ``parse`` always adds them.
    """
    reports = [engine.report for engine, _ in _run(source, build=False, balancing=balancing)]
    return reports[-1]


def validate_bytes(data: bytes) -> Report:
    return validate(data)


def parse(source: Source, balancing: bool = True) -> tuple[list[TransactionSet], Report]:
    """Every transaction set as a loop tree, plus the validation report (with the 835
    balancing warnings unless ``balancing`` is false)."""
    sets: list[TransactionSet] = []
    report = Report()
    for engine, done in _run(source, build=True, balancing=balancing):
        sets.extend(ts for ts, _ in done)
        report = engine.report
    return sets, report


class SetStream:
    """The transaction sets of a source one at a time, each with its verdict (memory stays flat
    on huge files); ``report`` is the whole file's once the iteration is over."""

    def __init__(self, source: Source, balancing: bool = True) -> None:
        self._source = source
        self._balancing = balancing
        self.report = Report()

    def __iter__(self) -> Iterator[tuple[TransactionSet, SetReport]]:
        for engine, done in _run(self._source, build=True, balancing=self._balancing):
            self.report = engine.report
            yield from done


def iter_transaction_sets(source: Source, balancing: bool = True) -> SetStream:
    """One transaction set at a time with its verdict; see ``SetStream``."""
    return SetStream(source, balancing)
