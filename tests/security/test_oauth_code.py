"""Authorization code + PKCE through the ASGI app (RFC 6749 4.1, RFC 7636, SMART app-launch)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import KeySet

from server.errors import AuthenticationError
from server.security.auth_store import LaunchContext
from tests.security.oauth_support import (
    FHIR_BASE,
    REDIRECT,
    add_client,
    authorize_params,
    bearer,
    code_flow,
    exchange,
    login_for_code,
    make_settings,
    pkce,
    query_of,
    running,
    server_of,
    set_enabled,
)

SCOPE = "openid fhirUser launch/patient offline_access patient/*.rs"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running(make_settings(tmp_path)) as pair:
        yield pair


async def test_standalone_launch_with_login_and_picker(
    env: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, http = env
    patient = {"resourceType": "Patient", "id": "pat1", "name": [{"family": "Doe"}]}
    created = await http.put("/fhir/Patient/pat1", json=patient, headers=await bearer(app))
    assert created.status_code == 201, created.text
    client, _ = await add_client(app)
    code, verifier = await code_flow(http, client, SCOPE, patient="pat1")
    response = await exchange(http, client, code, verifier)
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert body["token_type"] == "Bearer"
    assert body["patient"] == "pat1" and body["need_patient_banner"] is True
    assert set(body["scope"].split()) == set(SCOPE.split())
    assert body["refresh_token"] and body["expires_in"] > 0
    jwks = KeySet.import_key_set((await http.get("/auth/jwks")).json())
    id_token = jwt.decode(body["id_token"], jwks, algorithms=["RS256"])
    assert id_token.header["kid"]
    assert id_token.claims["iss"] == FHIR_BASE and id_token.claims["aud"] == client.client_id
    assert id_token.claims["fhirUser"] == f"{FHIR_BASE}/Practitioner/p1"
    access_token = jwt.decode(body["access_token"], jwks, algorithms=["RS384"])
    assert access_token.claims["aud"] == FHIR_BASE and access_token.claims["patient"] == "pat1"
    access = await server_of(app).authenticate(f"Bearer {body['access_token']}", "127.0.0.1")
    assert access.patient == "pat1" and access.fhir_user == "Practitioner/p1"
    assert access.subject == "alice" and access.client_id == client.client_id
    assert access.scopes.grants("Claim", "r") and access.source_ip == "127.0.0.1"
    # the code is single use
    again = await exchange(http, client, code, verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


async def test_session_cookie_skips_the_second_login(
    env: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, http = env
    client, _ = await add_client(app)
    await code_flow(http, client, "openid fhirUser patient/*.rs")
    _, challenge = pkce()
    second = await http.get(
        "/auth/authorize", params=authorize_params(client, challenge, "patient/*.rs")
    )
    assert second.status_code == 302 and "code" in query_of(second.headers["location"])


@pytest.mark.parametrize("verifier", [None, "", "random", "challenge"])
async def test_bad_code_verifier_fails(
    env: tuple[FastAPI, httpx.AsyncClient], verifier: str | None
) -> None:
    app, http = env
    client, _ = await add_client(app)
    verifier_ok, challenge = pkce()
    response = await login_for_code(http, authorize_params(client, challenge, "patient/*.rs"))
    code = query_of(response.headers["location"])["code"]
    sent = {"random": pkce()[0], "challenge": challenge}.get(verifier or "", verifier)
    result = await exchange(http, client, code, sent)
    assert result.status_code in (400, 401)
    assert result.json()["error"] == "invalid_grant"
    assert verifier_ok  # the right one is never sent


async def test_plain_pkce_and_missing_pkce_are_refused(
    env: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, http = env
    client, _ = await add_client(app)
    params = authorize_params(client, None, "patient/*.rs")
    for extra in ({"code_challenge": "x" * 43, "code_challenge_method": "plain"}, {}):
        response = await http.get("/auth/authorize", params={**params, **extra})
        assert response.status_code == 302
        query = query_of(response.headers["location"])
        assert query["error"] == "invalid_request" and "code" not in query
        assert query["state"] == "st-1"


async def test_wrong_aud_yields_no_code(env: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, http = env
    client, _ = await add_client(app)
    _, challenge = pkce()
    params = authorize_params(client, challenge, "patient/*.rs", aud="https://evil.example/fhir")
    response = await http.get("/auth/authorize", params=params)
    assert response.status_code == 302
    query = query_of(response.headers["location"])
    assert query["error"] == "invalid_request" and "code" not in query


async def test_unregistered_redirect_uri_is_never_followed(
    env: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, http = env
    client, _ = await add_client(app)
    _, challenge = pkce()
    params = authorize_params(client, challenge, "patient/*.rs")
    for uri in ("https://evil.example/cb", REDIRECT + "/x", REDIRECT + "?a=1"):
        response = await http.get("/auth/authorize", params={**params, "redirect_uri": uri})
        assert response.status_code == 400 and "location" not in response.headers


async def test_unknown_and_disabled_clients(env: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, http = env
    client, _ = await add_client(app)
    _, challenge = pkce()
    params = authorize_params(client, challenge, "patient/*.rs")
    unknown = await http.get("/auth/authorize", params={**params, "client_id": "nope"})
    assert unknown.status_code == 400
    code, verifier = await code_flow(http, client, "patient/*.rs")
    await set_enabled(app, client, False)
    disabled = await http.get("/auth/authorize", params=params)
    assert disabled.status_code == 400
    token = await exchange(http, client, code, verifier)
    assert token.status_code == 401 and token.json()["error"] == "invalid_client"


async def test_wrong_password_and_wrong_redirect_at_token(
    env: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, http = env
    client, _ = await add_client(app)
    _, challenge = pkce()
    params = authorize_params(client, challenge, "patient/*.rs")
    response = await login_for_code(http, params, password="wrong")
    assert response.status_code == 403 and "Wrong username or password" in response.text
    code, verifier = await code_flow(http, client, "patient/*.rs")
    bad = await exchange(http, client, code, verifier, redirect_uri="http://127.0.0.1:9999/x")
    assert bad.json()["error"] == "invalid_grant"


async def test_scope_capped_by_registration(env: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, http = env
    client, _ = await add_client(app, scope="openid patient/Claim.rs")
    code, verifier = await code_flow(http, client, "openid patient/*.rs patient/Claim.r")
    body = (await exchange(http, client, code, verifier)).json()
    assert body["scope"] == "openid patient/Claim.r"
    assert "refresh_token" not in body


async def test_ehr_launch_binds_context(env: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, http = env
    client, _ = await add_client(app)
    store = server_of(app).store
    launch = await store.create_launch(
        LaunchContext(
            client_id=client.client_id,
            subject="openemr-user-1",
            fhir_user="Practitioner/dr1",
            patient="p9",
            encounter="e3",
            source="http://127.0.0.1:8081/apis/default/fhir",
            need_patient_banner=False,
            intent="reconcile",
        )
    )
    verifier, challenge = pkce()
    params = authorize_params(client, challenge, "launch openid fhirUser user/*.rs", launch=launch)
    response = await http.get("/auth/authorize", params=params)
    assert response.status_code == 302, response.text
    code = query_of(response.headers["location"])["code"]
    body = (await exchange(http, client, code, verifier)).json()
    assert body["patient"] == "p9" and body["encounter"] == "e3"
    assert body["need_patient_banner"] is False and body["intent"] == "reconcile"
    claims = jwt.decode(
        body["id_token"], KeySet.import_key_set((await http.get("/auth/jwks")).json())
    )
    assert claims.claims["fhirUser"] == f"{FHIR_BASE}/Practitioner/dr1"
    # the launch id is single use
    replay = await http.get("/auth/authorize", params=params)
    assert query_of(replay.headers["location"])["error"] == "invalid_request"


async def test_bearer_checks_and_cache(env: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, http = env
    server = server_of(app)
    client, _ = await add_client(app)
    token = (await server.mint_for_client(client, "patient/*.rs", patient="p1"))["access_token"]
    first = await server.authenticate(f"Bearer {token}", None)
    second = await server.authenticate(f"Bearer {token}", "10.0.0.1")
    assert first.token_id == second.token_id and second.source_ip == "10.0.0.1"
    for header in (None, "Basic abc", "Bearer ", "Bearer not.a.jwt", f"Bearer {token[:-4]}AAAA"):
        with pytest.raises(AuthenticationError):
            await server.authenticate(header, None)
    await server.revoke(token, None)
    with pytest.raises(AuthenticationError):
        await server.authenticate(f"Bearer {token}", None)


async def test_form_errors_are_oauth_json(env: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, http = env
    cases = [
        ({}, "invalid_request"),
        ({"grant_type": "password"}, "unsupported_grant_type"),
        ({"grant_type": "authorization_code", "client_id": "nope"}, "invalid_client"),
    ]
    for data, error in cases:
        response = await http.post("/auth/token", data=data)
        assert response.json()["error"] == error
        assert response.headers["cache-control"] == "no-store"
    twice = await http.post(
        "/auth/token",
        content="grant_type=a&grant_type=b",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert twice.status_code == 400 and twice.json()["error"] == "invalid_request"
    json_body = await http.post("/auth/token", json={"grant_type": "client_credentials"})
    assert json_body.json()["error"] == "invalid_request"
    assert REDIRECT
