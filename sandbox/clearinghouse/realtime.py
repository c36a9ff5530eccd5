"""Real-time X12 (270 -> 271, 276 -> 277): one interchange in, one interchange out.

What comes back (CAQH CORE real-time practice, X12.5/X231A1): a TA1 when the envelope is
rejected (the account's sender id 006, the clearinghouse as receiver 008, the account's usage
020, or any X12 envelope error); a 999 when a transaction set is rejected or is not the
transaction the endpoint answers; otherwise the response interchange, one response set per
inquiry (``answer_sets``).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from mappers.x12 import parse
from mappers.x12.acks import acknowledgments
from mappers.x12.errors import InterchangeReport, Report
from mappers.x12.tree import TransactionSet
from mappers.x12.writer import ControlNumbers, Group, write_groups
from sandbox.clearinghouse.model import Submitter
from sandbox.clearinghouse.x12_out import REJECTING_NOTES, Segments, envelope, ta1_interchange

__all__ = ["answer_realtime"]


def _notes(ic: InterchangeReport, submitter: Submitter, clearinghouse_id: str) -> None:
    isa = ic.isa
    own = []
    if isa[6].strip() != submitter.sender_id:
        own.append("006")
    if isa[8].strip() != clearinghouse_id:
        own.append("008")
    if isa[15] != submitter.usage:
        own.append("020")
    ic.note_codes.extend(c for c in own if c not in ic.note_codes)


def answer_realtime(content: bytes, submitter: Submitter, *, clearinghouse_id: str,
                    numbers: ControlNumbers, transaction: str, guide: str,
                    functional_id: str, version: str,
                    answer_sets: Callable[[TransactionSet], list[Segments]],
                    when: datetime | None = None) -> str:
    """The X12 answer to a real-time inquiry interchange (see the module docstring)."""
    when = when or datetime.now()
    sets, report = parse(content)
    ics = [ic for ic in report.interchanges if len(ic.isa) >= 17]
    if not ics:
        raise ValueError("No interchange could be read: " + "; ".join(report.problems[:3]))
    ic = ics[0]
    _notes(ic, submitter, clearinghouse_id)
    if any(c in REJECTING_NOTES for c in ic.note_codes):
        return ta1_interchange(ic, clearinghouse_id, numbers, when)
    wrong = [s for g in ic.groups for s in g.sets
             if (s.st01 != transaction or s.guide != guide) and not s.codes]
    for s in wrong:
        s.codes.append("1")
    if not report.valid or not sets:
        isa = list(ic.isa)
        isa[14] = "0"
        return acknowledgments(Report([InterchangeReport(isa, ic.groups, [])]), numbers,
                               when=when)
    out: list[Segments] = []
    for ts in sets:
        if ts.st.get(1) == transaction:
            out += answer_sets(ts)
    qualifier = ic.isa[5] if len(ic.isa) > 5 else "ZZ"
    env = envelope(clearinghouse_id, submitter.sender_id, ic.isa[15], when, qualifier)
    return write_groups([Group(functional_id, version, out)], env, numbers)
