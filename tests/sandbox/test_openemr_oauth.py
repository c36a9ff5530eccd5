"""The OpenEMR stand-in's OAuth side, quirk by quirk (OPENEMR.md sections 6, 7, 12), over HTTP."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any
from urllib.parse import unquote

import httpx
import pytest
from joserfc import jwt
from joserfc.jwk import RSAKey

from sandbox.openemr import StandIn
from sandbox.openemr.seed import DEMO_ENCOUNTER, DEMO_PATIENTS, DEMO_USER
from tests.sandbox.conftest import FACADE
from tests.sandbox.openemr_flow import FHIR, OAUTH, login_and_consent, pkce, query_of

CALLBACK = f"{FACADE}/smart/callback"
CLIENT = "facade-sandbox"
SECRET = "dev-secret"
PATIENT = DEMO_PATIENTS[0][0]


def _segment(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    loaded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return loaded


def _auth_params(challenge: str, **extra: str) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": CLIENT,
        "redirect_uri": CALLBACK,
        "scope": "openid fhirUser launch offline_access api:fhir",
        "state": "st-1",
        "aud": FHIR,
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    params.update(extra)
    return params


async def _launch_value(openemr: httpx.AsyncClient, standin: StandIn) -> str:
    standin.state.clients[CLIENT].launch_uri = "https://app.example/launch?x=1"
    response = await openemr.get(
        "/interface/smart/ehr-launch-client.php",
        params={"client_id": CLIENT, "intent": "encounter.forms.dialog"},
    )
    assert response.status_code == 302
    return query_of(response.headers["location"])["launch"]


async def _code(openemr: httpx.AsyncClient, params: dict[str, str], **kw: Any) -> str:
    done = await login_and_consent(openemr, await openemr.get(f"{OAUTH}/authorize", params=params),
                                   **kw)
    query = query_of(done.headers["location"])
    assert query["state"] == params["state"]
    return query["code"]


async def _token(openemr: httpx.AsyncClient, code: str, verifier: str | None) -> httpx.Response:
    form = {"grant_type": "authorization_code", "code": code, "redirect_uri": CALLBACK,
            "client_id": CLIENT, "client_secret": SECRET}
    if verifier is not None:
        form["code_verifier"] = verifier
    return await openemr.post(f"{OAUTH}/token", data=form)


async def test_discovery_documents_keep_openemr_quirks(openemr: httpx.AsyncClient) -> None:
    smart = (await openemr.get(f"{FHIR}/.well-known/smart-configuration")).json()
    assert smart["issuer"] == FHIR
    assert smart["jwks_uri"] == f"{OAUTH}/jwk"
    assert "registration_endpoint" not in smart
    assert isinstance(smart["scopes_supported"][0], list)
    assert "refresh_token" not in smart["grant_types_supported"]
    assert smart["code_challenge_methods_supported"] == ["S256"]
    oidc = (await openemr.get(f"{OAUTH}/.well-known/openid-configuration")).json()
    assert oidc["registration_endpoint"] == f"{OAUTH}/registration"
    meta = (await openemr.get(f"{FHIR}/metadata")).json()
    security = meta["rest"][0]["security"]
    assert security["service"][0]["coding"][0]["code"] == "SMART-on-FHIR"
    urls = {e["url"] for e in security["extension"]}
    assert urls == {"http://fhir-registry.smarthealthit.org/StructureDefinition/capabilities"}
    jwks = (await openemr.get(f"{OAUTH}/jwk")).json()
    assert len(jwks["keys"]) == 1
    assert set(jwks["keys"][0]) == {"kty", "n", "e", "use"}
    missing = await openemr.get(f"{OAUTH}/jwks")
    assert missing.status_code == 404
    assert missing.json() == {"error": "An error occurred", "message": "Route not found", "code": 0}


async def test_ehr_launch_code_flow_token_shapes(
    openemr: httpx.AsyncClient, standin: StandIn
) -> None:
    launch = await _launch_value(openemr, standin)
    verifier, challenge = pkce()
    code = await _code(openemr, _auth_params(challenge, launch=launch, nonce="n-1"))
    response = await _token(openemr, code, verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["scope"] == "openid fhirUser launch offline_access"
    assert body["patient"] == PATIENT and body["encounter"] == DEMO_ENCOUNTER
    assert body["need_patient_banner"] is False
    assert body["intent"] == "encounter.forms.dialog"
    assert body["smart_style_url"] == f"{OAUTH}/smart/smart-style"
    assert body["refresh_token"]
    header, claims = _segment(body["access_token"], 0), _segment(body["access_token"], 1)
    assert header == {"typ": "JWT", "alg": "RS256"}
    assert claims["aud"] == CLIENT and "iss" not in claims
    assert claims["scopes"] == ["openid", "fhirUser", "launch", "offline_access", "api:fhir"]
    assert all(isinstance(claims[k], float) for k in ("iat", "nbf", "exp"))
    assert not {"patient", "encounter", "fhirUser"} & set(claims)
    id_claims = _segment(body["id_token"], 1)
    assert "kid" not in _segment(body["id_token"], 0)
    assert id_claims["iss"] == OAUTH and id_claims["aud"] == CLIENT
    assert id_claims["fhirUser"] == f"{FHIR}/Practitioner/{DEMO_USER[2]}"
    assert id_claims["nonce"] == "n-1" and id_claims["sub"] == DEMO_USER[2]
    again = await _token(openemr, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_request"


@pytest.mark.parametrize("verifier", [None, "", "x" * 50, "challenge"])
async def test_bad_pkce_verifier_gets_no_token(
    openemr: httpx.AsyncClient, verifier: str | None
) -> None:
    _, challenge = pkce()
    code = await _code(openemr, _auth_params(challenge))
    response = await _token(openemr, code, challenge if verifier == "challenge" else verifier)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] in ("invalid_request", "invalid_grant")
    assert set(body) >= {"error", "error_description", "message"}


async def test_authorize_errors(openemr: httpx.AsyncClient) -> None:
    _, challenge = pkce()
    url = f"{OAUTH}/authorize"
    wrong_uri = await openemr.get(url, params=_auth_params(challenge, redirect_uri="https://evil"))
    assert wrong_uri.status_code == 401 and wrong_uri.json()["error"] == "invalid_client"
    unknown = await openemr.get(url, params=_auth_params(challenge, client_id="nobody"))
    assert unknown.status_code == 401
    for extra, error in [
        ({"scope": "openid launch launch/encounter"}, "invalid_scope"),
        ({"aud": "https://elsewhere/fhir"}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"launch": "bm90LWEtbGF1bmNo"}, "invalid_request"),
    ]:
        response = await openemr.get(url, params=_auth_params(challenge, **extra))
        assert response.status_code == 302
        query = query_of(response.headers["location"])
        assert query["error"] == error and query["state"] == "st-1" and "code" not in query


async def test_scopes_are_capped_to_registration(openemr: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    params = _auth_params(challenge, scope="openid api:fhir user/Coverage.read")
    body = (await _token(openemr, await _code(openemr, params), verifier)).json()
    assert body["scope"] == "openid"
    assert _segment(body["access_token"], 1)["scopes"] == ["openid", "api:fhir"]


async def test_refresh_rotates_and_only_narrows(openemr: httpx.AsyncClient) -> None:
    verifier, challenge = pkce()
    first = (await _token(openemr, await _code(openemr, _auth_params(challenge)), verifier)).json()
    base = {"grant_type": "refresh_token", "client_id": CLIENT, "client_secret": SECRET}
    wider = await openemr.post(f"{OAUTH}/token", data={
        **base, "refresh_token": first["refresh_token"], "scope": "openid user/Patient.read"})
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    narrow = await openemr.post(f"{OAUTH}/token", data={
        **base, "refresh_token": first["refresh_token"], "scope": "openid offline_access"})
    assert narrow.status_code == 200, narrow.text
    assert narrow.json()["expires_in"] == 3600 and narrow.json()["scope"] == "openid offline_access"
    reused = await openemr.post(f"{OAUTH}/token", data={
        **base, "refresh_token": first["refresh_token"]})
    assert reused.status_code == 400


async def test_introspection_only_for_own_tokens(
    openemr: httpx.AsyncClient, standin: StandIn
) -> None:
    standin.state.add_client("Other", client_id="other", secret="other-secret",
                             redirect_uris=("https://o.example/cb",), scopes=("openid",),
                             enabled=True)
    launch = await _launch_value(openemr, standin)
    verifier, challenge = pkce()
    code = await _code(openemr, _auth_params(challenge, launch=launch))
    token = (await _token(openemr, code, verifier)).json()["access_token"]
    url = f"{OAUTH}/introspect"
    own = (await openemr.post(url, data={"token": token, "client_id": CLIENT,
                                         "client_secret": SECRET})).json()
    assert own["active"] is True and own["aud"] == CLIENT and own["iss"] is None
    assert own["patient"] == PATIENT and own["fhirUser"].endswith(DEMO_USER[2])
    for form, auth in [
        ({"token": token, "client_id": "other", "client_secret": "other-secret"}, None),
        ({"token": token, "client_id": CLIENT, "client_secret": "wrong"}, None),
        ({"token": token}, (CLIENT, SECRET)),
        ({"token": "garbage", "client_id": CLIENT, "client_secret": SECRET}, None),
    ]:
        answer = await openemr.post(url, data=form, auth=auth or httpx.USE_CLIENT_DEFAULT)
        assert answer.status_code == 200 and answer.json() == {"active": False}
    await openemr.get(f"{OAUTH}/logout")
    after = await openemr.post(url, data={"token": token, "client_id": CLIENT,
                                          "client_secret": SECRET})
    assert after.json() == {"active": False}


def _assertion(key: RSAKey, client_id: str, *, alg: str = "RS384", aud: str | None = None,
               jti: str | None = None, exp: float | None = None) -> str:
    claims = {"iss": client_id, "sub": client_id, "aud": aud or f"{OAUTH}/token",
              "jti": jti or str(uuid.uuid4()), "exp": exp or time.time() + 240}
    token: str = jwt.encode({"alg": alg, "typ": "JWT"}, claims, key, algorithms=[alg])
    return token


async def test_client_credentials_rs384_only(
    openemr: httpx.AsyncClient, standin: StandIn
) -> None:
    key = RSAKey.generate_key(2048)
    public = {"keys": [key.as_dict(private=False)]}
    standin.state.add_client("Bulk", client_id="bulk", redirect_uris=("https://b.example/cb",),
                             scopes=("system/Patient.read", "system/Coverage.read"),
                             jwks=public, enabled=True)
    url = f"{OAUTH}/token"
    form = {"grant_type": "client_credentials", "scope": "system/Patient.read",
            "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"}
    good = _assertion(key, "bulk", jti="once")
    ok = await openemr.post(url, data={**form, "client_assertion": good})
    assert ok.status_code == 200, ok.text
    body = ok.json()
    assert body["expires_in"] == 300 and "refresh_token" not in body
    assert _segment(body["access_token"], 1)["sub"] == standin.state.SYSTEM_USER
    for bad in [
        good,  # replayed jti
        _assertion(key, "bulk", alg="RS256"),
        _assertion(key, "bulk", aud=f"{FHIR}"),
        _assertion(key, "bulk", exp=time.time() - 10),
        _assertion(RSAKey.generate_key(2048), "bulk"),
    ]:
        refused = await openemr.post(url, data={**form, "client_assertion": bad})
        assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    secret = await openemr.post(url, data={"grant_type": "client_credentials",
                                           "client_id": CLIENT, "client_secret": SECRET})
    assert secret.status_code == 401
    password = await openemr.post(url, data={"grant_type": "password"})
    assert password.json()["error"] == "unsupported_grant_type"


async def test_registration_rules(openemr: httpx.AsyncClient, standin: StandIn) -> None:
    url = f"{OAUTH}/registration"
    base = {"client_name": "App", "redirect_uris": ["https://app.example/cb"]}
    patient_app = await openemr.post(url, json={**base, "scope": "openid launch/patient "
                                                "patient/Patient.read"})
    assert patient_app.status_code == 200
    created = patient_app.json()
    assert "client_secret" not in created and created["client_secret_expires_at"] == 0
    assert standin.state.clients[created["client_id"]].enabled
    user_app = (await openemr.post(url, json={
        **base, "application_type": "private", "scope": "openid launch user/Patient.read",
        "initiate_login_uri": "https://app.example/launch"})).json()
    assert user_app["client_secret"] and user_app["registration_access_token"]
    assert not standin.state.clients[user_app["client_id"]].enabled
    for body, error in [
        ({**base, "scope": "user/Patient.read"}, "invalid_client_metadata"),
        ({**base, "application_type": "private", "scope": "system/Patient.read"},
         "invalid_client_metadata"),
        ({**base, "scope": "launch/encounter"}, "invalid_client_metadata"),
        ({"client_name": "x", "scope": "openid"}, "invalid_redirect_uri"),
    ]:
        refused = await openemr.post(url, json=body)
        assert refused.status_code == 400 and refused.json()["error"] == error
    enabled = await openemr.post(f"/sandbox/admin/clients/{user_app['client_id']}/enable")
    assert enabled.json()["enabled"] is True


async def test_ehr_launch_action(openemr: httpx.AsyncClient, standin: StandIn) -> None:
    action = "/interface/smart/ehr-launch-client.php"
    refused = await openemr.get(action, params={"client_id": CLIENT})
    assert refused.status_code == 400  # no initiate_login_uri registered
    standin.state.clients[CLIENT].launch_uri = "https://app.example/launch"
    response = await openemr.get(action, params={"client_id": CLIENT,
                                                 "patient": DEMO_PATIENTS[1][0]})
    assert response.status_code == 302
    location = response.headers["location"]
    assert location.startswith("https://app.example/launch?launch=")
    query = query_of(location)
    assert query["iss"] == FHIR and query["aud"] == FHIR
    raw = location.split("launch=")[1].split("&")[0]
    assert "%" in raw and base64.b64decode(unquote(raw))  # URL-encoded standard base64
    context = standin.open_launch(query["launch"])
    assert context == {"p": DEMO_PATIENTS[1][0], "i": "patient.demographics.dialog"}
    dashboard = await openemr.get("/interface/patient_file/summary/demographics.php")
    assert "SMART Enabled Apps" in dashboard.text and "iframe" in dashboard.text
