"""The 999 implementation acknowledgment (005010X231A1) and TA1 interchange acknowledgment for
an inbound file, built from its validation report.

999 layout (X231A1 section 2): ST*999, AK1 (the group acknowledged: GS01, GS06, GS08), per
transaction set AK2 (ST01, ST02, ST03) with 2110 IK3 (segment, position, loop, code) and 2110
IK4 (element position as C030, data element number, code, copy of the bad value), IK5 (set
verdict and codes), AK9 (group verdict, sets included / received / accepted, codes), SE.
TA1 (X12.5): TA101 the ISA13 acknowledged, TA102/TA103 its ISA09/ISA10, TA104 A/E/R, TA105 the
note code. A TA1 travels alone in its own interchange (IEA01 = 0).
"""

from __future__ import annotations

import re
from datetime import datetime

from mappers.x12.dates import DATE6, TIME
from mappers.x12.delimiters import DEFAULT, Delimiters
from mappers.x12.errors import GroupReport, InterchangeReport, Report, SegmentError
from mappers.x12.writer import ControlNumbers, format_segment, terminator

__all__ = ["ack_999", "ack_ta1", "acknowledgments"]

MAX_IK3_PER_SET = 200

# GS01 functional identifier -> the transaction set it carries (X12 479).
_SET_OF_GROUP = {"HC": "837", "HP": "835", "HS": "270", "HB": "271", "HR": "276", "HN": "277",
                 "HI": "278", "FA": "999", "BE": "834", "RA": "820"}
_DATE6 = re.compile(DATE6)
_TIME4 = re.compile(f"(?={TIME})\\d{{4}}")


def _clean(value: str, d: Delimiters) -> str:
    """IK404 copies the bad value; delimiters inside it would break the 999."""
    bad = {d.element, d.component, d.repetition, d.segment, "\ufffd"}
    return "".join(ch for ch in value if ch not in bad and ch >= " ")[:99].strip(" ")


def _digits(value: str, width: int) -> str:
    return "".join(ch for ch in value if ch.isdigit())[:width] or "0"


def _isa(isa: list[str], d: Delimiters, control: int, when: datetime) -> list[str]:
    """An ISA answering ``isa``: sender and receiver swapped."""
    def field(i: int, width: int, default: str = "") -> str:
        value = _clean(isa[i], d) if len(isa) > i else default
        return (value or default).ljust(width)[:width]

    return [
        "ISA", "00", " " * 10, "00", " " * 10,
        field(7, 2, "ZZ"), field(8, 15), field(5, 2, "ZZ"), field(6, 15),
        when.strftime("%y%m%d"), when.strftime("%H%M"), d.repetition, "00501",
        f"{control:09d}", "0", isa[15] if len(isa) > 15 and isa[15] in ("P", "T") else "T",
        d.component,
    ]


def _ik3(e: SegmentError, d: Delimiters) -> list[list[str]]:
    # IK303 names LS/LE-bounded loops only (X231A1 IK303 note); the guide's loop ids (2010AA)
    # do not fit its four characters and stay in the JSON report.
    out = [["IK3", _clean(e.tag, d)[:3] or "ZZ", str(max(e.position, 1)), "", e.code]]
    for el in e.elements:
        position = str(max(el.position, 1))
        if el.component or el.repetition:
            position += d.component + str(el.component or "")
            if el.repetition:
                position += d.component + str(el.repetition)
        # IK402 is a data element number: none for a composite as a whole (C003...).
        number = el.data_element if el.data_element.isdigit() else ""
        ik4 = ["IK4", position, number, el.code]
        if el.value is not None and el.code != "1":
            ik4.append(_clean(el.value, d))
        out.append(ik4)
    return out


def ack_999(group: GroupReport, d: Delimiters, st02: str = "0001") -> list[list[str]]:
    """The ST..SE of the 999 for one functional group."""
    segs: list[list[str]] = [["ST", "999", st02, "005010X231A1"]]
    # Echoed values may be broken (that can be why they are reported): keep them writable.
    segs.append(["AK1", _clean(group.functional_id, d)[:2] or "ZZ",
                 _digits(group.control_number, 9), _clean(group.version, d)[:12]])
    for s in group.sets:
        # An unreadable ST01 (that is the error being reported) is named by its group's kind.
        st01 = s.st01 if s.st01 in _SET_OF_GROUP.values() else _SET_OF_GROUP.get(
            group.functional_id, "837")
        ak2 = ["AK2", st01, _clean(s.st02, d)[:9].ljust(4, "0")]
        if s.st03:
            ak2.append(_clean(s.st03, d)[:35])
        segs.append(ak2)
        for e in s.errors[:MAX_IK3_PER_SET]:
            segs.extend(_ik3(e, d))
        ik5 = ["IK5", s.ack_code]
        codes = list(s.codes)
        if s.errors and "5" not in codes:
            codes.append("5")
        ik5.extend(codes[:5])
        segs.append(ik5)
    received = len(group.sets)
    declared = group.declared_sets
    included = declared if declared is not None and declared < 10**6 else received
    ak9 = ["AK9", group.ack_code, str(included), str(received), str(group.accepted_count)]
    ak9.extend(group.codes[:5])
    segs.append(ak9)
    segs.append(["SE", str(len(segs) + 1), st02])
    return segs


def ack_ta1(ic: InterchangeReport, when: datetime | None = None) -> list[str]:
    """The TA1 segment for one interchange (TA102/TA103 echo ISA09/ISA10, or ``when`` where
    those are not a date and a time)."""
    isa = ic.isa
    rejecting = [c for c in ic.note_codes if c in _REJECTING]
    if rejecting:
        verdict, code = "R", rejecting[0]
    elif ic.note_codes:
        verdict, code = "E", ic.note_codes[0]
    else:
        verdict, code = "A", "000"
    control = ic.control_number if ic.control_number.isdigit() else ""
    when = when or datetime.now()
    date = isa[9] if len(isa) > 9 and _DATE6.fullmatch(isa[9]) else when.strftime("%y%m%d")
    time = isa[10] if len(isa) > 10 and _TIME4.fullmatch(isa[10]) else when.strftime("%H%M")
    return ["TA1", control.zfill(9)[:9] or "000000000", date, time, verdict, code]


# Envelope problems that make the interchange unreadable as a whole.
_REJECTING = frozenset({"001", "004", "005", "006", "007", "008", "014", "015", "016", "017",
                        "018", "021", "022", "023", "024", "025", "026", "027", "029"})


def acknowledgments(
    report: Report,
    numbers: ControlNumbers,
    d: Delimiters = DEFAULT,
    when: datetime | None = None,
    line_break: str = "\n",
) -> str:
    """Every acknowledgment the inbound file calls for: per interchange a TA1 when ISA14 asks
    for one or the envelope has errors, and a 999 per functional group of an interchange that
    is not rejected outright."""
    when = when or datetime.now()
    out: list[list[str]] = []
    for ic in report.interchanges:
        if len(ic.isa) < 17:
            continue
        rejected = any(c in _REJECTING for c in ic.note_codes)
        if ic.ack_requested or ic.note_codes:
            isa13 = numbers.next("ISA")
            out.append(_isa(ic.isa, d, isa13, when))
            out.append(ack_ta1(ic, when))
            out.append(["IEA", "0", f"{isa13:09d}"])
        # Acknowledgments are not acknowledged (X231A1 1.4: no 999 for a 999 or TA1).
        groups = [g for g in ic.groups if g.functional_id != "FA"]
        if rejected or not groups:
            continue
        isa13 = numbers.next("ISA")
        out.append(_isa(ic.isa, d, isa13, when))
        for g in groups:
            gs06 = numbers.next("GS")
            gs = g.gs
            out.append(["GS", "FA", _clean(gs[3], d)[:15] if len(gs) > 3 else "",
                        _clean(gs[2], d)[:15] if len(gs) > 2 else "",
                        when.strftime("%Y%m%d"), when.strftime("%H%M"), str(gs06), "X",
                        "005010X231A1"])
            out.extend(ack_999(g, d, f"{numbers.next('ST'):04d}"))
            out.append(["GE", "1", str(gs06)])
        out.append(["IEA", str(len(groups)), f"{isa13:09d}"])
    term = terminator(d, line_break)
    return "".join(format_segment(s, d) + term for s in out)
