"""The search corpus: coverages, claims, claim responses, EOBs, eligibility, payment notices
and reconciliations (see ``tests/api/search_corpus.py``)."""

from __future__ import annotations

from typing import Any

from tests.api.corpus_terms import (
    ACT_CODE,
    CLAIM_TYPE,
    CPT,
    META,
    V2_0203,
    cc,
    ref,
    usd,
)

# --- Financial ---------------------------------------------------------------------------------

COVERAGES: list[dict[str, Any]] = [
    {
        "resourceType": "Coverage",
        "id": "cov-1",
        "meta": META,
        "identifier": [
            {
                "type": cc(V2_0203, "MB", text="Member number"),
                "system": "urn:example:member-ids",
                "value": "MEM-1001-01",
            }
        ],
        "status": "active",
        "type": cc(ACT_CODE, "HIP", "health insurance plan policy"),
        "policyHolder": ref("Patient/pat-1"),
        "subscriber": ref("Patient/pat-1"),
        "subscriberId": "MEM-1001",
        "beneficiary": ref("Patient/pat-1"),
        "dependent": "01",
        "relationship": cc("http://terminology.hl7.org/CodeSystem/subscriber-relationship", "self"),
        "period": {"start": "2024-01-01", "end": "2024-12-31"},
        "payor": [ref("Organization/org-payer")],
        "class": [
            {
                "type": cc("http://terminology.hl7.org/CodeSystem/coverage-class", "group"),
                "value": "GRP-5000",
                "name": "Acme Employer Group",
            },
            {
                "type": cc("http://terminology.hl7.org/CodeSystem/coverage-class", "plan"),
                "value": "PLAN-GOLD",
            },
        ],
    },
    {
        "resourceType": "Coverage",
        "id": "cov-2",
        "identifier": [{"system": "urn:example:member-ids", "value": "MEM-2002-02"}],
        "status": "cancelled",
        "type": cc(ACT_CODE, "PPO"),
        "policyHolder": ref("RelatedPerson/rp-1"),
        "subscriber": ref("RelatedPerson/rp-1"),
        "beneficiary": ref("Patient/pat-2"),
        "dependent": "02",
        "relationship": cc(
            "http://terminology.hl7.org/CodeSystem/subscriber-relationship", "spouse"
        ),
        "payor": [ref("Organization/org-sub")],
        "class": [
            {
                "type": cc("http://terminology.hl7.org/CodeSystem/coverage-class", "group"),
                "value": "GRP-6000",
            }
        ],
    },
]

CLAIMS: list[dict[str, Any]] = [
    {
        "resourceType": "Claim",
        "id": "claim-1",
        "meta": META,
        "identifier": [{"system": "urn:example:claims", "value": "PCN-1001"}],
        "status": "active",
        "type": cc(CLAIM_TYPE, "professional"),
        "use": "claim",
        "patient": ref("Patient/pat-1"),
        "created": "2024-03-01T10:00:00Z",
        "enterer": ref("Practitioner/prac-1"),
        "insurer": ref("Organization/org-payer"),
        "provider": ref("Organization/org-prov"),
        "priority": cc("http://terminology.hl7.org/CodeSystem/processpriority", "normal"),
        "payee": {
            "type": cc("http://terminology.hl7.org/CodeSystem/payeetype", "provider"),
            "party": ref("Organization/org-prov"),
        },
        "facility": ref("Location/loc-1"),
        "careTeam": [{"sequence": 1, "provider": ref("Practitioner/prac-1")}],
        "procedure": [
            {
                "sequence": 1,
                "procedureCodeableConcept": cc(CPT, "83036"),
                "udi": [ref("Device/dev-3")],
            }
        ],
        "insurance": [{"sequence": 1, "focal": True, "coverage": ref("Coverage/cov-1")}],
        "item": [
            {
                "sequence": 1,
                "productOrService": cc(CPT, "99213"),
                "servicedDate": "2024-02-28",
                "encounter": [ref("Encounter/enc-1")],
                "udi": [ref("Device/dev-1")],
                "net": usd(125.5),
                "detail": [
                    {
                        "sequence": 1,
                        "productOrService": cc(CPT, "83036"),
                        "udi": [ref("Device/dev-2")],
                        "subDetail": [
                            {
                                "sequence": 1,
                                "productOrService": cc(CPT, "36415"),
                                "udi": [ref("Device/dev-4")],
                            }
                        ],
                    }
                ],
            }
        ],
        "total": usd(125.5),
    },
    {
        "resourceType": "Claim",
        "id": "claim-2",
        "identifier": [{"system": "urn:example:claims", "value": "PCN-2002"}],
        "status": "draft",
        "type": cc(CLAIM_TYPE, "institutional"),
        "use": "preauthorization",
        "patient": ref("Patient/pat-2"),
        "created": "2025-07-15",
        "insurer": ref("Organization/org-sub"),
        "provider": ref("PractitionerRole/role-1"),
        "priority": cc("http://terminology.hl7.org/CodeSystem/processpriority", "stat"),
        "payee": {
            "type": cc("http://terminology.hl7.org/CodeSystem/payeetype", "subscriber"),
            "party": ref("Patient/pat-2"),
        },
        "careTeam": [{"sequence": 1, "provider": ref("Organization/org-prov")}],
        "insurance": [{"sequence": 1, "focal": True, "coverage": ref("Coverage/cov-2")}],
        "item": [
            {
                "sequence": 1,
                "productOrService": cc(CPT, "99223"),
                "servicedDate": "2025-06-02",
                "net": usd(900),
            }
        ],
    },
    {
        "resourceType": "Claim",
        "id": "claim-3",
        "status": "cancelled",
        "type": cc(CLAIM_TYPE, "professional"),
        "use": "claim",
        "patient": ref("http://testserver/fhir/Patient/pat-1"),
        "insurer": {
            "identifier": {"system": "urn:example:payer-ids", "value": "PAYER-77"},
            "display": "Acme Health Insurance",
        },
        "created": "2023-12-01T16:45:00-05:00",
        "provider": ref("Practitioner/prac-2"),
        "priority": cc("http://terminology.hl7.org/CodeSystem/processpriority", "normal"),
        "insurance": [{"sequence": 1, "focal": True, "coverage": ref("Coverage/cov-1")}],
    },
]

CLAIM_RESPONSES: list[dict[str, Any]] = [
    {
        "resourceType": "ClaimResponse",
        "id": "cr-1",
        "meta": META,
        "identifier": [{"system": "urn:example:claim-responses", "value": "CR-1001"}],
        "status": "active",
        "type": cc(CLAIM_TYPE, "professional"),
        "use": "claim",
        "patient": ref("Patient/pat-1"),
        "created": "2024-03-05T12:00:00Z",
        "insurer": ref("Organization/org-payer"),
        "requestor": ref("Organization/org-prov"),
        "request": ref("Claim/claim-1"),
        "outcome": "complete",
        "disposition": "Claim settled as per contract",
        "payment": {
            "type": cc("http://terminology.hl7.org/CodeSystem/ex-paymenttype", "complete"),
            "date": "2024-03-20",
            "amount": usd(100.4),
        },
    },
    {
        "resourceType": "ClaimResponse",
        "id": "cr-2",
        "status": "draft",
        "type": cc(CLAIM_TYPE, "institutional"),
        "use": "preauthorization",
        "patient": ref("Patient/pat-2"),
        "created": "2025-07-16",
        "insurer": ref("Organization/org-sub"),
        "requestor": ref("PractitionerRole/role-1"),
        "request": ref("Claim/claim-2"),
        "outcome": "queued",
        "disposition": "Pended for clinical review",
    },
]

EOBS: list[dict[str, Any]] = [
    {
        "resourceType": "ExplanationOfBenefit",
        "id": "eob-1",
        "meta": META,
        "identifier": [
            {
                "type": cc("http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBIdentifierType", "uc"),
                "system": "https://example.org/fhir/claim-ids",
                "value": "EOB-1001",
            }
        ],
        "status": "active",
        "type": cc(CLAIM_TYPE, "professional"),
        "use": "claim",
        "patient": ref("Patient/pat-1"),
        "billablePeriod": {"start": "2024-02-01", "end": "2024-02-29"},
        "created": "2024-03-10T09:30:00-05:00",
        "enterer": ref("Practitioner/prac-1"),
        "insurer": ref("Organization/org-payer"),
        "provider": ref("Organization/org-prov"),
        "payee": {
            "type": cc("http://terminology.hl7.org/CodeSystem/payeetype", "provider"),
            "party": ref("Organization/org-prov"),
        },
        "facility": ref("Location/loc-1"),
        "claim": ref("Claim/claim-1"),
        "outcome": "complete",
        "disposition": "Processed as billed",
        "careTeam": [
            {"sequence": 1, "provider": ref("Practitioner/prac-1")},
            {"sequence": 2, "provider": ref("PractitionerRole/role-1")},
        ],
        "procedure": [
            {
                "sequence": 1,
                "procedureCodeableConcept": cc(CPT, "83036"),
                "udi": [ref("Device/dev-3")],
            }
        ],
        "insurance": [{"focal": True, "coverage": ref("Coverage/cov-1")}],
        "item": [
            {
                "sequence": 1,
                "productOrService": cc(CPT, "99213"),
                "servicedDate": "2024-02-28",
                "encounter": [ref("Encounter/enc-1")],
                "udi": [ref("Device/dev-1")],
                "net": usd(125.5),
                "detail": [
                    {
                        "sequence": 1,
                        "productOrService": cc(CPT, "83036"),
                        "udi": [ref("Device/dev-2")],
                        "subDetail": [
                            {
                                "sequence": 1,
                                "productOrService": cc(CPT, "36415"),
                                "udi": [ref("Device/dev-4")],
                            }
                        ],
                    }
                ],
            },
            {
                "sequence": 2,
                "productOrService": cc(CPT, "36415"),
                "servicedPeriod": {"start": "2024-02-10", "end": "2024-02-12"},
            },
        ],
        "total": [
            {
                "category": cc("http://terminology.hl7.org/CodeSystem/adjudication", "submitted"),
                "amount": usd(125.5),
            }
        ],
    },
    {
        "resourceType": "ExplanationOfBenefit",
        "id": "eob-2",
        "identifier": [{"system": "https://example.org/fhir/claim-ids", "value": "EOB-2002"}],
        "status": "active",
        "type": cc(CLAIM_TYPE, "institutional"),
        "use": "claim",
        "patient": ref("Patient/pat-2"),
        "billablePeriod": {"start": "2025-06-01", "end": "2025-06-05"},
        "created": "2025-07-20",
        "insurer": ref("Organization/org-sub"),
        "provider": ref("PractitionerRole/role-1"),
        "outcome": "queued",
        "disposition": "Pending medical review",
        "careTeam": [{"sequence": 1, "provider": ref("Practitioner/prac-2")}],
        "insurance": [{"focal": True, "coverage": ref("Coverage/cov-2")}],
        "item": [
            {"sequence": 1, "productOrService": cc(CPT, "99223"), "servicedDate": "2025-06-03"}
        ],
    },
    {
        "resourceType": "ExplanationOfBenefit",
        "id": "eob-3",
        "status": "cancelled",
        "type": cc(CLAIM_TYPE, "pharmacy"),
        "use": "claim",
        "patient": ref("Patient/pat-1"),
        "created": "2023-08-20",
        "insurer": ref("Organization/org-payer"),
        "provider": ref("Practitioner/prac-1"),
        "outcome": "complete",
        "insurance": [{"focal": True, "coverage": ref("Coverage/cov-1")}],
        "item": [
            {
                "sequence": 1,
                "productOrService": cc("http://hl7.org/fhir/sid/ndc", "0002-8215-01"),
                "servicedDate": "2023-08-15",
            }
        ],
    },
]

ELIGIBILITY_REQUESTS: list[dict[str, Any]] = [
    {
        "resourceType": "CoverageEligibilityRequest",
        "id": "cer-1",
        "meta": META,
        "identifier": [{"system": "urn:example:eligibility", "value": "ER-1"}],
        "status": "active",
        "purpose": ["validation"],
        "patient": ref("Patient/pat-1"),
        "created": "2024-02-20T10:00:00Z",
        "enterer": ref("Practitioner/prac-1"),
        "provider": ref("Organization/org-prov"),
        "insurer": ref("Organization/org-payer"),
        "facility": ref("Location/loc-1"),
    },
    {
        "resourceType": "CoverageEligibilityRequest",
        "id": "cer-2",
        "identifier": [{"system": "urn:example:eligibility", "value": "ER-2"}],
        "status": "cancelled",
        "purpose": ["benefits"],
        "patient": ref("Patient/pat-2"),
        "created": "2025-01-10",
        "provider": ref("PractitionerRole/role-1"),
        "insurer": ref("Organization/org-sub"),
    },
]

ELIGIBILITY_RESPONSES: list[dict[str, Any]] = [
    {
        "resourceType": "CoverageEligibilityResponse",
        "id": "cerr-1",
        "meta": META,
        "identifier": [{"system": "urn:example:eligibility", "value": "ERR-1"}],
        "status": "active",
        "purpose": ["validation"],
        "patient": ref("Patient/pat-1"),
        "created": "2024-02-20T10:05:00Z",
        "requestor": ref("Organization/org-prov"),
        "request": ref("CoverageEligibilityRequest/cer-1"),
        "outcome": "complete",
        "disposition": "Policy is currently in effect",
        "insurer": ref("Organization/org-payer"),
    },
    {
        "resourceType": "CoverageEligibilityResponse",
        "id": "cerr-2",
        "status": "entered-in-error",
        "purpose": ["benefits"],
        "patient": ref("Patient/pat-2"),
        "created": "2025-01-10T08:00:00Z",
        "requestor": ref("Practitioner/prac-2"),
        "request": ref("CoverageEligibilityRequest/cer-2"),
        "outcome": "error",
        "disposition": "Subscriber not found",
        "insurer": ref("Organization/org-sub"),
    },
]

PAYMENT_NOTICES: list[dict[str, Any]] = [
    {
        "resourceType": "PaymentNotice",
        "id": "pn-1",
        "meta": META,
        "identifier": [{"system": "urn:example:notices", "value": "PN-1"}],
        "status": "active",
        "request": ref("Claim/claim-1"),
        "response": ref("ClaimResponse/cr-1"),
        "created": "2024-03-21",
        "provider": ref("Organization/org-prov"),
        "payment": ref("PaymentReconciliation/prec-1"),
        "recipient": ref("Organization/org-prov"),
        "amount": usd(100.4),
        "paymentStatus": cc("http://terminology.hl7.org/CodeSystem/paymentstatus", "paid"),
    },
    {
        "resourceType": "PaymentNotice",
        "id": "pn-2",
        "status": "cancelled",
        "request": ref("Claim/claim-2"),
        "created": "2025-08-01T09:00:00Z",
        "provider": ref("Practitioner/prac-2"),
        "payment": ref("PaymentReconciliation/prec-2"),
        "recipient": ref("Organization/org-prov"),
        "amount": usd(20),
        "paymentStatus": cc("http://terminology.hl7.org/CodeSystem/paymentstatus", "cleared"),
    },
]

PAYMENT_RECONCILIATIONS: list[dict[str, Any]] = [
    {
        "resourceType": "PaymentReconciliation",
        "id": "prec-1",
        "meta": META,
        "identifier": [{"system": "urn:example:remittances", "value": "REM-1"}],
        "status": "active",
        "period": {"start": "2024-03-01", "end": "2024-03-31"},
        "created": "2024-03-20",
        "paymentIssuer": ref("Organization/org-payer"),
        "request": ref("Task/task-1"),
        "requestor": ref("Organization/org-prov"),
        "outcome": "complete",
        "disposition": "March 2024 remittance",
        "paymentDate": "2024-03-20",
        "paymentAmount": usd(100.4),
    },
    {
        "resourceType": "PaymentReconciliation",
        "id": "prec-2",
        "status": "draft",
        "created": "2025-08-01",
        "paymentIssuer": ref("Organization/org-sub"),
        "requestor": ref("Practitioner/prac-2"),
        "outcome": "partial",
        "disposition": "Partial remittance",
        "paymentDate": "2025-08-01",
        "paymentAmount": usd(20),
    },
]
