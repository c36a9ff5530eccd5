"""Mailbox reports as CHC JSON (reports v2 ``/{file}/277`` and ``/{file}/835``;
CLEARINGHOUSES.md section 3, "835 report" and "277 report" rows), read back from the X12 the
clearinghouse wrote."""

from __future__ import annotations

from typing import Any

from mappers.x12 import parse
from mappers.x12.tree import Loop, Segment, TransactionSet

__all__ = ["report_277", "report_835", "report_json"]


def _first(loop: Loop, tag: str, qualifier: str | None = None) -> Segment | None:
    return next((s for s in loop.segments(tag) if qualifier is None or s.get(1) == qualifier),
                None)


def _nm1(loop: Loop | None) -> Segment | None:
    return _first(loop, "NM1") if loop is not None else None


def _statuses(stc: Segment, comp: str) -> list[dict[str, str]]:
    out = []
    for position in (1, 10, 11):
        parts = stc.get(position).split(comp) if stc.get(position) else []
        if parts and parts[0]:
            status = {"healthCareClaimStatusCategoryCode": parts[0]}
            if len(parts) > 1 and parts[1]:
                status["statusCode"] = parts[1]
            if len(parts) > 2 and parts[2]:
                status["entityIdentifierCode"] = parts[2]
            out.append(status)
    return out


def _claim_277(claim: Loop, comp: str) -> dict[str, Any]:
    trn = _first(claim, "TRN")
    refs = {r.get(1): r.get(2) for r in claim.segments("REF")}
    dtp = _first(claim, "DTP", "472")
    start, _, end = (dtp.get(3) if dtp is not None else "").partition("-")
    statuses = []
    for stc in claim.segments("STC"):
        entry: dict[str, Any] = {"informationStatuses": _statuses(stc, comp),
                                 "statusInformationEffectiveDate": stc.get(2),
                                 "totalClaimChargeAmount": stc.get(4)}
        if stc.get(3):
            entry["actionCode"] = stc.get(3)
        if stc.get(12):
            entry["message"] = stc.get(12)
        statuses.append(entry)
    status: dict[str, Any] = {
        "patientAccountNumber": trn.get(2) if trn is not None else "",
        "informationClaimStatuses": statuses,
        "claimServiceBeginDate": start,
        "claimServiceEndDate": end or start,
    }
    if refs.get("1K"):
        status["tradingPartnerClaimNumber"] = refs["1K"]
    if refs.get("D9"):
        status["clearinghouseTraceNumber"] = refs["D9"]
    return {"claimStatus": status}


def report_277(ts: TransactionSet) -> dict[str, Any]:
    """One ``transactions[]`` entry of a 277CA."""
    comp = ts.delimiters.component
    bht = next(s for s in ts.root.walk() if s.tag == "BHT")
    payers = []
    for source in ts.root.find("2000A"):
        payer = _nm1(next(source.loops("2100A"), None))
        batches = []
        for receiver in source.loops("2000B"):
            batch_trn = next((t for loop in receiver.loops("2200B")
                              for t in loop.segments("TRN")), None)
            details = []
            for provider_level in receiver.loops("2000C"):
                provider = _nm1(next(provider_level.loops("2100C"), None))
                patients = []
                for patient_level in provider_level.loops("2000D"):
                    patient = _nm1(next(patient_level.loops("2100D"), None))
                    patients.append({
                        "subscriber": {"lastName": patient.get(3) if patient else "",
                                       "firstName": patient.get(4) if patient else "",
                                       "memberId": patient.get(9) if patient else ""},
                        "claims": [_claim_277(c, comp) for c in patient_level.loops("2200D")],
                    })
                details.append({"serviceProvider": {
                    "organizationName": provider.get(3) if provider else "",
                    "npi": provider.get(9) if provider and provider.get(8) == "XX" else ""},
                    "patientClaimStatusDetails": patients})
            batches.append({"claimTransactionBatchNumber": batch_trn.get(2) if batch_trn
                            else "", "claimStatusDetails": details})
        payers.append({"organizationName": payer.get(3) if payer else "",
                       "payerIdentification": payer.get(9) if payer else "",
                       "claimStatusTransactions": batches})
    return {"controlNumber": ts.st.get(2), "referenceIdentification": bht.get(3),
            "transactionSetCreationDate": bht.get(4), "transactionSetCreationTime": bht.get(5),
            "payers": payers}


def _adjustments(loop: Loop) -> list[dict[str, str]]:
    out = []
    for cas in loop.segments("CAS"):
        entry = {"claimAdjustmentGroupCode": cas.get(1)}
        for n, position in enumerate(range(2, 20, 3), 1):
            if cas.get(position):
                entry[f"adjustmentReasonCode{n}"] = cas.get(position)
                entry[f"adjustmentAmount{n}"] = cas.get(position + 1)
                if cas.get(position + 2):
                    entry[f"adjustmentQuantity{n}"] = cas.get(position + 2)
        out.append(entry)
    return out


def _service_835(line: Loop, comp: str) -> dict[str, Any]:
    svc = next(line.segments("SVC"))
    parts = svc.get(1).split(comp)
    out: dict[str, Any] = {
        "servicePaymentInformation": {
            "productOrServiceIDQualifier": parts[0],
            "adjudicatedProcedureCode": parts[1] if len(parts) > 1 else "",
            "lineItemChargeAmount": svc.get(2), "lineItemProviderPaymentAmount": svc.get(3),
            "unitsOfServicePaidCount": svc.get(5) or "1"},
        "serviceAdjustments": _adjustments(line),
    }
    if len(parts) > 2:
        out["servicePaymentInformation"]["adjudicatedProcedureModifierCodes"] = parts[2:]
    date = _first(line, "DTM", "472")
    if date is not None:
        out["serviceDate"] = date.get(2)
    control = _first(line, "REF", "6R")
    if control is not None:
        out["lineItemControlNumber"] = control.get(2)
    allowed = _first(line, "AMT", "B6")
    if allowed is not None:
        out["serviceSupplementalAmounts"] = {"allowedActual": allowed.get(2)}
    remarks = [{"codeListQualifierCode": lq.get(1), "remarkCode": lq.get(2)}
               for lq in line.segments("LQ")]
    if remarks:
        out["healthCareCheckRemarkCodes"] = remarks
    return out


def _claim_835(claim: Loop, comp: str) -> dict[str, Any]:
    clp = next(claim.segments("CLP"))
    patient = _first(claim, "NM1", "QC")
    return {
        "claimPaymentInfo": {
            "patientControlNumber": clp.get(1), "claimStatusCode": clp.get(2),
            "totalClaimChargeAmount": clp.get(3), "claimPaymentAmount": clp.get(4),
            "patientResponsibilityAmount": clp.get(5), "claimFilingIndicatorCode": clp.get(6),
            "payerClaimControlNumber": clp.get(7), "facilityTypeCode": clp.get(8),
            "claimFrequencyCode": clp.get(9)},
        "claimAdjustments": _adjustments(claim),
        "patientName": {"lastName": patient.get(3) if patient else "",
                        "firstName": patient.get(4) if patient else "",
                        "memberId": patient.get(9) if patient else ""},
        "serviceLines": [_service_835(line, comp) for line in claim.loops("2110")],
    }


def report_835(ts: TransactionSet) -> dict[str, Any]:
    """One ``transactions[]`` entry of an 835."""
    comp = ts.delimiters.component
    walk = list(ts.root.walk())
    bpr = next(s for s in walk if s.tag == "BPR")
    trn = next(s for s in walk if s.tag == "TRN")
    production = next((s for s in walk if s.tag == "DTM" and s.get(1) == "405"), None)
    payer_loop, payee_loop = next(ts.root.find("1000A")), next(ts.root.find("1000B"))
    n1_pr, n1_pe = _first(payer_loop, "N1"), _first(payee_loop, "N1")
    ref_2u, ref_tj = _first(payer_loop, "REF", "2U"), _first(payee_loop, "REF", "TJ")
    details = []
    for number, header in enumerate(ts.root.find("2000"), 1):
        details.append({"assignedNumber": str(number),
                        "paymentInfo": [_claim_835(c, comp) for c in header.loops("2100")]})
    return {
        "controlNumber": ts.st.get(2),
        "paymentAndRemitReassociationDetails": {
            "traceTypeCode": trn.get(1), "checkOrEFTTraceNumber": trn.get(2),
            "originatingCompanyIdentifier": trn.get(3)},
        "financialInformation": {
            "transactionHandlingCode": bpr.get(1),
            "totalActualProviderPaymentAmount": bpr.get(2),
            "creditOrDebitFlagCode": bpr.get(3), "paymentMethodCode": bpr.get(4),
            "checkIssueOrEFTEffectiveDate": bpr.get(16)},
        "productionDate": production.get(2) if production is not None else "",
        "payer": {"name": n1_pr.get(2) if n1_pr else "",
                  "payerIdentificationNumber": ref_2u.get(2) if ref_2u else ""},
        "payee": {"name": n1_pe.get(2) if n1_pe else "",
                  "npi": n1_pe.get(4) if n1_pe and n1_pe.get(3) == "XX" else "",
                  "federalTaxPayersIdentificationNumber": ref_tj.get(2) if ref_tj else ""},
        "detailInfo": details,
    }


def report_json(kind: str, content: str) -> dict[str, Any]:
    """The JSON of a 277CA or 835 report (``transactions[]``, one per transaction set)."""
    sets, _ = parse(content)
    reader = report_835 if kind == "835" else report_277
    wanted = "835" if kind == "835" else "277"
    return {"meta": {"applicationMode": "sandbox"},
            "transactions": [reader(ts) for ts in sets if ts.st.get(1) == wanted]}
