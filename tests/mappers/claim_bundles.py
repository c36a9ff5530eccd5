"""FHIR Claim Bundles the 837 tests start from: a professional claim where the patient is the
subscriber, a dependent's secondary claim with the primary payer's EOB, an institutional
inpatient claim. Plain dicts, built fresh on every call so tests can change them."""

from __future__ import annotations

import copy
from typing import Any

Resource = dict[str, Any]

NPI = "http://hl7.org/fhir/sid/us-npi"
TIN = "urn:oid:2.16.840.1.113883.4.4"
PCN = "urn:fhir-facade:x12:patient-control-number"
PAYER_ID = "urn:fhir-facade:x12:payer-id"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
HCPCS = "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"
FILING = "https://codesystem.x12.org/005010/1032"
C4BB_INFO = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType"
CARC = "https://x12.org/codes/claim-adjustment-reason-codes"


def _entry(resource: Resource) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:{resource['id']}", "resource": resource}


def _ref(resource: Resource) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource['id']}"}


def billing_provider() -> Resource:
    return {
        "resourceType": "Organization", "id": "0b1d0000-0000-4000-8000-000000000001",
        "identifier": [{"system": NPI, "value": "1234567893"},
                       {"system": TIN, "value": "123456789"}],
        "name": "Riverside Family Practice",
        "address": [{"use": "work", "line": ["100 Main Street", "Suite 2"],
                     "city": "Springfield", "state": "IL", "postalCode": "62701-1234"}],
    }


def payer(name: str = "Prairie Health Plan", payer_id: str = "PHP01",
          rid: str = "0b1d0000-0000-4000-8000-000000000002") -> Resource:
    return {"resourceType": "Organization", "id": rid,
            "identifier": [{"system": PAYER_ID, "value": payer_id}], "name": name}


def patient(rid: str = "0b1d0000-0000-4000-8000-000000000003", family: str = "Doe",
            given: tuple[str, ...] = ("Jane", "Q"), born: str = "1980-02-29",
            gender: str = "female") -> Resource:
    return {
        "resourceType": "Patient", "id": rid,
        "name": [{"use": "official", "family": family, "given": list(given)}],
        "gender": gender, "birthDate": born,
        "address": [{"use": "home", "line": ["12 Elm Street"], "city": "Springfield",
                     "state": "IL", "postalCode": "62704"}],
    }


def coverage(beneficiary: Resource, plan: Resource, member: str = "PHP123456789",
             relationship: str = "self", subscriber: Resource | None = None,
             rid: str = "0b1d0000-0000-4000-8000-000000000004", filing: str = "CI") -> Resource:
    out: Resource = {
        "resourceType": "Coverage", "id": rid, "status": "active",
        "type": {"coding": [{"system": FILING, "code": filing}]},
        "subscriberId": member,
        "beneficiary": _ref(beneficiary),
        "relationship": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
            "code": relationship}]},
        "payor": [_ref(plan)],
        "class": [{"type": {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/coverage-class", "code": "group"}]},
            "value": "GRP-7788", "name": "Acme Employees"}],
    }
    if subscriber is not None:
        out["subscriber"] = _ref(subscriber)
    return out


def rendering() -> Resource:
    return {"resourceType": "Practitioner", "id": "0b1d0000-0000-4000-8000-000000000005",
            "identifier": [{"system": NPI, "value": "1245319599"}],
            "name": [{"family": "Nguyen", "given": ["Anh"]}],
            "qualification": [{"code": {"coding": [{
                "system": "http://nucc.org/provider-taxonomy", "code": "207Q00000X"}]}}]}


def facility() -> Resource:
    return {"resourceType": "Location", "id": "0b1d0000-0000-4000-8000-000000000006",
            "identifier": [{"system": NPI, "value": "1679576722"}],
            "name": "Riverside Clinic East",
            "address": {"line": ["200 Oak Avenue"], "city": "Springfield", "state": "IL",
                        "postalCode": "627029876"}}


def _items() -> list[Resource]:
    return [
        {"sequence": 1, "diagnosisSequence": [1, 2],
         "productOrService": {"coding": [{"system": CPT, "code": "99214"}]},
         "modifier": [{"coding": [{"system": CPT, "code": "25"}]}],
         "servicedDate": "2026-10-05", "quantity": {"value": 1},
         "net": {"value": 150.0, "currency": "USD"},
         "locationCodeableConcept": {"coding": [{"system": POS, "code": "11"}]}},
        {"sequence": 2, "diagnosisSequence": [2],
         "productOrService": {"coding": [{"system": HCPCS, "code": "J3301"}]},
         "servicedDate": "2026-10-05", "quantity": {"value": 2},
         "net": {"value": 42.5, "currency": "USD"},
         "locationCodeableConcept": {"coding": [{"system": POS, "code": "11"}]},
         "detail": [{"sequence": 1,
                     "productOrService": {"coding": [{"system": "http://hl7.org/fhir/sid/ndc",
                                                      "code": "00003-0293-05"}]},
                     "quantity": {"value": 2, "unit": "mL", "code": "mL"}}]},
    ]


def professional_bundle() -> Resource:
    """A professional claim; the patient is the subscriber; a rendering provider, a facility,
    a prior authorization number."""
    org, plan, pat = billing_provider(), payer(), patient()
    cov, doc, loc = coverage(pat, plan), rendering(), facility()
    claim: Resource = {
        "resourceType": "Claim", "id": "0b1d0000-0000-4000-8000-0000000000c1",
        "identifier": [{"system": PCN, "value": "PCN-2026-0001"}],
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type",
                             "code": "professional"}]},
        "use": "claim", "patient": _ref(pat), "created": "2026-10-06",
        "billablePeriod": {"start": "2026-10-05", "end": "2026-10-05"},
        "insurer": _ref(plan), "provider": _ref(org),
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority",
                                 "code": "normal"}]},
        "careTeam": [{"sequence": 1, "provider": _ref(doc), "role": {"coding": [{
            "system": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimCareTeamRole",
            "code": "rendering"}]}}],
        "facility": _ref(loc),
        "diagnosis": [
            {"sequence": 1, "diagnosisCodeableConcept": {"coding": [
                {"system": ICD10, "code": "E11.9"}]}},
            {"sequence": 2, "diagnosisCodeableConcept": {"coding": [
                {"system": ICD10, "code": "I10"}]}},
        ],
        "insurance": [{"sequence": 1, "focal": True, "coverage": _ref(cov),
                       "preAuthRef": ["AUTH-55501"]}],
        "item": _items(),
        "total": {"value": 192.5, "currency": "USD"},
    }
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [_entry(r) for r in (claim, pat, cov, plan, org, doc, loc)]}


def secondary_bundle() -> Resource:
    """A dependent child's claim sent to the secondary payer, with the primary payer's EOB."""
    org, primary, secondary = billing_provider(), payer(), payer(
        "Lakeview Assurance", "LVA77", "0b1d0000-0000-4000-8000-000000000012")
    parent = patient("0b1d0000-0000-4000-8000-000000000013", "Doe", ("John",), "1978-06-15",
                     "male")
    parent["resourceType"] = "RelatedPerson"
    parent["patient"] = {"reference": "urn:uuid:0b1d0000-0000-4000-8000-000000000003"}
    child = patient(given=("Sam",), born="2015-09-01", gender="male")
    cov1 = coverage(child, primary, "PHP555", "child", parent)
    cov2 = coverage(child, secondary, "LVA999", "child", parent,
                    "0b1d0000-0000-4000-8000-000000000014", filing="HM")
    eob: Resource = {
        "resourceType": "ExplanationOfBenefit", "id": "0b1d0000-0000-4000-8000-000000000015",
        "status": "active", "use": "claim", "outcome": "complete",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type",
                             "code": "professional"}]},
        "patient": _ref(child), "created": "2026-10-20", "insurer": _ref(primary),
        "provider": _ref(org),
        "insurance": [{"focal": True, "coverage": _ref(cov1)}],
        "item": [
            {"sequence": 1, "adjudication": [
                {"category": {"coding": [{"code": "submitted"}]},
                 "amount": {"value": 150.0, "currency": "USD"}},
                {"category": {"coding": [{"code": "discount"}]},
                 "reason": {"coding": [{"system": CARC, "code": "45"}], "text": "CO-45"},
                 "amount": {"value": 30.0, "currency": "USD"}},
                {"category": {"coding": [{"code": "deductible"}]},
                 "reason": {"coding": [{"system": CARC, "code": "1"}], "text": "PR-1"},
                 "amount": {"value": 20.0, "currency": "USD"}},
                {"category": {"coding": [{"code": "paidtoprovider"}]},
                 "amount": {"value": 100.0, "currency": "USD"}}]},
            {"sequence": 2, "adjudication": [
                {"category": {"coding": [{"code": "noncovered"}]},
                 "reason": {"coding": [{"system": CARC, "code": "96"}], "text": "CO-96"},
                 "amount": {"value": 42.5, "currency": "USD"}},
                {"category": {"coding": [{"code": "paidtoprovider"}]},
                 "amount": {"value": 0, "currency": "USD"}}]},
        ],
        "payment": {"date": "2026-10-21", "amount": {"value": 100.0, "currency": "USD"}},
    }
    bundle = professional_bundle()
    claim = bundle["entry"][0]["resource"]
    claim["identifier"][0]["value"] = "PCN-2026-0002"
    claim["patient"] = _ref(child)
    claim["insurer"] = _ref(secondary)
    claim["insurance"] = [
        {"sequence": 1, "focal": False, "coverage": _ref(cov1)},
        {"sequence": 2, "focal": True, "coverage": _ref(cov2)},
    ]
    del claim["facility"]
    claim["careTeam"] = []
    del claim["careTeam"]
    resources = [claim, child, parent, cov1, cov2, primary, secondary, org, eob]
    return {"resourceType": "Bundle", "type": "collection",
            "entry": [_entry(r) for r in resources]}


def institutional_bundle() -> Resource:
    """An inpatient hospital claim: bill type 0111, admission, discharge status, revenue lines."""
    bundle = professional_bundle()
    claim = bundle["entry"][0]["resource"]
    claim["identifier"][0]["value"] = "PCN-2026-1001"
    claim["type"]["coding"][0]["code"] = "institutional"
    claim["billablePeriod"] = {"start": "2026-09-01", "end": "2026-09-04"}
    claim["supportingInfo"] = [
        {"sequence": 1, "category": {"coding": [{"system": C4BB_INFO, "code": "typeofbill"}]},
         "code": {"coding": [{"system": "https://www.nubc.org/CodeSystem/TypeOfBill",
                              "code": "0111"}]}},
        {"sequence": 2, "category": {"coding": [{"system": C4BB_INFO, "code": "admtype"}]},
         "code": {"coding": [{"system": "https://www.nubc.org/CodeSystem/PriorityTypeOfAdmitOrVisit",
                              "code": "1"}]}},
        {"sequence": 3, "category": {"coding": [{"system": C4BB_INFO,
                                                 "code": "pointoforigin"}]},
         "code": {"coding": [{"system": "https://www.nubc.org/CodeSystem/PointOfOrigin",
                              "code": "7"}]}},
        {"sequence": 4, "category": {"coding": [{"system": C4BB_INFO,
                                                 "code": "discharge-status"}]},
         "code": {"coding": [{"system": "https://www.nubc.org/CodeSystem/PatDischargeStatus",
                              "code": "01"}]}},
        {"sequence": 5, "category": {"coding": [{"system": C4BB_INFO,
                                                 "code": "admissionperiod"}]},
         "timingPeriod": {"start": "2026-09-01", "end": "2026-09-04"}},
    ]
    claim["diagnosis"].append({"sequence": 3, "diagnosisCodeableConcept": {"coding": [
        {"system": ICD10, "code": "R07.9"}]}, "type": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/ex-diagnosistype",
            "code": "admitting"}]}]})
    claim["procedure"] = [{"sequence": 1, "date": "2026-09-02", "procedureCodeableConcept": {
        "coding": [{"system": "http://www.cms.gov/Medicare/Coding/ICD10", "code": "02703ZZ"}]}}]
    claim["careTeam"][0]["role"]["coding"][0]["code"] = "attending"
    del claim["facility"]
    claim["item"] = [
        {"sequence": 1, "revenue": {"coding": [{
            "system": "https://www.nubc.org/CodeSystem/RevenueCodes", "code": "0120"}]},
         "productOrService": {"coding": [{
             "system": "http://terminology.hl7.org/CodeSystem/data-absent-reason",
             "code": "not-applicable"}]},
         "quantity": {"value": 3}, "net": {"value": 4500, "currency": "USD"},
         "servicedPeriod": {"start": "2026-09-01", "end": "2026-09-03"}},
        {"sequence": 2, "revenue": {"coding": [{
            "system": "https://www.nubc.org/CodeSystem/RevenueCodes", "code": "0300"}]},
         "productOrService": {"coding": [{"system": CPT, "code": "80053"}]},
         "quantity": {"value": 1}, "net": {"value": 210.75, "currency": "USD"},
         "servicedDate": "2026-09-02"},
    ]
    claim["total"] = {"value": 4710.75, "currency": "USD"}
    return bundle


def fresh(bundle: Resource) -> Resource:
    return copy.deepcopy(bundle)
