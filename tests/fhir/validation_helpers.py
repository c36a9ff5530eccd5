"""Helpers shared by the validation tests: expected issues and mutated resources."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from server.errors import (
    Issue,
    ResourceValidationError,
)
from server.fhir.validation import validate_resource
from tests.builders import OMIT

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
