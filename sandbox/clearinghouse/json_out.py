"""CHC Medical Network JSON answers (CLEARINGHOUSES.md sections 2-3; Stedi serves the same
shapes): professional claims v3 submission and validation, eligibility v3 (with ``x12``, the raw
271) and claim status v2 (with ``x12``, the raw 277)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sandbox.clearinghouse.claim_status import StatusAnswer
from sandbox.clearinghouse.claims_in import JsonClaimError
from sandbox.clearinghouse.eligibility import Answer, Benefit
from sandbox.clearinghouse.front_end import Edit
from sandbox.clearinghouse.model import ReceivedClaim, Submitter
from sandbox.clearinghouse.x12_out import amount

__all__ = [
    "claim_errors",
    "claim_submission",
    "claim_validation",
    "eligibility_body",
    "eligibility_error",
    "meta",
    "status_body",
]

_NAMESPACE = uuid.UUID("5a1e0c7d-3b8e-5f42-a6c1-c1ea7100c0de")

BENEFIT_NAMES = {"1": "Active Coverage", "6": "Inactive", "A": "Co-Insurance",
                 "B": "Co-Payment", "C": "Deductible"}
PERIOD_NAMES = {"23": "Calendar Year", "27": "Visit", "29": "Remaining"}
STATUS_WORDS = {"A2": "Accepted", "A3": "Returned as unprocessable", "A4": "Not Found",
                "A6": "Rejected for Missing Information", "A7": "Rejected for Invalid Information",
                "E1": "Response not possible - System Status", "F1": "Finalized/Payment",
                "F2": "Finalized/Denial"}


def meta(submitter: Submitter, trace: str) -> dict[str, str]:
    return {"submitterId": submitter.sender_id, "senderId": submitter.username,
            "billerId": submitter.sender_id, "traceId": trace, "applicationMode": "sandbox"}


def _edit_error(e: Edit) -> dict[str, str]:
    return {"field": e.field, "code": e.status_code, "description": e.message,
            "followupAction": "Please Correct and Resubmit", "location": f"Loop {e.loop}"}


def claim_errors(body: Any, errors: Sequence[JsonClaimError | Edit], submitter: Submitter,
                 trace: str) -> dict[str, Any]:
    """400 answer to a claim that cannot be read or fails the edits."""
    control = body.get("controlNumber", "") if isinstance(body, dict) else ""
    return {
        "status": "ERROR",
        "controlNumber": control,
        "httpStatusCode": "400 BAD_REQUEST",
        "meta": meta(submitter, trace),
        "editStatus": "REJECTED",
        "errors": [e.as_dict() if isinstance(e, JsonClaimError) else _edit_error(e)
                   for e in errors],
        "editResponses": [
            {"errorDescription": e.message, "loop": e.loop, "editName": f"{e.category}:"
             f"{e.status_code}", "badData": ""} for e in errors if isinstance(e, Edit)],
    }


def claim_submission(body: dict[str, Any], claim: ReceivedClaim, trace: str,
                     submitter: Submitter, x12: str, when: datetime) -> dict[str, Any]:
    """200 answer to an accepted submission (status SUCCESS, the claim reference)."""
    correlation = str(uuid.uuid5(_NAMESPACE, f"{submitter.sender_id}|{trace}"))
    return {
        "status": "SUCCESS",
        "controlNumber": body.get("controlNumber", ""),
        "tradingPartnerServiceId": claim.payer_id,
        "claimReference": {
            "correlationId": correlation,
            "submitterId": submitter.sender_id,
            "customerClaimNumber": claim.pcn,
            "patientControlNumber": claim.pcn,
            "timeOfResponse": when.isoformat(timespec="seconds"),
            "claimType": "PRO",
            "formatVersion": "5010",
            "rhclaimNumber": trace,
            "serviceLines": [{"lineItemControlNumber": line.control_number}
                             for line in claim.lines if line.control_number],
        },
        "meta": meta(submitter, trace),
        "editStatus": "SUCCESS",
        "payer": {"payerName": claim.payer_name, "payerID": claim.payer_id},
        "errors": [],
        "editResponses": [],
        "httpStatusCode": "200 OK",
        "x12": x12,
    }


def claim_validation(body: Any, submitter: Submitter, trace: str) -> dict[str, Any]:
    """200 answer of ``/validation`` for a claim that passes every edit."""
    control = body.get("controlNumber", "") if isinstance(body, dict) else ""
    return {"status": "SUCCESS", "controlNumber": control, "editStatus": "SUCCESS",
            "meta": meta(submitter, trace), "errors": [], "editResponses": [],
            "httpStatusCode": "200 OK"}


def _benefit(b: Benefit) -> dict[str, Any]:
    out: dict[str, Any] = {"code": b.code, "name": BENEFIT_NAMES.get(b.code, b.code),
                           "coverageLevelCode": b.level,
                           "coverageLevel": "Individual" if b.level == "IND" else "Family",
                           "serviceTypeCodes": [b.service_type], "insuranceTypeCode": "PR",
                           "insuranceType": "Preferred Provider Organization (PPO)"}
    if b.plan:
        out["planCoverage"] = b.plan
    if b.period:
        out["timeQualifierCode"] = b.period
        out["timeQualifier"] = PERIOD_NAMES.get(b.period, b.period)
    if b.amount:
        out["benefitAmount"] = b.amount
    if b.percent:
        out["benefitPercent"] = b.percent
    if b.in_network:
        out["inPlanNetworkIndicatorCode"] = b.in_network
    return out


def eligibility_error(body: dict[str, Any], submitter: Submitter, trace: str
                      ) -> dict[str, Any]:
    """400: the CHC sandbox answers only its canned subscribers."""
    return {
        "meta": meta(submitter, trace),
        "controlNumber": body.get("controlNumber", ""),
        "errors": [{"field": "subscriber", "code": "75",
                    "description": "Please use predefined canned users for non-prod "
                                   "environments: see the sandbox API values",
                    "followupAction": "Please Correct and Resubmit"}],
        "status": "ERROR",
    }


def eligibility_body(a: Answer, x12: str, submitter: Submitter, trace: str
                     ) -> dict[str, Any]:
    q = a.inquiry
    subscriber: dict[str, Any] = {"memberId": q.member_id, "firstName": q.subscriber.first,
                                  "lastName": q.subscriber.last,
                                  "entityIdentifier": "Insured or Subscriber",
                                  "entityType": "Person"}
    if q.subscriber.birth_date:
        subscriber["dateOfBirth"] = q.subscriber.birth_date
    if q.subscriber.gender:
        subscriber["gender"] = q.subscriber.gender
    out: dict[str, Any] = {
        "meta": meta(submitter, trace),
        "controlNumber": q.reference,
        "reassociationKey": q.reference,
        "tradingPartnerServiceId": q.payer_id,
        "provider": {"providerName": q.provider.last, "npi": q.provider_npi,
                     "entityIdentifier": "Provider"},
        "subscriber": subscriber,
        "payer": {"name": q.payer_name, "payorIdentification": q.payer_id},
        "x12": x12,
    }
    if q.group_number:
        out["planInformation"] = {"groupNumber": q.group_number}
    if a.aaa:
        out["errors"] = [{"field": "AAA", "code": a.aaa,
                          "description": "Subscriber/Insured Not Found" if a.aaa == "75"
                          else "Invalid/Missing Subscriber/Insured Name",
                          "followupAction": "Please Correct and Resubmit",
                          "location": "Loop 2100C"}]
        return out
    status = [b for b in a.benefits if b.code in ("1", "6")]
    out["planStatus"] = [{"statusCode": b.code, "status": BENEFIT_NAMES[b.code],
                          "planDetails": b.plan, "serviceTypeCodes": [b.service_type]}
                         for b in status]
    out["benefitsInformation"] = [_benefit(b) for b in a.benefits]
    return out


def _status(a: StatusAnswer) -> dict[str, Any]:
    status: dict[str, Any] = {
        "statusCategoryCode": a.category,
        "statusCategoryCodeValue": STATUS_WORDS.get(a.category, a.category),
        "statusCode": a.status_code,
        "effectiveDate": a.decided,
        "submittedAmount": amount(a.charge),
    }
    if a.entity:
        status["entityCode"] = a.entity
    if a.paid is not None:
        status["amountPaid"] = amount(a.paid)
    if a.check_number:
        status["checkNumber"] = a.check_number
        status["checkIssueDate"] = a.decided
        status["paidDate"] = a.decided
    return status


def status_body(answers: Sequence[StatusAnswer], x12: str, submitter: Submitter, trace: str
                ) -> dict[str, Any]:
    q = answers[0].inquiry
    claims = []
    for a in answers:
        claim: dict[str, Any] = {
            "claimStatus": {**_status(a),
                            "patientAccountNumber": a.inquiry.pcn,
                            "trackingNumber": a.inquiry.trace,
                            "claimServiceDate": a.inquiry.service_from},
        }
        if a.payer_claim_number:
            claim["claimStatus"]["tradingPartnerClaimNumber"] = a.payer_claim_number
        if a.trace:
            claim["claimStatus"]["clearinghouseTraceNumber"] = a.trace
        if a.lines:
            claim["serviceLineDetails"] = [
                {"procedureCode": ln.procedure.split(":")[1] if ":" in ln.procedure
                 else ln.procedure, "lineItemControlNumber": ln.control_number,
                 "chargeAmount": amount(ln.charge), "amountPaid": amount(ln.paid),
                 "beginLineItemServiceDate": ln.service_date}
                for ln in a.lines]
        claims.append(claim)
    return {
        "meta": meta(submitter, trace),
        "controlNumber": q.reference,
        "tradingPartnerServiceId": q.payer_id,
        "payer": {"organizationName": q.payer_name, "payerIdentification": q.payer_id},
        "providers": [{"organizationName": q.provider_name, "npi": q.provider_npi}],
        "subscriber": {"memberId": q.member_id, "firstName": q.subscriber_first,
                       "lastName": q.subscriber_last},
        "claims": claims,
        "x12": x12,
    }
