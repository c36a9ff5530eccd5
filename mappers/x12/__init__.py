"""X12 5010 codec: read, validate, acknowledge and write the HIPAA transactions.

Knows only X12 (DESIGN.md law 4). Entry points:

- ``validate(source) -> Report``: envelopes, loops, segments and elements checked against the
  implementation guide each transaction set names; nothing is kept in memory but the findings.
- ``parse(source)`` / ``iter_transaction_sets(source)``: loop trees (``TransactionSet``), with
  the same findings.
- ``acknowledgments(report, numbers)``: the 999 and TA1 an inbound file calls for.
- ``write_interchange(...)`` / ``write_file(...)``: X12 text with counts and control numbers.

A source is bytes, text, a path or a binary stream; it is read in chunks.
"""

from mappers.x12.acks import ack_999, ack_ta1, acknowledgments
from mappers.x12.delimiters import Delimiters
from mappers.x12.engine import iter_transaction_sets, parse, validate, validate_bytes
from mappers.x12.errors import (
    ElementError,
    GroupReport,
    InterchangeReport,
    Report,
    SegmentError,
    SetReport,
)
from mappers.x12.tree import Loop, Segment, TransactionSet
from mappers.x12.writer import (
    ControlNumbers,
    CountingControlNumbers,
    Envelope,
    X12WriteError,
    write_file,
    write_interchange,
)

__all__ = [
    "ControlNumbers",
    "CountingControlNumbers",
    "Delimiters",
    "ElementError",
    "Envelope",
    "GroupReport",
    "InterchangeReport",
    "Loop",
    "Report",
    "Segment",
    "SegmentError",
    "SetReport",
    "TransactionSet",
    "X12WriteError",
    "ack_999",
    "ack_ta1",
    "acknowledgments",
    "iter_transaction_sets",
    "parse",
    "validate",
    "validate_bytes",
    "write_file",
    "write_interchange",
]
