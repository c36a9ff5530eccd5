"""Discovery documents: SMART configuration, OpenID configuration, CapabilityStatement security.

- ``/fhir/.well-known/smart-configuration``: SMART App Launch 2.x conformance.html
  (endpoints, capabilities, scopes, PKCE methods, client authentication methods);
- ``/.well-known/openid-configuration``: OpenID Connect Discovery 1.0 section 3;
- CapabilityStatement ``rest.security``: SMART App Launch conformance.html#using-cors and the
  ``oauth-uris`` extension (http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris)
  that older clients such as fhirclient still read.
"""

from __future__ import annotations

from typing import Any

__all__ = ["auth_urls", "capability_security", "openid_configuration", "smart_configuration"]

CAPABILITIES = [
    "launch-ehr",
    "launch-standalone",
    "authorize-post",
    "client-public",
    "client-confidential-symmetric",
    "client-confidential-asymmetric",
    "sso-openid-connect",
    "context-ehr-patient",
    "context-ehr-encounter",
    "context-standalone-patient",
    "context-banner",
    "context-style",
    "permission-offline",
    "permission-online",
    "permission-patient",
    "permission-user",
    "permission-v1",
    "permission-v2",
]

SCOPES = [
    "openid",
    "fhirUser",
    "launch",
    "launch/patient",
    "launch/encounter",
    "offline_access",
    "online_access",
    "patient/*.rs",
    "user/*.rs",
    "user/*.cruds",
    "system/*.rs",
    "patient/*.read",
    "user/*.read",
    "system/*.read",
]


def auth_urls(fhir_base: str) -> dict[str, str]:
    """The OAuth endpoint URLs of a facade whose FHIR base is ``fhir_base``."""
    root = fhir_base.removesuffix("/fhir")
    return {
        "authorize": f"{root}/auth/authorize",
        "token": f"{root}/auth/token",
        "register": f"{root}/auth/register",
        "introspect": f"{root}/auth/introspect",
        "revoke": f"{root}/auth/revoke",
        "jwks": f"{root}/auth/jwks",
    }


def smart_configuration(fhir_base: str) -> dict[str, Any]:
    """The ``.well-known/smart-configuration`` document (SMART App Launch conformance.html)."""
    urls = auth_urls(fhir_base)
    return {
        "issuer": fhir_base,
        "jwks_uri": urls["jwks"],
        "authorization_endpoint": urls["authorize"],
        "token_endpoint": urls["token"],
        "registration_endpoint": urls["register"],
        "introspection_endpoint": urls["introspect"],
        "revocation_endpoint": urls["revoke"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
        "token_endpoint_auth_methods_supported": [
            "none",
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "code_challenge_methods_supported": ["S256"],
        "capabilities": CAPABILITIES,
    }


def openid_configuration(fhir_base: str) -> dict[str, Any]:
    """OpenID Connect Discovery 1.0 section 3 metadata (issuer = the FHIR base)."""
    urls = auth_urls(fhir_base)
    return {
        "issuer": fhir_base,
        "authorization_endpoint": urls["authorize"],
        "token_endpoint": urls["token"],
        "jwks_uri": urls["jwks"],
        "registration_endpoint": urls["register"],
        "response_types_supported": ["code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "scopes_supported": ["openid", "fhirUser", "profile", "offline_access"],
        "token_endpoint_auth_methods_supported": [
            "none",
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nonce", "fhirUser"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": ["authorization_code", "refresh_token", "client_credentials"],
    }


def capability_security(fhir_base: str) -> dict[str, Any]:
    """CapabilityStatement ``rest.security`` with the SMART service and the oauth-uris."""
    urls = auth_urls(fhir_base)
    return {
        "cors": True,
        "service": [
            {
                "coding": [
                    {
                        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
                        "code": "SMART-on-FHIR",
                        "display": "SMART-on-FHIR",
                    }
                ],
                "text": "OAuth2 using SMART-on-FHIR profile (see http://docs.smarthealthit.org)",
            }
        ],
        "extension": [
            {
                "url": "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris",
                "extension": [
                    {"url": name, "valueUri": urls[name]}
                    for name in ("authorize", "token", "register", "introspect", "revoke")
                ],
            }
        ],
        "description": "SMART App Launch 2.x; discovery at .well-known/smart-configuration",
    }
