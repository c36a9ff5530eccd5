"""CHC professional claims v3 submission answer -> ClaimResponse (R4 claimresponse.html).

The answer (CLEARINGHOUSES.md section 2, "Claim submit response") says whether the
clearinghouse took the claim: ``status`` ``SUCCESS`` (its edits passed; the claim goes on to
the payer, whose 277CA and 835 come later through the reports mailbox) or ``ERROR`` with
``errors[]`` and ``editResponses[]`` (refused at the front door; nothing goes on). Like the
277CA mapping (``mappers/fhir_x12/acknowledgments.py``), the ClaimResponse is linked to the
Claim by its patient control number and says:

- ``outcome`` ``queued`` (accepted, waiting for the payer) or ``error``; ``disposition`` in words;
- ``error[]``: one per vendor error or edit, its code in ``CHC_ERROR_SYSTEM`` and its
  description as the concept's text; ``processNote`` the follow-up actions;
- ``identifier``: the clearinghouse correlation id (``claimReference.correlationId``) and, when
  given, its own claim number (``rhclaimNumber``) as the clearinghouse trace number;
- ``insurer`` by payer id (``payer.payerID``, else the request's ``tradingPartnerServiceId``),
  ``patient`` by member id and name from the request we sent.

The id is a name-based UUID of the correlation id (else control number) and the patient control
number, so the same answer maps to the same resource every time.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from mappers.fhir_x12 import systems
from mappers.vendor.chc_fields import (
    CHC_ERROR_SYSTEM,
    CORRELATION_SYSTEM,
    JsonObject,
    errors_of,
    fhir_date,
)

__all__ = ["submission_accepted", "submission_response"]

_NAMESPACE = uuid.UUID("6f0c1a52-8d3e-5b47-9c2a-837837837837")


def submission_accepted(answer: Mapping[str, Any]) -> bool:
    """The clearinghouse took the claim: ``status`` SUCCESS and no errors."""
    return str(answer.get("status", "")).upper() == "SUCCESS" and not errors_of(answer)


def _person(request: Mapping[str, Any]) -> JsonObject:
    who = request.get("dependent") or request.get("subscriber") or {}
    name = " ".join(str(who.get(k) or "") for k in ("firstName", "lastName")).strip()
    return {"display": name or "Patient of the claim"}


def submission_response(request: Mapping[str, Any], answer: Mapping[str, Any],
                        today: date | None = None) -> JsonObject:
    """The ClaimResponse for the claim body ``request`` given the vendor's ``answer``."""
    reference = answer.get("claimReference") or {}
    claim_info = request.get("claimInformation") or {}
    pcn = str(reference.get("patientControlNumber") or claim_info.get("patientControlNumber")
              or "")
    payer = answer.get("payer") or {}
    payer_id = str(payer.get("payerID") or payer.get("payerId")
                   or answer.get("tradingPartnerServiceId")
                   or request.get("tradingPartnerServiceId") or "")
    correlation = str(reference.get("correlationId") or "")
    accepted = submission_accepted(answer)
    created = (fhir_date(str(reference.get("timeOfResponse") or "")[:10])
               or (today or date.today()).isoformat())
    identifiers: list[JsonObject] = []
    if correlation:
        identifiers.append({"system": CORRELATION_SYSTEM, "value": correlation})
    if reference.get("rhclaimNumber"):
        identifiers.append({"system": systems.clearinghouse_trace(),
                            "value": str(reference["rhclaimNumber"])})
    key = correlation or str(answer.get("controlNumber") or request.get("controlNumber") or "")
    patient = _person(request)
    member = str((request.get("subscriber") or {}).get("memberId") or "")
    if member and not request.get("dependent"):
        patient["identifier"] = {"system": systems.member_id(payer_id), "value": member}
    response: JsonObject = {
        "resourceType": "ClaimResponse",
        "id": str(uuid.uuid5(_NAMESPACE, f"{key}|{pcn}")),
        "status": "active",
        "type": {"coding": [{"system": systems.CLAIM_TYPE, "code": "professional"}]},
        "use": "claim",
        "patient": patient,
        "created": created,
        "insurer": {"identifier": {"system": systems.payer_id(), "value": payer_id},
                    "display": str(payer.get("payerName") or request.get("tradingPartnerName")
                                   or payer_id)},
        "request": {"identifier": {"system": systems.patient_control_number(), "value": pcn}},
        "outcome": "queued" if accepted else "error",
        "disposition": ("Accepted by the clearinghouse" if accepted
                        else "Rejected by the clearinghouse's edits"),
    }
    if identifiers:
        response["identifier"] = identifiers
    problems = errors_of(answer)
    if problems:
        response["error"] = [
            {"code": {"coding": [{"system": CHC_ERROR_SYSTEM, "code": p["code"]}],
                      "text": " ".join(x for x in (p["description"], p["location"]) if x)
                      or p["code"]}}
            for p in problems]
    notes = [p["followupAction"] for p in problems if p["followupAction"]]
    if notes:
        response["processNote"] = [{"number": n, "type": "display", "text": text}
                                   for n, text in enumerate(dict.fromkeys(notes), 1)]
    return response
