"""Discovery: SMART configuration, OpenID configuration, JWKS, CapabilityStatement security."""

from __future__ import annotations

from pathlib import Path

from tests.security.oauth_support import BASE, FHIR_BASE, make_settings, running

OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


async def test_discovery_documents(tmp_path: Path) -> None:
    async with running(make_settings(tmp_path)) as (_, http):
        smart = await http.get("/fhir/.well-known/smart-configuration")
        assert smart.status_code == 200, smart.text
        config = smart.json()
        assert config["issuer"] == FHIR_BASE
        assert config["authorization_endpoint"] == f"{BASE}/auth/authorize"
        assert config["token_endpoint"] == f"{BASE}/auth/token"
        for key in ("registration_endpoint", "introspection_endpoint", "revocation_endpoint"):
            assert config[key].startswith(f"{BASE}/auth/")
        assert config["code_challenge_methods_supported"] == ["S256"]
        assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]
        for capability in (
            "launch-standalone",
            "launch-ehr",
            "client-public",
            "client-confidential-symmetric",
            "client-confidential-asymmetric",
            "sso-openid-connect",
            "context-standalone-patient",
            "context-ehr-patient",
            "context-ehr-encounter",
            "permission-offline",
            "permission-patient",
            "permission-user",
            "permission-v1",
            "permission-v2",
            "authorize-post",
        ):
            assert capability in config["capabilities"]

        oidc = (await http.get("/.well-known/openid-configuration")).json()
        assert oidc["issuer"] == FHIR_BASE and oidc["jwks_uri"] == f"{BASE}/auth/jwks"
        assert "RS256" in oidc["id_token_signing_alg_values_supported"]

        jwks = (await http.get("/auth/jwks")).json()
        kinds = {k["kty"] for k in jwks["keys"]}
        assert kinds == {"RSA", "EC"}
        assert all("d" not in k and k["kid"] for k in jwks["keys"])

        metadata = (await http.get("/fhir/metadata")).json()
        security = metadata["rest"][0]["security"]
        assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
        [extension] = [e for e in security["extension"] if e["url"] == OAUTH_URIS]
        uris = {e["url"]: e["valueUri"] for e in extension["extension"]}
        assert uris["authorize"] == f"{BASE}/auth/authorize"
        assert set(uris) == {"authorize", "token", "register", "introspect", "revoke"}


async def test_keys_survive_restart_and_rotate(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    async with running(settings) as (_, http):
        first = {k["kid"] for k in (await http.get("/auth/jwks")).json()["keys"]}
    async with running(settings) as (app, http):
        again = {k["kid"] for k in (await http.get("/auth/jwks")).json()["keys"]}
        assert again == first
        # rotation: pretend the keys are older than key_rotation_days
        import time

        ring = app.state.auth.keys
        await ring.load(now=int(time.time()) + 91 * 86_400)
        rotated = {k["kid"] for k in ring.jwks()["keys"]}
        assert first < rotated and len(rotated) == 4
        await ring.load(now=int(time.time()) + 200 * 86_400)
        assert not first & {k["kid"] for k in ring.jwks()["keys"]}
