"""CoverageEligibilityRequest Bundle <-> CHC eligibility v3 JSON
(``/medicalnetwork/eligibility/v3``; CLEARINGHOUSES.md section 3, "Eligibility request" and
"Eligibility response").

Request: the request is read exactly as for a 270 (``build_270`` of
``mappers/fhir_x12/eligibility_to_270.py``, so the same gaps are reported) and its segments
become the CHC fields: ``tradingPartnerServiceId`` (2100A NM109), ``provider`` (2100B NM1,
``npi``), ``subscriber`` (2100C NM1 ``memberId``/names, REF*6P ``groupNumber``, DMG),
``dependents[]`` (2100D NM1, DMG), ``encounter`` (DTP*291 ``dateOfService`` or
``beginningDateOfService``/``endDateOfService``, EQ01 ``serviceTypeCodes``, EQ02
``procedureCode``/``productOrServiceIDQualifier``), ``controlNumber`` (ISA13).

Response (used when the answer carries no raw ``x12`` 271, which ``x271_to_fhir`` would map):
one CoverageEligibilityResponse. ``planStatus[].statusCode`` and ``benefitsInformation[].code``
are EB01 (1-5 active, 6-8 inactive); each benefit becomes ``insurance.item`` entries per service
type (EB03) with ``benefitAmount`` (EB07, ``allowedMoney``), ``benefitPercent`` (EB08, as a whole
percent), ``coverageLevelCode`` (EB02, ``unit``), ``timeQualifierCode`` (EB06, ``term``) and
``inPlanNetworkIndicatorCode`` (EB12, ``network``), with the same code systems the 271 mapping
uses; ``errors[]`` (AAA) make the outcome ``error``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from mappers.fhir_x12 import systems
from mappers.fhir_x12.eligibility_to_270 import build_270
from mappers.fhir_x12.fhir_build import coding, display
from mappers.fhir_x12.gaps import Gaps
from mappers.fhir_x12.references import BundleIndex
from mappers.fhir_x12.x271_to_fhir import (
    BENEFIT_NETWORK,
    BENEFIT_TERM,
    BENEFIT_TYPE,
    BENEFIT_UNIT,
)
from mappers.vendor.chc_fields import JsonObject, components, element, errors_of, party_name, put

__all__ = ["ELIGIBILITY_RESPONSE_SYSTEM", "eligibility_request", "eligibility_response"]

ELIGIBILITY_RESPONSE_SYSTEM = "urn:fhir-facade:chc:eligibility-response"
"""One CHC eligibility answer: "payer id/controlNumber"."""

_NAMESPACE = uuid.UUID("9a4e2c71-3b5d-5f08-8e16-270270270270")
_REQUEST = "CoverageEligibilityRequest"
_SERVICE_TYPE = systems.x12_element_system("1365")
_INFORMATION = systems.x12_element_system("1390")
_COVERAGE_LEVEL = systems.x12_element_system("1207")
_TIME_PERIOD = systems.x12_element_system("615")
_REJECT_REASON = systems.x12_element_system("901")
_ACTIVE = frozenset("12345")
_INACTIVE = frozenset("678")
_HL7_UNIT = {"IND": "individual", "FAM": "family"}
_HL7_TERM = {"22": "annual", "23": "annual", "7": "day", "32": "lifetime"}
_HL7_TYPE = {"C": "deductible", "B": "copay"}


def eligibility_request(bundle: Mapping[str, Any], control_number: str,
                        when: datetime | None = None) -> JsonObject:
    """The CHC eligibility v3 body for the CoverageEligibilityRequest of ``bundle``. Raises
    ``MappingGapError`` listing every gap, as ``requests_to_270`` would."""
    index = BundleIndex(bundle)
    requests = index.of_type(_REQUEST)
    if len(requests) != 1:
        gaps = Gaps()
        gaps.add(_REQUEST, f"The Bundle must hold exactly one {_REQUEST} "
                 f"(it holds {len(requests)})")
        gaps.check("The eligibility JSON cannot be built")
    segments = build_270(index, requests[0], when=when)
    body: JsonObject = {"controlNumber": control_number, "tradingPartnerServiceId": "",
                        "provider": {}, "subscriber": {}}
    person: JsonObject | None = None
    encounter: JsonObject = {}
    for seg in segments:
        tag = seg[0]
        if tag == "NM1" and element(seg, 1) == "PR":
            body["tradingPartnerServiceId"] = element(seg, 9)
        elif tag == "NM1" and element(seg, 1) == "1P":
            body["provider"].update(party_name(seg))
            put(body["provider"], "npi", element(seg, 9))
        elif tag == "NM1" and element(seg, 1) == "IL":
            person = body["subscriber"]
            person.update(party_name(seg))
            put(person, "memberId", element(seg, 9))
        elif tag == "NM1" and element(seg, 1) == "03":
            person = party_name(seg)
            body["dependents"] = [person]
        elif tag == "REF" and element(seg, 1) == "6P":
            body["subscriber"]["groupNumber"] = element(seg, 2)
        elif tag == "DMG" and person is not None:
            put(person, "dateOfBirth", element(seg, 2))
            put(person, "gender", element(seg, 3))
        elif tag == "DTP" and element(seg, 1) == "291":
            start, _, end = element(seg, 3).partition("-")
            if end:
                encounter["beginningDateOfService"] = start
                encounter["endDateOfService"] = end
            else:
                encounter["dateOfService"] = start
        elif tag == "EQ":
            put_list = encounter.setdefault("serviceTypeCodes", [])
            if element(seg, 1):
                put_list.append(element(seg, 1))
            procedure = components(element(seg, 2))
            if len(procedure) > 1:
                encounter["productOrServiceIDQualifier"] = procedure[0]
                encounter["procedureCode"] = procedure[1]
                put(encounter, "procedureModifiers", [m for m in procedure[2:6] if m])
    if not encounter.get("serviceTypeCodes"):
        encounter.pop("serviceTypeCodes", None)
    put(body, "encounter", encounter)
    return body


def _decimal(value: Any) -> Decimal | None:
    try:
        out = Decimal(str(value)) if value not in (None, "") else None
    except InvalidOperation:
        return None
    return out if out is not None and out.is_finite() else None


def _benefits(info: str, benefit: Mapping[str, Any]) -> list[JsonObject]:
    if info in _ACTIVE or info in _INACTIVE:
        return []
    kind = [coding(_INFORMATION, info, display("eligibility_benefit", info))]
    if info in _HL7_TYPE:
        kind.append(coding(BENEFIT_TYPE, _HL7_TYPE[info]))
    out: list[JsonObject] = []
    money = _decimal(benefit.get("benefitAmount"))
    if money is not None:
        key = "usedMoney" if benefit.get("timeQualifierCode") == "24" else "allowedMoney"
        out.append({"type": {"coding": kind}, key: {"value": money, "currency": "USD"}})
    percent = _decimal(benefit.get("benefitPercent"))
    if percent is not None:
        whole = (percent * 100).normalize()
        entry: JsonObject = {"type": {"coding": kind}}
        if whole == whole.to_integral_value() and whole >= 0:
            entry["allowedUnsignedInt"] = int(whole)
        else:
            entry["allowedString"] = f"{format(whole, 'f')}%"
        out.append(entry)
    return out or [{"type": {"coding": kind}}]


def _items(benefit: Mapping[str, Any]) -> list[JsonObject]:
    info = str(benefit.get("code") or "")
    common: JsonObject = {}
    if info in ("E", "I"):
        common["excluded"] = True
    elif info in _ACTIVE:
        common["excluded"] = False
    network = str(benefit.get("inPlanNetworkIndicatorCode") or "")
    if network in ("Y", "N"):
        common["network"] = {"coding": [coding(BENEFIT_NETWORK, "in" if network == "Y"
                                               else "out")]}
    level = str(benefit.get("coverageLevelCode") or "")
    if level:
        unit = [coding(_COVERAGE_LEVEL, level, display("coverage_level", level))]
        if level in _HL7_UNIT:
            unit.append(coding(BENEFIT_UNIT, _HL7_UNIT[level]))
        common["unit"] = {"coding": unit}
    period = str(benefit.get("timeQualifierCode") or "")
    if period:
        term = [coding(_TIME_PERIOD, period, display("time_period", period))]
        if period in _HL7_TERM:
            term.append(coding(BENEFIT_TERM, _HL7_TERM[period]))
        common["term"] = {"coding": term}
    put(common, "description", str(benefit.get("name") or ""))
    put(common, "benefit", _benefits(info, benefit))
    services = [str(s) for s in benefit.get("serviceTypeCodes") or [] if s] or ["30"]
    return [{"category": {"coding": [coding(_SERVICE_TYPE, s, display("service_type", s))]},
             **common} for s in services]


def eligibility_response(request: Mapping[str, Any], answer: Mapping[str, Any],
                         today: date | None = None) -> JsonObject:
    """One CoverageEligibilityResponse for the CHC ``answer`` to the body ``request``."""
    payer = answer.get("payer") or {}
    payer_id = str(payer.get("payorIdentification") or payer.get("payerIdentification")
                   or answer.get("tradingPartnerServiceId")
                   or request.get("tradingPartnerServiceId") or "")
    control = str(answer.get("controlNumber") or request.get("controlNumber") or "")
    subscriber = answer.get("subscriber") or request.get("subscriber") or {}
    member = str(subscriber.get("memberId") or "")
    name = " ".join(str(subscriber.get(k) or "") for k in ("firstName", "lastName")).strip()
    patient: JsonObject = {"type": "Patient", "display": name or "Subscriber"}
    if member and not request.get("dependents"):
        patient["identifier"] = {"system": systems.member_id(payer_id), "value": member}
    response: JsonObject = {
        "resourceType": "CoverageEligibilityResponse",
        "id": str(uuid.uuid5(_NAMESPACE, f"{payer_id}|{control}|{member}")),
        "identifier": [{"system": ELIGIBILITY_RESPONSE_SYSTEM, "value": f"{payer_id}/{control}"}],
        "status": "active",
        "purpose": ["validation"],
        "patient": patient,
        "created": (today or date.today()).isoformat(),
        "request": {"type": _REQUEST, "display": f"Eligibility inquiry {control}"},
        "outcome": "complete",
        "insurer": {"type": "Organization",
                    "identifier": {"system": systems.payer_id(), "value": payer_id},
                    "display": str(payer.get("name") or payer_id or "Payer")},
    }
    npi = str((answer.get("provider") or request.get("provider") or {}).get("npi") or "")
    if npi:
        response["requestor"] = {"identifier": {"system": systems.NPI, "value": npi}}
    statuses = [str(s.get("statusCode") or "") for s in answer.get("planStatus") or []
                if isinstance(s, Mapping)]
    benefits = [b for b in answer.get("benefitsInformation") or [] if isinstance(b, Mapping)]
    statuses += [str(b.get("code") or "") for b in benefits]
    items = [item for b in benefits for item in _items(b)]
    if statuses or items:
        insurance: JsonObject = {"coverage": {"type": "Coverage", "display":
                                              str(payer.get("name") or "Coverage")}}
        if member:
            insurance["coverage"]["identifier"] = {"system": systems.member_id(payer_id),
                                                   "value": member}
        if any(s in _ACTIVE for s in statuses):
            insurance["inforce"] = True
        elif any(s in _INACTIVE for s in statuses):
            insurance["inforce"] = False
        if items:
            insurance["item"] = items
            response["purpose"] = ["validation", "benefits"]
        response["insurance"] = [insurance]
    problems = errors_of(answer)
    if problems:
        response["outcome"] = "error"
        response["disposition"] = "The payer or the clearinghouse rejected the inquiry"
        response["error"] = [{"code": _error_code(p)} for p in problems]
    return response


def _error_code(problem: Mapping[str, str]) -> JsonObject:
    """An AAA reject reason (X12 901: two characters) as a coding, anything else as text."""
    out: JsonObject = {"text": problem["description"] or problem["code"]}
    if len(problem["code"]) == 2 and problem["code"].isalnum():
        out["coding"] = [coding(_REJECT_REASON, problem["code"])]
    return out
