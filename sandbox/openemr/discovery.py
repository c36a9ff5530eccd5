"""Unauthenticated discovery documents, with OpenEMR's quirks kept (OPENEMR.md sections 4, 6;
checklist item 2):

- ``{fhir}/.well-known/smart-configuration`` (``SMARTConfigurationController.php``):
  ``issuer`` = the FHIR base, ``jwks_uri`` ends in ``/jwk``, ``grant_types_supported`` without
  ``refresh_token``, **nested** ``scopes_supported``, no ``registration_endpoint``.
- ``/oauth2/{site}/.well-known/openid-configuration``: still has ``registration_endpoint`` and a
  ``userinfo_endpoint`` that no route serves.
- ``{fhir}/metadata``: a CapabilityStatement whose ``rest.security`` has the SMART service
  coding and one ``capabilities`` extension per capability, and **no** ``oauth-uris``.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from sandbox.openemr.context import standin
from sandbox.openemr.scopes import BASE_SCOPES, READ_TYPES

__all__ = ["discovery_router"]

_CAPABILITIES = [
    "launch-ehr", "launch-standalone", "client-confidential-symmetric",
    "client-confidential-asymmetric", "client-public", "context-banner", "context-ehr-patient",
    "context-style", "context-standalone-patient", "sso-openid-connect", "permission-user",
    "permission-patient", "permission-offline", "permission-v1", "permission-v2",
    "authorize-post", "context-ehr-encounter",
]
_METADATA_CAPABILITIES = [
    "launch-ehr", "context-passthrough-banner", "context-ehr-patient",
    "context-passthrough-style", "sso-openid-connect", "client-confidential-symmetric",
    "permission-user", "context-standalone-patient", "launch-standalone", "permission-patient",
    "permission-offline", "client-public",
]
_CAPABILITY_URL = "http://fhir-registry.smarthealthit.org/StructureDefinition/capabilities"


def _scopes() -> list[str]:
    resource = [f"{lvl}/{t}.{p}" for lvl in ("patient", "user", "system")
                for t in sorted(READ_TYPES) for p in ("read", "rs")]
    return sorted(BASE_SCOPES) + resource


def discovery_router(site: str) -> APIRouter:
    router = APIRouter()

    @router.get(f"/apis/{site}/fhir/.well-known/smart-configuration")
    async def smart_configuration(request: Request) -> Response:
        config = standin(request).config
        oauth = config.oauth_base
        return JSONResponse({
            "issuer": config.fhir_base,
            "jwks_uri": f"{oauth}/jwk",
            "authorization_endpoint": f"{oauth}/authorize",
            "token_endpoint": f"{oauth}/token",
            "grant_types_supported": ["client_credentials", "authorization_code"],
            "capabilities": _CAPABILITIES,
            "code_challenge_methods_supported": ["S256"],
            "scopes_supported": [_scopes()],
            "introspection_endpoint": f"{oauth}/introspect",
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "private_key_jwt"],
            "response_types_supported": [
                "code", "token", "id_token", "code token", "code id_token", "token id_token",
                "code token id_token",
            ],
        })

    @router.get(f"/oauth2/{site}/.well-known/openid-configuration")
    async def openid_configuration(request: Request) -> Response:
        oauth = standin(request).config.oauth_base
        return JSONResponse({
            "issuer": oauth,
            "authorization_endpoint": f"{oauth}/authorize",
            "token_endpoint": f"{oauth}/token",
            "jwks_uri": f"{oauth}/jwk",
            "userinfo_endpoint": f"{oauth}/userinfo",
            "registration_endpoint": f"{oauth}/registration",
            "end_session_endpoint": f"{oauth}/logout",
            "introspection_endpoint": f"{oauth}/introspect",
            "scopes_supported": _scopes(),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "token_endpoint_auth_methods_supported": [
                "client_secret_basic", "client_secret_post", "private_key_jwt"
            ],
            "code_challenge_methods_supported": ["S256"],
        })

    @router.get(f"/apis/{site}/fhir/metadata")
    async def metadata(request: Request) -> Response:
        return JSONResponse(capability_statement())

    return router


def capability_statement() -> dict[str, Any]:
    """The security-relevant part of ``FhirMetaDataRestController``'s statement."""
    security = {
        "extension": [{"url": _CAPABILITY_URL, "valueCode": c} for c in _METADATA_CAPABILITIES],
        "service": [{"coding": [{
            "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
            "code": "SMART-on-FHIR",
        }]}],
    }
    resources = [
        {"type": t, "interaction": [{"code": "read"}, {"code": "search-type"}],
         "updateCreate": False, "searchInclude": ["*"], "searchRevInclude": ["Provenance:target"]}
        for t in sorted(READ_TYPES)
    ]
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": dt.date.today().isoformat(),
        "kind": "instance",
        "instantiates": [
            "http://hl7.org/fhir/us/core/CapabilityStatement/us-core-server",
            "http://hl7.org/fhir/uv/bulkdata/CapabilityStatement/bulk-data",
        ],
        "software": {"name": "OpenEMR"},
        "implementation": {"description": "OpenEMR FHIR API"},
        "fhirVersion": "4.0.1",
        "format": ["application/json"],
        "rest": [{"mode": "server", "security": security, "resource": resources}],
    }
