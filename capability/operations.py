"""Registry of the FHIR operations the server implements (R4 operations.html).

Each operation module registers one row here; the CapabilityStatement lists exactly these rows.
The REST core of this release implements no named operations yet; `$submit`, `$status`,
`$inquire`, `$export` and `$validate` register themselves as they are built.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["OPERATIONS", "OperationRegistration"]


@dataclass(frozen=True, slots=True)
class OperationRegistration:
    """``code`` is the OperationDefinition code; ``resource_type`` None means system level."""

    code: str
    definition: str
    resource_type: str | None


OPERATIONS: tuple[OperationRegistration, ...] = ()
