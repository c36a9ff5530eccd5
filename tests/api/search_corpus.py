"""A small, hand-written corpus of all 18 served types with known search answers.

Every resource has a fixed id (written with PUT), so the expected result of a query is a literal
set of ids. Values vary between the resources of a type so that every registered search
parameter has at least one hit and one miss. The first resource of every type carries a
``meta`` with a profile, a security label, a tag and a source; the others carry none.

References to types the server does not serve (Device, Endpoint, Account, ...) are stored as
written: the server does not check referential integrity, and their index entries are still
searchable. ``claim-3`` points to its patient with an absolute URL under the test server's base
(a local reference however written); ``enc-2`` points to another server's
``Organization/org-prov``, ``Practitioner/prac-1`` and ``Account/acct-1`` (never local).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from asgi_lifespan import LifespanManager

from server.app import create_app
from server.settings import LimitsSettings, Settings

__all__ = [
    "BASE_URL",
    "BY_TYPE",
    "PROFILE",
    "RESOURCES",
    "SECURITY",
    "SOURCE",
    "TAG",
    "corpus_server",
    "ids_of",
    "search_ids",
]

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

# --- Patient ---------------------------------------------------------------------------------

PATIENTS: list[dict[str, Any]] = [
    {
        "resourceType": "Patient",
        "id": "pat-1",
        "meta": META,
        "identifier": [
            {
                "use": "usual",
                "type": cc(V2_0203, "MR", text="Medical record number"),
                "system": MRN,
                "value": "MRN-1001",
            },
            {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "999-11-2222"},
        ],
        "active": True,
        "name": [
            {"use": "official", "family": "Müller", "given": ["Zoë", "Anne"]},
            {"use": "nickname", "text": "Zoe Mueller"},
        ],
        "telecom": [
            {"system": "phone", "value": "555-0101", "use": "home"},
            {"system": "email", "value": "zoe.muller@example.org"},
        ],
        "gender": "female",
        "birthDate": "1980-05-17",
        "deceasedBoolean": False,
        "address": [
            {
                "use": "home",
                "line": ["12 Elm Street"],
                "city": "Springfield",
                "state": "IL",
                "postalCode": "62701",
                "country": "US",
            }
        ],
        "communication": [{"language": cc(BCP47, "en")}],
        "generalPractitioner": [ref("Practitioner/prac-1")],
        "managingOrganization": ref("Organization/org-prov"),
        "link": [{"other": ref("Patient/pat-3"), "type": "seealso"}],
    },
    {
        "resourceType": "Patient",
        "id": "pat-2",
        "identifier": [{"system": MRN, "value": "MRN-1002"}],
        "active": False,
        "name": [{"use": "official", "family": "Smith", "given": ["John"]}],
        "telecom": [{"system": "phone", "value": "555-0202", "use": "mobile"}],
        "gender": "male",
        "birthDate": "1955-11-02",
        "deceasedDateTime": "2023-04-01T08:30:00Z",
        "address": [
            {
                "use": "work",
                "line": ["200 Lake Shore Drive"],
                "city": "Chicago",
                "state": "IL",
                "postalCode": "60601",
                "country": "US",
            }
        ],
        "communication": [{"language": cc(BCP47, "es")}],
        "generalPractitioner": [ref("PractitionerRole/role-1")],
        "managingOrganization": ref("Organization/org-payer"),
    },
    {
        "resourceType": "Patient",
        "id": "pat-3",
        "name": [{"family": "Doe", "given": ["Jane"]}],
        "gender": "other",
        "birthDate": "2010",
    },
]

# --- Practitioner, PractitionerRole, Organization, Location, RelatedPerson -------------------

PRACTITIONERS: list[dict[str, Any]] = [
    {
        "resourceType": "Practitioner",
        "id": "prac-1",
        "meta": META,
        "identifier": [{"system": NPI, "value": "1234567893"}],
        "active": True,
        "name": [{"family": "Carter", "given": ["Amélie"], "prefix": ["Dr."]}],
        "telecom": [
            {"system": "phone", "value": "555-0300", "use": "work"},
            {"system": "email", "value": "a.carter@clinic.example.org"},
        ],
        "address": [
            {
                "use": "work",
                "line": ["1 Longwood Ave"],
                "city": "Boston",
                "state": "MA",
                "postalCode": "02115",
                "country": "US",
            }
        ],
        "gender": "female",
        "communication": [cc(BCP47, "fr")],
    },
    {
        "resourceType": "Practitioner",
        "id": "prac-2",
        "identifier": [{"system": NPI, "value": "1987654320"}],
        "active": False,
        "name": [{"family": "Nguyen", "given": ["Bao"]}],
        "gender": "male",
    },
]

PRACTITIONER_ROLES: list[dict[str, Any]] = [
    {
        "resourceType": "PractitionerRole",
        "id": "role-1",
        "meta": META,
        "identifier": [{"system": "urn:example:roles", "value": "R-1"}],
        "active": True,
        "period": {"start": "2020-01-01", "end": "2024-12-31"},
        "practitioner": ref("Practitioner/prac-1"),
        "organization": ref("Organization/org-prov"),
        "code": [cc("http://terminology.hl7.org/CodeSystem/practitioner-role", "doctor")],
        "specialty": [cc("http://nucc.org/provider-taxonomy", "207Q00000X")],
        "location": [ref("Location/loc-1")],
        "healthcareService": [ref("HealthcareService/hs-1")],
        "telecom": [
            {"system": "phone", "value": "555-0400"},
            {"system": "email", "value": "frontdesk@clinic.example.org"},
        ],
        "endpoint": [ref("Endpoint/ep-1")],
    },
    {
        "resourceType": "PractitionerRole",
        "id": "role-2",
        "identifier": [{"system": "urn:example:roles", "value": "R-2"}],
        "active": False,
        "period": {"start": "2025-01-01"},
        "practitioner": ref("Practitioner/prac-2"),
        "organization": ref("Organization/org-payer"),
        "code": [cc("http://terminology.hl7.org/CodeSystem/practitioner-role", "nurse")],
    },
]

ORGANIZATIONS: list[dict[str, Any]] = [
    {
        "resourceType": "Organization",
        "id": "org-prov",
        "meta": META,
        "identifier": [{"system": NPI, "value": "1407071236"}],
        "active": True,
        "type": [cc("http://terminology.hl7.org/CodeSystem/organization-type", "prov")],
        "name": "Springfield General Clinic",
        "alias": ["SGC"],
        "address": [
            {
                "use": "work",
                "line": ["800 Main Street"],
                "city": "Springfield",
                "state": "IL",
                "postalCode": "62701",
                "country": "US",
            }
        ],
        "endpoint": [ref("Endpoint/ep-1")],
    },
    {
        "resourceType": "Organization",
        "id": "org-payer",
        "identifier": [{"system": "urn:example:payer-ids", "value": "PAYER-77"}],
        "active": True,
        "type": [cc("http://terminology.hl7.org/CodeSystem/organization-type", "pay")],
        "name": "Acme Health Insurance",
        "alias": ["Acme, Inc."],
        "address": [
            {
                "use": "billing",
                "city": "Chicago",
                "state": "IL",
                "postalCode": "60606",
                "country": "US",
            }
        ],
    },
    {
        "resourceType": "Organization",
        "id": "org-sub",
        "active": False,
        "type": [cc("http://terminology.hl7.org/CodeSystem/organization-type", "ins")],
        "name": "Acme Health Plan of Illinois",
        "alias": ["Acme $ave|Plan"],
        "partOf": ref("Organization/org-payer"),
    },
]

LOCATIONS: list[dict[str, Any]] = [
    {
        "resourceType": "Location",
        "id": "loc-1",
        "meta": META,
        "identifier": [{"system": "urn:example:locations", "value": "LOC-1"}],
        "status": "active",
        "operationalStatus": {
            "system": "http://terminology.hl7.org/CodeSystem/v2-0116",
            "code": "O",
        },
        "name": "Springfield Main Campus",
        "alias": ["Main Campus"],
        "type": [cc(ROLE_CODE, "HOSP")],
        "address": {
            "use": "work",
            "line": ["800 Main Street"],
            "city": "Springfield",
            "state": "IL",
            "postalCode": "62701",
            "country": "US",
        },
        "position": {"longitude": -89.6501, "latitude": 39.7817},
        "managingOrganization": ref("Organization/org-prov"),
        "endpoint": [ref("Endpoint/ep-1")],
    },
    {
        "resourceType": "Location",
        "id": "loc-2",
        "identifier": [{"system": "urn:example:locations", "value": "LOC|2,$"}],
        "status": "inactive",
        "name": "Chicago Loop Office",
        "type": [cc(ROLE_CODE, "OF")],
        "address": {"use": "temp", "city": "Chicago", "state": "Illinois", "postalCode": "60601"},
        "position": {"longitude": -87.6298, "latitude": 41.8781},
        "partOf": ref("Location/loc-1"),
    },
]

RELATED_PERSONS: list[dict[str, Any]] = [
    {
        "resourceType": "RelatedPerson",
        "id": "rp-1",
        "meta": META,
        "identifier": [{"system": "urn:example:related", "value": "RP-1"}],
        "active": True,
        "patient": ref("Patient/pat-2"),
        "relationship": [cc(ROLE_CODE, "WIFE")],
        "name": [{"family": "Smith", "given": ["María"]}],
        "telecom": [
            {"system": "phone", "value": "555-0505"},
            {"system": "email", "value": "maria.smith@example.org"},
        ],
        "gender": "female",
        "birthDate": "1958-03-03",
        "address": [
            {
                "use": "home",
                "city": "Evanston",
                "state": "IL",
                "postalCode": "60201",
                "country": "US",
            }
        ],
    },
    {
        "resourceType": "RelatedPerson",
        "id": "rp-2",
        "active": False,
        "patient": ref("Patient/pat-1"),
        "relationship": [cc(ROLE_CODE, "FTH")],
        "name": [{"family": "Müller", "given": ["Hans"]}],
        "gender": "male",
        "birthDate": "1950-01-20",
    },
]

# --- Clinical: Encounter, Condition, Procedure, Group -----------------------------------------

ENCOUNTERS: list[dict[str, Any]] = [
    {
        "resourceType": "Encounter",
        "id": "enc-1",
        "meta": META,
        "identifier": [{"system": "urn:example:encounters", "value": "ENC-1"}],
        "status": "finished",
        "class": {"system": ACT_CODE, "code": "AMB"},
        "type": [cc(SCT, "185349003", "Encounter for check up")],
        "subject": ref("Patient/pat-1"),
        "episodeOfCare": [ref("EpisodeOfCare/eoc-1")],
        "basedOn": [ref("ServiceRequest/sr-1")],
        "participant": [
            {
                "type": [cc("http://terminology.hl7.org/CodeSystem/v3-ParticipationType", "PPRF")],
                "individual": ref("Practitioner/prac-1"),
            }
        ],
        "appointment": [ref("Appointment/appt-1")],
        "period": {"start": "2024-02-28T09:00:00Z", "end": "2024-02-28T09:30:00Z"},
        "length": {"value": 30, "unit": "min", "system": UCUM, "code": "min"},
        "reasonCode": [cc(SCT, "38341003", "Hypertension")],
        "reasonReference": [ref("Condition/cond-1")],
        "diagnosis": [{"condition": ref("Condition/cond-1")}],
        "account": [ref("Account/acct-1")],
        "hospitalization": {
            "specialArrangement": [
                cc("http://terminology.hl7.org/CodeSystem/encounter-special-arrangements", "wheel")
            ]
        },
        "location": [
            {
                "location": ref("Location/loc-1"),
                "period": {"start": "2024-02-28T09:00:00Z", "end": "2024-02-28T09:30:00Z"},
            }
        ],
        "serviceProvider": ref("Organization/org-prov"),
    },
    {
        "resourceType": "Encounter",
        "id": "enc-2",
        "status": "in-progress",
        "class": {"system": ACT_CODE, "code": "IMP"},
        "subject": ref("Patient/pat-2"),
        "participant": [
            {"individual": ref("PractitionerRole/role-2")},
            {"individual": ref("http://other.example.org/fhir/Practitioner/prac-1")},
        ],
        "period": {"start": "2025-06-01T00:00:00Z"},
        "length": {"value": 3, "unit": "days", "system": UCUM, "code": "d"},
        "partOf": ref("Encounter/enc-1"),
        "location": [{"location": ref("Location/loc-2")}],
        "account": [ref("http://other.example.org/fhir/Account/acct-1")],
        "serviceProvider": ref("http://other.example.org/fhir/Organization/org-prov"),
    },
]

CONDITIONS: list[dict[str, Any]] = [
    {
        "resourceType": "Condition",
        "id": "cond-1",
        "meta": META,
        "identifier": [{"system": "urn:example:conditions", "value": "COND-1"}],
        "clinicalStatus": cc(
            "http://terminology.hl7.org/CodeSystem/condition-clinical", "remission"
        ),
        "verificationStatus": cc(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status", "confirmed"
        ),
        "category": [
            cc("http://terminology.hl7.org/CodeSystem/condition-category", "encounter-diagnosis")
        ],
        "severity": cc(SCT, "24484000", "Severe"),
        "code": cc(
            ICD10,
            "E11.9",
            "Type 2 diabetes mellitus without complications",
            text="Type 2 diabetes",
        ),
        "bodySite": [cc(SCT, "38266002", "Entire body as a whole")],
        "subject": ref("Patient/pat-1"),
        "encounter": ref("Encounter/enc-1"),
        "onsetDateTime": "2019-03-10",
        "abatementString": "in remission since spring",
        "recordedDate": "2024-02-28",
        "asserter": ref("Practitioner/prac-1"),
        "stage": [{"summary": cc(SCT, "14803004", "Temporary")}],
        "evidence": [{"code": [cc(SCT, "271327008")], "detail": [ref("Procedure/proc-1")]}],
    },
    {
        "resourceType": "Condition",
        "id": "cond-2",
        "clinicalStatus": cc(
            "http://terminology.hl7.org/CodeSystem/condition-clinical", "resolved"
        ),
        "verificationStatus": cc(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status", "provisional"
        ),
        "category": [
            cc("http://terminology.hl7.org/CodeSystem/condition-category", "problem-list-item")
        ],
        "code": cc(ICD10, "J45.909", "Unspecified asthma, uncomplicated"),
        "subject": ref("Patient/pat-2"),
        "onsetAge": {"value": 12, "unit": "years", "system": UCUM, "code": "a"},
        "abatementAge": {"value": 40, "unit": "years", "system": UCUM, "code": "a"},
        "recordedDate": "2023-01-15",
        "asserter": ref("Patient/pat-2"),
    },
    {
        "resourceType": "Condition",
        "id": "cond-3",
        "clinicalStatus": cc(
            "http://terminology.hl7.org/CodeSystem/condition-clinical", "inactive"
        ),
        "code": cc(ICD10, "I10", "Essential (primary) hypertension"),
        "subject": ref("Group/grp-1"),
        "onsetString": "childhood",
        "abatementPeriod": {"start": "2020-01-01", "end": "2020-06-30"},
    },
]

PROCEDURES: list[dict[str, Any]] = [
    {
        "resourceType": "Procedure",
        "id": "proc-1",
        "meta": META,
        "identifier": [{"system": "urn:example:procedures", "value": "PROC-1"}],
        "instantiatesCanonical": ["http://example.org/fhir/PlanDefinition/diabetes-care"],
        "instantiatesUri": ["http://example.org/protocols/a1c/v2"],
        "basedOn": [ref("ServiceRequest/sr-1")],
        "partOf": [ref("Procedure/proc-2")],
        "status": "completed",
        "category": cc(SCT, "103693007", "Diagnostic procedure"),
        "code": cc(CPT, "83036", "Hemoglobin A1c"),
        "subject": ref("Patient/pat-1"),
        "encounter": ref("Encounter/enc-1"),
        "performedDateTime": "2024-02-28T09:15:00Z",
        "performer": [{"actor": ref("Practitioner/prac-1")}],
        "location": ref("Location/loc-1"),
        "reasonCode": [cc(ICD10, "E11.9")],
        "reasonReference": [ref("Condition/cond-1")],
    },
    {
        "resourceType": "Procedure",
        "id": "proc-2",
        "status": "in-progress",
        "category": cc(SCT, "409063005", "Counselling"),
        "code": cc(CPT, "99213"),
        "subject": ref("Group/grp-1"),
        "performedPeriod": {"start": "2025-06-01T08:00:00Z", "end": "2025-06-01T09:00:00Z"},
        "performer": [{"actor": ref("Organization/org-prov")}],
    },
]

GROUPS: list[dict[str, Any]] = [
    {
        "resourceType": "Group",
        "id": "grp-1",
        "meta": META,
        "identifier": [{"system": "urn:example:groups", "value": "GRP-1"}],
        "type": "person",
        "actual": True,
        "code": cc("http://example.org/fhir/group-codes", "diabetes-cohort"),
        "name": "Diabetes outreach cohort",
        "managingEntity": ref("Organization/org-payer"),
        "characteristic": [
            {
                "code": cc(SCT, "73211009", "Diabetes mellitus"),
                "valueCodeableConcept": cc(SCT, "373066001", "Yes"),
                "exclude": False,
            },
            {
                "code": cc(SCT, "77386006", "Pregnancy"),
                "valueBoolean": True,
                "exclude": True,
            },
        ],
        "member": [{"entity": ref("Patient/pat-1")}, {"entity": ref("Patient/pat-2")}],
    },
    {
        "resourceType": "Group",
        "id": "grp-2",
        "type": "practitioner",
        "actual": False,
        "managingEntity": ref("Practitioner/prac-1"),
        "characteristic": [
            {
                "code": cc(SCT, "73211009", "Diabetes mellitus"),
                "valueCodeableConcept": cc(SCT, "373067005", "No"),
                "exclude": False,
            }
        ],
        "member": [{"entity": ref("Practitioner/prac-1")}],
    },
]

# --- Financial ---------------------------------------------------------------------------------

COVERAGES: list[dict[str, Any]] = [
    {
        "resourceType": "Coverage",
        "id": "cov-1",
        "meta": META,
        "identifier": [
            {
                "type": cc(V2_0203, "MB", text="Member number"),
                "system": "urn:example:member-ids",
                "value": "MEM-1001-01",
            }
        ],
        "status": "active",
        "type": cc(ACT_CODE, "HIP", "health insurance plan policy"),
        "policyHolder": ref("Patient/pat-1"),
        "subscriber": ref("Patient/pat-1"),
        "subscriberId": "MEM-1001",
        "beneficiary": ref("Patient/pat-1"),
        "dependent": "01",
        "relationship": cc("http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self"),
        "period": {"start": "2024-01-01", "end": "2024-12-31"},
        "payor": [ref("Organization/org-payer")],
        "class": [
            {
                "type": cc("http://terminology.hl7.org/CodeSystem/coverage-class", "group"),
                "value": "GRP-5000",
                "name": "Acme Employer Group",
            },
            {
                "type": cc("http://terminology.hl7.org/CodeSystem/coverage-class", "plan"),
                "value": "PLAN-GOLD",
            },
        ],
    },
    {
        "resourceType": "Coverage",
        "id": "cov-2",
        "identifier": [{"system": "urn:example:member-ids", "value": "MEM-2002-02"}],
        "status": "cancelled",
        "type": cc(ACT_CODE, "PPO"),
        "policyHolder": ref("RelatedPerson/rp-1"),
        "subscriber": ref("RelatedPerson/rp-1"),
        "beneficiary": ref("Patient/pat-2"),
        "dependent": "02",
        "relationship": cc(
            "http://terminology.hl7.org/CodeSystem/subscriber-relationship", "spouse"
        ),
        "payor": [ref("Organization/org-sub")],
        "class": [
            {
                "type": cc("http://terminology.hl7.org/CodeSystem/coverage-class", "group"),
                "value": "GRP-6000",
            }
        ],
    },
]

CLAIMS: list[dict[str, Any]] = [
    {
        "resourceType": "Claim",
        "id": "claim-1",
        "meta": META,
        "identifier": [{"system": "urn:example:claims", "value": "PCN-1001"}],
        "status": "active",
        "type": cc(CLAIM_TYPE, "professional"),
        "use": "claim",
        "patient": ref("Patient/pat-1"),
        "created": "2024-03-01T10:00:00Z",
        "enterer": ref("Practitioner/prac-1"),
        "insurer": ref("Organization/org-payer"),
        "provider": ref("Organization/org-prov"),
        "priority": cc("http://terminology.hl7.org/CodeSystem/processpriority", "normal"),
        "payee": {
            "type": cc("http://terminology.hl7.org/CodeSystem/payeetype", "provider"),
            "party": ref("Organization/org-prov"),
        },
        "facility": ref("Location/loc-1"),
        "careTeam": [{"sequence": 1, "provider": ref("Practitioner/prac-1")}],
        "procedure": [
            {
                "sequence": 1,
                "procedureCodeableConcept": cc(CPT, "83036"),
                "udi": [ref("Device/dev-3")],
            }
        ],
        "insurance": [{"sequence": 1, "focal": True, "coverage": ref("Coverage/cov-1")}],
        "item": [
            {
                "sequence": 1,
                "productOrService": cc(CPT, "99213"),
                "servicedDate": "2024-02-28",
                "encounter": [ref("Encounter/enc-1")],
                "udi": [ref("Device/dev-1")],
                "net": usd(125.5),
                "detail": [
                    {
                        "sequence": 1,
                        "productOrService": cc(CPT, "83036"),
                        "udi": [ref("Device/dev-2")],
                        "subDetail": [
                            {
                                "sequence": 1,
                                "productOrService": cc(CPT, "36415"),
                                "udi": [ref("Device/dev-4")],
                            }
                        ],
                    }
                ],
            }
        ],
        "total": usd(125.5),
    },
    {
        "resourceType": "Claim",
        "id": "claim-2",
        "identifier": [{"system": "urn:example:claims", "value": "PCN-2002"}],
        "status": "draft",
        "type": cc(CLAIM_TYPE, "institutional"),
        "use": "preauthorization",
        "patient": ref("Patient/pat-2"),
        "created": "2025-07-15",
        "insurer": ref("Organization/org-sub"),
        "provider": ref("PractitionerRole/role-1"),
        "priority": cc("http://terminology.hl7.org/CodeSystem/processpriority", "stat"),
        "payee": {
            "type": cc("http://terminology.hl7.org/CodeSystem/payeetype", "subscriber"),
            "party": ref("Patient/pat-2"),
        },
        "careTeam": [{"sequence": 1, "provider": ref("Organization/org-prov")}],
        "insurance": [{"sequence": 1, "focal": True, "coverage": ref("Coverage/cov-2")}],
        "item": [
            {
                "sequence": 1,
                "productOrService": cc(CPT, "99223"),
                "servicedDate": "2025-06-02",
                "net": usd(900),
            }
        ],
    },
    {
        "resourceType": "Claim",
        "id": "claim-3",
        "status": "cancelled",
        "type": cc(CLAIM_TYPE, "professional"),
        "use": "claim",
        "patient": ref("http://testserver/fhir/Patient/pat-1"),
        "insurer": {
            "identifier": {"system": "urn:example:payer-ids", "value": "PAYER-77"},
            "display": "Acme Health Insurance",
        },
        "created": "2023-12-01T16:45:00-05:00",
        "provider": ref("Practitioner/prac-2"),
        "priority": cc("http://terminology.hl7.org/CodeSystem/processpriority", "normal"),
        "insurance": [{"sequence": 1, "focal": True, "coverage": ref("Coverage/cov-1")}],
    },
]

CLAIM_RESPONSES: list[dict[str, Any]] = [
    {
        "resourceType": "ClaimResponse",
        "id": "cr-1",
        "meta": META,
        "identifier": [{"system": "urn:example:claim-responses", "value": "CR-1001"}],
        "status": "active",
        "type": cc(CLAIM_TYPE, "professional"),
        "use": "claim",
        "patient": ref("Patient/pat-1"),
        "created": "2024-03-05T12:00:00Z",
        "insurer": ref("Organization/org-payer"),
        "requestor": ref("Organization/org-prov"),
        "request": ref("Claim/claim-1"),
        "outcome": "complete",
        "disposition": "Claim settled as per contract",
        "payment": {
            "type": cc("http://terminology.hl7.org/CodeSystem/ex-paymenttype", "complete"),
            "date": "2024-03-20",
            "amount": usd(100.4),
        },
    },
    {
        "resourceType": "ClaimResponse",
        "id": "cr-2",
        "status": "draft",
        "type": cc(CLAIM_TYPE, "institutional"),
        "use": "preauthorization",
        "patient": ref("Patient/pat-2"),
        "created": "2025-07-16",
        "insurer": ref("Organization/org-sub"),
        "requestor": ref("PractitionerRole/role-1"),
        "request": ref("Claim/claim-2"),
        "outcome": "queued",
        "disposition": "Pended for clinical review",
    },
]

EOBS: list[dict[str, Any]] = [
    {
        "resourceType": "ExplanationOfBenefit",
        "id": "eob-1",
        "meta": META,
        "identifier": [
            {
                "type": cc("http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType", "uc"),
                "system": "https://example.org/fhir/claim-ids",
                "value": "EOB-1001",
            }
        ],
        "status": "active",
        "type": cc(CLAIM_TYPE, "professional"),
        "use": "claim",
        "patient": ref("Patient/pat-1"),
        "billablePeriod": {"start": "2024-02-01", "end": "2024-02-29"},
        "created": "2024-03-10T09:30:00-05:00",
        "enterer": ref("Practitioner/prac-1"),
        "insurer": ref("Organization/org-payer"),
        "provider": ref("Organization/org-prov"),
        "payee": {
            "type": cc("http://terminology.hl7.org/CodeSystem/payeetype", "provider"),
            "party": ref("Organization/org-prov"),
        },
        "facility": ref("Location/loc-1"),
        "claim": ref("Claim/claim-1"),
        "outcome": "complete",
        "disposition": "Processed as billed",
        "careTeam": [
            {"sequence": 1, "provider": ref("Practitioner/prac-1")},
            {"sequence": 2, "provider": ref("PractitionerRole/role-1")},
        ],
        "procedure": [
            {
                "sequence": 1,
                "procedureCodeableConcept": cc(CPT, "83036"),
                "udi": [ref("Device/dev-3")],
            }
        ],
        "insurance": [{"focal": True, "coverage": ref("Coverage/cov-1")}],
        "item": [
            {
                "sequence": 1,
                "productOrService": cc(CPT, "99213"),
                "servicedDate": "2024-02-28",
                "encounter": [ref("Encounter/enc-1")],
                "udi": [ref("Device/dev-1")],
                "net": usd(125.5),
                "detail": [
                    {
                        "sequence": 1,
                        "productOrService": cc(CPT, "83036"),
                        "udi": [ref("Device/dev-2")],
                        "subDetail": [
                            {
                                "sequence": 1,
                                "productOrService": cc(CPT, "36415"),
                                "udi": [ref("Device/dev-4")],
                            }
                        ],
                    }
                ],
            },
            {
                "sequence": 2,
                "productOrService": cc(CPT, "36415"),
                "servicedPeriod": {"start": "2024-02-10", "end": "2024-02-12"},
            },
        ],
        "total": [
            {
                "category": cc("http://terminology.hl7.org/CodeSystem/adjudication", "submitted"),
                "amount": usd(125.5),
            }
        ],
    },
    {
        "resourceType": "ExplanationOfBenefit",
        "id": "eob-2",
        "identifier": [{"system": "https://example.org/fhir/claim-ids", "value": "EOB-2002"}],
        "status": "active",
        "type": cc(CLAIM_TYPE, "institutional"),
        "use": "claim",
        "patient": ref("Patient/pat-2"),
        "billablePeriod": {"start": "2025-06-01", "end": "2025-06-05"},
        "created": "2025-07-20",
        "insurer": ref("Organization/org-sub"),
        "provider": ref("PractitionerRole/role-1"),
        "outcome": "queued",
        "disposition": "Pending medical review",
        "careTeam": [{"sequence": 1, "provider": ref("Practitioner/prac-2")}],
        "insurance": [{"focal": True, "coverage": ref("Coverage/cov-2")}],
        "item": [
            {"sequence": 1, "productOrService": cc(CPT, "99223"), "servicedDate": "2025-06-03"}
        ],
    },
    {
        "resourceType": "ExplanationOfBenefit",
        "id": "eob-3",
        "status": "cancelled",
        "type": cc(CLAIM_TYPE, "pharmacy"),
        "use": "claim",
        "patient": ref("Patient/pat-1"),
        "created": "2023-08-20",
        "insurer": ref("Organization/org-payer"),
        "provider": ref("Practitioner/prac-1"),
        "outcome": "complete",
        "insurance": [{"focal": True, "coverage": ref("Coverage/cov-1")}],
        "item": [
            {
                "sequence": 1,
                "productOrService": cc("http://hl7.org/fhir/sid/ndc", "0002-8215-01"),
                "servicedDate": "2023-08-15",
            }
        ],
    },
]

ELIGIBILITY_REQUESTS: list[dict[str, Any]] = [
    {
        "resourceType": "CoverageEligibilityRequest",
        "id": "cer-1",
        "meta": META,
        "identifier": [{"system": "urn:example:eligibility", "value": "ER-1"}],
        "status": "active",
        "purpose": ["validation"],
        "patient": ref("Patient/pat-1"),
        "created": "2024-02-20T10:00:00Z",
        "enterer": ref("Practitioner/prac-1"),
        "provider": ref("Organization/org-prov"),
        "insurer": ref("Organization/org-payer"),
        "facility": ref("Location/loc-1"),
    },
    {
        "resourceType": "CoverageEligibilityRequest",
        "id": "cer-2",
        "identifier": [{"system": "urn:example:eligibility", "value": "ER-2"}],
        "status": "cancelled",
        "purpose": ["benefits"],
        "patient": ref("Patient/pat-2"),
        "created": "2025-01-10",
        "provider": ref("PractitionerRole/role-1"),
        "insurer": ref("Organization/org-sub"),
    },
]

ELIGIBILITY_RESPONSES: list[dict[str, Any]] = [
    {
        "resourceType": "CoverageEligibilityResponse",
        "id": "cerr-1",
        "meta": META,
        "identifier": [{"system": "urn:example:eligibility", "value": "ERR-1"}],
        "status": "active",
        "purpose": ["validation"],
        "patient": ref("Patient/pat-1"),
        "created": "2024-02-20T10:05:00Z",
        "requestor": ref("Organization/org-prov"),
        "request": ref("CoverageEligibilityRequest/cer-1"),
        "outcome": "complete",
        "disposition": "Policy is currently in effect",
        "insurer": ref("Organization/org-payer"),
    },
    {
        "resourceType": "CoverageEligibilityResponse",
        "id": "cerr-2",
        "status": "entered-in-error",
        "purpose": ["benefits"],
        "patient": ref("Patient/pat-2"),
        "created": "2025-01-10T08:00:00Z",
        "requestor": ref("Practitioner/prac-2"),
        "request": ref("CoverageEligibilityRequest/cer-2"),
        "outcome": "error",
        "disposition": "Subscriber not found",
        "insurer": ref("Organization/org-sub"),
    },
]

PAYMENT_NOTICES: list[dict[str, Any]] = [
    {
        "resourceType": "PaymentNotice",
        "id": "pn-1",
        "meta": META,
        "identifier": [{"system": "urn:example:notices", "value": "PN-1"}],
        "status": "active",
        "request": ref("Claim/claim-1"),
        "response": ref("ClaimResponse/cr-1"),
        "created": "2024-03-21",
        "provider": ref("Organization/org-prov"),
        "payment": ref("PaymentReconciliation/prec-1"),
        "recipient": ref("Organization/org-prov"),
        "amount": usd(100.4),
        "paymentStatus": cc("http://terminology.hl7.org/CodeSystem/paymentstatus", "paid"),
    },
    {
        "resourceType": "PaymentNotice",
        "id": "pn-2",
        "status": "cancelled",
        "request": ref("Claim/claim-2"),
        "created": "2025-08-01T09:00:00Z",
        "provider": ref("Practitioner/prac-2"),
        "payment": ref("PaymentReconciliation/prec-2"),
        "recipient": ref("Organization/org-prov"),
        "amount": usd(20),
        "paymentStatus": cc("http://terminology.hl7.org/CodeSystem/paymentstatus", "cleared"),
    },
]

PAYMENT_RECONCILIATIONS: list[dict[str, Any]] = [
    {
        "resourceType": "PaymentReconciliation",
        "id": "prec-1",
        "meta": META,
        "identifier": [{"system": "urn:example:remittances", "value": "REM-1"}],
        "status": "active",
        "period": {"start": "2024-03-01", "end": "2024-03-31"},
        "created": "2024-03-20",
        "paymentIssuer": ref("Organization/org-payer"),
        "request": ref("Task/task-1"),
        "requestor": ref("Organization/org-prov"),
        "outcome": "complete",
        "disposition": "March 2024 remittance",
        "paymentDate": "2024-03-20",
        "paymentAmount": usd(100.4),
    },
    {
        "resourceType": "PaymentReconciliation",
        "id": "prec-2",
        "status": "draft",
        "created": "2025-08-01",
        "paymentIssuer": ref("Organization/org-sub"),
        "requestor": ref("Practitioner/prac-2"),
        "outcome": "partial",
        "disposition": "Partial remittance",
        "paymentDate": "2025-08-01",
        "paymentAmount": usd(20),
    },
]

RESOURCES: list[dict[str, Any]] = [
    *PATIENTS,
    *PRACTITIONERS,
    *PRACTITIONER_ROLES,
    *ORGANIZATIONS,
    *LOCATIONS,
    *RELATED_PERSONS,
    *ENCOUNTERS,
    *CONDITIONS,
    *PROCEDURES,
    *GROUPS,
    *COVERAGES,
    *CLAIMS,
    *CLAIM_RESPONSES,
    *EOBS,
    *ELIGIBILITY_REQUESTS,
    *ELIGIBILITY_RESPONSES,
    *PAYMENT_NOTICES,
    *PAYMENT_RECONCILIATIONS,
]

BY_TYPE: dict[str, list[str]] = {}
for _resource in RESOURCES:
    BY_TYPE.setdefault(_resource["resourceType"], []).append(_resource["id"])


def ids_of(resource_type: str) -> set[str]:
    """Every corpus id of one type."""
    return set(BY_TYPE[resource_type])


@asynccontextmanager
async def corpus_server(
    folder: Path, resources: list[dict[str, Any]] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on a fresh server (store in ``folder``) holding ``resources`` (default: the
    whole corpus), each written with PUT."""
    settings = Settings(
        database_url=f"sqlite:///{folder / 'facade.db'}",
        base_url=BASE_URL,
        limits=LimitsSettings(max_body_bytes=256 * 1024, default_count=50, max_count=100),
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            for resource in RESOURCES if resources is None else resources:
                url = f"/fhir/{resource['resourceType']}/{resource['id']}"
                response = await client.put(url, json=resource)
                assert response.status_code == 201, response.text
            yield client


def search_ids(body: dict[str, Any], mode: str = "match") -> list[str]:
    """``Type/id`` of the entries of a searchset with ``search.mode`` ``mode``, in order."""
    return [
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in body.get("entry", [])
        if e["search"]["mode"] == mode
    ]
