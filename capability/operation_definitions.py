"""OperationDefinitions this server defines itself (R4 operationdefinition.html).

``Claim/{id}/$status`` has no definition in R4 or the US IGs (X12 276/277 claim status has no
FHIR operation), so it is defined here and served at ``{base}/OperationDefinition/Claim-status``.
"""

from __future__ import annotations

from typing import Any

__all__ = ["CLAIM_STATUS_ID", "definition", "definition_url"]

CLAIM_STATUS_ID = "Claim-status"


def definition_url(fhir_base: str, id: str) -> str:
    return f"{fhir_base}/OperationDefinition/{id}"


def _claim_status(fhir_base: str) -> dict[str, Any]:
    return {
        "resourceType": "OperationDefinition",
        "id": CLAIM_STATUS_ID,
        "url": definition_url(fhir_base, CLAIM_STATUS_ID),
        "name": "ClaimStatus",
        "title": "Ask the payer for the status of a submitted claim",
        "status": "active",
        "kind": "operation",
        "code": "status",
        "description": (
            "Sends a claim status inquiry (X12 276, or the clearinghouse's claim status API) "
            "for a Claim submitted with Claim/$submit, and returns the Claim's ClaimResponse "
            "updated with the answer (X12 277 STC category and status codes)."
        ),
        "resource": ["Claim"],
        "system": False,
        "type": False,
        "instance": True,
        "affectsState": True,
        "parameter": [{
            "name": "return",
            "use": "out",
            "min": 1,
            "max": "1",
            "documentation": "The Claim's ClaimResponse, updated with the status answer",
            "type": "ClaimResponse",
        }],
    }


def definition(fhir_base: str, id: str) -> dict[str, Any] | None:
    """Our OperationDefinition ``id`` for a server at ``fhir_base``; None when unknown."""
    if id == CLAIM_STATUS_ID:
        return _claim_status(fhir_base)
    return None
