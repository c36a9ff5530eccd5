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

import copy
import importlib
import json
import random
import re
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from capability.search_parameter_table import ROWS
from server.fhir.json_codec import loads
from server.storage import fhirpath
from server.storage.fhirpath import (
    Value,
    compile_expression,
    parse_literal_reference,
    reference_target_type,
)

try:  # the oracle: fhirpathpy (test extra); the fixtures below stand on their own without it
    _fhirpathpy: Any = importlib.import_module("fhirpathpy")
    ResourceNode: Any = importlib.import_module("fhirpathpy.engine.nodes").ResourceNode
    R4: dict[str, Any] = importlib.import_module("fhirpathpy.models").models["r4"]
except ImportError:  # pragma: no cover - fhirpathpy is in the test extras
    _fhirpathpy = None
    ResourceNode = type("ResourceNode", (), {})
    R4 = {"type2Parent": {}, "path2Type": {}, "choiceTypePaths": {}}

needs_oracle = pytest.mark.skipif(_fhirpathpy is None, reason="fhirpathpy is not installed")

CONFORMANCE = Path(__file__).resolve().parents[2].parent / "shared" / "conformance"
EXAMPLES = CONFORMANCE / "fhir" / "examples"
SERVED = sorted({row[0] for row in ROWS})
EXPRESSIONS = sorted({(row[0], row[3]) for row in ROWS if row[3] is not None})

# --------------------------------------------------------------------------------------------
# The oracle
# --------------------------------------------------------------------------------------------

_ORACLE_REF = re.compile(
    r"^(?:https?://[^/]+(?:/[^/]+)*/)?([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}"
    r"(?:/_history/[A-Za-z0-9\-.]{1,64})?$"
)


def _oracle_resolve(root: dict[str, Any]) -> Any:
    def resolve(inputs: list[Any]) -> list[Any]:
        out = []
        for ref in inputs:
            if not isinstance(ref, dict):
                continue
            literal = ref.get("reference")
            target = None
            if isinstance(literal, str) and literal.startswith("#"):
                for contained in root.get("contained", []):
                    if contained.get("id") == literal[1:]:
                        target = contained["resourceType"]
            elif isinstance(literal, str) and (match := _ORACLE_REF.match(literal)):
                target = match.group(1)
            if target is None and not (isinstance(literal, str) and literal.startswith("#")):
                if not (isinstance(literal, str) and _ORACLE_REF.match(literal)):
                    target = ref.get("type")
            if target:
                out.append(ResourceNode.create_node({"resourceType": target}))
        return out

    return resolve


_LOWER_TYPES = {name.lower(): name for name in R4["type2Parent"]}


def _oracle_type(node: Any) -> str | None:
    """The FHIR type fhirpathpy's R4 model gives a result node (None when it does not say)."""
    path = getattr(node, "path", None)
    if path is None:
        return "boolean" if isinstance(node, bool) else None
    if "." not in path:
        return str(_LOWER_TYPES.get(path.lower(), path))
    if path in R4["path2Type"]:
        found: str = R4["path2Type"][path]
        return None if found.startswith("System.") else found
    if any(key.startswith(path + ".") for key in R4["path2Type"]):
        return str(path)  # a backbone element
    return None


def oracle(expr: str, resource: dict[str, Any]) -> list[tuple[str, str | None]]:
    """What fhirpathpy selects: (canonical JSON, FHIR type) per item. Items that are only a
    primitive's extension (``_given``) carry no value to index and are left out."""
    data = copy.deepcopy(resource)  # fhirpathpy annotates what it is given
    options = {
        "userInvocationTable": {"resolve": {"fn": _oracle_resolve(data), "arity": {0: []}}},
        "returnRawData": True,
    }
    evaluate = _fhirpathpy.evaluate
    try:
        raw = evaluate(data, expr, {}, R4, options)
    except (ValueError, AttributeError) as exc:
        # fhirpathpy wants a singleton left of 'as', and its 'as' operator fails on a Quantity
        if isinstance(exc, ValueError) and "singleton" not in str(exc):
            raise
        expr = re.sub(r"\.as\((\w+)\)", r".ofType(\1)", expr)
        expr = re.sub(r" as (\w+)", r".ofType(\1)", expr)
        raw = evaluate(data, expr, {}, R4, options)
    out = []
    for item in raw:
        value = item.data if isinstance(item, ResourceNode) else item
        if value is not None:
            out.append((_canonical(value), _oracle_type(item)))
    return out


def _canonical(node: Any) -> str:
    return json.dumps(node, sort_keys=True, default=str)


def ours(expr: str, type_: str, resource: dict[str, Any]) -> list[tuple[str, str | None]]:
    return [
        (_canonical(v.node), v.type) for v in compile_expression(expr, type_).evaluate(resource)
    ]


def assert_same(expr: str, type_: str, resource: dict[str, Any]) -> None:
    """Our selection equals the oracle's (a no-op without fhirpathpy: callers also assert
    their own expectations)."""
    if _fhirpathpy is None:  # pragma: no cover
        return
    expected = oracle(expr, resource)
    got = ours(expr, type_, resource)
    assert [node for node, _ in got] == [node for node, _ in expected], (expr, resource.get("id"))
    for (node, our_type), (_, their_type) in zip(got, expected, strict=True):
        if their_type is not None:
            assert our_type == their_type, (expr, node)


# --------------------------------------------------------------------------------------------
# Synthetic resources: values of every shape at every path the expressions reach
# --------------------------------------------------------------------------------------------

_REF_TYPES = ("Patient", "Group", "Practitioner", "Organization", "Coverage", "Device")


def _reference(rng: random.Random) -> dict[str, Any]:
    type_ = rng.choice(_REF_TYPES)
    form = rng.randrange(9)
    if form == 0:
        return {"reference": f"{type_}/{rng.randrange(3)}"}
    if form == 1:
        return {"reference": f"https://example.org/fhir/{type_}/a-{rng.randrange(3)}"}
    if form == 2:
        return {"reference": f"{type_}/v{rng.randrange(3)}/_history/{rng.randrange(1, 4)}"}
    if form == 3:
        return {"reference": f"http://h/fhir/{type_}/1/_history/2", "display": "versioned"}
    if form == 4:
        return {"type": type_, "identifier": {"system": "urn:sys", "value": f"v{rng.randrange(9)}"}}
    if form == 5:
        return {"reference": rng.choice(("#c1", "#c2", "#nope"))}
    if form == 6:
        return {"reference": "urn:uuid:6b0ed2c2-33a8-4b65-9df6-4f1c1c9e3a43", "type": type_}
    if form == 7:
        return {"display": "display only"}
    return {"reference": f"{type_}/1", "type": rng.choice(_REF_TYPES)}


def _coding(rng: random.Random) -> dict[str, Any]:
    coding: dict[str, Any] = {"system": "http://s", "code": rng.choice(("a", "b", "c"))}
    if rng.random() < 0.5:
        coding["display"] = "Displayed Ä"
    return coding


def _concept(rng: random.Random) -> dict[str, Any]:
    concept: dict[str, Any] = {"coding": [_coding(rng) for _ in range(rng.randrange(3))]}
    if rng.random() < 0.4:
        concept["text"] = "some text"
    return concept


def _quantity(rng: random.Random) -> dict[str, Any]:
    return {
        "value": rng.choice((1, Decimal("2.5"), 100)),
        "unit": "a",
        "system": "http://unitsofmeasure.org",
    }


def _date(rng: random.Random) -> str:
    return rng.choice(("2024", "2024-02", "2024-02-28", "2024-02-28T10:00:00Z"))


_PRIMITIVE: dict[str, Callable[[random.Random], Any]] = {
    "string": lambda rng: rng.choice(("x", "Ÿ y", "z")),
    "code": lambda rng: rng.choice(("active", "draft", "email", "phone")),
    "id": lambda rng: f"id{rng.randrange(5)}",
    "boolean": lambda rng: rng.random() < 0.5,
    "date": _date,
    "dateTime": _date,
    "instant": lambda rng: "2024-02-28T10:00:00.123+02:00",
    "uri": lambda rng: "http://example.org/u",
    "canonical": lambda rng: "http://example.org/StructureDefinition/p|1.0",
}


def _datatype(type_: str, rng: random.Random) -> Any:
    if type_ in _PRIMITIVE:
        return _PRIMITIVE[type_](rng)
    if type_ == "Reference":
        return _reference(rng)
    if type_ == "Coding":
        return _coding(rng)
    if type_ == "CodeableConcept":
        return _concept(rng)
    if type_ == "Identifier":
        identifier: dict[str, Any] = {"system": "urn:ids", "value": f"n{rng.randrange(4)}"}
        if rng.random() < 0.5:
            identifier["type"] = _concept(rng)
        return identifier
    if type_ == "Period":
        period = {"start": _date(rng), "end": "2025"}
        if rng.random() < 0.3:
            del period[rng.choice(("start", "end"))]
        return period
    if type_ in ("Quantity", "Age", "Duration"):
        return _quantity(rng)
    if type_ == "Range":
        return {"low": _quantity(rng), "high": _quantity(rng)}
    if type_ == "HumanName":
        name: dict[str, Any] = {"family": "Doe", "given": ["Jane", "Q"]}
        if rng.random() < 0.3:  # a primitive array entry carried only by its extension
            name["given"] = ["Jane", None]
            name["_given"] = [None, {"extension": [{"url": "http://e", "valueString": "x"}]}]
        return name
    if type_ == "Address":
        return {"line": ["1 Main"], "city": "Springfield", "state": "IL", "use": "home"}
    if type_ == "ContactPoint":
        return {"system": rng.choice(("phone", "email", "fax")), "value": "555", "use": "work"}
    raise AssertionError(type_)


def _children(owner: str) -> list[tuple[str, str | tuple[str, ...]]]:
    prefix = owner + "."
    return [
        (path[len(prefix) :], spec)
        for path, spec in fhirpath._ELEMENTS.items()
        if path.startswith(prefix) and "." not in path[len(prefix) :]
    ]


def _element(owner: str, rng: random.Random, depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, spec in _children(owner):
        if rng.random() < 0.25:
            continue
        if isinstance(spec, tuple):
            chosen = rng.choice(spec)
            out[name + chosen[0].upper() + chosen[1:]] = _datatype(chosen, rng)
            continue
        if spec == f"{owner}.{name}":  # a backbone element
            items = [_element(spec, rng, depth + 1) for _ in range(rng.randrange(1, 3))]
            out[name] = items if rng.random() < 0.8 else items[0]
            continue
        if rng.random() < 0.5 and spec not in ("boolean",):
            out[name] = [_datatype(spec, rng) for _ in range(rng.randrange(1, 3))]
        else:
            out[name] = _datatype(spec, rng)
    return out


def synthetic(type_: str, seed: int) -> dict[str, Any]:
    rng = random.Random(f"{type_}-{seed}")
    resource = {"resourceType": type_, "id": f"syn-{seed}", **_element(type_, rng)}
    resource["meta"] = {
        "lastUpdated": "2024-02-28T10:00:00.123Z",
        "profile": ["http://example.org/p"],
        "tag": [_coding(rng)],
        "security": [_coding(rng)],
        "source": "http://example.org/src",
    }
    resource["contained"] = [
        {"resourceType": "Patient", "id": "c1"},
        {"resourceType": "Organization", "id": "c2"},
    ]
    return resource


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
