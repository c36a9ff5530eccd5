"""server.fhir.validation: the strict walk (strict FHIR R4 JSON, required bindings, invariants).

``validate_resource`` is called on its default path (the walk alone) unless a test says
``model_check=True``; the walk-versus-model equivalence is in ``test_validation_oracle.py``.
"""

from __future__ import annotations

import copy
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles import r4_core
from server.errors import (
    Issue,
    ResourceTypeMismatchError,
    ResourceValidationError,
    UnsupportedResourceTypeError,
)
from server.fhir import json_codec
from server.fhir.models import element_table, is_known_resource_type, model_check
from server.fhir.validation import validate_resource
from tests.builders import OMIT, claim, coverage, explanation_of_benefit, patient

CONFORMANCE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
EXAMPLES = CONFORMANCE / "fhir" / "examples"
DEFINITIONS = ("OperationDefinition-", "CompartmentDefinition-")
SECRET = "SECRET-PHI-4471"
EXT = {"extension": [{"url": "http://example.org/why", "valueString": "masked"}]}


def issues(resource: Any, **kwargs: Any) -> list[Issue]:
    """The issues of an invalid resource (fails the test if it validates)."""
    with pytest.raises(ResourceValidationError) as error:
        validate_resource(resource, **kwargs)
    return error.value.issues


def by_expression(resource: Any) -> dict[str, Issue]:
    found = issues(resource)
    expressions = [issue.expression[0] for issue in found]
    assert len(expressions) == len(set(expressions)), f"duplicate issues: {expressions}"
    return dict(zip(expressions, found, strict=True))


def assert_only(resource: Any, expression: str, code: str) -> Issue:
    found = by_expression(resource)
    assert list(found) == [expression], found
    assert found[expression].code == code
    return found[expression]


def mutated(resource: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """Set (or with OMIT, drop) the element at a dotted path such as ``item.0.sequence``."""
    result = copy.deepcopy(resource)
    *steps, last = path.split(".")
    node: Any = result
    for step in steps:
        node = node[int(step)] if isinstance(node, list) else node[step]
    key: int | str = int(last) if isinstance(node, list) else last
    if value is OMIT:
        del node[key]
    else:
        node[key] = value
    return result


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


# --- required bindings (R4 terminologies.html#required; STANDARDS.md section 2) --------------


@pytest.mark.parametrize(
    ("resource", "expression"),
    [
        (claim(status="bogus"), "Claim.status"),
        (claim(use="Claim"), "Claim.use"),
        (patient(gender="F"), "Patient.gender"),
        (mutated(patient(), "identifier.0.use", "primary"), "Patient.identifier[0].use"),
        (patient(text={"status": "final", "div": "<div>x</div>"}), "Patient.text.status"),
        (mutated(claim(), "total.currency", "usd"), "Claim.total.currency"),
        (mutated(claim(), "item.0.net.currency", "XYZ"), "Claim.item[0].net.currency"),
        (patient(photo=[{"contentType": "pdf"}]), "Patient.photo[0].contentType"),
        (explanation_of_benefit(outcome="done"), "ExplanationOfBenefit.outcome"),
    ],
)
def test_required_bindings_are_enforced(resource: dict[str, Any], expression: str) -> None:
    issue = assert_only(resource, expression, "code-invalid")
    assert "value set" in issue.message


def test_encounter_status_uses_the_full_r4_list() -> None:
    encounter = {"resourceType": "Encounter", "status": "unknown", "class": {"code": "AMB"}}
    validate_resource(encounter)
    validate_resource({**encounter, "status": "entered-in-error"})
    assert_only({**encounter, "status": "+"}, "Encounter.status", "code-invalid")


def test_media_types_with_parameters_are_valid() -> None:
    validate_resource(patient(photo=[{"contentType": 'text/plain; charset="utf-8"'}]))


#: Where a data type's binding is exercised: a host element of that type.
BINDING_HOSTS = {
    "Money": "Claim.total",
    "Identifier": "Patient.identifier",
    "HumanName": "Patient.name",
    "ContactPoint": "Patient.telecom",
    "Address": "Patient.address",
    "Narrative": "Patient.text",
    "Quantity": "Encounter.length",  # a Duration: the binding follows specialisations
    "Attachment": "Patient.photo",
}


def _embedded(path: str, leaf: Any) -> tuple[dict[str, Any], str]:
    """A resource holding ``leaf`` at the R4 element ``path``, and the leaf's FHIRPath."""
    head, *rest = path.split(".")
    if head in BINDING_HOSTS:
        head, *host = BINDING_HOSTS[head].split(".")
        rest = host + rest
    resource: dict[str, Any] = {"resourceType": head}
    node, type_name, expression = resource, head, head
    for position, step in enumerate(rest):
        element = element_table(type_name)[step]
        last = position == len(rest) - 1
        child: Any = leaf if last else {}
        node[step] = [child] if element.is_list else child
        expression += f".{step}[0]" if element.is_list else f".{step}"
        if not last:
            node, type_name = child, str(element.type_name)
    return resource, expression


BINDING_ROWS = [(row, path) for row in r4_core.REQUIRED_BINDINGS for path in row.elements]


@pytest.mark.parametrize(("row", "path"), BINDING_ROWS, ids=[path for _, path in BINDING_ROWS])
def test_every_required_binding_row_is_enforced(row: r4_core.RequiredBinding, path: str) -> None:
    bad, expression = _embedded(path, "not-a-code" if row.codes is not None else "no type")
    found = {issue.expression[0]: issue for issue in issues(bad)}
    assert found[expression].code == "code-invalid"
    assert row.value_set in found[expression].message

    good_code = min(row.codes) if row.codes is not None else "application/pdf"
    good, _ = _embedded(path, good_code)
    try:
        validate_resource(good)
    except ResourceValidationError as error:
        assert all(issue.code != "code-invalid" for issue in error.issues), error.issues


def test_the_standards_table_rows_are_all_present() -> None:
    paths = {path for _, path in BINDING_ROWS}
    assert {
        "Claim.status", "ClaimResponse.status", "Coverage.status",
        "CoverageEligibilityRequest.status", "CoverageEligibilityResponse.status",
        "PaymentNotice.status", "PaymentReconciliation.status", "ExplanationOfBenefit.status",
        "Claim.use", "ClaimResponse.use", "ExplanationOfBenefit.use", "ClaimResponse.outcome",
        "ExplanationOfBenefit.outcome", "CoverageEligibilityResponse.outcome",
        "PaymentReconciliation.outcome", "CoverageEligibilityRequest.purpose",
        "CoverageEligibilityResponse.purpose", "ClaimResponse.processNote.type",
        "ExplanationOfBenefit.processNote.type", "PaymentReconciliation.processNote.type",
        "Money.currency", "Identifier.use", "HumanName.use", "ContactPoint.system",
        "ContactPoint.use", "Address.use", "Address.type", "Narrative.status",
        "Quantity.comparator", "Attachment.contentType", "Patient.gender",
        "Patient.contact.gender", "Practitioner.gender", "RelatedPerson.gender",
        "Patient.link.type", "Encounter.status", "Encounter.statusHistory.status",
        "Encounter.location.status", "Bundle.type",
    } <= paths  # fmt: skip
    assert "USD" in r4_core.ISO_4217_CURRENCIES and "usd" not in r4_core.ISO_4217_CURRENCIES


def test_r4b_enum_values_are_enforced_too() -> None:
    bundle = {"resourceType": "Bundle", "type": "searchset", "entry": [{"search": {"mode": "x"}}]}
    assert_only(bundle, "Bundle.entry[0].search.mode", "code-invalid")


def test_an_extensible_binding_mislabelled_required_by_r4b_is_not_enforced() -> None:
    extension = {
        "url": "http://example.org/rule",
        "valueExpression": {"language": "text/x-python", "expression": "1"},
    }
    validate_resource(claim(extension=[extension]))


# --- the R4B model check --------------------------------------------------------------------


def test_model_check_maps_locations_to_fhirpath() -> None:
    resource = claim(patient=OMIT, foo=1, _status={"extension": [{"url": "u", "valueFoo": 1}]})
    resource["contained"] = [{"resourceType": "Patient", "bar": 1}]
    resource["item"][0]["baz"] = 1
    found = {issue.expression[0]: issue.code for issue in model_check(resource)}
    assert found == {
        "Claim.patient": "required",
        "Claim.foo": "structure",
        "Claim._status.extension[0].valueFoo": "structure",
        "Claim.contained[0].bar": "structure",
        "Claim.item[0].baz": "structure",
    }


def test_model_check_maps_python_keyword_fields_and_bundle_resources() -> None:
    cov = coverage()
    cov["class"][0]["value"] = 5
    found = [issue.expression[0] for issue in model_check(cov)]
    assert found == ["Coverage.class[0].value"]
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": cov}]}
    assert [i.expression[0] for i in model_check(bundle)] == [
        "Bundle.entry[0].resource.class[0].value"
    ]


def test_walk_and_model_issues_are_not_duplicated() -> None:
    resource = claim(foo=1, patient=OMIT, created="yesterday")
    assert {issue.expression[0] for issue in model_check(resource)} == {
        "Claim.foo", "Claim.patient", "Claim.created",
    }  # fmt: skip
    found = issues(resource, model_check=True)
    assert sorted(issue.expression[0] for issue in found) == [
        "Claim.created", "Claim.foo", "Claim.patient",
    ]  # fmt: skip


# --- no PHI in errors -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "resource",
    [
        patient(active=SECRET),
        patient(gender=SECRET),
        patient(birthDate=SECRET),
        patient(name=SECRET),
        patient(name=[{"family": 1, "given": [SECRET, 2]}]),
        mutated(claim(), "item.0.sequence", SECRET),
        mutated(claim(), "total.currency", SECRET),
        claim(foo=SECRET, contained=[{"resourceType": SECRET}]),
    ],
)
def test_messages_never_echo_values(resource: dict[str, Any]) -> None:
    with pytest.raises(ResourceValidationError) as error:
        validate_resource(resource)
    assert SECRET not in error.value.message
    assert all(SECRET not in issue.message for issue in error.value.issues)
    assert all(issue.expression for issue in error.value.issues)


# --- robustness -----------------------------------------------------------------------------


@pytest.mark.parametrize("model", [False, True], ids=["walk", "walk+model"])
def test_deep_nesting_is_reported_not_a_crash(model: bool) -> None:
    extension: dict[str, Any] = {"url": "http://example.org/x", "valueString": "leaf"}
    for _ in range(200):
        extension = {"url": "http://example.org/x", "extension": [extension]}
    found = issues(claim(extension=[extension]), model_check=model)
    assert any("nested more than" in issue.message for issue in found)


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += _paths(child, (*prefix, key))
    elif isinstance(value, list):
        for index, child in enumerate(value):
            found += _paths(child, (*prefix, index))
    return found


_leaf = (
    st.none() | st.booleans() | st.integers(-(2**40), 2**40)
    | st.decimals(allow_nan=False, allow_infinity=False) | st.text(max_size=12)
    | st.sampled_from(["", " ", "1", "true", "2024-01-01", "USD", "active", "Patient/1"])
)  # fmt: skip
_json = st.recursive(
    _leaf,
    lambda children: (
        st.lists(children, max_size=3)
        | st.dictionaries(
            st.sampled_from(["resourceType", "url", "value", "extension", "id", "x", "_value"]),
            children,
            max_size=3,
        )
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_mutations_only_ever_raise_facade_validation_errors(data: st.DataObject) -> None:
    resource = claim(contained=[patient()], extension=[{"url": "http://x", "valueInteger": 1}])
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(_paths(resource)))
        *steps, last = path or ("resourceType",)
        node: Any = resource
        for step in steps:
            node = node[step]
        action = data.draw(st.sampled_from(["replace", "drop", "add"]))
        if action == "replace":
            node[last] = data.draw(_json)
        elif action == "drop" and isinstance(node, dict):
            node.pop(last, None)
        elif isinstance(node, dict):
            node[data.draw(st.sampled_from(["foo", "_status", "resourceType", "valueString"]))] = (
                data.draw(_json)
            )
    try:
        validate_resource(resource)
    except ResourceValidationError as error:
        assert error.issues and all(issue.expression for issue in error.issues)
    except (ResourceTypeMismatchError, UnsupportedResourceTypeError):
        pass
