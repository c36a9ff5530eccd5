"""The 835 remittance advice (005010X221A1) for adjudicated claims of one payer and payee.

Layout (X221A1): BPR (I: payment by check, or H: notification only when nothing is paid), TRN*1
(TRN02 the check/EFT trace number, unique per 835; TRN03 "1" + the payer's 9-digit id),
REF*EV (the receiver), DTM*405 production date; 1000A payer (N1*PR, N3, N4, REF*2U payer id,
PER*BL); 1000B payee (N1*PE with the NPI, REF*TJ tax id); 2000 LX*1; per claim 2100 CLP (CLP01 =
CLM01, CLP07 = payer claim control number, CLEARINGHOUSES.md 5.1), NM1*QC patient, DTM*232/233
statement dates; per line 2110 SVC, DTM*472, CAS by group, REF*6R (the line's 837 REF*6R),
AMT*B6 allowed, LQ*HE remarks.

Balanced by construction (X12.md section 3): SVC02 - line CAS = SVC03, CLP03 - CAS = CLP04,
CLP05 = the PR adjustments, BPR02 = the sum of CLP04 (no PLB).
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sandbox.clearinghouse.model import ClaimDecision, LineDecision
from sandbox.clearinghouse.x12_out import (
    Segments,
    amount,
    date_range,
    procedure_composite,
    quantity,
)

__all__ = ["PAYER_ADDRESS", "Payee", "originator", "remittance_set"]

PAYER_ADDRESS = ("1 SANDBOX PLAZA", "NASHVILLE", "TN", "37201")
"""Every sandbox payer's address (1000A N3/N4 are required)."""

CLAIM_FILING = "12"
"""CLP06: the sandbox treats every plan as a preferred provider organization (X221A1 1032)."""


@dataclass(frozen=True, slots=True)
class Payee:
    name: str
    npi: str
    tin: str


def originator(payer_id: str) -> str:
    """TRN03: "1" followed by a 9-digit id of the payer (stable for a payer id)."""
    return f"1{zlib.crc32(payer_id.encode()) % 1_000_000_000:09d}"


def _cas(adjustments: Sequence[tuple[str, str, Decimal]]) -> Segments:
    """One CAS per group, up to six reason/amount pairs each (X221A1 CAS)."""
    by_group: dict[str, list[tuple[str, Decimal]]] = {}
    for group, reason, value in adjustments:
        if value:
            by_group.setdefault(group, []).append((reason, value))
    out: Segments = []
    for group, pairs in by_group.items():
        for start in range(0, len(pairs), 6):
            seg = ["CAS", group]
            for reason, value in pairs[start:start + 6]:
                seg += [reason, amount(value), ""]
            out.append(seg[:-1])
    return out


def _service(d: LineDecision, fallback_date: str) -> Segments:
    line = d.line
    composite = procedure_composite(line.procedure, line.modifiers)
    segs: Segments = [
        ["SVC", composite, amount(line.charge), amount(d.paid), "", quantity(line.units)],
        ["DTM", "472", line.service_date or fallback_date],
        *_cas(d.adjustments),
    ]
    if line.control_number:
        segs.append(["REF", "6R", line.control_number])
    if d.allowed:
        segs.append(["AMT", "B6", amount(d.allowed)])
    segs += [["LQ", "HE", remark] for remark in d.remarks]
    return segs


def _claim(decision: ClaimDecision, today: str) -> Segments:
    c = decision.claim
    clp = ["CLP", c.pcn, decision.status, amount(c.charge), amount(decision.paid),
           amount(decision.patient_responsibility), CLAIM_FILING, decision.payer_claim_number]
    if c.place_of_service:
        clp += [c.place_of_service, c.frequency or "1"]
    segs: Segments = [clp, *_cas(decision.claim_adjustments)]
    segs.append(["NM1", "QC", "1", c.patient_last or c.subscriber_last or "UNKNOWN",
                 c.patient_first or c.subscriber_first, "", "", "",
                 "MI" if c.member_id else "", c.member_id])
    _, dates = date_range([line.service_date for line in c.lines], today)
    start, _, end = dates.partition("-")
    segs += [["DTM", "232", start], ["DTM", "233", end or start]]
    for line in decision.lines:
        segs += _service(line, start)
    return segs


def remittance_set(decisions: Sequence[ClaimDecision], trace: str, payee: Payee,
                   receiver_id: str, when: datetime) -> Segments:
    """One 835 transaction set paying ``decisions`` (all to the same payer and payee)."""
    first = decisions[0].claim
    today = when.strftime("%Y%m%d")
    total = sum((d.paid for d in decisions), start=Decimal(0))
    if total:
        bpr = ["BPR", "I", amount(total), "C", "CHK"] + [""] * 11 + [today]
    else:
        bpr = ["BPR", "H", "0", "C", "NON"] + [""] * 11 + [today]
    street, city, state, postal = PAYER_ADDRESS
    segs: Segments = [
        ["ST", "835", ""],
        bpr,
        ["TRN", "1", trace, originator(first.payer_id)],
        ["REF", "EV", receiver_id],
        ["DTM", "405", today],
        ["N1", "PR", first.payer_name or first.payer_id],
        ["N3", street],
        ["N4", city, state, postal],
        ["REF", "2U", first.payer_id],
        ["PER", "BL", "PROVIDER SERVICES", "TE", "8005550100"],
        ["N1", "PE", payee.name or "PAYEE", "XX" if payee.npi else "FI",
         payee.npi or payee.tin],
    ]
    if payee.tin:
        segs.append(["REF", "TJ", payee.tin])
    segs.append(["LX", "1"])
    for decision in decisions:
        segs += _claim(decision, today)
    return segs
