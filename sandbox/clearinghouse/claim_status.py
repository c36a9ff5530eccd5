"""Claim status inquiries and their answers (276/277 005010X212; CHC claim status v2).

A ``StatusInquiry`` is read from a 276 (2100A payer, 2100B receiver, 2100C provider NPI,
2100D subscriber member id, 2200D TRN*1 trace, REF*1K payer claim number, REF*EJ patient control
number, AMT*T3 submitted amount, DTP*472; 2000E/2100E/2200E for a dependent) or from a CHC
claim status v2 body (CLEARINGHOUSES.md section 3, "Claim status request").

``decide`` answers, first by the Optum sandbox's magic payer ids (section 4):
``00001`` no response possible (E1:0), ``000002`` dependent denied (F2:88:QC), ``00003``
accepted and paid (F1:65), ``00004`` rejected (A7:21); then from the ledger (the claim by its
payer claim number, else by patient control number, payer and member): front-end rejection
(A3/A6/A7 with its status code) or adjudication (F1:65 paid, F1:1, F2:1 denied) with the paid
amount and check number; else not found (A4:35).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from mappers.x12.tree import Loop, Segment, TransactionSet
from sandbox.clearinghouse.claims_in import decimal_or_none
from sandbox.clearinghouse.json_fields import json_object as _obj
from sandbox.clearinghouse.json_fields import json_text as _text
from sandbox.clearinghouse.ledger import ClaimOutcome, Ledger, OutcomeLine

__all__ = ["MAGIC_PAYERS", "StatusAnswer", "StatusInquiry", "decide", "inquiries_from_276",
           "inquiry_from_json"]

MAGIC_PAYERS = {
    "00001": ("E1", "0", ""),
    "000002": ("F2", "88", "QC"),
    "00003": ("F1", "65", ""),
    "00004": ("A7", "21", ""),
}
"""Optum claim status sandbox payer ids -> (category, status, entity)."""


@dataclass(frozen=True, slots=True)
class StatusInquiry:
    payer_id: str
    payer_name: str
    receiver_id: str
    receiver_name: str
    provider_npi: str
    provider_name: str
    member_id: str
    subscriber_last: str
    subscriber_first: str
    trace: str
    pcn: str
    payer_claim_number: str = ""
    submitted: Decimal | None = None
    service_from: str = ""
    service_to: str = ""
    patient_last: str = ""
    patient_first: str = ""
    """Set when the patient is a dependent (2000E)."""
    reference: str = ""
    """BHT03 of the 276 / ``controlNumber`` of the JSON request."""


@dataclass(frozen=True, slots=True)
class StatusAnswer:
    inquiry: StatusInquiry
    category: str
    status_code: str
    entity: str
    charge: Decimal
    paid: Decimal | None
    decided: str
    payer_claim_number: str = ""
    trace: str = ""
    """Clearinghouse trace (REF*D9)."""
    check_number: str = ""
    lines: tuple[OutcomeLine, ...] = ()


def decide(q: StatusInquiry, ledger: Ledger, today: str) -> StatusAnswer:
    """The status of the claim ``q`` asks about (see the module docstring)."""
    charge = q.submitted if q.submitted is not None else Decimal(0)
    magic = MAGIC_PAYERS.get(q.payer_id)
    if magic is not None:
        category, status, entity = magic
        paid = charge if category == "F1" else Decimal(0) if category == "F2" else None
        return StatusAnswer(q, category, status, entity, charge, paid, today,
                            check_number="0000000003" if category == "F1" else "")
    found: ClaimOutcome | None = None
    if q.payer_claim_number:
        found = ledger.find_outcome(payer_claim_number=q.payer_claim_number)
    if found is None and q.pcn:
        found = ledger.find_outcome(pcn=q.pcn, payer_id=q.payer_id, member_id=q.member_id)
    if found is None:
        return StatusAnswer(q, "A4", "35", "", charge, None, today)
    adjudicated = found.category.startswith("F")
    return StatusAnswer(
        q, found.category, found.status_code, found.entity, found.charge,
        found.paid if adjudicated else None, found.decided or today,
        payer_claim_number=found.payer_claim_number, trace=found.trace,
        check_number=found.check_number, lines=found.lines,
    )


# -- reading a 276 ---------------------------------------------------------------------------


def _nm1(loop: Loop | None) -> Segment | None:
    return next(loop.segments("NM1"), None) if loop is not None else None


def _claim_fields(claim: Loop) -> dict[str, Any]:
    trn = next(claim.segments("TRN"), None)
    refs = {r.get(1): r.get(2) for r in claim.segments("REF")}
    amt = next((a for a in claim.segments("AMT") if a.get(1) == "T3"), None)
    dtp = next((d for d in claim.segments("DTP") if d.get(1) == "472"), None)
    start, _, end = (dtp.get(3) if dtp is not None else "").partition("-")
    trace = trn.get(2) if trn is not None else ""
    return {
        "trace": trace, "pcn": refs.get("EJ") or trace,
        "payer_claim_number": refs.get("1K", ""),
        "submitted": decimal_or_none(amt.get(2)) if amt is not None else None,
        "service_from": start, "service_to": end or start,
    }


def inquiries_from_276(ts: TransactionSet) -> list[StatusInquiry]:
    """One inquiry per claim (2200D or 2200E) of a 276."""
    bht = next((s for s in ts.root.walk() if s.tag == "BHT"), None)
    reference = bht.get(3) if bht is not None else ""
    out: list[StatusInquiry] = []
    for source in ts.root.find("2000A"):
        payer = _nm1(next(source.loops("2100A"), None))
        for receiver_level in source.loops("2000B"):
            receiver = _nm1(next(receiver_level.loops("2100B"), None))
            for provider_level in receiver_level.loops("2000C"):
                provider = _nm1(next(provider_level.loops("2100C"), None))
                for sub_level in provider_level.loops("2000D"):
                    sub = _nm1(next(sub_level.loops("2100D"), None))
                    base: dict[str, Any] = {
                        "payer_id": payer.get(9) if payer else "",
                        "payer_name": payer.get(3) if payer else "",
                        "receiver_id": receiver.get(9) if receiver else "",
                        "receiver_name": receiver.get(3) if receiver else "",
                        "provider_npi": provider.get(9) if provider else "",
                        "provider_name": provider.get(3) if provider else "",
                        "member_id": sub.get(9) if sub else "",
                        "subscriber_last": sub.get(3) if sub else "",
                        "subscriber_first": sub.get(4) if sub else "",
                        "reference": reference,
                    }
                    for claim in sub_level.loops("2200D"):
                        out.append(StatusInquiry(**base, **_claim_fields(claim)))
                    for dep_level in sub_level.loops("2000E"):
                        patient = _nm1(next(dep_level.loops("2100E"), None))
                        for claim in dep_level.loops("2200E"):
                            out.append(StatusInquiry(
                                **base, **_claim_fields(claim),
                                patient_last=patient.get(3) if patient else "",
                                patient_first=patient.get(4) if patient else ""))
    return out


# -- reading a CHC claim status v2 body -------------------------------------------------------






def inquiry_from_json(body: Mapping[str, Any], submitter_id: str) -> StatusInquiry:
    # providers[] lists the information receiver and the billing/service provider; the
    # provider asked about is the one with an NPI (2100C NM1*1P ... XX).
    providers = [p for p in body.get("providers") or [] if isinstance(p, Mapping)]
    provider = next((p for p in providers if p.get("npi")), providers[0] if providers else {})
    subscriber, encounter = _obj(body, "subscriber"), _obj(body, "encounter")
    dependent = _obj(body, "dependent")
    pcn = _text(encounter, "patientAccountNumber")
    start = _text(encounter, "beginningDateOfService") or _text(encounter, "dateOfService")
    return StatusInquiry(
        payer_id=_text(body, "tradingPartnerServiceId"),
        payer_name=_text(body, "tradingPartnerName") or _text(body, "tradingPartnerServiceId"),
        receiver_id=submitter_id, receiver_name=submitter_id,
        provider_npi=_text(provider, "npi"),
        provider_name=_text(provider, "organizationName") or _text(provider, "lastName"),
        member_id=_text(subscriber, "memberId"),
        subscriber_last=_text(subscriber, "lastName"),
        subscriber_first=_text(subscriber, "firstName"),
        trace=_text(encounter, "trackingNumber") or pcn or _text(body, "controlNumber"),
        pcn=pcn,
        payer_claim_number=_text(encounter, "tradingPartnerClaimNumber"),
        submitted=decimal_or_none(encounter.get("submittedAmount")),
        service_from=start,
        service_to=_text(encounter, "endDateOfService") or start,
        patient_last=_text(dependent, "lastName"),
        patient_first=_text(dependent, "firstName"),
        reference=_text(body, "controlNumber"),
    )
