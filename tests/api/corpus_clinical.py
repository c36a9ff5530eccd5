"""The search corpus: patients, practitioners, organizations, locations, related persons,
encounters, conditions, procedures and groups (see ``tests/api/search_corpus.py``)."""

from __future__ import annotations

from typing import Any

from tests.api.corpus_terms import (
    ACT_CODE,
    BCP47,
    CPT,
    ICD10,
    META,
    MRN,
    NPI,
    ROLE_CODE,
    SCT,
    UCUM,
    V2_0203,
    cc,
    ref,
)

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
