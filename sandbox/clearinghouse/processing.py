"""The claim path shared by SFTP batches and JSON submissions: count every claim received, run
the front-end edits, adjudicate what passes, group the adjudicated claims into remittances
(one 835 per payer and payee) and record each claim's outcome for claim status inquiries.

Numbers the clearinghouse and its payers assign (all from durable ledger counters, so they are
unique across restarts of a file-backed sandbox): the clearinghouse trace (277CA REF*D9,
``SBX`` + 12 digits), the payer claim control number (277CA REF*1K, 835 CLP07, ``PCC`` + 11
digits) and the check/EFT trace of each 835 (TRN02, 10 digits).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from sandbox.clearinghouse.adjudication import adjudicate
from sandbox.clearinghouse.front_end import edit_claim
from sandbox.clearinghouse.ledger import ClaimOutcome, Ledger, OutcomeLine
from sandbox.clearinghouse.model import ClaimDecision, FrontEndResult, ReceivedClaim
from sandbox.clearinghouse.remit_835 import Payee
from sandbox.clearinghouse.x12_out import procedure_composite

__all__ = ["Processed", "Remittance", "adjudicated_status", "process_claims"]


@dataclass(frozen=True, slots=True)
class Remittance:
    """The claims one 835 pays: one payer, one payee, one check/EFT trace."""

    payer_id: str
    payee: Payee
    trace: str
    decisions: tuple[ClaimDecision, ...]


@dataclass(slots=True)
class Processed:
    results: list[FrontEndResult]
    decisions: dict[int, ClaimDecision] = field(default_factory=dict)
    """Index in ``results`` -> the payer's decision on an accepted claim."""
    remittances: list[Remittance] = field(default_factory=list)

    def payer_claim_numbers(self) -> dict[int, str]:
        return {i: d.payer_claim_number for i, d in self.decisions.items()}


def adjudicated_status(decision: ClaimDecision) -> tuple[str, str]:
    """The 277 STC01 category and status of an adjudicated claim (X212): F1:65 paid, F1:1
    processed with nothing paid by the payer (see the remittance), F2:1 denied."""
    if decision.status == "4":
        return "F2", "1"
    return ("F1", "65") if decision.paid else ("F1", "1")


def _outcome(r: FrontEndResult, d: ClaimDecision | None, check: str, today: str
             ) -> ClaimOutcome:
    c = r.claim
    dates = sorted(line.service_date for line in c.lines if line.service_date)
    if d is None:
        category, status, entity = r.category, r.status_code, r.entity
    else:
        (category, status), entity = adjudicated_status(d), ""
    lines = tuple(
        OutcomeLine(procedure_composite(ld.line.procedure, ld.line.modifiers),
                    ld.line.control_number, ld.line.charge, ld.paid, ld.line.service_date,
                    ld.line.units)
        for ld in (d.lines if d is not None else ())
    )
    return ClaimOutcome(
        sender_id=c.sender_id, pcn=c.pcn, payer_id=c.payer_id, member_id=c.member_id,
        payer_claim_number=d.payer_claim_number if d is not None else "", trace=r.trace,
        category=category, status_code=status, entity=entity, charge=c.charge,
        paid=d.paid if d is not None else Decimal(0),
        patient_responsibility=d.patient_responsibility if d is not None else Decimal(0),
        service_from=dates[0] if dates else "", service_to=dates[-1] if dates else "",
        check_number=check, decided=today, lines=lines,
    )


def process_claims(claims: Sequence[ReceivedClaim], ledger: Ledger, *, channel: str,
                   source: str, today: date | None = None, json_limits: bool = False,
                   count: bool = True) -> Processed:
    """Edit, adjudicate and record ``claims``; ``count`` False for a dry run's bookkeeping
    only (nothing is then counted as received)."""
    today = today or date.today()
    if not claims:
        return Processed([])
    if count:
        by_sender: dict[str, list[str]] = {}
        for c in claims:
            by_sender.setdefault(c.sender_id, []).append(c.pcn)
        for sender, pcns in by_sender.items():
            ledger.record_claims(sender, pcns, channel, source)
    first_trace = ledger.take("trace", len(claims))
    results = [edit_claim(c, f"SBX{first_trace + i:012d}", today=today,
                          json_limits=json_limits) for i, c in enumerate(claims)]
    accepted = [i for i, r in enumerate(results) if r.accepted]
    out = Processed(results)
    if accepted:
        first_number = ledger.take("payer_claim", len(accepted))
        for n, i in enumerate(accepted):
            out.decisions[i] = adjudicate(claims[i], f"PCC{first_number + n:011d}")
    groups: dict[tuple[str, str, str, str], list[int]] = {}
    for i in accepted:
        c = claims[i]
        groups.setdefault((c.payer_id, c.billing_npi, c.billing_name, c.billing_tin),
                          []).append(i)
    checks: dict[int, str] = {}
    if groups:
        first_check = ledger.take("check", len(groups))
        for n, ((payer_id, npi, name, tin), members) in enumerate(groups.items()):
            trace = f"{first_check + n:010d}"
            out.remittances.append(Remittance(payer_id, Payee(name, npi, tin), trace,
                                              tuple(out.decisions[i] for i in members)))
            checks.update((i, trace) for i in members)
    stamp = today.strftime("%Y%m%d")
    ledger.record_outcomes(_outcome(r, out.decisions.get(i), checks.get(i, ""), stamp)
                           for i, r in enumerate(results))
    return out
