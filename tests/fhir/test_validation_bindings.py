"""server.fhir.validation: required bindings, the R4B model check, no PHI in errors and
robustness on hostile input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from profiles import r4_core
from server.errors import (
    ResourceTypeMismatchError,
    ResourceValidationError,
    UnsupportedResourceTypeError,
)
from server.fhir.models import element_table, model_check
from server.fhir.validation import validate_resource
from tests.builders import OMIT, claim, coverage, explanation_of_benefit, patient
from tests.fhir.validation_helpers import (
    SECRET,
    assert_only,
    issues,
    mutated,
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
