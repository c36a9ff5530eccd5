"""An X12 batch file received over SFTP, answered in the order a clearinghouse answers
(CLEARINGHOUSES.md section 5, "Ack order"): TA1, 999, 277CA, 835.

- The file is parsed once (``mappers.x12.iter_transaction_sets``: loop trees and the
  validation report together).
- Envelope checks beyond X12 syntax, per interchange (X12.5 TA105 note codes, the Stedi SFTP
  rules): ISA06 not the account's sender id -> 006, ISA08 not the clearinghouse -> 008, ISA15
  not the account's usage -> 020, an ISA13 this sender used before -> 025. Any of them rejects
  the interchange: a TA1 with TA104 R, and nothing in it is processed or counted.
- A TA1 also answers ISA14 = 1 (acknowledgment requested) and any other envelope note.
- The 999 (005010X231A1, ``mappers.x12.acks``) acknowledges every group; AK102 = GS06,
  AK202 = ST02. The billing provider's ZIP+4 rule (837P 2010AA N403) is the front end's
  business edit, answered on the 277CA (A7:500:85) rather than in the 999.
- The claims of accepted 837P (and 837I) sets go through ``processing.process_claims``; one 277CA
  interchange answers all the 837 sets of an interchange (2200B TRN02 = each set's BHT03), and
  each remittance (payer and payee) is its own 835 interchange.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from mappers.x12 import iter_transaction_sets
from mappers.x12.acks import acknowledgments
from mappers.x12.errors import InterchangeReport, Report, SegmentError, SetReport
from mappers.x12.tree import TransactionSet
from mappers.x12.writer import ControlNumbers, Group, write_groups
from sandbox.clearinghouse.ack_277ca import ClaimAckBatch, claim_ack_sets
from sandbox.clearinghouse.claims_in import claims_from_837
from sandbox.clearinghouse.ledger import Ledger
from sandbox.clearinghouse.model import ReceivedClaim, ResponseFile, Submitter
from sandbox.clearinghouse.processing import process_claims
from sandbox.clearinghouse.remit_835 import remittance_set
from sandbox.clearinghouse.x12_out import (
    REJECTING_NOTES,
    Segments,
    envelope,
    split_interchanges,
    ta1_interchange,
)

__all__ = ["BatchContext", "receive_batch"]

CLAIM_GUIDES = frozenset({"005010X222A1", "005010X223A2"})
"""837P and 837I: the claims the clearinghouse adjudicates."""


@dataclass(frozen=True, slots=True)
class BatchContext:
    clearinghouse_id: str
    ledger: Ledger
    numbers: ControlNumbers


def _business_edit(e: SegmentError) -> bool:
    """The billing provider ZIP+4 finding (2010AA N403), left to the 277CA."""
    return e.loop == "2010AA" and bool(e.elements) and all(
        el.ref == "N403" and el.code == "I12" for el in e.elements)


def _leave_business_edits(sets: Sequence[SetReport]) -> None:
    for s in sets:
        if s.st01 == "837" and s.errors:
            s.errors[:] = [e for e in s.errors if not _business_edit(e)]


def _envelope_notes(ic: InterchangeReport, submitter: Submitter, ctx: BatchContext,
                    filename: str) -> None:
    isa = ic.isa
    if len(isa) < 17:
        return
    own = []
    if isa[6].strip() != submitter.sender_id:
        own.append("006")
    if isa[8].strip() != ctx.clearinghouse_id:
        own.append("008")
    if isa[15] != submitter.usage:
        own.append("020")
    ic.note_codes.extend(c for c in own if c not in ic.note_codes)
    rejected = any(c in REJECTING_NOTES for c in ic.note_codes)
    if not rejected and not ctx.ledger.record_interchange(submitter.sender_id,
                                                          ic.control_number, filename):
        ic.note_codes.append("025")


def _meta(text: str, ic: InterchangeReport, filename: str, **extra: str) -> dict[str, str]:
    return {"isa13": text[90:99], "in_reply_to": ic.control_number, "filename": filename,
            **extra}


def _acks_999(ic: InterchangeReport, ctx: BatchContext, filename: str,
              when: datetime) -> list[ResponseFile]:
    isa = list(ic.isa)
    isa[14] = "0"  # the TA1 is written on its own
    quiet = InterchangeReport(isa, ic.groups, [])
    text = acknowledgments(Report([quiet]), ctx.numbers, when=when)
    return [ResponseFile("999", part, meta=_meta(part, ic, filename))
            for part in split_interchanges(text)]


def _answers(ic: InterchangeReport, sets: list[TransactionSet], submitter: Submitter,
             ctx: BatchContext, filename: str, when: datetime) -> list[ResponseFile]:
    batches: list[tuple[str, list[ReceivedClaim]]] = []
    for ts in sets:
        found = claims_from_837(ts, submitter.sender_id)
        bht03 = found[0].bht03 if found else ""
        batches.append((bht03, found))
    claims = [c for _, found in batches for c in found]
    if not claims:
        return []
    done = process_claims(claims, ctx.ledger, channel="sftp", source=filename,
                          today=when.date())
    numbers = done.payer_claim_numbers()
    ack_sets: list[Segments] = []
    start = 0
    first_reference = ctx.ledger.take("277ca", len(batches))
    for n, (bht03, found) in enumerate(batches):
        if not found:
            continue
        members = range(start, start + len(found))
        start += len(found)
        batch = ClaimAckBatch(
            bht03=bht03, results=[done.results[i] for i in members],
            payer_claim_numbers={k: numbers[i] for k, i in enumerate(members) if i in numbers},
            submitter_id=submitter.sender_id, submitter_name=submitter.sender_id,
            reference=f"CA{first_reference + n:010d}",
        )
        ack_sets += claim_ack_sets(batch, when)
    qualifier = ic.isa[5] if len(ic.isa) > 5 else "ZZ"
    env = envelope(ctx.clearinghouse_id, submitter.sender_id, ic.isa[15], when, qualifier)
    text = write_groups([Group("HN", "005010X214", ack_sets)], env, ctx.numbers)
    out = [ResponseFile("277CA", text, meta=_meta(text, ic, filename))]
    for remittance in done.remittances:
        body = remittance_set(list(remittance.decisions), remittance.trace, remittance.payee,
                              submitter.sender_id, when)
        text = write_groups([Group("HP", "005010X221A1", [body])], env, ctx.numbers)
        out.append(ResponseFile("835", text, meta=_meta(
            text, ic, filename, payer_id=remittance.payer_id, check=remittance.trace)))
    return out


def receive_batch(content: bytes, submitter: Submitter, filename: str, ctx: BatchContext,
                  when: datetime | None = None) -> list[ResponseFile]:
    """Every answer to a batch file, in order (see the module docstring)."""
    when = when or datetime.now()
    stream = iter_transaction_sets(content)
    by_interchange: dict[int, list[tuple[TransactionSet, SetReport]]] = {}
    for ts, verdict in stream:
        by_interchange.setdefault(id(ts.isa), []).append((ts, verdict))
    report = stream.report
    out: list[ResponseFile] = []
    for ic in report.interchanges:
        if len(ic.isa) < 17:
            continue
        _envelope_notes(ic, submitter, ctx, filename)
        if ic.ack_requested or ic.note_codes:
            text = ta1_interchange(ic, ctx.clearinghouse_id, ctx.numbers, when)
            out.append(ResponseFile("TA1", text, meta=_meta(text, ic, filename)))
        if any(c in REJECTING_NOTES for c in ic.note_codes):
            continue
        for group in ic.groups:
            _leave_business_edits(group.sets)
        if any(g.functional_id != "FA" for g in ic.groups):
            out += _acks_999(ic, ctx, filename, when)
        accepted = [ts for ts, verdict in by_interchange.get(id(ic.isa), [])
                    if ts.guide in CLAIM_GUIDES and verdict.accepted and _group_ok(ic, ts)]
        out += _answers(ic, accepted, submitter, ctx, filename, when)
    return out


def _group_ok(ic: InterchangeReport, ts: TransactionSet) -> bool:
    """A group the 999 rejects as a whole (AK9 R with group codes) is not processed."""
    group = next((g for g in ic.groups if g.gs is ts.gs), None)
    return group is not None and not group.codes
