"""Write-time index extraction: the exact entries each search parameter yields (R4 search.html,
CARIN BB 2.0.0 parameters), for hand-written resources of the served types."""

from __future__ import annotations

from typing import Any

import pytest

from capability.search_parameter_table import ROWS
from server.storage.fhirpath import Value
from server.storage.index_entries import (
    DATE_MAX_US,
    DateEntry,
    ReferenceEntry,
    StringEntry,
    TokenEntry,
    UriEntry,
)
from server.storage.indexing import extract_index, map_value
from tests.builders import claim, coverage, explanation_of_benefit, patient
from tests.storage.indexing_helpers import V2_0203, day, days, of, us

# --------------------------------------------------------------------------------------------
# ExplanationOfBenefit (CARIN BB)
# --------------------------------------------------------------------------------------------

EOB: dict[str, Any] = explanation_of_benefit(
    id="eob-7",
    meta={"lastUpdated": "2024-03-10T14:30:05.250Z", "profile": ["http://p|2.0.0"]},
    identifier=[
        {
            "type": {
                "coding": [
                    {
                        "system": "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType",
                        "code": "uc",
                    }
                ],
                "text": "Unique Claim ID",
            },
            "system": "https://payer.example/claim-id",
            "value": "CLM-1",
        }
    ],
    billablePeriod={"start": "2024-01-01", "end": "2024-01-31"},
    careTeam=[
        {"sequence": 1, "provider": {"reference": "Practitioner/p1"}},
        {
            "sequence": 2,
            "provider": {"reference": "https://ehr.example/fhir/Organization/o1/_history/4"},
        },
        {"sequence": 3, "provider": {"reference": "Practitioner/p1"}},
    ],
    insurance=[
        {"focal": True, "coverage": {"reference": "Coverage/cov-1/_history/2"}},
        {"focal": False, "coverage": {"identifier": {"system": "urn:ids", "value": "M-9"}}},
    ],
    item=[
        {"sequence": 1, "servicedDate": "2024-01-05"},
        {"sequence": 2, "servicedPeriod": {"start": "2024-01-10", "end": "2024-01-12"}},
        {"sequence": 3, "servicedPeriod": {"start": "2024-01-20"}},
        {"sequence": 4},
    ],
    payee={"party": {"reference": "#payee-1"}},
    contained=[{"resourceType": "Organization", "id": "payee-1", "name": "Payee"}],
)


def test_eob_service_dates_include_item_serviced_date_and_period() -> None:
    entries = extract_index("ExplanationOfBenefit", EOB)
    assert of("service-date", entries) == [
        days("service-date", "2024-01-01", "2024-01-31"),
        days("service-date", "2024-01-05", "2024-01-05"),
        days("service-date", "2024-01-10", "2024-01-12"),
        DateEntry("service-date", day("2024-01-20").low_us, DATE_MAX_US),
    ]
    assert of("service-start-date", entries) == [
        days("service-start-date", "2024-01-01", "2024-01-01"),
        days("service-start-date", "2024-01-05", "2024-01-05"),
        days("service-start-date", "2024-01-10", "2024-01-10"),
        days("service-start-date", "2024-01-20", "2024-01-20"),
    ]
    assert of("billable-period-start", entries) == [
        days("billable-period-start", "2024-01-01", "2024-01-01")
    ]


def test_eob_references() -> None:
    entries = extract_index("ExplanationOfBenefit", EOB)
    assert of("care-team", entries) == [
        ReferenceEntry("care-team", "Practitioner", "p1", "Practitioner/p1"),
        ReferenceEntry(
            "care-team", "Organization", "o1", "https://ehr.example/fhir/Organization/o1"
        ),
    ]
    assert of("coverage", entries) == [
        ReferenceEntry("coverage", "Coverage", "cov-1", "Coverage/cov-1"),
        ReferenceEntry("coverage", None, None, None, "urn:ids", "M-9"),
    ]
    assert of("patient", entries) == [
        ReferenceEntry("patient", "Patient", "patient-1", "Patient/patient-1")
    ]
    assert of("insurer", entries) == [
        ReferenceEntry("insurer", "Organization", "payer-1", "Organization/payer-1")
    ]
    assert of("claim", entries) == [ReferenceEntry("claim", "Claim", "claim-1", "Claim/claim-1")]
    assert of("payee", entries) == []  # a contained payee is not indexed


def test_eob_tokens_identifier_of_type_and_resource_parameters() -> None:
    entries = extract_index("ExplanationOfBenefit", EOB)
    assert of("identifier", entries) == [
        TokenEntry("identifier", "https://payer.example/claim-id", "CLM-1", "unique claim id")
    ]
    assert of("identifier:of-type", entries) == [
        TokenEntry(
            "identifier:of-type",
            "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType",
            "uc",
            None,
            "CLM-1",
        )
    ]
    assert of("type", entries) == [
        TokenEntry("type", "http://terminology.hl7.org/CodeSystem/claim-type", "professional")
    ]
    assert of("status", entries) == [TokenEntry("status", None, "active")]
    # _id and _lastUpdated are columns of the resource row, never index entries.
    assert of("_id", entries) == [] and of("_lastUpdated", entries) == []
    last = us("2024-03-10T14:30:05.250Z")
    assert map_value("_lastUpdated", "date", Value("2024-03-10T14:30:05.250Z", "instant")) == [
        DateEntry("_lastUpdated", last, last + 1000)
    ]
    assert of("_profile", entries) == [UriEntry("_profile", "http://p|2.0.0")]
    created = us("2024-03-10T09:30:00-05:00")
    assert of("created", entries) == [DateEntry("created", created, created + 1_000_000)]


# --------------------------------------------------------------------------------------------
# Patient
# --------------------------------------------------------------------------------------------

PATIENT: dict[str, Any] = patient(
    id="pat-9",
    identifier=[
        {
            "type": {"coding": [{"system": V2_0203, "code": "MR"}], "text": "Medical Record"},
            "system": "urn:mrn",
            "value": "MRN-1",
        },
        {"system": "urn:ssn", "value": "123"},
        {"system": "urn:mrn", "value": "MRN-1", "type": {"text": "Medical Record"}},
    ],
    name=[
        {
            "use": "official",
            "family": "Müller-Lüdenscheidt",
            "given": ["Zoë", "Ann  Marie"],
            "prefix": ["Dr."],
            "suffix": ["PhD"],
        },
        {"text": "ZOE MULLER"},
    ],
    telecom=[
        {"system": "phone", "value": "+1 555 0100", "use": "home"},
        {"system": "email", "value": "zoe@example.org"},
        {"system": "fax", "value": "+1 555 0199"},
    ],
    address=[
        {
            "use": "home",
            "line": ["1 Main St", "Apt 2"],
            "city": "Springfield",
            "district": "Sangamon",
            "state": "IL",
            "postalCode": "62701",
            "country": "US",
            "text": "1 Main St, Springfield",
        }
    ],
    generalPractitioner=[
        {
            "type": "Practitioner",
            "identifier": {"system": "http://hl7.org/fhir/sid/us-npi", "value": "1234567893"},
        },
        {"reference": "urn:uuid:5e3e2a4c-84b9-4f59-9a6e-2a0d7f3c9f11", "type": "Practitioner"},
    ],
    managingOrganization={"reference": "http://other.example/fhir/Organization/7/_history/1"},
    link=[{"other": {"reference": "#rp"}, "type": "seealso"}],
)


def test_patient_names() -> None:
    entries = extract_index("Patient", PATIENT)
    assert of("family", entries) == [
        StringEntry("family", "muller-ludenscheidt", "Müller-Lüdenscheidt")
    ]
    assert of("given", entries) == [
        StringEntry("given", "zoe", "Zoë"),
        StringEntry("given", "ann marie", "Ann  Marie"),
    ]
    assert of("name", entries) == [
        StringEntry("name", "zoe", "Zoë"),
        StringEntry("name", "ann marie", "Ann  Marie"),
        StringEntry("name", "dr.", "Dr."),
        StringEntry("name", "phd", "PhD"),
        StringEntry("name", "muller-ludenscheidt", "Müller-Lüdenscheidt"),
        StringEntry("name", "zoe muller", "ZOE MULLER"),
    ]
    phonetic = [e for e in of("phonetic", entries) if isinstance(e, StringEntry)]
    names = [e for e in of("name", entries) if isinstance(e, StringEntry)]
    assert [e.normalized for e in phonetic] == [e.normalized for e in names]


def test_patient_addresses() -> None:
    entries = extract_index("Patient", PATIENT)
    assert of("address", entries) == [
        StringEntry("address", "1 main st", "1 Main St"),
        StringEntry("address", "apt 2", "Apt 2"),
        StringEntry("address", "springfield", "Springfield"),
        StringEntry("address", "sangamon", "Sangamon"),
        StringEntry("address", "il", "IL"),
        StringEntry("address", "62701", "62701"),
        StringEntry("address", "us", "US"),
        StringEntry("address", "1 main st, springfield", "1 Main St, Springfield"),
    ]
    assert of("address-city", entries) == [
        StringEntry("address-city", "springfield", "Springfield")
    ]
    assert of("address-postalcode", entries) == [
        StringEntry("address-postalcode", "62701", "62701")
    ]
    assert of("address-use", entries) == [TokenEntry("address-use", None, "home")]


def test_patient_telecom_is_a_token_on_the_value() -> None:
    entries = extract_index("Patient", PATIENT)
    assert of("telecom", entries) == [
        TokenEntry("telecom", None, "+1 555 0100"),
        TokenEntry("telecom", None, "zoe@example.org"),
        TokenEntry("telecom", None, "+1 555 0199"),
    ]
    assert of("phone", entries) == [TokenEntry("phone", None, "+1 555 0100")]
    assert of("email", entries) == [TokenEntry("email", None, "zoe@example.org")]


def test_patient_identifiers_and_references() -> None:
    entries = extract_index("Patient", PATIENT)
    assert of("identifier", entries) == [
        TokenEntry("identifier", "urn:mrn", "MRN-1", "medical record"),
        TokenEntry("identifier", "urn:ssn", "123"),
    ]
    assert of("identifier:of-type", entries) == [
        TokenEntry("identifier:of-type", V2_0203, "MR", None, "MRN-1")
    ]
    assert of("general-practitioner", entries) == [
        ReferenceEntry(
            "general-practitioner",
            "Practitioner",
            None,
            None,
            "http://hl7.org/fhir/sid/us-npi",
            "1234567893",
        ),
        ReferenceEntry(
            "general-practitioner",
            "Practitioner",
            None,
            "urn:uuid:5e3e2a4c-84b9-4f59-9a6e-2a0d7f3c9f11",
        ),
    ]
    assert of("organization", entries) == [
        ReferenceEntry(
            "organization", "Organization", "7", "http://other.example/fhir/Organization/7"
        )
    ]
    assert of("link", entries) == []
    assert of("birthdate", entries) == [days("birthdate", "1980-05-17", "1980-05-17")]
    assert of("gender", entries) == [TokenEntry("gender", None, "female")]
    assert of("active", entries) == [TokenEntry("active", None, "true")]


@pytest.mark.parametrize(
    ("deceased", "token", "death_date"),
    [
        ({}, "false", []),
        ({"deceasedBoolean": False}, "false", []),
        ({"deceasedBoolean": True}, "true", []),
        (
            {"deceasedDateTime": "2020-02-01T10:00:00+01:00"},
            "true",
            [DateEntry("death-date", us("2020-02-01T09:00:00Z"), us("2020-02-01T09:00:01Z"))],
        ),
    ],
)
def test_patient_deceased(
    deceased: dict[str, Any], token: str, death_date: list[DateEntry]
) -> None:
    entries = extract_index("Patient", {**patient(), **deceased})
    assert of("deceased", entries) == [TokenEntry("deceased", None, token)]
    assert of("death-date", entries) == death_date


# --------------------------------------------------------------------------------------------
# Coverage, Claim, references
# --------------------------------------------------------------------------------------------


def test_coverage_payor_and_meta() -> None:
    resource = coverage(
        meta={
            "lastUpdated": "2024-01-01T00:00:00Z",
            "tag": [{"system": "urn:tags", "code": "t1", "display": "Tag One"}],
            "security": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}
            ],
            "source": "http://source.example#x",
        },
        payor=[
            {"reference": "Organization/payer-1"},
            {"reference": "Patient/patient-1"},
            {"reference": "http://h.example/fhir/RelatedPerson/rp-2/_history/1"},
        ],
        type={
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "EHCPOL"}
            ],
            "text": "Extended",
        },
    )
    entries = extract_index("Coverage", resource)
    assert of("payor", entries) == [
        ReferenceEntry("payor", "Organization", "payer-1", "Organization/payer-1"),
        ReferenceEntry("payor", "Patient", "patient-1", "Patient/patient-1"),
        ReferenceEntry(
            "payor", "RelatedPerson", "rp-2", "http://h.example/fhir/RelatedPerson/rp-2"
        ),
    ]
    assert of("beneficiary", entries) == of(
        "patient", [ReferenceEntry("patient", "Patient", "patient-1", "Patient/patient-1")]
    ) or of("beneficiary", entries) == [
        ReferenceEntry("beneficiary", "Patient", "patient-1", "Patient/patient-1")
    ]
    assert of("patient", entries) == [
        ReferenceEntry("patient", "Patient", "patient-1", "Patient/patient-1")
    ]
    assert of("_tag", entries) == [TokenEntry("_tag", "urn:tags", "t1", "tag one")]
    assert of("_security", entries) == [
        TokenEntry("_security", "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "R")
    ]
    assert of("_source", entries) == [UriEntry("_source", "http://source.example#x")]
    assert of("type", entries) == [
        TokenEntry("type", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "EHCPOL"),
        TokenEntry("type", None, None, "extended"),
    ]
    assert of("class-type", entries) == [
        TokenEntry("class-type", "http://terminology.hl7.org/CodeSystem/coverage-class", "group")
    ]
    assert of("class-value", entries) == [StringEntry("class-value", "grp-1", "GRP-1")]
    assert of("_lastUpdated", entries) == []


def test_claim_references_of_every_form() -> None:
    resource = claim(
        provider={"reference": "https://ehr.example/fhir/Organization/org-1"},
        enterer={"reference": "PractitionerRole/pr-1/_history/7", "display": "Front desk"},
        insurer={"display": "Some payer"},
        facility={"reference": "#loc"},
        contained=[{"resourceType": "Location", "id": "loc"}],
        careTeam=[
            {"sequence": 1, "provider": {"type": "Practitioner", "identifier": {"value": "NPI-1"}}}
        ],
        payee={
            "type": {"text": "provider"},
            "party": {"reference": "Organization/org-1", "type": "Organization"},
        },
    )
    entries = extract_index("Claim", resource)
    assert of("provider", entries) == [
        ReferenceEntry(
            "provider", "Organization", "org-1", "https://ehr.example/fhir/Organization/org-1"
        )
    ]
    assert of("enterer", entries) == [
        ReferenceEntry("enterer", "PractitionerRole", "pr-1", "PractitionerRole/pr-1")
    ]
    assert of("insurer", entries) == []
    assert of("facility", entries) == []
    assert of("care-team", entries) == [
        ReferenceEntry("care-team", "Practitioner", None, None, None, "NPI-1")
    ]
    assert of("payee", entries) == [
        ReferenceEntry("payee", "Organization", "org-1", "Organization/org-1")
    ]
    assert of("use", entries) == [TokenEntry("use", None, "claim")]
    assert of("priority", entries) == [
        TokenEntry("priority", "http://terminology.hl7.org/CodeSystem/processpriority", "normal")
    ]
    assert of("identifier", entries) == [
        TokenEntry("identifier", "urn:oid:2.16.840.1.113883.3.1", "PCN-0001")
    ]


def test_duplicates_are_removed_and_order_is_table_then_document_order() -> None:
    resource = claim(
        identifier=[
            {"system": "urn:a", "value": "2"},
            {"system": "urn:a", "value": "1"},
            {"system": "urn:a", "value": "2"},
        ]
    )
    entries = extract_index("Claim", resource)
    assert of("identifier", entries) == [
        TokenEntry("identifier", "urn:a", "2"),
        TokenEntry("identifier", "urn:a", "1"),
    ]
    table_order = [row[1] for row in ROWS if row[0] == "Claim"]
    params = [e.param for e in entries]
    assert params == sorted(params, key=table_order.index)
    assert extract_index("Claim", resource) == entries
    assert len(set(entries)) == len(entries)
