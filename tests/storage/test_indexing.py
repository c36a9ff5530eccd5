"""Write-time index extraction: the exact entries each search parameter yields (R4 search.html,
CARIN BB 2.0.0 parameters), for hand-written resources of the served types."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from capability.search_parameter_table import ROWS
from server.fhir.json_codec import loads
from server.storage import indexing
from server.storage.fhirpath import Value
from server.storage.folding import fold
from server.storage.index_entries import (
    DATE_MAX_US,
    DATE_MIN_US,
    CompositeEntry,
    DateEntry,
    IndexEntry,
    NumberEntry,
    PositionEntry,
    QuantityEntry,
    ReferenceEntry,
    StringEntry,
    TokenEntry,
    UriEntry,
)
from server.storage.indexing import compile_all, extract_index, map_value, normalize_string
from tests.builders import claim, coverage, explanation_of_benefit, patient

EXAMPLES = (
    Path(__file__).resolve().parents[2].parent / "shared" / "conformance" / "fhir" / "examples"
)
ISO_4217 = "urn:iso:std:iso:4217"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"


def us(text: str) -> int:
    """Microseconds since the epoch of an ISO instant (an independent computation)."""
    moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return (moment - datetime.fromisoformat("1970-01-01T00:00:00+00:00")) // timedelta(
        microseconds=1
    )


def day(date: str) -> DateEntry:
    return DateEntry("", us(f"{date}T00:00:00Z"), us(f"{date}T00:00:00Z") + 86_400_000_000)


def dated(param: str, low: int, high: int) -> DateEntry:
    return DateEntry(param, low, high)


def of(param: str, entries: list[IndexEntry]) -> list[IndexEntry]:
    return [e for e in entries if e.param == param]


def days(param: str, start: str, end_inclusive: str) -> DateEntry:
    return DateEntry(param, day(start).low_us, day(end_inclusive).high_us)


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


# --------------------------------------------------------------------------------------------
# Condition, Encounter, Procedure: choice types, quantities, resolve()
# --------------------------------------------------------------------------------------------


def test_condition_onset_and_abatement() -> None:
    resource = {
        "resourceType": "Condition",
        "id": "c1",
        "subject": {"reference": "Patient/p1"},
        "onsetAge": {"value": 52, "unit": "yr", "system": "http://unitsofmeasure.org", "code": "a"},
        "abatementRange": {
            "low": {
                "value": Decimal("1.50"),
                "unit": "yr",
                "system": "http://unitsofmeasure.org",
                "code": "a",
            },
            "high": {"value": 3, "unit": "yr", "system": "http://unitsofmeasure.org", "code": "a"},
        },
        "recordedDate": "2026",
        "code": {
            "coding": [
                {"system": "http://snomed.info/sct", "code": "39065001", "display": "Burn of ear"}
            ],
            "text": "Burnt Ear",
        },
    }
    entries = extract_index("Condition", resource)
    ucum = "http://unitsofmeasure.org"
    assert of("onset-age", entries) == [QuantityEntry("onset-age", 51.5, 52.5, ucum, "a", "yr")]
    assert of("abatement-age", entries) == [
        QuantityEntry("abatement-age", 1.495, 3.5, ucum, "a", "yr")
    ]
    assert of("onset-date", entries) == []
    assert of("recorded-date", entries) == [
        DateEntry("recorded-date", us("2026-01-01T00:00:00Z"), us("2027-01-01T00:00:00Z"))
    ]
    assert of("code", entries) == [
        TokenEntry("code", "http://snomed.info/sct", "39065001", "burn of ear"),
        TokenEntry("code", None, None, "burnt ear"),
    ]
    assert of("patient", entries) == [ReferenceEntry("patient", "Patient", "p1", "Patient/p1")]
    assert of("subject", entries) == [ReferenceEntry("subject", "Patient", "p1", "Patient/p1")]

    in_group = {**resource, "subject": {"reference": "Group/g1"}, "onsetString": "childhood"}
    del in_group["onsetAge"]
    entries = extract_index("Condition", in_group)
    assert of("patient", entries) == []
    assert of("subject", entries) == [ReferenceEntry("subject", "Group", "g1", "Group/g1")]
    assert of("onset-info", entries) == [StringEntry("onset-info", "childhood", "childhood")]
    assert of("onset-age", entries) == []


def test_condition_open_period_and_one_sided_range() -> None:
    resource = {
        "resourceType": "Condition",
        "subject": {"reference": "Patient/p1"},
        "onsetPeriod": {"end": "2024-06"},
        "abatementRange": {"high": {"value": 10, "unit": "yr"}},
    }
    entries = extract_index("Condition", resource)
    assert of("onset-date", entries) == [
        DateEntry("onset-date", DATE_MIN_US, us("2024-07-01T00:00:00Z"))
    ]
    assert of("abatement-age", entries) == [
        QuantityEntry("abatement-age", float("-inf"), 10.5, None, None, "yr")
    ]


def test_encounter() -> None:
    resource = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {
            "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
            "code": "AMB",
            "display": "ambulatory",
        },
        "subject": {"reference": "Patient/p1"},
        "participant": [
            {"individual": {"reference": "Practitioner/dr-1"}},
            {"individual": {"reference": "PractitionerRole/role-1"}},
            {"individual": {"reference": "https://x.example/fhir/Practitioner/dr-2/_history/3"}},
        ],
        "period": {"start": "2024-02-01T08:00:00Z", "end": "2024-02-01T09:30:00Z"},
        "length": {
            "value": 90,
            "unit": "min",
            "system": "http://unitsofmeasure.org",
            "code": "min",
        },
        "location": [
            {"location": {"reference": "Location/l1"}, "period": {"start": "2024-02-01T08:00:00Z"}}
        ],
    }
    entries = extract_index("Encounter", resource)
    assert of("practitioner", entries) == [
        ReferenceEntry("practitioner", "Practitioner", "dr-1", "Practitioner/dr-1"),
        ReferenceEntry(
            "practitioner", "Practitioner", "dr-2", "https://x.example/fhir/Practitioner/dr-2"
        ),
    ]
    assert len(of("participant", entries)) == 3
    assert of("class", entries) == [
        TokenEntry("class", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "AMB", "ambulatory")
    ]
    assert of("date", entries) == [
        DateEntry("date", us("2024-02-01T08:00:00Z"), us("2024-02-01T09:30:01Z"))
    ]
    assert of("length", entries) == [
        QuantityEntry("length", 89.5, 90.5, "http://unitsofmeasure.org", "min", "min")
    ]
    assert of("location-period", entries) == [
        DateEntry("location-period", us("2024-02-01T08:00:00Z"), DATE_MAX_US)
    ]


def test_procedure_canonicals_and_performed() -> None:
    resource = {
        "resourceType": "Procedure",
        "status": "completed",
        "subject": {"reference": "Patient/p1"},
        "instantiatesCanonical": ["http://example.org/PlanDefinition/pd|2.1"],
        "instantiatesUri": ["http://example.org/protocol.pdf"],
        "performedString": "last spring",
    }
    entries = extract_index("Procedure", resource)
    assert of("instantiates-canonical", entries) == [
        ReferenceEntry("instantiates-canonical", None, None, "http://example.org/PlanDefinition/pd")
    ]
    assert of("instantiates-uri", entries) == [
        UriEntry("instantiates-uri", "http://example.org/protocol.pdf")
    ]
    assert of("date", entries) == []  # a string performed[x] has no date
    performed = extract_index("Procedure", {**resource, "performedDateTime": "2024-02"})
    assert of("date", performed) == [
        DateEntry("date", us("2024-02-01T00:00:00Z"), us("2024-03-01T00:00:00Z"))
    ]


# --------------------------------------------------------------------------------------------
# Group composite, Location near
# --------------------------------------------------------------------------------------------


def test_group_characteristic_value_composite() -> None:
    resource = {
        "resourceType": "Group",
        "type": "person",
        "actual": True,
        "characteristic": [
            {
                "code": {
                    "coding": [
                        {"system": "urn:c", "code": "c1"},
                        {"system": "urn:c2", "code": "k1"},
                    ]
                },
                "valueCodeableConcept": {
                    "coding": [{"system": "urn:v", "code": "v1"}, {"code": "v2"}]
                },
                "exclude": False,
            },
            {
                "code": {"coding": [{"system": "urn:c", "code": "c2"}]},
                "valueBoolean": True,
                "exclude": True,
            },
            {
                "code": {"coding": [{"system": "urn:c", "code": "c3"}]},
                "valueQuantity": {"value": 3},
                "exclude": False,
            },
            {"code": {"text": "no coding"}, "valueBoolean": False, "exclude": False},
        ],
    }
    entries = extract_index("Group", resource)
    assert of("characteristic-value", entries) == [
        CompositeEntry("characteristic-value", "urn:c", "c1", "urn:v", "v1"),
        CompositeEntry("characteristic-value", "urn:c2", "k1", "urn:v", "v1"),
        CompositeEntry("characteristic-value", "urn:c", "c1", None, "v2"),
        CompositeEntry("characteristic-value", "urn:c2", "k1", None, "v2"),
        CompositeEntry("characteristic-value", "urn:c", "c2", None, "true"),
    ]
    assert of("value", entries) == [
        TokenEntry("value", "urn:v", "v1"),
        TokenEntry("value", None, "v2"),
        TokenEntry("value", None, "true"),
        TokenEntry("value", None, "false"),
    ]
    assert of("exclude", entries) == [
        TokenEntry("exclude", None, "false"),
        TokenEntry("exclude", None, "true"),
    ]
    assert of("actual", entries) == [TokenEntry("actual", None, "true")]


def test_location_position_name_and_alias() -> None:
    resource = {
        "resourceType": "Location",
        "name": "South Wing",
        "alias": ["south wing", "Building S"],
        "position": {"longitude": Decimal("-83.6945691"), "latitude": Decimal("42.25475478")},
        "managingOrganization": {"reference": "Organization/o1"},
    }
    entries = extract_index("Location", resource)
    assert of("near", entries) == [PositionEntry("near", 42.25475478, -83.6945691)]
    assert of("name", entries) == [
        StringEntry("name", "south wing", "South Wing"),
        StringEntry("name", "south wing", "south wing"),
        StringEntry("name", "building s", "Building S"),
    ]
    assert of("organization", entries) == [
        ReferenceEntry("organization", "Organization", "o1", "Organization/o1")
    ]


# --------------------------------------------------------------------------------------------
# Value mapping: money, precision, dates, normalisation
# --------------------------------------------------------------------------------------------


def test_money_is_a_quantity_in_iso_4217() -> None:
    total = explanation_of_benefit()["total"][0]["amount"]
    assert map_value("total", "quantity", Value(total, "Money")) == [
        QuantityEntry("total", 125.495, 125.505, ISO_4217, "USD", None)
    ]
    assert map_value("total", "quantity", Value({"currency": "USD"}, "Money")) == []


@pytest.mark.parametrize(
    ("value", "low", "high"),
    [
        (100, 99.5, 100.5),
        (Decimal("100"), 99.5, 100.5),
        (Decimal("1.50"), 1.495, 1.505),
        (Decimal("1E+2"), 50.0, 150.0),
        (Decimal("-2.5"), -2.55, -2.45),
        (Decimal("0.001"), 0.0005, 0.0015),
        (2.5, 2.45, 2.55),
    ],
)
def test_number_precision(value: Any, low: float, high: float) -> None:
    (entry,) = map_value("n", "number", Value(value, "decimal"))
    assert isinstance(entry, NumberEntry)
    assert entry.low == pytest.approx(low) and entry.high == pytest.approx(high)
    (quantity,) = map_value("q", "quantity", Value({"value": value, "unit": "mg"}, "Quantity"))
    assert isinstance(quantity, QuantityEntry)
    assert (quantity.low, quantity.high) == (entry.low, entry.high)
    assert map_value("n", "number", Value(True, "decimal")) == []


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("2026", "2026-01-01T00:00:00Z", "2027-01-01T00:00:00Z"),
        ("2024-02", "2024-02-01T00:00:00Z", "2024-03-01T00:00:00Z"),
        ("2024-02-29", "2024-02-29T00:00:00Z", "2024-03-01T00:00:00Z"),
        ("2024-02-29T23:59:59+02:00", "2024-02-29T21:59:59Z", "2024-02-29T22:00:00Z"),
        ("2024-02-29T23:59:59.5Z", "2024-02-29T23:59:59.5Z", "2024-02-29T23:59:59.6Z"),
        ("9999-12-31", "9999-12-31T00:00:00Z", None),
        ("9999", "9999-01-01T00:00:00Z", None),
        ("0001-01-01", "0001-01-01T00:00:00Z", "0001-01-02T00:00:00Z"),
    ],
)
def test_date_ranges(text: str, low: str, high: str | None) -> None:
    assert map_value("d", "date", Value(text, "dateTime")) == [
        DateEntry("d", us(low), DATE_MAX_US if high is None else us(high))
    ]


def test_timing_and_unusable_values() -> None:
    timing = {
        "event": ["2024-01-01", "2024-01-08"],
        "repeat": {"boundsPeriod": {"start": "2024-01-01", "end": "2024-03-31"}, "frequency": 1},
    }
    assert map_value("t", "date", Value(timing, "Timing")) == [
        days("t", "2024-01-01", "2024-01-01"),
        days("t", "2024-01-08", "2024-01-08"),
        days("t", "2024-01-01", "2024-03-31"),
    ]
    assert map_value("t", "date", Value({}, "Period")) == []
    assert map_value("t", "date", Value("soon", "string")) == []
    assert map_value("t", "token", Value({"value": 1}, "Quantity")) == []


def test_normalize_string() -> None:
    assert normalize_string("  Ann\t Marie ") == "ann marie"
    assert normalize_string("Zoë MÜLLER") == "zoe muller"
    assert normalize_string("Straße") == "strasse"
    assert normalize_string("İstanbul") == "istanbul"
    assert normalize_string("ﬁle Ⅻ") == "file xii"
    assert normalize_string("\u00a0São\u2003Paulo") == "sao paulo"
    for text in ("Ann Marie", "  MIXED case\t", "Zoë", "İstanbul", "ﬁle", "Straße", "ǰ"):
        assert normalize_string(text) == fold(text)  # the search side folds with fold()


# --------------------------------------------------------------------------------------------
# The whole table
# --------------------------------------------------------------------------------------------


def test_every_row_of_every_type_compiles() -> None:
    assert compile_all() == sum(1 for row in ROWS if row[3] is not None)


def test_a_row_that_could_index_nothing_fails_at_compile_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    bad = ("Claim", "x", "date", "Claim.status", (), "http://x/SearchParameter/x", ())
    monkeypatch.setattr(indexing, "ROWS", (bad,))
    monkeypatch.setattr(indexing, "_COMPILED", {})
    with pytest.raises(ValueError, match="cannot index"):
        extract_index("Claim", claim())
    typo = ("Claim", "x", "token", "Claim.statuss", (), "http://x/SearchParameter/x", ())
    monkeypatch.setattr(indexing, "ROWS", (typo,))
    with pytest.raises(ValueError, match="unknown element"):
        extract_index("Claim", claim())


def test_unknown_types_have_no_entries() -> None:
    assert extract_index("Basic", {"resourceType": "Basic", "id": "b"}) == []


@pytest.mark.conformance
def test_official_examples_index_without_surprises() -> None:
    if not EXAMPLES.is_dir():
        pytest.skip("../shared/conformance is not present")
    served = {row[0] for row in ROWS}
    params = {(row[0], row[1]) for row in ROWS}
    count = 0
    for path in sorted(EXAMPLES.glob("*.json")):
        resource = loads(path.read_bytes())
        type_ = resource["resourceType"]
        if type_ not in served:
            continue
        entries = extract_index(type_, resource)
        assert not [e for e in entries if e.param in ("_id", "_lastUpdated")]
        for entry in entries:
            assert (type_, entry.param.removesuffix(":of-type")) in params, entry
        count += 1
    assert count >= 31
