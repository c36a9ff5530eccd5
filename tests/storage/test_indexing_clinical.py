"""Write-time index extraction for the clinical types (Condition, Encounter, Procedure),
composites, positions and value mapping (R4 search.html)."""

from __future__ import annotations

from decimal import Decimal
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
    NumberEntry,
    PositionEntry,
    QuantityEntry,
    ReferenceEntry,
    StringEntry,
    TokenEntry,
    UriEntry,
)
from server.storage.indexing import compile_all, extract_index, map_value, normalize_string
from tests.builders import claim, explanation_of_benefit
from tests.storage.indexing_helpers import EXAMPLES, ISO_4217, days, of, us

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
