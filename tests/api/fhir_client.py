"""Helpers for API tests: minimal valid resources and an OperationOutcome checker.

The fhirclient library's strict R4 models are the independent oracle for what the server emits.
"""

from __future__ import annotations

import copy
from typing import Any

import httpx
from fhirclient.models.fhirelementfactory import FHIRElementFactory

FHIR_JSON = "application/fhir+json"


def claim(identifier: str = "PCN-1", **overrides: Any) -> dict[str, Any]:
    """A small valid R4 Claim (professional, one line)."""
    body: dict[str, Any] = {
        "resourceType": "Claim",
        "identifier": [{"system": "urn:example:pcn", "value": identifier}],
        "status": "active",
        "type": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/claim-type",
                    "code": "professional",
                }
            ]
        },
        "use": "claim",
        "patient": {"reference": "Patient/p1"},
        "created": "2026-11-01",
        "provider": {"reference": "Organization/o1"},
        "priority": {"coding": [{"code": "normal"}]},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/c1"}}],
        "item": [
            {
                "sequence": 1,
                "productOrService": {
                    "coding": [{"system": "http://www.ama-assn.org/go/cpt", "code": "99213"}]
                },
                "servicedDate": "2026-10-30",
                "unitPrice": {"value": 125.50, "currency": "USD"},
                "net": {"value": 125.50, "currency": "USD"},
            }
        ],
        "total": {"value": 125.50, "currency": "USD"},
    }
    body.update(copy.deepcopy(overrides))
    return body


def patient(mrn: str = "MRN-1", **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:example:mrn", "value": mrn}],
        "name": [{"family": "Doe", "given": ["Jane"]}],
        "gender": "female",
        "birthDate": "1980-02-29",
    }
    body.update(copy.deepcopy(overrides))
    return body


def strict_model(data: dict[str, Any]) -> Any:
    """Load ``data`` in fhirclient's strict R4 models (raises on any structural error)."""
    return FHIRElementFactory.instantiate(data["resourceType"], data)


def assert_outcome(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The response is an OperationOutcome with ``status`` and stable error ``code``."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(FHIR_JSON)
    body: dict[str, Any] = response.json()
    assert body["resourceType"] == "OperationOutcome"
    codes = [c["code"] for i in body["issue"] for c in i["details"].get("coding", [])]
    assert code in codes, body
    strict_model(body)
    return body


def resource_id(response: httpx.Response) -> str:
    """The id from a `Location` header ``.../Type/id/_history/n``."""
    return response.headers["location"].split("/_history/")[0].rsplit("/", 1)[1]
