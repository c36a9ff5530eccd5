"""Registry of the FHIR operations the server implements (R4 operations.html).

Each operation module registers one row here; the CapabilityStatement lists exactly these rows.
Definitions are canonical URLs; ``{base}`` stands for this server's FHIR base (our own
definitions, served from ``capability/operation_definitions.py``).
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


OPERATIONS: tuple[OperationRegistration, ...] = (
    OperationRegistration("submit", "http://hl7.org/fhir/OperationDefinition/Claim-submit",
                          "Claim"),
    OperationRegistration(
        "submit", "http://hl7.org/fhir/OperationDefinition/CoverageEligibilityRequest-submit",
        "CoverageEligibilityRequest"),
    OperationRegistration("status", "{base}/OperationDefinition/Claim-status", "Claim"),
)
