"""The search-parameter registry: which parameters each served type answers.

Rows are derived from the official R4 SearchParameter definitions (`searchparameter-registry`,
hl7.fhir.r4.core 4.0.1). The CapabilityStatement lists exactly these rows, and index extraction
(``server/storage/indexing.py``) indexes exactly these expressions at write time.

``_id`` and ``_lastUpdated`` apply to every type and are answered from the resource table itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from capability.resource_types import RESOURCE_TYPES

__all__ = ["SearchParameter", "parameters_for", "parameter"]

_CLINICAL_IDENTIFIER = "http://hl7.org/fhir/SearchParameter/clinical-identifier"


@dataclass(frozen=True, slots=True)
class SearchParameter:
    """One registered search parameter (R4 searchparameter.html)."""

    code: str
    type: str
    definition: str
    expression: str | None
    documentation: str = ""


_COMMON: tuple[SearchParameter, ...] = (
    SearchParameter(
        "_id",
        "token",
        "http://hl7.org/fhir/SearchParameter/Resource-id",
        None,
        "Logical id of the resource",
    ),
    SearchParameter(
        "_lastUpdated",
        "date",
        "http://hl7.org/fhir/SearchParameter/Resource-lastUpdated",
        None,
        "When the resource version last changed",
    ),
)

# Types whose `identifier` parameter is the shared clinical-identifier definition.
_SHARED_IDENTIFIER = frozenset({"Condition", "Encounter", "Procedure"})


def _identifier(resource_type: str) -> SearchParameter:
    definition = (
        _CLINICAL_IDENTIFIER
        if resource_type in _SHARED_IDENTIFIER
        else f"http://hl7.org/fhir/SearchParameter/{resource_type}-identifier"
    )
    return SearchParameter(
        "identifier",
        "token",
        definition,
        f"{resource_type}.identifier",
        "A business identifier of the resource",
    )


@cache
def parameters_for(resource_type: str) -> Mapping[str, SearchParameter]:
    """Parameters registered for one type, keyed by code."""
    if resource_type not in RESOURCE_TYPES:
        return {}
    rows = (*_COMMON, _identifier(resource_type))
    return {row.code: row for row in rows}


def parameter(resource_type: str, code: str) -> SearchParameter | None:
    """One parameter of a type, or None when the type does not register it."""
    return parameters_for(resource_type).get(code)
