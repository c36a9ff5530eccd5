"""The search-expression compiler against fhirpathpy, an independent FHIRPath engine (the oracle).

Every expression of ``capability.search_parameter_table.ROWS`` is evaluated by both on the
official examples of the served types (when ``../shared/conformance`` is present), on synthetic
resources that put values of every shape at every path the expressions reach, and on small
hand-written fixtures. The selected JSON nodes must be the same, in the same order, and the FHIR
type we attach must be the one fhirpathpy's R4 model gives the node.

Two oracle adaptations: fhirpathpy does not implement ``resolve()``, so the test supplies one (a
resource of the type the reference names: literal, contained or ``Reference.type``); and where
fhirpathpy rejects ``as`` on a repeating element (a singleton is required there) or fails on it
(its ``as`` operator breaks on a Quantity operand), the oracle is asked the per-item form
``ofType()``, which is what the search registry means.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from server.fhir.json_codec import loads
from server.storage import fhirpath
from server.storage.fhirpath import (
    Value,
    compile_expression,
    parse_literal_reference,
    reference_target_type,
)
from tests.storage.fhirpath_oracle import (
    _LOWER_TYPES,
    EXAMPLES,
    EXPRESSIONS,
    R4,
    SERVED,
    assert_same,
    needs_oracle,
    synthetic,
)

# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_every_row_compiles() -> None:
    for type_, expr in EXPRESSIONS:
        compiled = compile_expression(expr, type_)
        assert compiled.types, expr


@needs_oracle
def test_element_model_matches_the_r4_definitions() -> None:
    for path, spec in fhirpathpy_model_items():
        if isinstance(spec, tuple):
            expected = tuple(_LOWER_TYPES[t.lower()] for t in R4["choiceTypePaths"][path])
            assert spec == expected, path
        elif spec == path:
            assert path not in R4["path2Type"], path
            assert any(key.startswith(path + ".") for key in R4["path2Type"]), path
        else:
            assert R4["path2Type"][path] == spec, path


def fhirpathpy_model_items() -> list[tuple[str, str | tuple[str, ...]]]:
    return list(fhirpath._ELEMENTS.items())


@needs_oracle
@pytest.mark.parametrize(("type_", "expr"), EXPRESSIONS, ids=lambda v: str(v)[:60])
def test_rows_match_the_oracle_on_synthetic_resources(type_: str, expr: str) -> None:
    for seed in range(12):
        assert_same(expr, type_, synthetic(type_, seed))


def _example_files() -> list[Path]:
    if not EXAMPLES.is_dir():
        return []
    return [p for p in sorted(EXAMPLES.glob("*.json")) if p.name.split("-")[0] in SERVED]


@needs_oracle
@pytest.mark.conformance
def test_rows_match_the_oracle_on_the_official_examples() -> None:
    files = _example_files()
    if not files:
        pytest.skip("../shared/conformance is not present")
    assert len(files) >= 31
    checked = 0
    for path in files:
        resource = loads(path.read_bytes())
        for type_, expr in EXPRESSIONS:
            if type_ == resource["resourceType"]:
                assert_same(expr, type_, resource)
                checked += 1
    assert checked > 500


# -- hand-written fixtures, one per expression form --------------------------------------------

EOB: dict[str, Any] = {
    "resourceType": "ExplanationOfBenefit",
    "id": "e1",
    "billablePeriod": {"start": "2024-01-01", "end": "2024-01-31"},
    "item": [
        {"sequence": 1, "servicedDate": "2024-01-05"},
        {"sequence": 2, "servicedPeriod": {"start": "2024-01-10", "end": "2024-01-12"}},
        {"sequence": 3},
    ],
    "careTeam": [
        {"sequence": 1, "provider": {"reference": "Practitioner/p1"}},
        {"sequence": 2, "provider": {"reference": "Organization/o1"}},
    ],
}


def test_choice_navigation_types_each_value_by_its_json_key() -> None:
    compiled = compile_expression(
        "ExplanationOfBenefit.billablePeriod | ExplanationOfBenefit.item.serviced",
        "ExplanationOfBenefit",
    )
    assert compiled.types == {"Period", "date"}
    assert compiled.evaluate(EOB) == [
        Value({"start": "2024-01-01", "end": "2024-01-31"}, "Period"),
        Value("2024-01-05", "date"),
        Value({"start": "2024-01-10", "end": "2024-01-12"}, "Period"),
    ]
    start = compile_expression(
        "ExplanationOfBenefit.billablePeriod.start | ExplanationOfBenefit.item.servicedDate"
        " | ExplanationOfBenefit.item.servicedPeriod.start",
        "ExplanationOfBenefit",
    )
    assert start.evaluate(EOB) == [
        Value("2024-01-01", "dateTime"),
        Value("2024-01-05", "date"),
        Value("2024-01-10", "dateTime"),
    ]
    assert_same("ExplanationOfBenefit.item.serviced", "ExplanationOfBenefit", EOB)


def test_backbone_paths_and_arrays_flatten() -> None:
    compiled = compile_expression("ExplanationOfBenefit.careTeam.provider", "ExplanationOfBenefit")
    assert [v.node["reference"] for v in compiled.evaluate(EOB)] == [
        "Practitioner/p1",
        "Organization/o1",
    ]
    assert compile_expression("ExplanationOfBenefit.careTeam", "ExplanationOfBenefit").types == {
        "ExplanationOfBenefit.careTeam"
    }


@pytest.mark.parametrize(
    ("deceased", "expected"),
    [
        ({}, False),
        ({"deceasedBoolean": False}, False),
        ({"deceasedBoolean": True}, True),
        ({"deceasedDateTime": "2020-02-01"}, True),
    ],
)
def test_deceased_boolean_expression(deceased: dict[str, Any], expected: bool) -> None:
    expr = "Patient.deceased.exists() and Patient.deceased != false"
    resource = {"resourceType": "Patient", "id": "p", **deceased}
    assert compile_expression(expr, "Patient").evaluate(resource) == [Value(expected, "boolean")]
    assert_same(expr, "Patient", resource)


def test_casts_on_choice_elements() -> None:
    patient = {"resourceType": "Patient", "deceasedDateTime": "2020-02-01"}
    assert compile_expression("Patient.deceased as dateTime", "Patient").evaluate(patient) == [
        Value("2020-02-01", "dateTime")
    ]
    alive = {"resourceType": "Patient", "deceasedBoolean": True}
    assert compile_expression("Patient.deceased as dateTime", "Patient").evaluate(alive) == []
    condition = {
        "resourceType": "Condition",
        "onsetAge": {"value": 52, "unit": "a"},
        "abatementRange": {"low": {"value": 1}},
    }
    age = compile_expression("Condition.onset.as(Age) | Condition.onset.as(Range)", "Condition")
    assert age.evaluate(condition) == [Value({"value": 52, "unit": "a"}, "Age")]
    assert compile_expression("Condition.onset.as(Quantity)", "Condition").types == {"Age"}
    abated = compile_expression("Condition.abatement.as(Range)", "Condition")
    assert abated.evaluate(condition) == [Value({"low": {"value": 1}}, "Range")]
    for expr in ("Condition.onset.as(Age) | Condition.onset.as(Range)", "Condition.onset"):
        assert_same(expr, "Condition", condition)


def test_cast_operator_filters_each_item_of_a_repeating_element() -> None:
    group: dict[str, Any] = {
        "resourceType": "Group",
        "characteristic": [
            {"code": {"text": "a"}, "valueCodeableConcept": {"text": "x"}, "exclude": False},
            {"code": {"text": "b"}, "valueBoolean": True, "exclude": False},
            {"code": {"text": "c"}, "valueQuantity": {"value": 3}, "exclude": True},
        ],
    }
    expr = "Group.characteristic.value as CodeableConcept | Group.characteristic.value as boolean"
    assert compile_expression(expr, "Group").evaluate(group) == [
        Value({"text": "x"}, "CodeableConcept"),
        Value(True, "boolean"),
    ]
    assert_same(expr, "Group", group)
    component = compile_expression("value", "Group.characteristic")
    assert component.evaluate(group["characteristic"][2]) == [Value({"value": 3}, "Quantity")]


def test_where_with_an_equality_on_a_member() -> None:
    patient = {
        "resourceType": "Patient",
        "telecom": [
            {"system": "phone", "value": "555-1"},
            {"system": "email", "value": "a@b.c"},
            {"value": "no system"},
            {"system": "phone", "value": "555-2"},
        ],
    }
    phone = compile_expression("Patient.telecom.where(system='phone')", "Patient")
    assert [v.node["value"] for v in phone.evaluate(patient)] == ["555-1", "555-2"]
    assert_same("Patient.telecom.where(system='email')", "Patient", patient)


REFERENCES = [
    ({"reference": "Patient/1"}, "Patient"),
    ({"reference": "Group/1"}, "Group"),
    ({"reference": "https://x.org/fhir/Patient/1"}, "Patient"),
    ({"reference": "Patient/1/_history/3"}, "Patient"),
    ({"reference": "http://x.org/fhir/Patient/1/_history/3"}, "Patient"),
    ({"type": "Patient", "identifier": {"system": "s", "value": "v"}}, "Patient"),
    ({"reference": "urn:uuid:0c3151bd-1cbf-4d64-b04d-cd9187a4c6e0", "type": "Patient"}, "Patient"),
    ({"reference": "#pat"}, "Patient"),
    ({"reference": "#grp"}, "Group"),
    ({"reference": "#missing"}, None),
    ({"display": "Someone"}, None),
    ({"reference": "Group/1", "type": "Patient"}, "Group"),
]


@pytest.mark.parametrize(("reference", "target"), REFERENCES)
def test_resolve_is_type(reference: dict[str, Any], target: str | None) -> None:
    condition = {
        "resourceType": "Condition",
        "contained": [
            {"resourceType": "Patient", "id": "pat"},
            {"resourceType": "Group", "id": "grp"},
        ],
        "subject": reference,
    }
    assert reference_target_type(reference, condition) == target
    compiled = compile_expression("Condition.subject.where(resolve() is Patient)", "Condition")
    assert compiled.evaluate(condition) == ([Value(reference, "Reference")] * (target == "Patient"))
    assert_same("Condition.subject.where(resolve() is Patient)", "Condition", condition)


def test_literal_references() -> None:
    assert parse_literal_reference("Patient/1") == ("Patient", "1", "Patient/1")
    assert parse_literal_reference("Patient/1/_history/2") == ("Patient", "1", "Patient/1")
    assert parse_literal_reference("https://h/fhir/R4/Claim/c.1/_history/x") == (
        "Claim",
        "c.1",
        "https://h/fhir/R4/Claim/c.1",
    )
    for other in ("#x", "urn:uuid:1", "Patient", "patient/1", "x/Patient/1", "Patient/1/2"):
        assert parse_literal_reference(other) is None, other
    assert parse_literal_reference("http://h/StructureDefinition/p") == (
        "StructureDefinition",
        "p",
        "http://h/StructureDefinition/p",
    )


def test_union_removes_duplicates() -> None:
    org = {"resourceType": "Organization", "name": "Acme", "alias": ["Acme", "ACME Corp"]}
    compiled = compile_expression("Organization.name | Organization.alias", "Organization")
    assert [v.node for v in compiled.evaluate(org)] == ["Acme", "ACME Corp"]
    assert_same("Organization.name | Organization.alias", "Organization", org)


def test_resource_level_elements() -> None:
    claim = {"resourceType": "Claim", "id": "c1", "meta": {"tag": [{"code": "t"}]}}
    assert compile_expression("Claim.id", "Claim").evaluate(claim) == [Value("c1", "id")]
    assert compile_expression("Claim.meta.tag", "Claim").evaluate(claim) == [
        Value({"code": "t"}, "Coding")
    ]
    assert compile_expression("(Claim.id)", "Claim").evaluate(claim) == [Value("c1", "id")]
    assert compile_expression("id", "Claim").evaluate(claim) == [Value("c1", "id")]


def test_primitive_extensions_without_values_are_skipped() -> None:
    patient = {
        "resourceType": "Patient",
        "name": [{"given": ["A", None, "C"], "_given": [None, {"extension": []}, None]}],
        "_birthDate": {"extension": [{"url": "http://e", "valueString": "x"}]},
    }
    given = compile_expression("Patient.name.given", "Patient").evaluate(patient)
    assert [v.node for v in given] == ["A", "C"]
    assert compile_expression("Patient.birthDate", "Patient").evaluate(patient) == []
    assert_same("Patient.name.given", "Patient", patient)


@pytest.mark.parametrize(
    "expr",
    [
        "Claim.foo",
        "Claim.item.first()",
        "Claim.id + 'x'",
        "Claim.item[0]",
        "Claim.status.as(Period)",
        "Condition.onset.as(Quantityy)",
        "Condition.onset.as(System.String)",
        "Condition.subject.resolve()",
        "Condition.subject.resolve().name",
        "Condition.subject.where(resolve() is string)",
        "Claim.status.where(1 = 1)",
        "Claim.identifier.exists(system)",
        "Claim.status or Claim.use",
        "Claim.status |",
        "Claim.status)",
        "Claim..status",
        "Patient.name",
        "Claim.status.resolve() is Patient",
        "Claim.where(resolve() is Patient)",
        "%resource.id",
        "$this",
    ],
)
def test_anything_outside_the_subset_fails_at_compile_time(expr: str) -> None:
    with pytest.raises(ValueError):
        compile_expression(expr, "Claim" if not expr.startswith("Condition") else "Condition")


def test_a_custom_element_model_can_be_given() -> None:
    model: dict[str, str | tuple[str, ...]] = {
        "Thing.part": "Thing.part",
        "Thing.part.value": "string",
    }
    compiled = compile_expression("Thing.part.value", "Thing", model=model.get)
    thing: dict[str, Any] = {"part": [{"value": "a"}, {"value": "b"}]}
    assert compiled.evaluate(thing) == [
        Value("a", "string"),
        Value("b", "string"),
    ]
