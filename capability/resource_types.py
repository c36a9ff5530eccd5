"""The resource types the facade serves and the interactions each supports.

The CapabilityStatement, the router and validation all read this one table, so what is
advertised is what is served.
"""

from __future__ import annotations

__all__ = [
    "FINANCIAL_TYPES",
    "REFERENCED_TYPES",
    "RESOURCE_TYPES",
    "SYSTEM_INTERACTIONS",
    "TYPE_INTERACTIONS",
]

#: The money side of FHIR R4 (financial module, fhir/financial-module.html).
FINANCIAL_TYPES: tuple[str, ...] = (
    "Claim",
    "ClaimResponse",
    "ExplanationOfBenefit",
    "Coverage",
    "CoverageEligibilityRequest",
    "CoverageEligibilityResponse",
    "PaymentNotice",
    "PaymentReconciliation",
)

#: Resources the financial ones reference.
REFERENCED_TYPES: tuple[str, ...] = (
    "Patient",
    "Practitioner",
    "PractitionerRole",
    "Organization",
    "Location",
    "RelatedPerson",
    "Encounter",
    "Condition",
    "Procedure",
    "Group",
)

RESOURCE_TYPES: frozenset[str] = frozenset(FINANCIAL_TYPES + REFERENCED_TYPES)

#: Type and instance interactions of every served type (R4 TypeRestfulInteraction).
TYPE_INTERACTIONS: tuple[str, ...] = (
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
)

#: System interactions (R4 SystemRestfulInteraction).
SYSTEM_INTERACTIONS: tuple[str, ...] = ("transaction", "batch", "history-system", "search-system")
