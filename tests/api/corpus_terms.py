"""Code systems, the shared ``meta`` and small builders of the search corpus."""

from __future__ import annotations

from typing import Any

BASE_URL = "http://testserver"

PROFILE = "http://example.org/fhir/StructureDefinition/search-test"
SECURITY = {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}
TAG = {"system": "http://example.org/fhir/tags", "code": "batch-7"}
SOURCE = "http://example.org/feeds/openemr"

SCT = "http://snomed.info/sct"
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
CPT = "http://www.ama-assn.org/go/cpt"
UCUM = "http://unitsofmeasure.org"
NPI = "http://hl7.org/fhir/sid/us-npi"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
BCP47 = "urn:ietf:bcp:47"
MRN = "urn:oid:1.2.36.146.595.217.0.1"


def cc(
    system: str, code: str, display: str | None = None, text: str | None = None
) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": system, "code": code}
    if display is not None:
        coding["display"] = display
    concept: dict[str, Any] = {"coding": [coding]}
    if text is not None:
        concept["text"] = text
    return concept


def ref(target: str) -> dict[str, str]:
    return {"reference": target}


def usd(value: float) -> dict[str, Any]:
    return {"value": value, "currency": "USD"}


META: dict[str, Any] = {
    "profile": [PROFILE],
    "security": [SECURITY],
    "tag": [TAG],
    "source": SOURCE,
}
