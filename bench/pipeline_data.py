"""The practice the pipeline benchmark bills for: one billing provider, payer, patient with
coverage, rendering provider and facility (stored once), and N one-line claims referencing them."""

from __future__ import annotations

from typing import Any

__all__ = ["CONTEXT_KEYS", "bench_claim", "context_bundle"]

NPI = "http://hl7.org/fhir/sid/us-npi"
PCN = "urn:fhir-facade:x12:patient-control-number"
CPT = "http://www.ama-assn.org/go/cpt"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
POS = "https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set"

#: The order of the context Bundle's entries (and of the transaction's answer).
CONTEXT_KEYS = ("provider", "payer", "patient", "coverage", "rendering", "facility")

_PROCEDURES = (("99213", "120.00"), ("99214", "150.00"), ("99203", "135.00"),
               ("36415", "18.00"), ("93000", "60.00"))


def _entry(key: str, resource: dict[str, Any]) -> dict[str, Any]:
    return {"fullUrl": f"urn:uuid:00000000-0000-4000-8000-{CONTEXT_KEYS.index(key):012d}",
            "resource": resource,
            "request": {"method": "POST", "url": resource["resourceType"]}}


def _ref(key: str) -> dict[str, str]:
    return {"reference": f"urn:uuid:00000000-0000-4000-8000-{CONTEXT_KEYS.index(key):012d}"}


def context_bundle() -> dict[str, Any]:
    """A transaction storing the parties, in ``CONTEXT_KEYS`` order."""
    return {"resourceType": "Bundle", "type": "transaction", "entry": [
        _entry("provider", {
            "resourceType": "Organization",
            "identifier": [{"system": NPI, "value": "1234567893"},
                           {"system": "urn:oid:2.16.840.1.113883.4.4", "value": "123456789"}],
            "name": "Riverside Family Practice",
            "address": [{"line": ["100 Main Street"], "city": "Springfield", "state": "IL",
                         "postalCode": "62701-1234"}]}),
        _entry("payer", {
            "resourceType": "Organization",
            "identifier": [{"system": "urn:fhir-facade:x12:payer-id", "value": "PHP01"}],
            "name": "Prairie Health Plan"}),
        _entry("patient", {
            "resourceType": "Patient", "name": [{"family": "Doe", "given": ["Jane"]}],
            "gender": "female", "birthDate": "1980-02-29",
            "address": [{"line": ["12 Elm Street"], "city": "Springfield", "state": "IL",
                         "postalCode": "62704"}]}),
        _entry("coverage", {
            "resourceType": "Coverage", "status": "active", "subscriberId": "PHP123456789",
            "beneficiary": _ref("patient"), "payor": [_ref("payer")],
            "relationship": {"coding": [{
                "system": "http://terminology.hl7.org/CodeSystem/subscriber-relationship",
                "code": "self"}]},
            "type": {"coding": [{"system": "https://codesystem.x12.org/005010/1032",
                                 "code": "CI"}]}}),
        _entry("rendering", {
            "resourceType": "Practitioner", "identifier": [{"system": NPI, "value": "1245319599"}],
            "name": [{"family": "Nguyen", "given": ["Anh"]}]}),
        _entry("facility", {
            "resourceType": "Location", "identifier": [{"system": NPI, "value": "1679576722"}],
            "name": "Riverside Clinic East",
            "address": {"line": ["200 Oak Avenue"], "city": "Springfield", "state": "IL",
                        "postalCode": "627029876"}}),
    ]}


def bench_claim(n: int, refs: dict[str, str], prefix: str) -> dict[str, Any]:
    """Claim ``n`` (patient control number ``{prefix}{n:08d}``), one service line."""
    code, price = _PROCEDURES[n % len(_PROCEDURES)]

    def ref(key: str) -> dict[str, str]:
        return {"reference": refs[key]}

    return {
        "resourceType": "Claim",
        "identifier": [{"system": PCN, "value": f"{prefix}{n:08d}"}],
        "status": "active",
        "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type",
                             "code": "professional"}]},
        "use": "claim", "patient": ref("patient"), "created": "2026-10-06",
        "billablePeriod": {"start": "2026-10-05", "end": "2026-10-05"},
        "insurer": ref("payer"), "provider": ref("provider"),
        "priority": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority",
                                 "code": "normal"}]},
        "careTeam": [{"sequence": 1, "provider": ref("rendering")}],
        "facility": ref("facility"),
        "diagnosis": [{"sequence": 1, "diagnosisCodeableConcept": {"coding": [
            {"system": ICD10, "code": "E11.9"}]}}],
        "insurance": [{"sequence": 1, "focal": True, "coverage": ref("coverage")}],
        "item": [{"sequence": 1, "diagnosisSequence": [1],
                  "productOrService": {"coding": [{"system": CPT, "code": code}]},
                  "servicedDate": "2026-10-05", "quantity": {"value": 1},
                  "net": {"value": float(price), "currency": "USD"},
                  "locationCodeableConcept": {"coding": [{"system": POS, "code": "11"}]}}],
        "total": {"value": float(price), "currency": "USD"},
    }
