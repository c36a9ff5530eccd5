"""835 import (005010X221A1): EOBs, ClaimResponses and the PaymentReconciliation, once.

The payment (BPR/TRN) is the unit of idempotency: TRN03 (the payer's originating id) and TRN02
(the check or EFT trace number) key a ``remittance`` record, so the same 835 imported twice
changes nothing. Each 2100 claim (CLP) is matched to a submitted Claim by patient control
number (CLP01 = CLM01) and total charge (CLP03 = CLM02); a match stores the payer's
ClaimResponse and the ExplanationOfBenefit pointing at that Claim and completes the Claim's
submission ClaimResponse; a claim that matches nothing goes to the exception queue with its
mapped resources, for staff to resolve (``exceptions.py``).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from mappers.fhir_x12.x835_to_fhir import remittance_resources
from mappers.x12.tree import TransactionSet
from server.jobs import records
from server.jobs.claim_responses import response_id, with_outcome
from server.jobs.fhir_writes import read_resource, upsert
from server.storage.outbox import OutboxUnitOfWork, Record

__all__ = ["attach_to_claim", "import_remittance"]

Resource = dict[str, Any]

_DENIED = "4"  # CLP02 4: denied


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


async def attach_to_claim(uow: OutboxUnitOfWork, claim: Record, response: Resource,
                          eob: Resource, status_code: str, paid: Decimal) -> list[Resource]:
    """Store the payer's ClaimResponse and the EOB pointing at ``claim``, and complete the
    Claim's submission ClaimResponse."""
    claim_ref = {"reference": f"Claim/{claim.key}"}
    bundle_claim = (claim.data.get("bundle") or {}).get("entry", [{}])[0].get("resource", {})
    patient = bundle_claim.get("patient") or response.get("patient")
    response = {**response, "request": claim_ref, "patient": patient}
    eob = {**eob, "claim": claim_ref, "patient": patient,
           "claimResponse": {"reference": f"ClaimResponse/{response['id']}"}}
    await upsert(uow, response)
    await upsert(uow, eob)
    state = "denied" if status_code == _DENIED else "paid"
    data = {**claim.data, "state": state, "remitted": [response["id"], eob["id"]]}
    await uow.put_record(records.CLAIM, claim.key, data, ref=claim.ref, state=state)
    current = await read_resource(uow, "ClaimResponse", response_id(claim.key))
    if current is not None:
        verb = "Denied by the payer" if state == "denied" else f"Paid {paid:.2f} by the payer"
        await upsert(uow, with_outcome(current, "complete", verb))
    return [response, eob]


async def _match(uow: OutboxUnitOfWork, pcn: str, charge: Decimal | None
                 ) -> tuple[Record | None, str]:
    found = await uow.find_records(records.CLAIM, ref=pcn, limit=50)
    if not found:
        return None, "No submitted claim has this patient control number"
    same = [c for c in found if _decimal(c.data.get("charge")) == charge]
    if not same:
        return None, (f"The claim with this patient control number was charged "
                      f"{found[0].data.get('charge')}, the remittance says {charge}")
    return max(same, key=lambda r: int(r.data.get("submitted_us", 0))), ""


async def import_remittance(uow: OutboxUnitOfWork, ts: TransactionSet) -> list[Resource]:
    """Apply one 835 transaction set; nothing when its payment was imported before."""
    trn = next((s for s in ts.root.walk() if s.tag == "TRN"), None)
    key = f"{trn.get(3) if trn else ''}|{trn.get(2) if trn else ''}"
    if await uow.get_record(records.REMITTANCE, key) is not None:
        return []
    loops = list(ts.root.find("2100"))
    pcns = [next(loop.segments("CLP")).get(1) for loop in loops]
    sources: dict[str, Mapping[str, Any]] = {}
    for pcn in pcns:
        found = await uow.find_records(records.CLAIM, ref=pcn, limit=1)
        if found and found[0].data.get("bundle"):
            sources[pcn] = found[0].data["bundle"]
    mapped = remittance_resources(ts, sources)
    reconciliation, pairs = mapped[0], mapped[1:]
    out: list[Resource] = []
    responses: dict[str, str] = {}
    for n, loop in enumerate(loops):
        clp = next(loop.segments("CLP"))
        response, eob = pairs[2 * n], pairs[2 * n + 1]
        charge, paid = _decimal(clp.get(3)), _decimal(clp.get(4)) or Decimal(0)
        claim, reason = await _match(uow, clp.get(1), charge)
        if claim is None:
            exception_id = str(uuid.uuid4())
            await uow.put_record(records.EXCEPTION, exception_id, {
                "id": exception_id, "remittance": key, "pcn": clp.get(1),
                "status": clp.get(2), "charge": str(charge), "paid": str(paid),
                "payer_claim_number": clp.get(7), "reason": reason,
                "response": response, "eob": eob,
            }, ref=clp.get(1), state="open")
            continue
        out += await attach_to_claim(uow, claim, response, eob, clp.get(2), paid)
        responses[f"urn:uuid:{response['id']}"] = claim.key
    for detail in reconciliation.get("detail", []):
        target = (detail.get("response") or {}).get("reference")
        if target in responses:
            detail["request"] = {"reference": f"Claim/{responses[target]}"}
            detail["response"] = {"reference": f"ClaimResponse/{target[9:]}"}
        elif target:
            detail.pop("response", None)  # its ClaimResponse waits in the exception queue
    await upsert(uow, reconciliation)
    await uow.put_record(records.REMITTANCE, key, {
        "reconciliation": reconciliation["id"], "claims": len(loops),
        "matched": len(responses),
    })
    return [reconciliation, *out]
