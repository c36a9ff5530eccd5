"""Dynamic client registration (RFC 7591) with administrator approval."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.security.oauth_support import (
    REDIRECT,
    client_keys,
    code_flow,
    exchange,
    make_settings,
    running,
    server_of,
)


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running(make_settings(tmp_path)) as pair:
        yield pair


async def test_patient_app_is_enabled_at_once(env: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, http = env
    response = await http.post(
        "/auth/register",
        json={
            "client_name": "Patient app",
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "none",
            "scope": "openid fhirUser launch/patient patient/*.rs",
            "initiate_login_uri": "https://app.example/launch",
        },
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert "client_secret" not in body
    client = await server_of(app).store.get_client(body["client_id"])
    assert client is not None and client.enabled and client.kind == "public"
    assert client.launch_uri == "https://app.example/launch"
    code, verifier = await code_flow(http, client, "openid patient/*.rs")
    assert (await exchange(http, client, code, verifier)).status_code == 200


async def test_user_scopes_wait_for_approval(env: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, http = env
    response = await http.post(
        "/auth/register",
        json={
            "client_name": "Clinic app",
            "redirect_uris": [REDIRECT],
            "token_endpoint_auth_method": "client_secret_basic",
            "scope": "openid user/*.rs",
        },
    )
    assert response.status_code == 201
    body = response.json()
    assert body["client_secret"] and body["client_secret_expires_at"] == 0
    store = server_of(app).store
    client = await store.get_client(body["client_id"])
    assert client is not None and not client.enabled
    data = {"grant_type": "authorization_code", "code": "x", "redirect_uri": REDIRECT}
    auth = httpx.BasicAuth(client.client_id, body["client_secret"])
    refused = await http.post("/auth/token", data=data, auth=auth)
    assert refused.json()["error"] == "invalid_client"
    await store.put_client(replace(client, enabled=True))
    approved = await http.post("/auth/token", data=data, auth=auth)
    assert approved.json()["error"] == "invalid_grant"


async def test_asymmetric_registration(env: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, http = env
    _, jwks = client_keys()
    ok = await http.post(
        "/auth/register",
        json={
            "client_name": "Backend",
            "grant_types": ["client_credentials"],
            "token_endpoint_auth_method": "private_key_jwt",
            "jwks": jwks,
            "scope": "system/Claim.rs",
        },
    )
    assert ok.status_code == 201, ok.text


@pytest.mark.parametrize(
    ("metadata", "error"),
    [
        ({"redirect_uris": ["http://evil.example/cb"]}, "invalid_redirect_uri"),
        ({"redirect_uris": ["https://app.example/cb#frag"]}, "invalid_redirect_uri"),
        ({"redirect_uris": []}, "invalid_redirect_uri"),
        ({"scope": "patient/Claim.zz"}, "invalid_client_metadata"),
        ({"scope": "bogus"}, "invalid_client_metadata"),
        ({"scope": ""}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "tls_client_auth"}, "invalid_client_metadata"),
        ({"token_endpoint_auth_method": "private_key_jwt"}, "invalid_client_metadata"),
        (
            {"token_endpoint_auth_method": "private_key_jwt", "jwks": {"keys": [{"kty": "oct"}]}},
            "invalid_client_metadata",
        ),
        ({"grant_types": ["password"]}, "invalid_client_metadata"),
        (
            {"grant_types": ["client_credentials"], "token_endpoint_auth_method": "none"},
            "invalid_client_metadata",
        ),
    ],
)
async def test_bad_metadata(
    env: tuple[FastAPI, httpx.AsyncClient], metadata: dict[str, Any], error: str
) -> None:
    _, http = env
    body = {
        "client_name": "x",
        "redirect_uris": [REDIRECT],
        "token_endpoint_auth_method": "none",
        "scope": "patient/*.rs",
        **metadata,
    }
    response = await http.post("/auth/register", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["error"] == error


async def test_not_json(env: tuple[FastAPI, httpx.AsyncClient]) -> None:
    _, http = env
    response = await http.post("/auth/register", content=b"{nope")
    assert response.json()["error"] == "invalid_client_metadata"
    array = await http.post("/auth/register", json=[1])
    assert array.json()["error"] == "invalid_client_metadata"
