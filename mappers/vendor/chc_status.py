"""Claim Bundle <-> CHC claim status v2 JSON (``/medicalnetwork/claimstatus/v2``;
CLEARINGHOUSES.md section 3, "Claim status request" and the status objects).

Request: the Claim is read exactly as for a 276 (``build_276`` of
``mappers/fhir_x12/claim_to_276.py``, so the same gaps are reported) and its segments become
the CHC fields: ``tradingPartnerServiceId`` (2100A NM109), ``providers[]`` (2100B NM1*41 as the
``BillingProvider`` with its ETIN as ``taxId``, 2100C NM1*1P as the ``ServiceProvider``
with its ``npi``), ``subscriber`` (2100D NM1*IL ``memberId``/names, DMG), ``dependent``
(2100E NM1*QC, DMG), and ``encounter``: TRN02 ``trackingNumber``, REF*EJ
``patientAccountNumber``, REF*1K ``tradingPartnerClaimNumber``, AMT*T3 ``submittedAmount``,
DTP*472 ``beginningDateOfService``/``endDateOfService``.

Response (used when the answer carries no raw ``x12`` 277, which ``x277_to_fhir`` would map):
one ClaimResponse per ``claims[]`` entry, its statuses (``claimStatus`` or
``informationClaimStatuses[].informationStatuses[]``: ``statusCategoryCode`` STC01-1,
``statusCode`` STC01-2, ``entityCode`` STC01-3, ``effectiveDate`` STC02, ``submittedAmount``
STC04, ``amountPaid`` STC05) written the way ``x277_to_fhir`` writes a 277's.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from mappers.fhir_x12 import systems
from mappers.fhir_x12.claim_to_276 import build_276
from mappers.fhir_x12.fhir_build import coding, display, money
from mappers.fhir_x12.gaps import Gaps
from mappers.fhir_x12.interchange import TradingPartners
from mappers.fhir_x12.references import BundleIndex
from mappers.fhir_x12.x277_to_fhir import STATUS_RESPONSE_SYSTEM, outcome_of
from mappers.vendor.chc_fields import JsonObject, element, errors_of, fhir_date, party_name, put

__all__ = ["claim_status_request", "claim_status_responses"]

_NAMESPACE = uuid.UUID("5d2b8f63-1c4e-5a97-b0d2-276276276276")
_FAMILY = {"A": "Acknowledged", "P": "Pending", "F": "Finalized", "R": "Information requested",
           "E": "No status available", "D": "No matching claim found"}


def claim_status_request(bundle: Mapping[str, Any], partners: TradingPartners,
                         control_number: str, when: datetime | None = None) -> JsonObject:
    """The CHC claim status v2 body for the one Claim of ``bundle``. Raises
    ``MappingGapError`` listing every gap, as ``claims_to_276`` would."""
    index = BundleIndex(bundle)
    claims = index.of_type("Claim")
    if len(claims) != 1:
        gaps = Gaps()
        gaps.add("Bundle.entry", f"The Bundle must hold exactly one Claim (it holds "
                 f"{len(claims)})")
        gaps.check("The claim status JSON cannot be built")
    segments = build_276(index, claims[0], partners=partners, when=when)
    body: JsonObject = {"controlNumber": control_number, "tradingPartnerServiceId": "",
                        "providers": [], "subscriber": {}, "encounter": {}}
    encounter: JsonObject = body["encounter"]
    person: JsonObject | None = None
    in_claim = False
    for seg in segments:
        tag, qualifier = seg[0], element(seg, 1)
        if tag == "NM1" and qualifier == "PR":
            body["tradingPartnerServiceId"] = element(seg, 9)
        elif tag == "NM1" and qualifier == "41":
            provider: JsonObject = {"providerType": "BillingProvider", **party_name(seg)}
            put(provider, "taxId", element(seg, 9))  # CHC writes it as the ETIN (NM108 46)
            body["providers"].append(provider)
        elif tag == "NM1" and qualifier == "1P":
            provider = {"providerType": "ServiceProvider", **party_name(seg)}
            put(provider, "npi", element(seg, 9))
            body["providers"].append(provider)
        elif tag == "NM1" and qualifier in ("IL", "QC"):
            target = body["subscriber"] if qualifier == "IL" else body.setdefault(
                "dependent", {})
            target.update(party_name(seg))
            if qualifier == "IL":
                put(target, "memberId", element(seg, 9))
            person = target
        elif tag == "HL" and element(seg, 3) == "23":
            person = body.setdefault("dependent", {})
        elif tag == "DMG":
            # X212 puts DMG before the NM1 of the same level (2000D/2000E).
            found: JsonObject = {}
            put(found, "dateOfBirth", element(seg, 2))
            put(found, "gender", element(seg, 3))
            holder: JsonObject = body["subscriber"]
            if person is body.get("dependent") and person is not None:
                holder = person
            holder.update(found)
        elif tag == "TRN":
            in_claim = True
            encounter["trackingNumber"] = element(seg, 2)
        elif tag == "REF" and qualifier == "EJ":
            encounter["patientAccountNumber"] = element(seg, 2)
        elif tag == "REF" and qualifier == "1K":
            encounter["tradingPartnerClaimNumber"] = element(seg, 2)
        elif tag == "AMT" and qualifier == "T3":
            encounter["submittedAmount"] = element(seg, 2)
        elif tag == "DTP" and qualifier == "472" and in_claim and \
                "beginningDateOfService" not in encounter:
            start, _, end = element(seg, 3).partition("-")
            encounter["beginningDateOfService"] = start
            encounter["endDateOfService"] = end or start
        elif tag == "SVC":
            break  # service lines are not asked for
    return body


def _decimal(value: Any) -> Decimal | None:
    try:
        out = Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None
    return out if out is not None and out.is_finite() else None


def _statuses(claim: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The status objects of one ``claims[]`` entry, first (current) first."""
    status = claim.get("claimStatus") or {}
    found: list[Mapping[str, Any]] = []
    for info in status.get("informationClaimStatuses") or []:
        found += [s for s in info.get("informationStatuses") or [] if isinstance(s, Mapping)]
    if status.get("statusCategoryCode"):
        found.insert(0, status)
    return found


def _words(category: str, status: str) -> str:
    label = ":".join(p for p in (category, status) if p)
    name = display("claim_status_category", category) or _FAMILY.get(category[:1], "Status")
    detail = display("claim_status", status) if status else None
    return f"{label}: {name}" + (f"; {detail}" if detail else "")


def _concept(category: str, status: str) -> JsonObject:
    codings = [coding(systems.CLAIM_STATUS_CATEGORY, category,
                      display("claim_status_category", category))]
    if status:
        codings.append(coding(systems.CLAIM_STATUS, status, display("claim_status", status)))
    return {"coding": codings, "text": ":".join(p for p in (category, status) if p)}


def _response(request: Mapping[str, Any], answer: Mapping[str, Any], claim: Mapping[str, Any],
              number: int, today: date) -> JsonObject:
    payer = answer.get("payer") or {}
    payer_id = str(payer.get("payerIdentification") or payer.get("payerIdentifier")
                   or answer.get("tradingPartnerServiceId")
                   or request.get("tradingPartnerServiceId") or "")
    statuses = _statuses(claim)
    first = statuses[0] if statuses else {}
    encounter = request.get("encounter") or {}
    category = str(first.get("statusCategoryCode") or "")
    trace = str(first.get("trackingNumber") or encounter.get("trackingNumber") or "")
    pcn = str(first.get("patientAccountNumber") or encounter.get("patientAccountNumber")
              or trace)
    control = str(answer.get("controlNumber") or request.get("controlNumber") or "")
    identifiers = [{"system": STATUS_RESPONSE_SYSTEM, "value": f"chc/{control}/{trace}/{number}"}]
    payer_claim = str(first.get("tradingPartnerClaimNumber") or "")
    if payer_claim:
        identifiers.append({"system": systems.payer_claim_number(payer_id), "value": payer_claim})
    who = request.get("dependent") or request.get("subscriber") or {}
    patient: JsonObject = {"display": " ".join(str(who.get(k) or "") for k in (
        "firstName", "lastName")).strip() or "Patient of the claim"}
    member = str((request.get("subscriber") or {}).get("memberId") or "")
    if member and not request.get("dependent"):
        patient["identifier"] = {"system": systems.member_id(payer_id), "value": member}
    rejecting = [s for s in statuses if outcome_of(str(s.get("statusCategoryCode") or ""))
                 == "error"]
    response: JsonObject = {
        "resourceType": "ClaimResponse",
        "id": str(uuid.uuid5(_NAMESPACE, f"{payer_id}|{control}|{trace}|{number}")),
        "identifier": identifiers,
        "status": "active",
        "type": {"coding": [coding(systems.CLAIM_TYPE, "professional")]},
        "use": "claim",
        "patient": patient,
        "created": fhir_date(first.get("effectiveDate")) or today.isoformat(),
        "insurer": {"identifier": {"system": systems.payer_id(), "value": payer_id},
                    "display": str(payer.get("organizationName") or payer_id or "Payer")},
        "outcome": outcome_of(category) if category else "queued",
        "disposition": (display("claim_status_category", category)
                        or _FAMILY.get(category[:1], "Status reported")),
    }
    if pcn:
        response["request"] = {"identifier": {"system": systems.patient_control_number(),
                                              "value": pcn}}
    adjudication = []
    for status in statuses:
        cat, code = str(status.get("statusCategoryCode") or ""), str(status.get("statusCode")
                                                                     or "")
        if status in rejecting:
            continue
        entry: JsonObject = {"category": _concept(cat, "")}
        entry["category"]["text"] = ":".join(p for p in (cat, code) if p)
        if code:
            entry["reason"] = {"coding": [coding(systems.CLAIM_STATUS, code,
                                                  display("claim_status", code))]}
        adjudication.append(entry)
    if adjudication:
        response["adjudication"] = adjudication
    totals = []
    for key, category_code in (("submittedAmount", "submitted"), ("amountPaid", "benefit")):
        value = _decimal(first.get(key))
        if value is not None:
            totals.append({"category": {"coding": [coding(systems.ADJUDICATION,
                                                          category_code)]},
                           "amount": money(value)})
    if totals:
        response["total"] = totals
    paid = _decimal(first.get("amountPaid"))
    if paid is not None and (paid != 0 or first.get("paidDate")):
        payment: JsonObject = {"type": {"coding": [coding(systems.EX_PAYMENT_TYPE,
                                                          "complete")]},
                               "amount": money(paid)}
        put(payment, "date", fhir_date(first.get("paidDate")))
        response["payment"] = payment
    notes = [_words(str(s.get("statusCategoryCode") or ""), str(s.get("statusCode") or ""))
             for s in statuses]
    if notes:
        response["processNote"] = [{"number": n, "type": "display", "text": t}
                                   for n, t in enumerate(notes, 1)]
    if rejecting:
        response["error"] = [{"code": _concept(str(s.get("statusCategoryCode") or ""),
                                               str(s.get("statusCode") or ""))}
                             for s in rejecting]
    return response


def claim_status_responses(request: Mapping[str, Any], answer: Mapping[str, Any],
                           today: date | None = None) -> list[JsonObject]:
    """One ClaimResponse per ``claims[]`` entry of the CHC ``answer`` to the body ``request``;
    an answer with only ``errors[]`` gives one ClaimResponse with outcome ``error``."""
    day = today or date.today()
    claims = [c for c in answer.get("claims") or [] if isinstance(c, Mapping)]
    out = [_response(request, answer, claim, n, day) for n, claim in enumerate(claims, 1)]
    problems = errors_of(answer)
    if problems and not out:
        response = _response(request, answer, {}, 1, day)
        response["outcome"] = "error"
        response["disposition"] = "The clearinghouse could not answer the status inquiry"
        response["error"] = [{"code": {"text": " ".join(
            x for x in (p["code"], p["description"]) if x)}} for p in problems]
        out.append(response)
    return out
