"""The resource types the facade serves and the interactions each supports.

The CapabilityStatement, the router and validation all read this one table, so what is
advertised is what is served.
"""

from __future__ import annotations

__all__ = [
    "AUDIT_TYPES",
    "FINANCIAL_TYPES",
    "READ_ONLY_INTERACTIONS",
    "REFERENCED_TYPES",
    "RESOURCE_TYPES",
    "SYSTEM_INTERACTIONS",
    "TYPE_INTERACTIONS",
    "interactions_of",
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

#: The audit trail the server writes itself (R4 auditevent.html): read and search only.
AUDIT_TYPES: tuple[str, ...] = ("AuditEvent",)

RESOURCE_TYPES: frozenset[str] = frozenset(FINANCIAL_TYPES + REFERENCED_TYPES + AUDIT_TYPES)

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

#: Interactions of the audit trail: nobody but the server writes it.
READ_ONLY_INTERACTIONS: tuple[str, ...] = (
    "read",
    "vread",
    "history-instance",
    "history-type",
    "search-type",
)


def interactions_of(resource_type: str) -> tuple[str, ...]:
    """The type and instance interactions ``resource_type`` supports."""
    return READ_ONLY_INTERACTIONS if resource_type in AUDIT_TYPES else TYPE_INTERACTIONS


#: System interactions (R4 SystemRestfulInteraction).
SYSTEM_INTERACTIONS: tuple[str, ...] = ("transaction", "batch", "history-system", "search-system")
