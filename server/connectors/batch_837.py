"""An 837 batch file for an SFTP clearinghouse: one interchange, its file name and the
control numbers every claim will be acknowledged by (CLEARINGHOUSES.md sections 5 and 5.1).

- The interchange is written by ``mappers.fhir_x12.translations.outbound``: ``837P`` when the
  claims are professional, ``837I`` when they are institutional; a batch of both kinds becomes
  one interchange with a functional group per guide (GS08 names one guide, X12.md 2).
- ISA06/ISA08 with their qualifiers, the 1000A/1000B names, the submitter contact and ISA15
  (T test / P production) come from the connection's settings; control numbers from the
  pipeline's durable counters.
- The file is named ``{file_prefix}{YYYYmmdd-HHMMSS}-{ISA13}.x12`` (a prefix such as
  ``OATEST_`` is how Office Ally marks test files).
- For 999 correlation (section 5.1: AK102 = our GS06, AK202 = our ST02), each claim's patient
  control number (CLM01) is mapped to the GS06 and ST02 of the set carrying it, read back from
  the interchange with the X12 reader (no second parse of the whole tree).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mappers.fhir_x12.claim_to_837 import claims_to_837
from mappers.fhir_x12.fhir_values import code
from mappers.fhir_x12.interchange import TradingPartners
from mappers.fhir_x12.references import BundleIndex
from mappers.fhir_x12.translations import outbound
from mappers.x12.reader import Batch, read_batches
from mappers.x12.writer import ControlNumbers

__all__ = ["Batch837", "build_batch"]


@dataclass
class _Recording:
    """The caller's counters, remembering the interchange control number handed out."""

    numbers: ControlNumbers
    isa: list[int] = field(default_factory=list)

    def next(self, kind: str) -> int:
        value = self.numbers.next(kind)
        if kind == "ISA":
            self.isa.append(value)
        return value


@dataclass(frozen=True)
class Batch837:
    """A built batch: the file name, its text, ISA13 and, per CLM01, (GS06, ST02)."""

    name: str
    text: str
    isa13: str
    pcns: tuple[str, ...]
    sets: dict[str, tuple[str, str]]


def _transaction(claims: Sequence[Mapping[str, Any]]) -> str | None:
    """``837P`` or ``837I`` when every Claim is of that kind; None for a mixed batch."""
    kinds = {code(claim.get("type")) for source in claims
             for claim in BundleIndex(source).of_type("Claim")}
    if kinds == {"institutional"}:
        return "837I"
    if "institutional" in kinds and "professional" in kinds and len(kinds) == 2:
        return None
    return "837P"  # untyped claims are refused there, with their FHIRPath


def _sets_of(text: str) -> tuple[tuple[str, ...], dict[str, tuple[str, str]]]:
    """The CLM01s in file order and the (GS06, ST02) of the set holding each."""
    pcns: list[str] = []
    sets: dict[str, tuple[str, str]] = {}
    gs06 = st02 = ""
    for batch in read_batches(text):
        if not isinstance(batch, Batch):
            continue
        sep = batch.delimiters.element
        gs, st, clm = f"GS{sep}", f"ST{sep}", f"CLM{sep}"
        for segment in batch.segments:
            if segment.startswith(clm):
                pcn = segment.split(sep, 2)[1]
                pcns.append(pcn)
                sets[pcn] = (gs06, st02)
            elif segment.startswith(st):
                st02 = (segment.split(sep, 3) + [""] * 3)[2]
            elif segment.startswith(gs):
                gs06 = (segment.split(sep) + [""] * 7)[6]
    return tuple(pcns), sets


def build_batch(claims: Sequence[Mapping[str, Any]], partners: TradingPartners,
                numbers: ControlNumbers, *, prefix: str = "",
                when: datetime | None = None) -> Batch837:
    """The 837 interchange for ``claims`` (Claim Bundles). Raises ``MappingGapError`` with
    every gap of every claim; nothing is numbered twice for one call."""
    moment = when or datetime.now()
    recording = _Recording(numbers)
    transaction = _transaction(claims)
    if transaction is None:
        text = claims_to_837(claims, partners, recording, moment)
    else:
        text = outbound(transaction, claims, partners, recording, moment)
    isa13 = f"{recording.isa[0]:09d}"
    pcns, sets = _sets_of(text)
    name = f"{prefix}{moment.strftime('%Y%m%d-%H%M%S')}-{isa13}.x12"
    return Batch837(name=name, text=text, isa13=isa13, pcns=pcns, sets=sets)
