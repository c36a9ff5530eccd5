"""SMART Backend Services: client_credentials with a signed client assertion (RFC 7523)."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.security.oauth_support import (
    TOKEN_URL,
    add_client,
    assertion,
    client_keys,
    make_settings,
    running,
    server_of,
    set_enabled,
)

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
SCOPE = "system/Claim.rs system/Coverage.rs"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running(make_settings(tmp_path)) as pair:
        yield pair


async def _token(http: httpx.AsyncClient, jwt_text: str, scope: str = SCOPE) -> httpx.Response:
    data = {
        "grant_type": "client_credentials",
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": jwt_text,
        "scope": scope,
    }
    return await http.post("/auth/token", data=data)


@pytest.mark.parametrize("family", ["EC", "RSA"])
async def test_backend_token(env: tuple[FastAPI, httpx.AsyncClient], family: str) -> None:
    app, http = env
    key, jwks = client_keys(family)
    client, _ = await add_client(app, "confidential-asymmetric", SCOPE, jwks=jwks)
    response = await _token(
        http, assertion(key, client.client_id), "system/Claim.read patient/*.rs"
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "system/Claim.read" and "refresh_token" not in body
    assert body["token_type"] == "Bearer" and body["expires_in"] > 0
    access = await server_of(app).authenticate(f"Bearer {body['access_token']}", None)
    assert access.subject == client.client_id and access.client_id == client.client_id
    claims = await http.get(
        "/fhir/Claim", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert claims.status_code == 200


async def test_bad_assertions(env: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, http = env
    key, jwks = client_keys()
    other_key, _ = client_keys()
    client, _ = await add_client(app, "confidential-asymmetric", SCOPE, jwks=jwks)
    cid = client.client_id
    now = int(time.time())
    used = assertion(key, cid)
    assert (await _token(http, used)).status_code == 200
    cases: dict[str, str] = {
        "replayed": used,
        "expired": assertion(key, cid, exp=now - 5),
        "too long": assertion(key, cid, exp=now + 3600),
        "no exp": assertion(key, cid, exp=None),
        "no jti": assertion(key, cid, jti=None),
        "wrong aud": assertion(key, cid, aud="http://testserver/fhir"),
        "wrong sub": assertion(key, cid, sub="someone"),
        "forged": assertion(other_key, cid),
        "unknown client": assertion(key, "nobody"),
        "garbage": "not.a.jwt",
    }
    for name, text in cases.items():
        response = await _token(http, text)
        assert response.status_code == 401, name
        assert response.json()["error"] == "invalid_client", name
    wrong_type = await http.post(
        "/auth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": "urn:other",
            "client_assertion": assertion(key, cid),
            "scope": SCOPE,
        },
    )
    assert wrong_type.json()["error"] == "invalid_client"
    not_registered = await _token(http, assertion(key, cid), "system/Patient.rs")
    assert not_registered.json()["error"] == "invalid_scope"
    await set_enabled(app, client, False)
    disabled = await _token(http, assertion(key, cid))
    assert disabled.json()["error"] == "invalid_client"


async def test_public_client_cannot_use_client_credentials(
    env: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, http = env
    client, _ = await add_client(app, "public", SCOPE)
    data = {"grant_type": "client_credentials", "client_id": client.client_id, "scope": SCOPE}
    response = await http.post("/auth/token", data=data)
    assert response.json()["error"] == "unauthorized_client"


async def test_symmetric_client_basic_and_post(env: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, http = env
    client, secret = await add_client(app, "confidential-symmetric", SCOPE)
    assert secret
    data = {"grant_type": "client_credentials", "scope": SCOPE}
    basic = await http.post(
        "/auth/token", data=data, auth=httpx.BasicAuth(client.client_id, secret)
    )
    assert basic.status_code == 200, basic.text
    post = await http.post(
        "/auth/token", data={**data, "client_id": client.client_id, "client_secret": secret}
    )
    assert post.status_code == 200
    bad = await http.post("/auth/token", data=data, auth=httpx.BasicAuth(client.client_id, "x"))
    assert bad.status_code == 401 and bad.json()["error"] == "invalid_client"


async def test_jwks_uri_is_fetched(tmp_path: Path) -> None:
    key, jwks = client_keys("RSA")
    calls: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(str(request.url))
        return httpx.Response(200, json=jwks)

    async with running(make_settings(tmp_path)) as (app, http):
        server = server_of(app)
        server.clients._http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        try:
            client, _ = await add_client(
                app, "confidential-asymmetric", SCOPE, jwks_uri="https://app.example/jwks"
            )
            for _ in range(2):
                claims: dict[str, Any] = {"jti": uuid.uuid4().hex}
                response = await _token(http, assertion(key, client.client_id, **claims))
                assert response.status_code == 200, response.text
        finally:
            await server.clients._http.aclose()
    assert calls == ["https://app.example/jwks"]
    assert TOKEN_URL.endswith("/auth/token")
