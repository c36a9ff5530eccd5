"""How the clearinghouse writes X12 back: amounts and dates in X12 form, the envelope of a
response interchange (``mappers.x12.writer``), TA1 interchanges (X12.5 TA1: ISA, TA1, IEA with
IEA01 = 0), and the split of ``mappers.x12.acks.acknowledgments`` output into one file per
interchange.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal

from mappers.x12.acks import ack_ta1
from mappers.x12.delimiters import DEFAULT
from mappers.x12.errors import InterchangeReport
from mappers.x12.writer import ControlNumbers, Envelope, format_segment, terminator

__all__ = [
    "REJECTING_NOTES",
    "Segments",
    "amount",
    "date_range",
    "envelope",
    "procedure_composite",
    "quantity",
    "split_interchanges",
    "ta1_interchange",
]

Segments = list[list[str]]
"""A transaction set as element lists, ST first (``mappers.x12.writer.SetSource``)."""

REJECTING_NOTES = frozenset({"001", "004", "005", "006", "007", "008", "014", "015", "016",
                             "017", "018", "020", "021", "022", "023", "024", "025", "026",
                             "027", "029"})
"""TA105 note codes after which nothing in the interchange is processed (X12.5; the sandbox,
like Stedi's SFTP, also refuses a test/production indicator that is not the account's: 020)."""

_DATE8 = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")


def amount(value: Decimal) -> str:
    """An X12 R (decimal) value: cents, no trailing zeros ("192.5", "100", "-30")."""
    text = f"{value.quantize(Decimal('0.01')):f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def quantity(value: Decimal) -> str:
    """A quantity (units) without needless zeros ("1", "2.5")."""
    text = f"{value.normalize():f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def procedure_composite(procedure: str, modifiers: Sequence[str]) -> str:
    """835 SVC01 / 277 SVC01: HC (CPT/HCPCS) with its modifiers, or NU for a revenue code
    alone (four digits, 837I SV201 without SV202)."""
    if len(procedure) == 4 and procedure.isdigit():
        return f"NU:{procedure}"
    return ":".join(["HC", procedure, *modifiers])


def date_range(dates: Sequence[str], fallback: str) -> tuple[str, str]:
    """(DTP02, DTP03) for service dates: D8 for one day, RD8 for a span (X12 1250)."""
    valid = sorted(d for d in dates if _DATE8.fullmatch(d))
    if not valid:
        return "D8", fallback
    if valid[0] == valid[-1]:
        return "D8", valid[0]
    return "RD8", f"{valid[0]}-{valid[-1]}"


def envelope(sender_id: str, receiver_id: str, usage: str, when: datetime,
             receiver_qualifier: str = "ZZ") -> Envelope:
    """The envelope of a response: from the clearinghouse to the submitter, in the usage
    (ISA15) the submitter's interchange had."""
    return Envelope(sender_id=sender_id, receiver_id=receiver_id, functional_id="", version="",
                    receiver_qualifier=receiver_qualifier or "ZZ",
                    usage=usage if usage in ("T", "P") else "T", when=when)


def ta1_interchange(ic: InterchangeReport, sender_id: str, numbers: ControlNumbers,
                    when: datetime) -> str:
    """ISA, TA1, IEA (IEA01 = 0) answering ``ic``: TA104 R when a note code rejects it,
    E for other notes, A when there are none (X12.5 TA1)."""
    ta1 = ack_ta1(ic, when)
    rejecting = [c for c in ic.note_codes if c in REJECTING_NOTES]
    if rejecting:
        ta1[4], ta1[5] = "R", rejecting[0]
    isa = ic.isa
    receiver = isa[6].strip()[:15] if len(isa) > 6 else ""
    qualifier = isa[5] if len(isa) > 5 and len(isa[5]) == 2 else "ZZ"
    control = numbers.next("ISA")
    usage = isa[15] if len(isa) > 15 and isa[15] in ("T", "P") else "T"
    segs = [
        ["ISA", "00", " " * 10, "00", " " * 10, "ZZ", sender_id.ljust(15)[:15],
         qualifier, receiver.ljust(15), when.strftime("%y%m%d"), when.strftime("%H%M"),
         DEFAULT.repetition, "00501", f"{control:09d}", "0", usage, DEFAULT.component],
        ta1,
        ["IEA", "0", f"{control:09d}"],
    ]
    term = terminator(DEFAULT, "\n")
    return "".join(format_segment(s, DEFAULT) + term for s in segs)


def split_interchanges(text: str) -> list[str]:
    """The interchanges of a text this clearinghouse wrote (each ISA starts a line)."""
    return [part for part in re.split(r"(?m)^(?=ISA)", text) if part.strip()]
