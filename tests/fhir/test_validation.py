"""server.fhir.validation: the strict walk (strict FHIR R4 JSON, required bindings, invariants).

``validate_resource`` is called on its default path (the walk alone) unless a test says
``model_check=True``; the walk-versus-model equivalence is in ``test_validation_oracle.py``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from server.errors import (
    ResourceTypeMismatchError,
    UnsupportedResourceTypeError,
)
from server.fhir import json_codec
from server.fhir.models import is_known_resource_type, model_check
from server.fhir.validation import validate_resource
from tests.builders import OMIT, claim, coverage, explanation_of_benefit, patient
from tests.fhir.validation_helpers import (
    CONFORMANCE,
    DEFINITIONS,
    EXAMPLES,
    EXT,
    SECRET,
    assert_only,
    by_expression,
    mutated,
)

# --- valid resources ------------------------------------------------------------------------


@pytest.mark.parametrize("model", [False, True], ids=["walk", "walk+model"])
@pytest.mark.parametrize("build", [claim, patient, coverage, explanation_of_benefit])
def test_builders_are_valid(build: Any, model: bool) -> None:
    validate_resource(build(), expected_type=build()["resourceType"], model_check=model)


def test_a_valid_bundle_of_entries_validates() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:1b4e28ba-2fa1-11d2-883f-0016d3cca427",
                "resource": resource,
                "request": {"method": "POST", "url": resource["resourceType"]},
            }
            for resource in (patient(), coverage(), claim())
        ],
    }
    validate_resource(bundle, allowed_types={"Bundle"})


def test_parameters_with_a_resource_validates() -> None:
    validate_resource(
        {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": claim()}]}
    )


def _served_examples() -> list[Path]:
    if not EXAMPLES.is_dir():
        return []
    return [p for p in sorted(EXAMPLES.glob("*.json")) if not p.name.startswith(DEFINITIONS)]


@pytest.mark.conformance
def test_there_are_31_served_type_examples() -> None:
    if not CONFORMANCE.is_dir():
        pytest.skip("../shared/conformance is absent")
    assert len(_served_examples()) == 31


@pytest.mark.conformance
@pytest.mark.parametrize("model", [False, True], ids=["walk", "walk+model"])
@pytest.mark.parametrize("path", _served_examples(), ids=lambda p: p.stem)
def test_official_r4_examples_validate(path: Path, model: bool) -> None:
    if not CONFORMANCE.is_dir():
        pytest.skip("../shared/conformance is absent")
    resource = json_codec.loads(path.read_bytes())
    validate_resource(resource, expected_type=path.stem.split("-", 1)[0], model_check=model)


# --- the root -------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [[claim()], "Claim", None, 1])
def test_the_body_must_be_an_object(body: Any) -> None:
    with pytest.raises(ResourceTypeMismatchError):
        validate_resource(body)


@pytest.mark.parametrize("resource_type", [OMIT, 7, None, ["Claim"]])
def test_resource_type_must_be_a_string(resource_type: Any) -> None:
    with pytest.raises(ResourceTypeMismatchError) as error:
        validate_resource(claim(resourceType=resource_type))
    assert error.value.expression == ("resourceType",)


def test_resource_type_must_match_the_expected_type() -> None:
    with pytest.raises(ResourceTypeMismatchError, match="must be Claim, not Patient"):
        validate_resource(patient(), expected_type="Claim")


@pytest.mark.parametrize("name", ["Foo", "ClaimItem", "Resource", "Money", "claim", ""])
def test_resource_type_must_name_a_resource(name: str) -> None:
    assert not is_known_resource_type(name)
    with pytest.raises(ResourceTypeMismatchError) as error:
        validate_resource(claim(resourceType=name))
    assert SECRET not in error.value.message


def test_allowed_types_limit_the_resource_type() -> None:
    with pytest.raises(UnsupportedResourceTypeError):
        validate_resource(patient(), allowed_types={"Claim", "Coverage"})
    validate_resource(claim(), allowed_types={"Claim", "Coverage"})


# --- strict JSON types of primitives (R4 json.html, datatypes.html) -------------------------


@pytest.mark.parametrize(
    ("build", "path", "value", "expression"),
    [
        (claim, "item.0.sequence", "1", "Claim.item[0].sequence"),
        (claim, "item.0.sequence", 0, "Claim.item[0].sequence"),
        (claim, "item.0.sequence", True, "Claim.item[0].sequence"),
        (claim, "item.0.sequence", Decimal("1.0"), "Claim.item[0].sequence"),
        (claim, "item.0.sequence", 2**31, "Claim.item[0].sequence"),
        (claim, "insurance.0.sequence", -1, "Claim.insurance[0].sequence"),
        (claim, "insurance.0.focal", "true", "Claim.insurance[0].focal"),
        (claim, "insurance.0.focal", 1, "Claim.insurance[0].focal"),
        (claim, "total.value", "125.50", "Claim.total.value"),
        (claim, "total.value", True, "Claim.total.value"),
        (claim, "item.0.quantity.value", float("nan"), "Claim.item[0].quantity.value"),
        (claim, "created", "2024-03-01T10:00:00", "Claim.created"),
        (claim, "created", 20240301, "Claim.created"),
        (claim, "item.0.servicedDate", "2024-02-30x", "Claim.item[0].servicedDate"),
        (claim, "id", "claim_1", "Claim.id"),
        (claim, "id", "a" * 65, "Claim.id"),
        (claim, "identifier.0.system", "urn:oid:2.16 .1", "Claim.identifier[0].system"),
        (claim, "identifier.0.value", "", "Claim.identifier[0].value"),
        (claim, "identifier.0.value", 42, "Claim.identifier[0].value"),
        (claim, "implicitRules", "http://a b", "Claim.implicitRules"),
        (claim, "language", " en", "Claim.language"),
        (claim, "language", "", "Claim.language"),
        (patient, "active", "false", "Patient.active"),
        (patient, "birthDate", "1980-13-01", "Patient.birthDate"),
        (patient, "multipleBirthInteger", 2**31, "Patient.multipleBirthInteger"),
        (patient, "multipleBirthInteger", "2", "Patient.multipleBirthInteger"),
        (patient, "name.0.given.1", 7, "Patient.name[0].given[1]"),
        (patient, "name.0.family", "", "Patient.name[0].family"),
        (patient, "photo", [{"size": -1}], "Patient.photo[0].size"),
        (patient, "photo", [{"data": "abc"}], "Patient.photo[0].data"),
        (patient, "photo", [{"data": 12}], "Patient.photo[0].data"),
        (patient, "deceasedDateTime", "2020-01-01T10:00Z", "Patient.deceasedDateTime"),
        (coverage, "order", "1", "Coverage.order"),
        (coverage, "period", {"start": "2024-01-01T25:00:00Z"}, "Coverage.period.start"),
    ],
)
def test_primitives_must_have_their_json_type_and_format(
    build: Any, path: str, value: Any, expression: str
) -> None:
    issue = assert_only(mutated(build(), path, value), expression, "value")
    assert issue.message.startswith(f"{expression}: ")


def test_sequence_as_a_string_is_what_r4b_alone_accepts() -> None:
    resource = mutated(claim(), "item.0.sequence", "1")
    assert model_check(resource) == []  # why the strict walk exists
    assert_only(resource, "Claim.item[0].sequence", "value")


@pytest.mark.parametrize(
    ("path", "value"),
    [
        ("created", "2024"),
        ("created", "2024-03"),
        ("created", "2024-03-01T10:00:00.123+14:00"),
        ("created", "2016-12-31T23:59:60Z"),
        ("total.value", 125),
        ("total.value", Decimal("1E+2")),
        ("item.0.quantity.value", 1.5),
        ("insurance.0.sequence", 2**31 - 1),
        ("language", "en-US"),
    ],
)
def test_edge_values_that_r4_allows(path: str, value: Any) -> None:
    validate_resource(mutated(claim(), path, value))


# --- arrays, objects, null, unknown elements (R4 json.html) ---------------------------------


@pytest.mark.parametrize(
    ("path", "value", "expression"),
    [
        ("identifier", {"value": "x"}, "Claim.identifier"),
        ("identifier", [], "Claim.identifier"),
        ("identifier", None, "Claim.identifier"),
        ("identifier", [None], "Claim.identifier[0]"),
        ("identifier", [{}], "Claim.identifier[0]"),
        ("identifier", ["PCN-1"], "Claim.identifier[0]"),
        ("patient", [{"reference": "Patient/1"}], "Claim.patient"),
        ("patient", "Patient/1", "Claim.patient"),
        ("priority", {}, "Claim.priority"),
        ("status", ["active"], "Claim.status"),
        ("status", None, "Claim.status"),
        ("foo", 1, "Claim.foo"),
        ("fhir_comments", ["a comment"], "Claim.fhir_comments"),
        ("item.0.bar", {"x": 1}, "Claim.item[0].bar"),
        ("patient.resourceType", "Patient", "Claim.patient.resourceType"),
        ("_patient", EXT, "Claim._patient"),
        ("_status", [EXT], "Claim._status"),
        ("_status", "masked", "Claim._status"),
        ("_status", {}, "Claim._status"),
        (
            "_status",
            {"extension": [{"url": "u", "valueFoo": 1}]},
            "Claim._status.extension[0].valueFoo",
        ),
    ],
)
def test_structure_follows_fhir_json(path: str, value: Any, expression: str) -> None:
    found = by_expression(mutated(claim(), path, value))
    assert expression in found, found
    assert found[expression].code == "structure"


def test_a_property_name_that_is_no_element_name_is_not_echoed() -> None:
    found = by_expression(claim(**{f"{SECRET} x": 1}))
    assert list(found) == ["Claim"]
    assert SECRET not in found["Claim"].message


def test_all_problems_are_reported_at_once() -> None:
    resource = claim(status="bogus", foo=1, patient=OMIT)
    resource["item"][0]["sequence"] = "1"
    resource["total"]["currency"] = "usd"
    assert set(by_expression(resource)) == {
        "Claim.status", "Claim.foo", "Claim.patient", "Claim.item[0].sequence",
        "Claim.total.currency",
    }  # fmt: skip


# --- primitive extensions (R4 json.html#primitive) ------------------------------------------


def test_a_required_primitive_may_be_replaced_by_its_extension() -> None:
    validate_resource(claim(status=OMIT, _status=EXT))


def test_a_primitive_extension_sits_beside_its_value() -> None:
    validate_resource(claim(_status={"id": "s1", **EXT}))


def test_a_primitive_extension_without_value_needs_extensions() -> None:
    found = by_expression(claim(status=OMIT, _status={"id": "s1"}))
    assert {expression: issue.code for expression, issue in found.items()} == {
        "Claim._status": "structure",
        "Claim.status": "required",
    }


def test_repeating_primitives_align_with_their_extensions() -> None:
    name = {"given": ["Jane", None], "_given": [None, EXT], "family": "Doe"}
    validate_resource(patient(name=[name]))


@pytest.mark.parametrize(
    ("name", "expression"),
    [
        ({"given": ["Jane", None]}, "Patient.name[0].given[1]"),
        ({"given": ["Jane", None], "_given": [None, None]}, "Patient.name[0].given[1]"),
        ({"given": ["Jane"], "_given": [None, EXT]}, "Patient.name[0]._given"),
        ({"given": ["Jane"], "_given": EXT}, "Patient.name[0]._given"),
        ({"given": ["Jane"], "_given": []}, "Patient.name[0]._given"),
    ],
)
def test_misaligned_primitive_arrays_are_rejected(name: dict[str, Any], expression: str) -> None:
    found = by_expression(patient(name=[name]))
    assert expression in found, found
    assert found[expression].code == "structure"


# --- choice elements, cardinality, invariants -----------------------------------------------


def test_only_one_choice_of_a_choice_element() -> None:
    resource = mutated(claim(), "item.0.servicedPeriod", {"start": "2024-02-27"})
    assert_only(resource, "Claim.item[0].servicedPeriod", "structure")


def test_a_choice_and_the_extension_of_another_choice_conflict() -> None:
    resource = mutated(claim(), "item.0._servicedPeriod", EXT)
    found = by_expression(resource)
    assert "Claim.item[0]._servicedPeriod" in found


def test_a_required_choice_must_be_present() -> None:
    resource = claim(diagnosis=[{"sequence": 1}])
    assert_only(resource, "Claim.diagnosis[0].diagnosis[x]", "required")


@pytest.mark.parametrize(
    ("build", "element"),
    [
        (claim, "patient"),
        (claim, "status"),
        (claim, "insurance"),
        (claim, "created"),
        (coverage, "payor"),
        (coverage, "beneficiary"),
        (explanation_of_benefit, "outcome"),
        (explanation_of_benefit, "insurer"),
    ],
)
def test_required_elements_must_be_present(build: Any, element: str) -> None:
    resource = build(**{element: OMIT})
    assert_only(resource, f"{resource['resourceType']}.{element}", "required")


def test_required_elements_inside_backbone_elements() -> None:
    resource = mutated(claim(), "item.0.productOrService", OMIT)
    assert_only(resource, "Claim.item[0].productOrService", "required")


def test_a_simple_quantity_has_no_comparator() -> None:
    resource = mutated(claim(), "item.0.quantity.comparator", "<")
    assert_only(resource, "Claim.item[0].quantity.comparator", "invariant")


@pytest.mark.parametrize(
    "extension",
    [
        {"url": "http://example.org/x"},
        {"url": "http://example.org/x", "valueString": "a", "extension": [EXT["extension"][0]]},
        {"url": "http://example.org/x", "_valueString": EXT, "extension": EXT["extension"]},
    ],
)
def test_an_extension_has_a_value_or_extensions_not_both(extension: dict[str, Any]) -> None:
    """ext-1: "Must have either extensions or value[x], not both" (R4 extensibility.html)."""
    assert_only(claim(extension=[extension]), "Claim.extension[0]", "invariant")
    assert_only(
        mutated(claim(), "item.0.modifierExtension", [extension]),
        "Claim.item[0].modifierExtension[0]",
        "invariant",
    )


def test_an_extension_value_may_be_only_its_extensions() -> None:
    validate_resource(claim(extension=[{"url": "http://example.org/x", "_valueCode": EXT}]))


def test_a_quantity_may_have_a_comparator() -> None:
    encounter = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "length": {"value": 20, "comparator": ">=", "unit": "min"},
    }
    validate_resource(encounter)


# --- contained resources and bundles --------------------------------------------------------


def test_contained_resources_are_validated_by_their_own_type() -> None:
    resource = claim(contained=[coverage(), patient(gender="x", active="yes")])
    found = by_expression(resource)
    assert set(found) == {"Claim.contained[1].gender", "Claim.contained[1].active"}
    assert found["Claim.contained[1].gender"].code == "code-invalid"


def test_contained_resources_do_not_nest() -> None:
    inner = coverage(contained=[patient()])
    assert_only(claim(contained=[inner]), "Claim.contained[0].contained", "invariant")


@pytest.mark.parametrize("entry", [{}, {"resourceType": "Nope"}, {"resourceType": 3}, {"id": "x"}])
def test_a_contained_resource_needs_a_resource_type(entry: dict[str, Any]) -> None:
    found = by_expression(claim(contained=[entry]))
    assert "Claim.contained[0]" in found


def test_bundle_entries_are_validated_with_their_paths() -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"resource": patient(), "request": {"method": "POST", "url": "Patient"}},
            {"resource": coverage(), "request": {"method": "FETCH", "url": "Coverage"}},
            {"resource": claim(status="done"), "request": {"method": "POST", "url": "Claim"}},
        ],
    }
    found = by_expression(bundle)
    assert set(found) == {"Bundle.entry[1].request.method", "Bundle.entry[2].resource.status"}
    assert {issue.code for issue in found.values()} == {"code-invalid"}


def test_bundle_type_is_bound() -> None:
    assert_only(
        {"resourceType": "Bundle", "type": "subscription-notification"},
        "Bundle.type",
        "code-invalid",
    )
