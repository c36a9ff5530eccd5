"""What comes back from a clearinghouse, applied to the store (CLEARINGHOUSES.md 5.1).

- TA1 (TA101 = our ISA13): an interchange rejected as a whole rejects its claims; TA105 025
  (duplicate control number) means the first copy was received, so the batch counts as sent.
- 999 (AK102 = our GS06, AK202 = our ST02, IK5 the verdict): each set's claims are
  acknowledged, or rejected with the IK3/IK4 reasons.
- 277CA (2200D TRN02 = CLM01): each Claim's ClaimResponse is updated (accepted, or ``error``
  with the STC codes) through ``mappers/fhir_x12/acknowledgments.py``.
- 835: see ``remittance.py``.
- 277 (claim status) and 271 (eligibility): mapped and handed back to the caller.
- ClaimResponses a vendor-JSON mapper built (synchronous claim answers): applied like a 277CA.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from mappers.fhir_x12.acknowledgments import claim_acknowledgments, set_acceptances
from mappers.fhir_x12.x271_to_fhir import eligibility_responses
from mappers.fhir_x12.x277_to_fhir import claim_statuses
from mappers.x12.engine import parse
from mappers.x12.reader import Batch, read_batches
from server.connectors.port import Inbound
from server.jobs import records
from server.jobs.claim_responses import response_id, with_outcome, with_update
from server.jobs.fhir_writes import read_resource, upsert
from server.jobs.remittance import import_remittance
from server.storage.outbox import OutboxUnitOfWork, Record

__all__ = ["apply_inbound", "claim_by_pcn", "set_claim_state"]

_log = logging.getLogger("facade.pipeline")

Resource = dict[str, Any]

#: TA105 notes (X12.5) that name a problem of ours; 025 is a duplicate, i.e. delivered before.
_DUPLICATE = "025"


async def claim_by_pcn(uow: OutboxUnitOfWork, pcn: str) -> Record | None:
    """The submitted claim with patient control number ``pcn`` (the latest, if several)."""
    found = await uow.find_records(records.CLAIM, ref=pcn, limit=50)
    if not found:
        return None
    return max(found, key=lambda r: int(r.data.get("submitted_us", 0)))


async def set_claim_state(uow: OutboxUnitOfWork, claim: Record, state: str,
                          **changes: Any) -> None:
    data = {**claim.data, **changes, "state": state}
    await uow.put_record(records.CLAIM, claim.key, data, ref=claim.ref, state=state)


async def _update_response(uow: OutboxUnitOfWork, claim: Record,
                           update: Mapping[str, Any] | None = None, *,
                           outcome: tuple[str, str, Sequence[str]] | None = None
                           ) -> Resource | None:
    current = await read_resource(uow, "ClaimResponse", response_id(claim.key))
    if current is None:
        return None
    new = with_update(current, update) if update is not None else current
    if outcome is not None:
        new = with_outcome(new, outcome[0], outcome[1], outcome[2])
    await upsert(uow, new)
    return new


async def _reject_claims(uow: OutboxUnitOfWork, claims: Sequence[Record], why: str,
                         notes: Sequence[str]) -> None:
    for claim in claims:
        if claim.state in records.FINAL_STATES:
            continue
        await set_claim_state(uow, claim, "rejected")
        await _update_response(uow, claim, outcome=("error", why, notes))


async def _batch_claims(uow: OutboxUnitOfWork, batch: Record,
                        pcns: Sequence[str] | None = None) -> list[Record]:
    out = []
    for pcn, claim_id in batch.data.get("claims", {}).items():
        if pcns is not None and pcn not in pcns:
            continue
        claim = await uow.get_record(records.CLAIM, claim_id)
        if claim is not None and claim.data.get("batch") == batch.key:
            out.append(claim)
    return out


def _ta1_segments(text: str) -> list[list[str]]:
    out = []
    for item in read_batches(text):
        if isinstance(item, Batch):
            sep = item.delimiters.element
            out += [s.split(sep) for s in item.segments if s.startswith("TA1" + sep)]
    return out


async def _ta1(uow: OutboxUnitOfWork, ta1: list[str]) -> None:
    # Batches are keyed by ISA13 without its zero padding (TA101 is the padded ISA13).
    control = ta1[1].lstrip("0") if len(ta1) > 1 else ""
    found = await uow.find_records(records.BATCH, ref=control, limit=2)
    if not found:
        return
    batch = found[0]
    verdict, note = (ta1[4] if len(ta1) > 4 else ""), (ta1[5] if len(ta1) > 5 else "")
    if note == _DUPLICATE or verdict in ("A", "E"):
        if batch.state in ("prepared", "sending", "uncertain"):
            await uow.put_record(records.BATCH, batch.key, batch.data, ref=batch.ref,
                                 state="sent")
        return
    await uow.put_record(records.BATCH, batch.key, batch.data, ref=batch.ref, state="rejected")
    await _reject_claims(uow, await _batch_claims(uow, batch),
                         "The clearinghouse rejected the interchange (TA1)",
                         [f"TA1 {verdict} note {note}"])


async def _999(uow: OutboxUnitOfWork, ts: Any) -> None:
    for verdict in set_acceptances(ts):
        group = await uow.get_record(records.GROUP, verdict.group_control_number)
        if group is None:
            continue
        batch = await uow.get_record(records.BATCH, group.data["batch"])
        if batch is None:
            continue
        pcns = [pcn for pcn, (gs06, st02) in batch.data.get("sets", {}).items()
                if gs06 == verdict.group_control_number
                and st02.lstrip("0") == verdict.control_number.lstrip("0")]
        claims = await _batch_claims(uow, batch, pcns)
        if batch.state in ("prepared", "sending", "uncertain", "sent"):
            await uow.put_record(records.BATCH, batch.key, batch.data, ref=batch.ref,
                                 state="acknowledged")
        if verdict.accepted:
            for claim in claims:
                if claim.state in ("batched", "sent"):
                    await set_claim_state(uow, claim, "acknowledged")
        else:
            await _reject_claims(uow, claims, "The clearinghouse rejected the 837 (999)",
                                 [f"IK5 {verdict.code}", *verdict.reasons])


async def _claim_answers(uow: OutboxUnitOfWork, mapped: Sequence[Resource]) -> list[Resource]:
    """Apply ClaimResponses keyed by patient control number (277CA, 277, vendor JSON)."""
    out: list[Resource] = []
    for response in mapped:
        request = response.get("request") or {}
        claim: Record | None = None
        ref = request.get("reference")
        if isinstance(ref, str) and ref.startswith("Claim/"):
            claim = await uow.get_record(records.CLAIM, ref.split("/")[1])
        ident = request.get("identifier") or {}
        if claim is None and ident.get("value"):
            claim = await claim_by_pcn(uow, str(ident["value"]))
        if claim is None:
            _log.info("an acknowledgment names a claim this server did not send")
            continue
        if claim.state in records.FINAL_STATES:
            # A later answer (the 835) already settled it: keep only the identifiers.
            response = {"identifier": response.get("identifier", [])}
        elif response.get("outcome") == "error":
            await set_claim_state(uow, claim, "rejected")
        elif claim.state in ("queued", "batched", "sent", "acknowledged"):
            await set_claim_state(uow, claim, "accepted")
        updated = await _update_response(uow, claim, response)
        if updated is not None:
            out.append(updated)
    return out


async def apply_inbound(uow: OutboxUnitOfWork, document: Inbound) -> list[Resource]:
    """Apply one document; returns the FHIR resources it produced (updated ClaimResponses,
    EOBs, eligibility responses) for a synchronous caller."""
    if document.resources is not None:
        return await _claim_answers(
            uow, [r for r in document.resources if r.get("resourceType") == "ClaimResponse"]
        ) + [r for r in document.resources if r.get("resourceType") != "ClaimResponse"]
    text = document.x12 or ""
    for ta1 in _ta1_segments(text):
        await _ta1(uow, ta1)
    sets, _ = parse(text)
    out: list[Resource] = []
    for ts in sets:
        if ts.guide == "005010X231A1":
            await _999(uow, ts)
        elif ts.guide == "005010X214":
            out += await _claim_answers(uow, claim_acknowledgments(ts))
        elif ts.guide == "005010X221A1":
            out += await import_remittance(uow, ts)
        elif ts.guide == "005010X212" and ts.st.get(1) == "277":
            out += await _claim_answers(uow, claim_statuses(ts))
        elif ts.guide == "005010X279A1" and ts.st.get(1) == "271":
            out += eligibility_responses(ts)
    return out
