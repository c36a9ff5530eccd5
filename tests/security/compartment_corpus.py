"""Two patients' financial records, cross-linked, for the compartment tests.

Patient ``pa`` (Alpha) and ``pb`` (Beta) each have a Coverage, a Claim, a ClaimResponse, an
ExplanationOfBenefit, an Encounter, a Condition and an eligibility request. The links between
them are the ones a leak would follow: Beta's claim names Alpha's claim as related, Beta's
second Coverage has Alpha as policy holder (so it *is* in Alpha's compartment), a
PaymentReconciliation pays both and a Group holds both. ``OWNED`` says which resources each
patient's compartment holds, written out by hand (the test oracle), plus the shared reference
data any `patient/` token may read.
"""

from __future__ import annotations

from typing import Any

from tests.builders import claim, coverage, explanation_of_benefit, patient

__all__ = ["OWNED", "RESOURCES", "SHARED", "key"]


def _concept(system: str, code: str) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code}]}


def _records(p: str, other: str, name: str) -> list[dict[str, Any]]:
    ref = {"reference": f"Patient/{p}"}
    return [
        patient(
            id=p,
            name=[{"family": name, "given": ["Pat"]}],
            identifier=[{"system": "urn:mrn", "value": f"MRN-{p}"}],
        ),
        coverage(
            id=f"cov-{p}",
            beneficiary=ref,
            subscriber=ref,
            payor=[{"reference": "Organization/payer-1"}],
        ),
        claim(
            id=f"claim-{p}",
            identifier=[{"system": "urn:pcn", "value": f"PCN-{p}"}],
            patient=ref,
            provider={"reference": "Practitioner/doc-1"},
            insurer={"reference": "Organization/payer-1"},
            insurance=[
                {"sequence": 1, "focal": True, "coverage": {"reference": f"Coverage/cov-{p}"}}
            ],
            related=[{"claim": {"reference": f"Claim/claim-{other}"}}],
        ),
        {
            "resourceType": "ClaimResponse",
            "id": f"cr-{p}",
            "status": "active",
            "type": _concept("http://terminology.hl7.org/CodeSystem/claim-type", "professional"),
            "use": "claim",
            "patient": ref,
            "created": "2024-03-05",
            "insurer": {"reference": "Organization/payer-1"},
            "request": {"reference": f"Claim/claim-{p}"},
            "outcome": "complete",
        },
        explanation_of_benefit(
            id=f"eob-{p}",
            patient=ref,
            claim={"reference": f"Claim/claim-{p}"},
            provider={"reference": "Practitioner/doc-1"},
            insurance=[{"focal": True, "coverage": {"reference": f"Coverage/cov-{p}"}}],
        ),
        {
            "resourceType": "Encounter",
            "id": f"enc-{p}",
            "status": "finished",
            "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
            "subject": ref,
        },
        {
            "resourceType": "Condition",
            "id": f"cond-{p}",
            "subject": ref,
            "code": _concept("http://hl7.org/fhir/sid/icd-10-cm", "J20.9"),
            "encounter": {"reference": f"Encounter/enc-{p}"},
        },
        {
            "resourceType": "CoverageEligibilityRequest",
            "id": f"cer-{p}",
            "status": "active",
            "purpose": ["benefits"],
            "patient": ref,
            "created": "2024-03-01",
            "insurer": {"reference": "Organization/payer-1"},
        },
    ]


_SHARED: list[dict[str, Any]] = [
    {"resourceType": "Organization", "id": "payer-1", "name": "Acme Health Plan"},
    {"resourceType": "Organization", "id": "org-1", "name": "Springfield Clinic"},
    {
        "resourceType": "Practitioner",
        "id": "doc-1",
        "name": [{"family": "Welby", "given": ["Marcus"]}],
    },
]

_MANY: list[dict[str, Any]] = [
    # Beta's second coverage: Alpha holds the policy, so Alpha's compartment includes it.
    coverage(
        id="cov-pb-held-by-pa",
        beneficiary={"reference": "Patient/pb"},
        policyHolder={"reference": "Patient/pa"},
        payor=[{"reference": "Organization/payer-1"}],
    ),
    {
        "resourceType": "PaymentReconciliation",
        "id": "pay-1",
        "status": "active",
        "created": "2024-03-12",
        "paymentDate": "2024-03-12",
        "paymentAmount": {"value": 200, "currency": "USD"},
        "detail": [
            {
                "type": _concept("http://terminology.hl7.org/CodeSystem/payment-type", "payment"),
                "response": {"reference": f"ClaimResponse/cr-{p}"},
            }
            for p in ("pa", "pb")
        ],
    },
    {
        "resourceType": "Group",
        "id": "group-1",
        "type": "person",
        "actual": True,
        "member": [{"entity": {"reference": f"Patient/{p}"}} for p in ("pa", "pb")],
    },
]

RESOURCES: list[dict[str, Any]] = [
    *_SHARED,
    *_records("pa", "pb", "Alpha"),
    *_records("pb", "pa", "Beta"),
    *_MANY,
]


def key(resource: dict[str, Any]) -> str:
    return f"{resource['resourceType']}/{resource['id']}"


SHARED = frozenset(key(r) for r in _SHARED)

#: What each patient's compartment holds (hand-written oracle).
OWNED: dict[str, frozenset[str]] = {
    "pa": frozenset(
        [key(r) for r in _records("pa", "pb", "Alpha")] + ["Coverage/cov-pb-held-by-pa"]
    ),
    "pb": frozenset(
        [key(r) for r in _records("pb", "pa", "Beta")] + ["Coverage/cov-pb-held-by-pa"]
    ),
}
