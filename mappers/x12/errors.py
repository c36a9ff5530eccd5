"""What validation finds, in the vocabulary of the acknowledgments that report it.

Codes are those of the 999 (005010X231A1: IK304 segment syntax error, IK403 element syntax error,
IK5 transaction set verdict, AK9 group verdict) and of the TA1 (TA105 interchange note code), so a
finding can be written into an acknowledgment unchanged.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "ElementError",
    "GroupReport",
    "InterchangeReport",
    "SegmentError",
    "SetReport",
    "Report",
    "IK304",
    "IK403",
    "IK5",
    "AK9",
    "TA105",
]

# 999 IK304: segment syntax error codes.
IK304 = {
    "1": "Unrecognized segment ID",
    "2": "Unexpected segment",
    "3": "Required segment missing",
    "4": "Loop occurs over maximum times",
    "5": "Segment exceeds maximum use",
    "6": "Segment not in defined transaction set",
    "7": "Segment not in proper sequence",
    "8": "Segment has data element errors",
    "I4": "Implementation 'Not Used' segment present",
    "I6": "Implementation dependent segment missing",
    "I7": "Implementation loop occurs under minimum times",
    "I8": "Implementation segment below minimum use",
    "I9": "Implementation dependent 'Not Used' segment present",
}

# 999 IK403: element syntax error codes.
IK403 = {
    "1": "Required data element missing",
    "2": "Conditional required data element missing",
    "3": "Too many data elements",
    "4": "Data element too short",
    "5": "Data element too long",
    "6": "Invalid character in data element",
    "7": "Invalid code value",
    "8": "Invalid date",
    "9": "Invalid time",
    "10": "Exclusion condition violated",
    "12": "Too many repetitions",
    "13": "Too many components",
    "I10": "Implementation 'Not Used' data element present",
    "I12": "Implementation pattern match failure",
    "I6": "Code value not used in implementation",
}

# 999 IK502-IK506: transaction set syntax error codes.
IK5 = {
    "1": "Transaction set not supported",
    "2": "Transaction set trailer missing",
    "3": "Transaction set control number in header and trailer do not match",
    "4": "Number of included segments does not match actual count",
    "5": "One or more segments in error",
    "6": "Missing or invalid transaction set identifier",
    "7": "Missing or invalid transaction set control number",
    "23": "Transaction set control number not unique within the functional group",
    "I5": "Implementation one or more segments in error",
    "I6": "Implementation convention not supported",
}

# 999 AK905-AK909: functional group syntax error codes.
AK9 = {
    "1": "Functional group not supported",
    "2": "Functional group version not supported",
    "3": "Functional group trailer missing",
    "4": "Group control number in the functional group header and trailer do not agree",
    "5": "Number of included transaction sets does not match actual count",
    "6": "Group control number violates syntax",
    "19": "Functional group control number not unique within interchange",
}

# TA105: interchange note codes.
TA105 = {
    "000": "No error",
    "001": "The interchange control number in the header and trailer do not match",
    "002": "This standard as noted in the control standards identifier is not supported",
    "003": "This version of the controls is not supported",
    "004": "The segment terminator is invalid",
    "005": "Invalid interchange ID qualifier for sender",
    "006": "Invalid interchange sender ID",
    "007": "Invalid interchange ID qualifier for receiver",
    "008": "Invalid interchange receiver ID",
    "010": "Invalid authorization information qualifier value",
    "011": "Invalid authorization information value",
    "012": "Invalid security information qualifier value",
    "013": "Invalid security information value",
    "014": "Invalid interchange date value",
    "015": "Invalid interchange time value",
    "016": "Invalid interchange standards identifier value",
    "017": "Invalid interchange version ID value",
    "018": "Invalid interchange control number value",
    "019": "Invalid acknowledgment requested value",
    "020": "Invalid test indicator value",
    "021": "Invalid number of included groups value",
    "022": "Invalid control structure",
    "023": "Improper (premature) end-of-file (transmission)",
    "024": "Invalid interchange content (e.g., invalid GS segment)",
    "025": "Duplicate interchange control number",
    "026": "Invalid data element separator",
    "027": "Invalid component element separator",
    "029": "Invalid repetition separator",
}


@dataclass(slots=True)
class ElementError:
    """One IK4: the element (and component, repetition) in error."""

    position: int
    code: str
    ref: str = ""
    data_element: str = ""
    component: int = 0
    repetition: int = 0
    value: str | None = None
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"position": self.position, "code": self.code,
                               "message": self.message or IK403.get(self.code, "")}
        if self.ref:
            out["element"] = self.ref
        if self.component:
            out["component"] = self.component
        if self.repetition:
            out["repetition"] = self.repetition
        if self.value is not None:
            out["value"] = self.value
        return out


@dataclass(slots=True)
class SegmentError:
    """One IK3: the segment (by its position from ST = 1) and what is wrong with it."""

    tag: str
    position: int
    loop: str
    code: str
    elements: list[ElementError] = field(default_factory=list)
    message: str = ""
    warning: bool = False

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "segment": self.tag,
            "position": self.position,
            "loop": self.loop,
            "code": self.code,
            "message": self.message or IK304.get(self.code, ""),
        }
        if self.elements:
            out["elements"] = [e.as_dict() for e in self.elements]
        if self.warning:
            out["severity"] = "warning"
        return out


@dataclass(slots=True)
class SetReport:
    """The verdict on one transaction set (ST..SE), i.e. one 999 AK2 loop."""

    st01: str
    st02: str
    st03: str
    guide: str | None
    segment_count: int = 0
    errors: list[SegmentError] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    """IK502-IK506 codes."""
    warnings: list[SegmentError] = field(default_factory=list)

    @property
    def accepted(self) -> bool:
        return not self.errors and not self.codes

    @property
    def ack_code(self) -> str:
        return "A" if self.accepted else "R"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "transaction": self.st01,
            "control_number": self.st02,
            "guide": self.guide or self.st03,
            "segments": self.segment_count,
            "accepted": self.accepted,
        }
        if self.codes:
            out["codes"] = [{"code": c, "message": IK5.get(c, "")} for c in self.codes]
        if self.errors:
            out["errors"] = [e.as_dict() for e in self.errors]
        if self.warnings:
            out["warnings"] = [w.as_dict() for w in self.warnings]
        return out


@dataclass(slots=True)
class GroupReport:
    """One functional group (GS..GE), i.e. one 999."""

    gs: list[str]
    sets: list[SetReport] = field(default_factory=list)
    codes: list[str] = field(default_factory=list)
    """AK905-AK909 codes."""
    declared_sets: int | None = None

    @property
    def functional_id(self) -> str:
        return self.gs[1] if len(self.gs) > 1 else ""

    @property
    def control_number(self) -> str:
        return self.gs[6] if len(self.gs) > 6 else ""

    @property
    def version(self) -> str:
        return self.gs[8] if len(self.gs) > 8 else ""

    @property
    def accepted_count(self) -> int:
        return sum(1 for s in self.sets if s.accepted)

    @property
    def ack_code(self) -> str:
        if self.codes:
            return "R"
        accepted = self.accepted_count
        if accepted == len(self.sets):
            return "A"
        return "P" if accepted else "R"

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "functional_id": self.functional_id,
            "control_number": self.control_number,
            "version": self.version,
            "ack_code": self.ack_code,
            "transaction_sets": [s.as_dict() for s in self.sets],
        }
        if self.codes:
            out["codes"] = [{"code": c, "message": AK9.get(c, "")} for c in self.codes]
        return out


@dataclass(slots=True)
class InterchangeReport:
    """One interchange (ISA..IEA) and its TA1 verdict."""

    isa: list[str]
    groups: list[GroupReport] = field(default_factory=list)
    note_codes: list[str] = field(default_factory=list)
    """TA105 codes; empty means 000."""

    @property
    def control_number(self) -> str:
        return self.isa[13] if len(self.isa) > 13 else ""

    @property
    def ack_requested(self) -> bool:
        return len(self.isa) > 14 and self.isa[14] == "1"

    @property
    def accepted(self) -> bool:
        return not self.note_codes

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "control_number": self.control_number,
            "sender": self.isa[6].strip() if len(self.isa) > 6 else "",
            "receiver": self.isa[8].strip() if len(self.isa) > 8 else "",
            "accepted": self.accepted,
            "groups": [g.as_dict() for g in self.groups],
        }
        if self.note_codes:
            out["codes"] = [{"code": c, "message": TA105.get(c, "")} for c in self.note_codes]
        return out


@dataclass(slots=True)
class Report:
    """Everything validation found in one file."""

    interchanges: list[InterchangeReport] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    """File-level problems outside any interchange (no ISA, junk between interchanges)."""

    @property
    def valid(self) -> bool:
        if self.problems or not self.interchanges:
            return False
        for ic in self.interchanges:
            if not ic.accepted:
                return False
            for g in ic.groups:
                if g.codes or any(not s.accepted for s in g.sets):
                    return False
        return True

    @property
    def errors(self) -> list[str]:
        """Every finding as one line of text: where, which code, what."""
        lines = list(self.problems)
        for ic in self.interchanges:
            for code in ic.note_codes:
                lines.append(f"ISA13={ic.control_number}: TA1 {code} {TA105.get(code, '')}")
            for g in ic.groups:
                for code in g.codes:
                    lines.append(f"GS06={g.control_number}: AK9 {code} {AK9.get(code, '')}")
                for s in g.sets:
                    for code in s.codes:
                        lines.append(f"ST02={s.st02}: IK5 {code} {IK5.get(code, '')}")
                    for e in s.errors:
                        lines.append(format_segment_error(s, e))
        return lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "valid": self.valid,
            "problems": self.problems,
            "interchanges": [ic.as_dict() for ic in self.interchanges],
        }


def format_segment_error(s: SetReport, e: SegmentError) -> str:
    where = f"ST02={s.st02} segment {e.position} {e.tag} (loop {e.loop})"
    text = f"{where}: IK3 {e.code} {e.message or IK304.get(e.code, '')}"
    for el in e.elements:
        ref = el.ref or f"{e.tag}{el.position:02d}"
        value = f" value {el.value!r}" if el.value is not None else ""
        text += f"; {ref}: IK4 {el.code} {el.message or IK403.get(el.code, '')}{value}"
    return text
