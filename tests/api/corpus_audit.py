"""The search corpus: the audit trail (two AuditEvents, see ``tests/api/search_corpus.py``)."""

from __future__ import annotations

from typing import Any

from tests.api.corpus_terms import META, cc, ref

_DCM = "http://dicom.nema.org/resources/ontology/DCM"
_REST = "http://hl7.org/fhir/restful-interaction"
_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
_ROLE = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
_OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
_OBJECT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"

AUDIT_EVENTS: list[dict[str, Any]] = [
    {
        "resourceType": "AuditEvent",
        "id": "audit-1",
        "meta": META,
        "type": {"system": _EVENT_TYPE, "code": "rest"},
        "subtype": [{"system": _REST, "code": "read"}],
        "action": "R",
        "recorded": "2024-03-02T10:00:00Z",
        "outcome": "0",
        "agent": [
            {
                "role": [cc(_ROLE, "humanuser")],
                "who": ref("Practitioner/prac-1"),
                "altId": "billing-app",
                "name": "Marcus Welby",
                "requestor": True,
                "policy": ["urn:facade:policy:smart"],
                "network": {"address": "10.0.0.7", "type": "2"},
            },
            {"who": ref("Patient/pat-1"), "requestor": False},
        ],
        "source": {
            "site": "facade",
            "observer": ref("Organization/org-1"),
            "type": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "4",
                }
            ],
        },
        "entity": [
            {
                "what": ref("Claim/claim-1"),
                "type": {"system": _OBJECT_TYPE, "code": "2"},
                "role": {"system": _OBJECT_ROLE, "code": "4"},
                "name": "Claim read",
            }
        ],
    },
    {
        "resourceType": "AuditEvent",
        "id": "audit-2",
        "type": {"system": _DCM, "code": "110114"},
        "subtype": [{"system": _DCM, "code": "110122"}],
        "action": "E",
        "recorded": "2024-03-03T11:30:00Z",
        "outcome": "4",
        "agent": [
            {
                "role": [cc(_ROLE, "dataprocessor")],
                "who": ref("Organization/org-2"),
                "altId": "backend-1",
                "name": "Nightly export",
                "requestor": True,
                "network": {"address": "192.168.1.20", "type": "2"},
            }
        ],
        "source": {"site": "auth", "observer": ref("Organization/org-2")},
        "entity": [
            {
                "what": ref("Patient/pat-2"),
                "type": {"system": _OBJECT_TYPE, "code": "1"},
                "role": {"system": _OBJECT_ROLE, "code": "1"},
                "name": "Token request",
            }
        ],
    },
]
