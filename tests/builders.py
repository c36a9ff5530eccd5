"""Small builders of valid FHIR R4 resources for tests.

Each builder returns a fresh, minimal but realistic resource as parsed JSON (decimals are
``Decimal``, as :func:`server.fhir.json_codec.loads` produces them). Keyword overrides replace
top-level elements; pass :data:`OMIT` to drop one::

    claim(status="draft")
    claim(patient=OMIT)
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

__all__ = ["OMIT", "claim", "coverage", "explanation_of_benefit", "patient"]


class _Omit:
    def __repr__(self) -> str:
        return "OMIT"


#: Override value that removes the element instead of setting it.
OMIT: Final = _Omit()


def _apply(resource: dict[str, Any], overrides: dict[str, Any]) -> dict[str, Any]:
    for key, value in overrides.items():
        if value is OMIT:
            resource.pop(key, None)
        else:
            resource[key] = value
    return resource


def _usd(value: str) -> dict[str, Any]:
    return {"value": Decimal(value), "currency": "USD"}


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


_CLAIM_TYPE: Final = "http://terminology.hl7.org/CodeSystem/claim-type"
_CPT: Final = "http://www.ama-assn.org/go/cpt"


def claim(**overrides: Any) -> dict[str, Any]:
    """A professional Claim with one item (R4 Claim; every 1..1 and 1..* element present)."""
    resource: dict[str, Any] = {
        "resourceType": "Claim",
        "id": "claim-1",
        "identifier": [{"system": "urn:oid:2.16.840.1.113883.3.1", "value": "PCN-0001"}],
        "status": "active",
        "type": _concept(_CLAIM_TYPE, "professional"),
        "use": "claim",
        "patient": {"reference": "Patient/patient-1"},
        "created": "2024-03-01T10:00:00Z",
        "provider": {"reference": "Organization/org-1"},
        "priority": _concept("http://terminology.hl7.org/CodeSystem/processpriority", "normal"),
        "insurance": [
            {"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/coverage-1"}}
        ],
        "item": [
            {
                "sequence": 1,
                "productOrService": _concept(_CPT, "99213"),
                "servicedDate": "2024-02-28",
                "quantity": {"value": Decimal("1")},
                "unitPrice": _usd("125.50"),
                "net": _usd("125.50"),
            }
        ],
        "total": _usd("125.50"),
    }
    return _apply(resource, overrides)


def patient(**overrides: Any) -> dict[str, Any]:
    """A Patient with an identifier, a name, a phone number and an address."""
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": "patient-1",
        "identifier": [
            {"use": "usual", "system": "urn:oid:2.16.840.1.113883.3.2", "value": "MRN-1"}
        ],
        "active": True,
        "name": [{"use": "official", "family": "Doe", "given": ["Jane", "Q"]}],
        "telecom": [{"system": "phone", "value": "555-0100", "use": "home"}],
        "gender": "female",
        "birthDate": "1980-05-17",
        "address": [{"use": "home", "line": ["1 Main St"], "city": "Springfield", "state": "IL"}],
    }
    return _apply(resource, overrides)


def coverage(**overrides: Any) -> dict[str, Any]:
    """A Coverage of the builder patient by one payer."""
    resource: dict[str, Any] = {
        "resourceType": "Coverage",
        "id": "coverage-1",
        "status": "active",
        "subscriberId": "SUB-1",
        "beneficiary": {"reference": "Patient/patient-1"},
        "relationship": _concept(
            "http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self"
        ),
        "payor": [{"reference": "Organization/payer-1"}],
        "class": [
            {
                "type": _concept("http://terminology.hl7.org/CodeSystem/coverage-class", "group"),
                "value": "GRP-1",
            }
        ],
    }
    return _apply(resource, overrides)


def explanation_of_benefit(**overrides: Any) -> dict[str, Any]:
    """An adjudicated ExplanationOfBenefit for the builder claim."""
    resource: dict[str, Any] = {
        "resourceType": "ExplanationOfBenefit",
        "id": "eob-1",
        "status": "active",
        "type": _concept(_CLAIM_TYPE, "professional"),
        "use": "claim",
        "patient": {"reference": "Patient/patient-1"},
        "created": "2024-03-10T09:30:00-05:00",
        "insurer": {"reference": "Organization/payer-1"},
        "provider": {"reference": "Organization/org-1"},
        "claim": {"reference": "Claim/claim-1"},
        "outcome": "complete",
        "insurance": [{"focal": True, "coverage": {"reference": "Coverage/coverage-1"}}],
        "item": [
            {
                "sequence": 1,
                "productOrService": _concept(_CPT, "99213"),
                "servicedDate": "2024-02-28",
                "net": _usd("125.50"),
                "adjudication": [
                    {
                        "category": _concept(
                            "http://terminology.hl7.org/CodeSystem/adjudication", "benefit"
                        ),
                        "amount": _usd("100.40"),
                    }
                ],
            }
        ],
        "total": [
            {
                "category": _concept(
                    "http://terminology.hl7.org/CodeSystem/adjudication", "submitted"
                ),
                "amount": _usd("125.50"),
            }
        ],
    }
    return _apply(resource, overrides)
