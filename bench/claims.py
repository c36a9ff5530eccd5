"""A realistic ~2 KB professional Claim for the benchmarks (R4 Claim, valid for the facade)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

__all__ = ["REVISION_EXTENSION", "bench_claim", "claim_id"]

#: Extension the update benchmark bumps on every request, so each PUT is a real change.
REVISION_EXTENSION: Final = "http://example.org/fhir/StructureDefinition/bench-revision"

_CLAIM_TYPE: Final = "http://terminology.hl7.org/CodeSystem/claim-type"
_CPT: Final = "http://www.ama-assn.org/go/cpt"
_CARE_TEAM_ROLE: Final = "http://terminology.hl7.org/CodeSystem/claimcareteamrole"
_ICD10: Final = "http://hl7.org/fhir/sid/icd-10-cm"
_PROCEDURES: Final = [("99213", "125.50"), ("85025", "32.00"), ("80053", "48.75")]
_DIAGNOSES: Final = ["E11.9", "I10", "Z00.00"]


def claim_id(n: int) -> str:
    """The id of the ``n``-th preloaded Claim."""
    return f"bench-{n:06d}"


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _usd(value: str) -> dict[str, Any]:
    return {"value": Decimal(value), "currency": "USD"}


def _item(sequence: int, code: str, price: str, quantity: int) -> dict[str, Any]:
    net = Decimal(price) * quantity
    return {
        "sequence": sequence,
        "careTeamSequence": [1],
        "diagnosisSequence": [1, 2] if sequence == 1 else [1],
        "productOrService": _concept(_CPT, code),
        "servicedDate": "2024-02-28",
        "quantity": {"value": quantity},
        "unitPrice": _usd(price),
        "net": {"value": net, "currency": "USD"},
    }


def bench_claim(n: int, *, with_id: bool = True) -> dict[str, Any]:
    """The ``n``-th benchmark Claim: 3 items, 3 diagnoses, 2 identifiers, 2 coverages."""
    items = [
        _item(i + 1, code, price, 1 + (n + i) % 2) for i, (code, price) in enumerate(_PROCEDURES)
    ]
    total = sum((item["net"]["value"] for item in items), Decimal("0"))
    resource: dict[str, Any] = {"resourceType": "Claim"}
    if with_id:
        resource["id"] = claim_id(n)
    resource |= {
        "identifier": [
            {"system": "urn:oid:2.16.840.1.113883.3.1", "value": f"PCN-{n:07d}"},
            {"system": "http://example.org/fhir/sid/clearinghouse-trace", "value": f"TRN-{n:09d}"},
        ],
        "status": "active",
        "type": _concept(_CLAIM_TYPE, "professional"),
        "use": "claim",
        "patient": {"reference": f"Patient/patient-{n % 5000}"},
        "billablePeriod": {"start": "2024-02-28", "end": "2024-02-28"},
        "created": "2024-03-01T10:00:00Z",
        "insurer": {"reference": f"Organization/payer-{n % 20}"},
        "provider": {"reference": f"Organization/org-{n % 200}"},
        "priority": _concept("http://terminology.hl7.org/CodeSystem/processpriority", "normal"),
        "careTeam": [
            {
                "sequence": 1,
                "provider": {"reference": f"Practitioner/pract-{n % 1000}"},
                "role": _concept(_CARE_TEAM_ROLE, "primary"),
            }
        ],
        "diagnosis": [
            {"sequence": i + 1, "diagnosisCodeableConcept": _concept(_ICD10, code)}
            for i, code in enumerate(_DIAGNOSES)
        ],
        "insurance": [
            {"sequence": 1, "focal": True, "coverage": {"reference": f"Coverage/cov-{n % 5000}"}},
            {"sequence": 2, "focal": False, "coverage": {"reference": f"Coverage/cov2-{n % 5000}"}},
        ],
        "item": items,
        "total": {"value": total, "currency": "USD"},
    }
    return resource
