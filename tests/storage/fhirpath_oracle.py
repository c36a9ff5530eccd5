"""The fhirpathpy oracle and synthetic resources the compiled FHIRPath subset is checked with."""

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
from server.storage import fhirpath
from server.storage.fhirpath import (
    compile_expression,
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
