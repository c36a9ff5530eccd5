"""The ClaimResponse that follows a submitted Claim through the pipeline.

`$submit` answers with a ClaimResponse whose ``outcome`` is ``queued`` (R4 Claim-submit;
ClaimResponse.outcome: queued | complete | error | partial). It keeps its id while the
clearinghouse and the payer answer: a 999 rejection or a 277CA A3/A6/A7 makes it ``error``
with the reasons, a 277CA acceptance keeps it ``queued`` with the acknowledgment's identifiers,
and the 835 makes it ``complete`` (the payer's own ClaimResponse and the EOB are stored too).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from server.storage.port import instant_from_us

__all__ = ["SUBMISSION_SYSTEM", "queued_response", "response_id", "with_outcome", "with_update"]

#: Identifier system of the ClaimResponse a submission made (value: the Claim id).
SUBMISSION_SYSTEM = "urn:fhir-facade:claim-submission"

_NAMESPACE = uuid.UUID("5b0c5c0e-7c52-5d3b-9f1e-5b0b1c5c0e5b")

Resource = dict[str, Any]


def response_id(claim_id: str) -> str:
    """The submission ClaimResponse's id: a name-based UUID of the Claim id."""
    return str(uuid.uuid5(_NAMESPACE, claim_id))


def queued_response(claim: Mapping[str, Any], claim_id: str, now_us: int) -> Resource:
    """The ClaimResponse `$submit` returns (R4 ClaimResponse: status, type, use, patient,
    created, insurer, outcome are required)."""
    out: Resource = {
        "resourceType": "ClaimResponse",
        "id": response_id(claim_id),
        "identifier": [{"system": SUBMISSION_SYSTEM, "value": claim_id}],
        "status": "active",
        "type": claim.get("type") or {"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/claim-type",
            "code": "professional"}]},
        "use": claim.get("use") or "claim",
        "patient": claim.get("patient") or {},
        "created": instant_from_us(now_us)[:10],
        "insurer": claim.get("insurer") or {"display": "unknown"},
        "request": {"reference": f"Claim/{claim_id}"},
        "outcome": "queued",
        "disposition": "Queued for the clearinghouse",
    }
    if claim.get("provider"):
        out["requestor"] = claim["provider"]
    return out


def _notes(texts: Iterable[str]) -> list[dict[str, Any]]:
    return [{"number": n, "type": "display", "text": t[:1000]} for n, t in enumerate(texts, 1)]


def with_outcome(current: Mapping[str, Any], outcome: str, disposition: str,
                 notes: Iterable[str] = ()) -> Resource:
    """``current`` with a new outcome and disposition (and the reasons as process notes)."""
    out = {k: v for k, v in current.items() if k not in ("meta", "processNote", "error")}
    out["outcome"] = outcome
    out["disposition"] = disposition
    texts = list(notes)
    if texts:
        out["processNote"] = _notes(texts)
    return out


def with_update(current: Mapping[str, Any], update: Mapping[str, Any]) -> Resource:
    """``current`` carrying what a mapped acknowledgment or status says (outcome,
    disposition, errors, notes, identifiers), keeping its own id, request, patient and insurer."""
    out = {k: v for k, v in current.items() if k != "meta"}
    replaces = "outcome" in update
    for key in ("outcome", "disposition", "error", "processNote", "preAuthRef", "payment",
                "total", "item", "adjudication"):
        if key in update:
            out[key] = update[key]
        elif replaces and key in ("error", "processNote"):
            out.pop(key, None)
    seen = {(i.get("system"), i.get("value")) for i in out.get("identifier", [])}
    for ident in update.get("identifier", []):
        if (ident.get("system"), ident.get("value")) not in seen:
            out.setdefault("identifier", []).append(ident)
            seen.add((ident.get("system"), ident.get("value")))
    return out
