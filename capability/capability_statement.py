"""The CapabilityStatement, generated from what is registered (R4 capabilitystatement.html).

Types and interactions come from ``capability/resource_types.py``, search parameters from
``capability/search_parameters.py`` and operations from ``capability/operations.py``; nothing is
written by hand, so the statement cannot drift from what the server does.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import orjson

from capability.operations import OPERATIONS
from capability.resource_types import (
    AUDIT_TYPES,
    FINANCIAL_TYPES,
    REFERENCED_TYPES,
    SYSTEM_INTERACTIONS,
    interactions_of,
)
from capability.search_parameters import parameters_for, reference_parameters
from server.security.discovery import capability_security

__all__ = [
    "SOFTWARE_NAME",
    "SOFTWARE_VERSION",
    "capability_statement",
    "capability_statement_bytes",
]

SOFTWARE_NAME = "FHIR Financial Facade"
SOFTWARE_VERSION = "0.1.0"
_RELEASE_DATE = "2026-11-22"


def _resource(resource_type: str, fhir_base: str) -> dict[str, Any]:
    operations = [
        {"name": op.code, "definition": op.definition.replace("{base}", fhir_base)}
        for op in OPERATIONS
        if op.resource_type == resource_type
    ]
    writable = resource_type not in AUDIT_TYPES
    entry: dict[str, Any] = {
        "type": resource_type,
        "interaction": [{"code": code} for code in interactions_of(resource_type)],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": writable,
        "conditionalCreate": writable,
        "conditionalRead": "full-support",
        "conditionalUpdate": writable,
        "conditionalDelete": "single" if writable else "not-supported",
        "referencePolicy": ["literal", "local"],
        "searchParam": [
            {
                "name": p.code,
                "definition": p.definition,
                "type": p.type,
                "documentation": p.documentation,
            }
            for p in parameters_for(resource_type).values()
        ],
    }
    includes = [f"{resource_type}:{p.code}" for p in reference_parameters(resource_type)]
    if includes:
        entry["searchInclude"] = [f"{resource_type}:*", *includes]
    revincludes = _revincludes(resource_type)
    if revincludes:
        entry["searchRevInclude"] = revincludes
    if operations:
        entry["operation"] = operations
    return entry


def _revincludes(resource_type: str) -> list[str]:
    """`Source:param` for every reference parameter of a served type that can point here."""
    return [
        f"{source}:{p.code}"
        for source in (*FINANCIAL_TYPES, *REFERENCED_TYPES)
        for p in reference_parameters(source)
        if resource_type in p.targets
    ]


def capability_statement(fhir_base: str) -> dict[str, Any]:
    """The statement for a server whose FHIR base is ``fhir_base``."""
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": _RELEASE_DATE,
        "publisher": SOFTWARE_NAME,
        "kind": "instance",
        "software": {"name": SOFTWARE_NAME, "version": SOFTWARE_VERSION},
        "implementation": {
            "description": "FHIR R4 server for claims, remittances, coverage and eligibility",
            "url": fhir_base,
        },
        "fhirVersion": "4.0.1",
        "format": ["application/fhir+json", "json"],
        "patchFormat": ["application/json-patch+json"],
        "rest": [
            {
                "mode": "server",
                "security": capability_security(fhir_base),
                "resource": [
                    _resource(t, fhir_base)
                    for t in (*FINANCIAL_TYPES, *REFERENCED_TYPES, *AUDIT_TYPES)
                ],
                "interaction": [{"code": code} for code in SYSTEM_INTERACTIONS],
                "searchParam": [
                    {
                        "name": p.code,
                        "definition": p.definition,
                        "type": p.type,
                        "documentation": p.documentation,
                    }
                    for p in parameters_for(FINANCIAL_TYPES[0]).values()
                    if p.code.startswith("_")
                ],
                "operation": [
                    {"name": op.code, "definition": op.definition}
                    for op in OPERATIONS
                    if op.resource_type is None
                ],
            }
        ],
    }


@lru_cache(maxsize=8)
def capability_statement_bytes(fhir_base: str) -> bytes:
    """Serialised once per base URL; `metadata` serves these bytes."""
    statement = capability_statement(fhir_base)
    rest = statement["rest"][0]
    if not rest["operation"]:
        del rest["operation"]
    return orjson.dumps(statement)
