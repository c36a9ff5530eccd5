"""Acknowledgments of submitted claims, as FHIR and as plain verdicts.

- 277CA (005010X214) -> one ClaimResponse per claim (2200D): accepted into adjudication
  (outcome ``queued``) or rejected (outcome ``error``, each STC as an ``error`` with its status
  category and status code, line-level ones with their ``itemSequence``), linked to the Claim
  by its patient control number (2200D TRN02 = CLM01), with the payer's claim number (REF*1K)
  and the clearinghouse trace number (REF*D9) as identifiers.
- 999 (005010X231A1) -> one verdict per acknowledged transaction set (AK2/IK5), with the group
  it belongs to (AK1) and the segment errors (IK3/IK4) in words.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from mappers.fhir_x12 import systems
from mappers.x12.dates import iso_date
from mappers.x12.errors import IK304, IK403
from mappers.x12.tree import Loop, Segment, TransactionSet

__all__ = ["SetAcceptance", "claim_acknowledgments", "set_acceptances"]

Resource = dict[str, Any]

_NAMESPACE = uuid.UUID("0b2f6f6e-7d9a-5c51-8e22-277277277277")

# Claim status categories (code source 507) that reject the claim: A3 returned as unprocessable,
# A4 not found, A6 missing information, A7 invalid information, A8 relational error; E0-E4
# response not possible.
_REJECTING = frozenset({"A3", "A4", "A6", "A7", "A8", "E0", "E1", "E2", "E3", "E4"})


def _statuses(stc: Segment) -> list[tuple[str, str, str]]:
    """(category, status, entity) of STC01, STC10 and STC11."""
    out = []
    for position in (1, 10, 11):
        parts = stc.get(position).split(":") if stc.get(position) else []
        if parts and parts[0]:
            parts += ["", ""]
            out.append((parts[0], parts[1], parts[2]))
    return out


def _status_code(category: str, status: str) -> dict[str, Any]:
    coding = [{"system": systems.CLAIM_STATUS_CATEGORY, "code": category}]
    if status:
        coding.append({"system": systems.CLAIM_STATUS, "code": status})
    return {"coding": coding, "text": f"{category}:{status}" if status else category}


def _claim_response(ts: TransactionSet, claim: Loop, patient_nm1: Segment | None,
                    provider: Segment | None, payer: Segment | None, batch: str,
                    number: int) -> Resource:
    trn = next(claim.segments("TRN"))
    stcs = list(claim.segments("STC"))
    refs = {r.get(1): r.get(2) for r in claim.segments("REF")}
    pcn = trn.get(2)
    categories = [c for stc in stcs for c, _, _ in _statuses(stc)]
    rejected = any(c in _REJECTING for c in categories)
    errors: list[dict[str, Any]] = [
        {"code": _status_code(c, s)} for stc in stcs for c, s, _ in _statuses(stc) if rejected
    ]
    for n, line in enumerate(claim.loops("2220D"), 1):
        for stc in line.segments("STC"):
            for c, s, _ in _statuses(stc):
                if c in _REJECTING:
                    errors.append({"itemSequence": n, "code": _status_code(c, s)})
    effective = next((stc.get(2) for stc in stcs if stc.get(2)), "")
    payer_id = payer.get(9) if payer is not None else ""
    identifiers = [{"system": systems.acknowledgment_claim(), "value": f"{batch}/{pcn}/{number}"}]
    if refs.get("1K"):
        identifiers.append({"system": systems.payer_claim_number(payer_id),
                            "value": refs["1K"]})
    if refs.get("D9"):
        identifiers.append({"system": systems.clearinghouse_trace(), "value": refs["D9"]})
    patient: dict[str, Any] = {"display": _person(patient_nm1)}
    if patient_nm1 is not None and patient_nm1.get(8) == "MI" and patient_nm1.get(9):
        patient["identifier"] = {"system": systems.member_id(payer_id),
                                 "value": patient_nm1.get(9)}
    response: Resource = {
        "resourceType": "ClaimResponse",
        "id": str(uuid.uuid5(_NAMESPACE, f"{payer_id}|{batch}|{pcn}|{number}")),
        "identifier": identifiers,
        "status": "active",
        "type": {"coding": [{"system": systems.CLAIM_TYPE,
                             "code": "institutional" if "BLT" in refs else "professional"}]},
        "use": "claim",
        "patient": patient,
        "created": iso_date(effective) if effective else _receiptiso_date(ts),
        "insurer": {"identifier": {"system": systems.payer_id(), "value": payer_id},
                    "display": payer.get(3) if payer is not None else ""},
        "request": {"identifier": {"system": systems.patient_control_number(), "value": pcn}},
        "outcome": "error" if rejected else "queued",
        "disposition": ("Rejected by the payer's front end" if rejected
                        else "Accepted for adjudication"),
    }
    if provider is not None and provider.get(8) == "XX":
        response["requestor"] = {"identifier": {"system": systems.NPI, "value": provider.get(9)},
                                 "display": provider.get(3)}
    if errors:
        response["error"] = errors
    notes = [stc.get(12) for stc in stcs if stc.get(12)]
    if notes:
        response["processNote"] = [{"number": i, "type": "display", "text": text}
                                   for i, text in enumerate(notes, 1)]
    return response


def _person(nm1: Segment | None) -> str:
    if nm1 is None:
        return ""
    first, last = nm1.get(4), nm1.get(3)
    return f"{first} {last}".strip() if first else last


def _receiptiso_date(ts: TransactionSet) -> str:
    """BHT04, the date the acknowledgment was made."""
    bht = next(seg for seg in ts.root.walk() if seg.tag == "BHT")
    return iso_date(bht.get(4))


def claim_acknowledgments(ts: TransactionSet) -> list[Resource]:
    """One ClaimResponse per claim acknowledged by a 277CA."""
    if ts.guide != "005010X214":
        raise ValueError("not a 277CA (005010X214) transaction set")
    payer_loop = next(ts.root.find("2100A"), None)
    payer = next(payer_loop.segments("NM1"), None) if payer_loop is not None else None
    out: list[Resource] = []
    number = 0
    for receiver in ts.root.find("2000B"):
        batch_trn = next((t for loop in receiver.loops("2200B") for t in loop.segments("TRN")),
                         None)
        batch = batch_trn.get(2) if batch_trn is not None else ""
        for billing in receiver.loops("2000C"):
            provider_loop = next(billing.loops("2100C"), None)
            provider = next(provider_loop.segments("NM1"), None) if provider_loop else None
            for patient in billing.loops("2000D"):
                name_loop = next(patient.loops("2100D"), None)
                patient_nm1 = next(name_loop.segments("NM1"), None) if name_loop else None
                for claim in patient.loops("2200D"):
                    number += 1
                    out.append(_claim_response(ts, claim, patient_nm1, provider, payer, batch,
                                               number))
    return out


@dataclass
class SetAcceptance:
    """A 999's verdict on one transaction set we sent."""

    functional_id: str
    group_control_number: str
    version: str
    transaction: str
    control_number: str
    accepted: bool
    code: str
    """IK501: A accepted, E accepted with errors, R rejected, ..."""
    reasons: list[str] = field(default_factory=list)


def set_acceptances(ts: TransactionSet) -> list[SetAcceptance]:
    """One verdict per AK2 of a 999 (X231A1 2000 loop), in its words."""
    if ts.guide != "005010X231A1":
        raise ValueError("not a 999 (005010X231A1) transaction set")
    ak1 = next((s for s in ts.root.walk() if s.tag == "AK1"), None)
    fic, gs06, version = (ak1.get(1), ak1.get(2), ak1.get(3)) if ak1 is not None else ("", "", "")
    out: list[SetAcceptance] = []
    for loop in ts.root.find("2000"):
        ak2 = next(loop.segments("AK2"))
        ik5 = next(loop.segments("IK5"), None)
        code = ik5.get(1) if ik5 is not None else ""
        reasons = []
        for error in loop.loops("2100"):
            ik3 = next(error.segments("IK3"))
            reasons.append(f"segment {ik3.get(1)} at {ik3.get(2)}: "
                           f"{IK304.get(ik3.get(4), ik3.get(4))}")
            for element in error.loops("2110"):
                ik4 = next(element.segments("IK4"))
                reasons.append(f"  element {ik4.get(1)}: {IK403.get(ik4.get(3), ik4.get(3))}")
        out.append(SetAcceptance(fic, gs06, version, ak2.get(1), ak2.get(2),
                                 code in ("A", "E"), code, reasons))
    return out
