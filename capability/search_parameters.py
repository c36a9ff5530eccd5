"""The search-parameter registry: which parameters each served type answers.

Built from ``capability/search_parameter_table.py`` (the official R4 definitions plus CARIN
Blue Button 2.0.0). The CapabilityStatement lists exactly these parameters, index extraction
(``server/storage/indexing.py``) indexes exactly their expressions at write time, and the search
parser (``server/fhir/search/``) accepts exactly these codes.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache

from capability.resource_types import RESOURCE_TYPES
from capability.search_parameter_table import ROWS

__all__ = [
    "COLUMN_PARAMETERS",
    "SearchParameter",
    "parameter",
    "parameters_for",
    "reference_parameters",
]

#: Parameters answered from the resource row itself rather than an index table.
COLUMN_PARAMETERS = frozenset({"_id", "_lastUpdated"})


@dataclass(frozen=True, slots=True)
class SearchParameter:
    """One registered search parameter of one type (R4 searchparameter.html)."""

    resource_type: str
    code: str
    type: str
    expression: str | None
    targets: tuple[str, ...]
    definition: str
    components: tuple[tuple[str, str], ...] = ()

    @property
    def documentation(self) -> str:
        return self.expression or self.code


@cache
def _registry() -> dict[str, dict[str, SearchParameter]]:
    out: dict[str, dict[str, SearchParameter]] = {t: {} for t in RESOURCE_TYPES}
    for rtype, code, ptype, expression, targets, definition, components in ROWS:
        if rtype in out:
            out[rtype][code] = SearchParameter(
                rtype, code, ptype, expression, targets, definition, components
            )
    return out


def parameters_for(resource_type: str) -> Mapping[str, SearchParameter]:
    """Parameters registered for one type, keyed by code."""
    return _registry().get(resource_type, {})


def parameter(resource_type: str, code: str) -> SearchParameter | None:
    """One parameter of a type, or None when the type does not register it."""
    return parameters_for(resource_type).get(code)


@cache
def reference_parameters(resource_type: str) -> tuple[SearchParameter, ...]:
    """The reference parameters of a type (what `_include=Type:*` follows)."""
    return tuple(p for p in parameters_for(resource_type).values() if p.type == "reference")
