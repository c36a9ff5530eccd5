"""835 remittance (005010X221A1) -> FHIR: per claim (2100 CLP) an ExplanationOfBenefit and a
ClaimResponse, per payment (BPR/TRN) a PaymentReconciliation, in one transaction Bundle.

Built from the 835 alone: parties are referenced by identifier (payer id, NPI, member id), the
submitted Claim by its patient control number (CLP01), and no CARIN BB profile is claimed (an
835 carries no diagnoses, place of service or network status: STANDARDS 4.1). When the Claim a
CLP01 answers is supplied (its Bundle, keyed by patient control number), the EOB combines both
and claims the CARIN BB 2.0.0 profile that fits (``eob_c4bb.py``). Resource ids are
name-based UUIDs of the payer, the trace number and the claim's place in the file, so the same
835 maps to the same resources every time; each entry is a conditional create on its
identifier, so importing it twice changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from mappers.fhir_x12 import systems
from mappers.fhir_x12.adjudication import CLAIM_STATUS, cas_category
from mappers.fhir_x12.bundles import transaction
from mappers.fhir_x12.eob_c4bb import combine
from mappers.fhir_x12.fhir_build import coding, money
from mappers.fhir_x12.references import BundleIndex
from mappers.x12.balancing import check_835, claim_imbalances
from mappers.x12.dates import iso_date
from mappers.x12.tree import Loop, Segment, TransactionSet

__all__ = ["ClaimSources", "remittance_bundle", "remittance_resources"]

Resource = dict[str, Any]
ClaimSources = Mapping[str, BundleIndex | Mapping[str, Any]]
"""Submitted Claims by patient control number (CLM01 = CLP01): the Claim's Bundle (Claim,
Patient, Coverage, Organizations, Practitioners) or its BundleIndex."""

_NAMESPACE = uuid.UUID("6f1d3c8e-5a0b-5d2e-9c4f-835835835835")


def _amount(seg: Segment, position: int) -> Decimal | None:
    value = seg.get(position)
    if not value:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None






def _name(nm1: Segment) -> str:
    last, first = nm1.get(3), nm1.get(4)
    return f"{first} {last}".strip() if first else last


class _Header:
    """What the whole remittance says: payment, payer, payee."""

    def __init__(self, ts: TransactionSet) -> None:
        walk = list(ts.root.walk())
        self.bpr = next(s for s in walk if s.tag == "BPR")
        self.trn = next(s for s in walk if s.tag == "TRN")
        production = next((s for s in walk if s.tag == "DTM" and s.get(1) == "405"), None)
        self.payment_date = iso_date(self.bpr.get(16))
        self.created = iso_date(production.get(2)) if production is not None else self.payment_date
        payer_loop = next(ts.root.find("1000A"))
        payee_loop = next(ts.root.find("1000B"))
        n1_pr = next(payer_loop.segments("N1"))
        ref_2u = next((r for r in payer_loop.segments("REF") if r.get(1) == "2U"), None)
        self.payer = (ref_2u.get(2) if ref_2u is not None else "") or n1_pr.get(4) \
            or self.trn.get(3)
        self.payer_name = n1_pr.get(2)
        n1_pe = next(payee_loop.segments("N1"))
        self.payee_name = n1_pe.get(2)
        self.payee_npi = n1_pe.get(4) if n1_pe.get(3) == "XX" else ""
        self.trace = self.trn.get(2)
        # meta.lastUpdated of a profiled EOB: the group's creation (GS04/GS05), as UTC; the
        # server sets its own when it stores the resource.
        gs = ts.gs + [""] * 6
        stamp = f"{gs[4]}{gs[5]}".ljust(12, "0") if len(gs[4]) == 8 else ""
        self.last_updated = (f"{iso_date(stamp[:8])}T{stamp[8:10]}:{stamp[10:12]}:00Z"
                             if stamp[8:12].isdigit() else "")
        self.originator = self.trn.get(3) or self.payer

    def insurer(self) -> dict[str, Any]:
        return {"identifier": {"system": systems.payer_id(), "value": self.payer},
                "display": self.payer_name}

    def payee(self, npi: str = "") -> dict[str, Any]:
        npi = npi or self.payee_npi
        if npi:
            return {"identifier": {"system": systems.NPI, "value": npi},
                    "display": self.payee_name}
        return {"display": self.payee_name}

    def uid(self, *parts: str) -> str:
        key = "|".join(("835", self.payer, self.originator, self.trace, *parts))
        return str(uuid.uuid5(_NAMESPACE, key))


def _cas_adjudications(cas_segments: list[Segment]) -> list[dict[str, Any]]:
    out = []
    for cas in cas_segments:
        group = cas.get(1)
        for position in (2, 5, 8, 11, 14, 17):
            reason = cas.get(position)
            amount = _amount(cas, position + 1)
            if not reason or amount is None:
                continue
            system, code = cas_category(group, reason)
            out.append({
                "category": {"coding": [coding(system, code)]},
                "reason": {"coding": [coding(systems.CARC, reason)], "text": f"{group}-{reason}"},
                "amount": money(amount),
            })
    return out


def _category(system: str, code: str, amount: Decimal) -> dict[str, Any]:
    return {"category": {"coding": [coding(system, code)]}, "amount": money(amount)}


def _product(svc: Segment) -> dict[str, Any]:
    parts = svc.get(1).split(":") if svc.get(1) else []
    qualifier, code = (parts + ["", ""])[:2]
    product = {"coding": [coding(systems.product_system(qualifier, code), code)]}
    return product if code else {"text": svc.get(1)}


def _modifiers(svc: Segment) -> list[dict[str, Any]]:
    parts = svc.get(1).split(":")
    system = systems.product_system(parts[0], parts[1] if len(parts) > 1 else "")
    return [{"coding": [coding(system, m)]} for m in parts[2:6] if m]


def _lines(claim: Loop) -> list[dict[str, Any]]:
    items = []
    for n, line in enumerate(claim.loops("2110"), 1):
        svc = next(line.segments("SVC"))
        adjudication = []
        charge, paid = _amount(svc, 2), _amount(svc, 3)
        if charge is not None:
            adjudication.append(_category(systems.ADJUDICATION, "submitted", charge))
        for amt in line.segments("AMT"):
            allowed = _amount(amt, 2)
            if amt.get(1) == "B6" and allowed is not None:
                adjudication.append(_category(systems.ADJUDICATION, "eligible", allowed))
        if paid is not None:
            adjudication.append(_category(systems.C4BB_ADJUDICATION, "paidtoprovider", paid))
        adjudication.extend(_cas_adjudications(list(line.segments("CAS"))))
        item: dict[str, Any] = {
            "sequence": n,
            "productOrService": _product(svc),
            "adjudication": adjudication,
        }
        modifiers = _modifiers(svc)
        if modifiers:
            item["modifier"] = modifiers
        units = _amount(svc, 5)
        if units is not None:
            item["quantity"] = {"value": units}
        dates = {d.get(1): d.get(2) for d in line.segments("DTM")}
        if "472" in dates:
            item["servicedDate"] = iso_date(dates["472"])
        elif "150" in dates:
            item["servicedPeriod"] = {"start": iso_date(dates["150"])}
            if "151" in dates:
                item["servicedPeriod"]["end"] = iso_date(dates["151"])
        notes = [lq.get(2) for lq in line.segments("LQ") if lq.get(1) == "HE"]
        if notes:
            item["_remarks"] = notes
        items.append(item)
    return items


def _claim_parts(h: _Header, claim: Loop, number: int, claims: ClaimSources | None,
                 network: Mapping[str, str] | None) -> tuple[Resource, Resource]:
    clp = next(claim.segments("CLP"))
    patient_nm1 = next((s for s in claim.segments("NM1") if s.get(1) == "QC"), None)
    rendering = next((s for s in claim.segments("NM1") if s.get(1) == "82"), None)
    pcn, status_code, payer_claim = clp.get(1), clp.get(2), clp.get(7)
    outcome, disposition = CLAIM_STATUS.get(status_code, ("complete", f"Status {status_code}"))
    charge = _amount(clp, 3) or Decimal(0)
    paid = _amount(clp, 4) or Decimal(0)
    patient_share = _amount(clp, 5)
    lines = _lines(claim)
    claim_type = "professional"
    first_svc = next((s for line in claim.loops("2110") for s in line.segments("SVC")), None)
    if first_svc is not None and first_svc.get(1).startswith("NU"):
        claim_type = "institutional"
    elif first_svc is not None and first_svc.get(1).startswith("AD"):
        claim_type = "oral"
    member = patient_nm1.get(9) if patient_nm1 is not None else ""
    patient: dict[str, Any] = {"display": _name(patient_nm1) if patient_nm1 is not None else ""}
    if member:
        patient["identifier"] = {"system": systems.member_id(h.payer), "value": member}
    remarks = [lq for item in lines for lq in item.pop("_remarks", [])]
    for moa in claim.segments("MOA"):
        remarks += [moa.get(p) for p in (3, 4, 5, 6, 7) if moa.get(p)]
    totals = [
        _category(systems.ADJUDICATION, "submitted", charge),
        _category(systems.C4BB_ADJUDICATION, "paidtoprovider", paid),
    ]
    if patient_share is not None:
        totals.append(_category(systems.C4BB_ADJUDICATION, "memberliability", patient_share))
    common: dict[str, Any] = {
        "status": "active",
        "type": {"coding": [coding(systems.CLAIM_TYPE, claim_type)]},
        "use": "claim",
        "patient": patient,
        "created": h.created,
        "insurer": h.insurer(),
        "outcome": outcome,
        "disposition": disposition,
        "payment": {"type": {"coding": [coding(systems.EX_PAYMENT_TYPE, "complete")]},
                    "amount": money(paid), "date": h.payment_date,
                    "identifier": {"system": systems.trace_number(h.originator),
                                   "value": h.trace}},
    }
    # The claim's place in this remittance identifies it: a reversal and its correction share
    # a payer claim number (CLP07), and the same 835 imported again must match itself.
    common["identifier"] = [{"system": systems.remittance_claim(),
                             "value": f"{h.originator}/{h.trace}/{number}"}]
    if payer_claim:
        common["identifier"].append({"system": systems.payer_claim_number(h.payer),
                                     "value": payer_claim})
    # An amount that does not add up is reported on the claim, never hidden or corrected.
    notes = [f"Remark {code}" for code in remarks]
    notes += [f"Does not balance: {problem}" for problem in claim_imbalances(claim)]
    if notes:
        common["processNote"] = [
            {"number": i, "type": "display", "text": text} for i, text in enumerate(notes, 1)
        ]
    request = {"identifier": {"system": systems.patient_control_number(), "value": pcn}}
    response_id = h.uid("ClaimResponse", str(number), pcn)
    claim_adjudications = _cas_adjudications(list(claim.segments("CAS")))
    response: Resource = {
        "resourceType": "ClaimResponse", "id": response_id, **common,
        "requestor": h.payee(), "request": request,
        "total": totals,
    }
    if lines:  # a claim paid without service lines has none (FHIR arrays are never empty)
        response["item"] = [{"itemSequence": item["sequence"],
                             "adjudication": item["adjudication"]} for item in lines]
    if claim_adjudications:
        response["adjudication"] = claim_adjudications
    eob: Resource = {
        "resourceType": "ExplanationOfBenefit", "id": h.uid("ExplanationOfBenefit", str(number),
                                                           pcn),
        **common,
        "provider": h.payee(rendering.get(9) if rendering is not None
                            and rendering.get(8) == "XX" else ""),
        "claim": request,
        "claimResponse": {"reference": f"urn:uuid:{response_id}"},
        "insurance": [{"focal": True, "coverage": {
            "identifier": {"system": systems.member_id(h.payer), "value": member},
            "display": h.payer_name} if member else {"display": h.payer_name}}],
        "total": totals,
    }
    if lines:
        eob["item"] = lines
    if claim_adjudications:
        eob["adjudication"] = claim_adjudications
    source = (claims or {}).get(pcn)
    if source is not None:
        eob = combine(eob, claim, source, (network or {}).get(pcn, ""), h.last_updated) or eob
    return response, eob


def remittance_resources(ts: TransactionSet, claims: ClaimSources | None = None,
                         network: Mapping[str, str] | None = None) -> list[Resource]:
    """The PaymentReconciliation, then per claim its ClaimResponse and ExplanationOfBenefit.

    ``claims`` are the submitted Claims by patient control number; an EOB whose CLP01 is
    among them combines both and claims its CARIN BB profile. ``network`` gives, by patient
    control number, the payer's network status for the claim (``innetwork``/``outofnetwork``;
    absent: ``other``).
    """
    if ts.st.get(1) != "835":
        raise ValueError("not an 835 transaction set")
    h = _Header(ts)
    out: list[Resource] = []
    details = []
    for number, claim in enumerate(ts.root.find("2100"), 1):
        response, eob = _claim_parts(h, claim, number, claims, network)
        out += [response, eob]
        details.append({
            "type": {"coding": [coding(systems.PAYMENT_TYPE, "payment")]},
            "request": response["request"],
            "response": {"reference": f"urn:uuid:{response['id']}"},
            "date": h.payment_date,
            "amount": response["payment"]["amount"],
        })
    for plb in (s for s in ts.root.walk() if s.tag == "PLB"):
        for position in range(3, len(plb.elements) - 1, 2):
            amount = _amount(plb, position + 1)
            reason = plb.get(position)
            if amount is None or not reason:
                continue
            code, _, reference = reason.partition(":")
            detail: dict[str, Any] = {
                "type": {"coding": [coding(systems.PAYMENT_TYPE, "adjustment")],
                         "text": f"Provider adjustment {code}"},
                "date": h.payment_date,
                "amount": money(-amount),  # a positive PLB amount reduces the payment
            }
            if reference:
                detail["identifier"] = {"value": reference}
            details.append(detail)
    reconciliation: Resource = {
        "resourceType": "PaymentReconciliation",
        "id": h.uid("PaymentReconciliation"),
        "identifier": [{"system": systems.trace_number(h.originator), "value": h.trace}],
        "status": "active",
        "created": h.created,
        "paymentIssuer": h.insurer(),
        "requestor": h.payee(),
        "outcome": "complete",
        "paymentDate": h.payment_date,
        "paymentAmount": money(_amount(h.bpr, 2) or Decimal(0)),
        "paymentIdentifier": {"system": systems.trace_number(h.originator), "value": h.trace},
        "detail": details,
    }
    unbalanced = [e.elements[0].message for e in check_835(ts) if e.tag == "BPR" and e.elements]
    if unbalanced:
        reconciliation["processNote"] = [{"type": "display", "text": f"Does not balance: {m}"}
                                         for m in unbalanced]
    return [reconciliation, *out]


def remittance_bundle(ts: TransactionSet, claims: ClaimSources | None = None,
                      network: Mapping[str, str] | None = None) -> Resource:
    """A transaction Bundle creating the resources, each only if its identifier is new."""
    return transaction(remittance_resources(ts, claims, network))
