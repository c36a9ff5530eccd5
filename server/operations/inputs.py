"""The resource an operation was called with (R4 operations.html#request).

An operation whose only input is one resource (``resource`` in Claim-submit and
CoverageEligibilityRequest-submit) may be called with that resource as the body, or with a
Parameters resource holding it. The focal resource is the resource itself or, for a Bundle, its
first entry of the expected type; every resource is validated before anything is read or written.
"""

from __future__ import annotations

from typing import Any

from server.errors import InvalidRequestError, ResourceTypeMismatchError
from server.fhir.validation import validate_resource

__all__ = ["focal_resource", "operation_input"]

Resource = dict[str, Any]


def operation_input(body: Any, parameter: str = "resource") -> Resource:
    """The resource in the body, unwrapped from a Parameters resource when sent in one."""
    if not isinstance(body, dict):
        raise ResourceTypeMismatchError("The body must be a FHIR resource", expression="body")
    if body.get("resourceType") != "Parameters":
        return body
    params = body.get("parameter")
    if not isinstance(params, list):
        raise InvalidRequestError("Parameters.parameter is missing", expression="Parameters")
    found = [p for p in params if isinstance(p, dict) and p.get("name") == parameter]
    if len(found) != 1 or not isinstance(found[0].get("resource"), dict):
        raise InvalidRequestError(
            f"Parameters must hold exactly one '{parameter}' parameter with a resource",
            expression=f"Parameters.parameter.where(name='{parameter}')",
        )
    resource: Resource = found[0]["resource"]
    return resource


def focal_resource(resource: Resource, expected: str) -> tuple[Resource, Resource | None]:
    """(the ``expected`` resource, the Bundle it came in or None), all validated."""
    kind = resource.get("resourceType")
    if kind == expected:
        validate_resource(resource, expected_type=expected)
        return resource, None
    if kind != "Bundle":
        raise ResourceTypeMismatchError(
            f"Send a {expected}, or a Bundle whose first {expected} is the one to submit",
            expression="resourceType",
        )
    validate_resource(resource, expected_type="Bundle")
    focal = None
    for n, entry in enumerate(resource.get("entry") or []):
        inner = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(inner, dict):
            raise InvalidRequestError(f"Bundle.entry[{n}] holds no resource",
                                      expression=f"Bundle.entry[{n}]")
        if focal is None and inner.get("resourceType") == expected:
            focal = inner
    if focal is None:
        raise InvalidRequestError(f"The Bundle holds no {expected}", expression="Bundle.entry")
    return focal, resource
