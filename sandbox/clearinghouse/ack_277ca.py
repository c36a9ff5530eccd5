"""The 277CA claim acknowledgment (005010X214) for the claims of one 837.

One transaction set per payer (2000A names one information source, and the receiver reads the
payer id from it), holding (X214 loops):

- 2000A/2100A the payer (NM1*PR, PI payer id); 2200A TRN*1 (this acknowledgment's trace),
  DTP*050 received, DTP*009 processed.
- 2000B/2100B the submitter (NM1*41, ETIN); 2200B TRN*2 = the 837's BHT03 (CLEARINGHOUSES.md
  5.1), STC A1:19:PR receipt with the total charge, QTY*90/AA accepted/rejected counts and
  AMT*YU/YY accepted/rejected amounts.
- 2000C/2100C per billing provider (NM1*85, XX NPI); 2200C TRN*1 and STC (pyx12 requires it,
  X12.md 6.1), REF*TJ tax id, QTY*QA/QC and AMT*YU/YY.
- 2000D/2100D per claim the patient (NM1*QC, MI member id); 2200D TRN*2 = CLM01, STC (A2:20
  accepted, or the failed edit with its message in STC12), REF*1K payer claim control number
  (accepted claims), REF*D9 clearinghouse trace, DTP*472 service dates.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sandbox.clearinghouse.model import FrontEndResult
from sandbox.clearinghouse.x12_out import Segments, amount, date_range

__all__ = ["ClaimAckBatch", "claim_ack_sets"]


@dataclass(frozen=True, slots=True)
class ClaimAckBatch:
    """The claims of one 837 transaction set and what is known about them."""

    bht03: str
    results: Sequence[FrontEndResult]
    payer_claim_numbers: Mapping[int, str]
    """Index in ``results`` -> payer claim control number (REF*1K) of an accepted claim."""
    submitter_id: str
    submitter_name: str
    reference: str
    """This acknowledgment's own trace (BHT03, 2200A TRN02; ``-n`` added per payer set when
    the claims go to several payers)."""


def _stc(r: FrontEndResult, today: str, charge: Decimal) -> list[str]:
    parts = [r.category, r.status_code] + ([r.entity] if r.entity else [])
    stc = ["STC", ":".join(parts), today, "WQ" if r.accepted else "U", amount(charge)]
    if r.message:
        stc += [""] * 7 + [r.message[:264]]
    return stc


def _counts(prefix: tuple[str, str], results: Sequence[FrontEndResult]) -> Segments:
    """QTY/AMT accepted and rejected totals (only the non-zero ones are sent)."""
    accepted = [r.claim.charge for r in results if r.accepted]
    rejected = [r.claim.charge for r in results if not r.accepted]
    out: Segments = []
    if accepted:
        out.append(["QTY", prefix[0], str(len(accepted))])
    if rejected:
        out.append(["QTY", prefix[1], str(len(rejected))])
    if accepted:
        out.append(["AMT", "YU", amount(sum(accepted, start=Decimal(0)))])
    if rejected:
        out.append(["AMT", "YY", amount(sum(rejected, start=Decimal(0)))])
    return out


def _payer_set(batch: ClaimAckBatch, indexes: list[int], reference: str,
               when: datetime) -> Segments:
    today = when.strftime("%Y%m%d")
    results = [batch.results[i] for i in indexes]
    first = results[0].claim
    total = sum((r.claim.charge for r in results), start=Decimal(0))
    segs: Segments = [
        ["ST", "277", "", "005010X214"],
        ["BHT", "0085", "08", reference, today, when.strftime("%H%M"), "TH"],
        ["HL", "1", "", "20", "1"],
        ["NM1", "PR", "2", first.payer_name or first.payer_id, "", "", "", "", "PI",
         first.payer_id],
        ["TRN", "1", reference],
        ["DTP", "050", "D8", today],
        ["DTP", "009", "D8", today],
        ["HL", "2", "1", "21", "1"],
        ["NM1", "41", "2", batch.submitter_name, "", "", "", "", "46", batch.submitter_id],
        ["TRN", "2", batch.bht03],
        ["STC", "A1:19:PR", today, "WQ", amount(total)],
        *_counts(("90", "AA"), results),
    ]
    providers: dict[tuple[str, str, str], list[int]] = {}
    for i in indexes:
        c = batch.results[i].claim
        providers.setdefault((c.billing_npi, c.billing_name, c.billing_tin), []).append(i)
    hl = 2
    for (npi, name, tin), members in providers.items():
        hl += 1
        provider_hl = hl
        group = [batch.results[i] for i in members]
        qualifier, ident = ("XX", npi) if npi else ("FI", tin or "000000000")
        segs += [
            ["HL", str(provider_hl), "2", "19", "1"],
            ["NM1", "85", "2", name or "BILLING PROVIDER", "", "", "", "", qualifier, ident],
            ["TRN", "1", f"{reference}-{provider_hl}"],
            ["STC", "A1:19:85", "", "WQ",
             amount(sum((r.claim.charge for r in group), start=Decimal(0)))],
        ]
        if tin:
            segs.append(["REF", "TJ", tin])
        segs += _counts(("QA", "QC"), group)
        for i in members:
            r = batch.results[i]
            c = r.claim
            hl += 1
            segs += [
                ["HL", str(hl), str(provider_hl), "PT"],
                ["NM1", "QC", "1", c.patient_last or c.subscriber_last or "UNKNOWN",
                 c.patient_first or c.subscriber_first, "", "", "",
                 "MI" if c.member_id else "", c.member_id],
                ["TRN", "2", c.pcn],
                _stc(r, today, c.charge),
            ]
            if batch.payer_claim_numbers.get(i):
                segs.append(["REF", "1K", batch.payer_claim_numbers[i]])
            if r.trace:
                segs.append(["REF", "D9", r.trace])
            qualifier_472, dates = date_range([line.service_date for line in c.lines], today)
            segs.append(["DTP", "472", qualifier_472, dates])
    return segs


def claim_ack_sets(batch: ClaimAckBatch, when: datetime) -> list[Segments]:
    """The 277CA transaction sets for ``batch``: one per payer, in first-seen order."""
    by_payer: dict[str, list[int]] = {}
    for i, r in enumerate(batch.results):
        by_payer.setdefault(r.claim.payer_id, []).append(i)
    several = len(by_payer) > 1
    return [_payer_set(batch, indexes, f"{batch.reference}-{n}" if several else batch.reference,
                       when) for n, indexes in enumerate(by_payer.values(), 1)]
