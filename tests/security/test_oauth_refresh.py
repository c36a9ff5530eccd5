"""Refresh rotation and narrowing (RFC 6749 s6), revocation (RFC 7009), introspection (7662)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from server.errors import AuthenticationError
from tests.security.oauth_support import (
    add_client,
    code_flow,
    exchange,
    make_settings,
    running,
    server_of,
)

SCOPE = "openid fhirUser offline_access patient/*.rs user/Claim.rs"


@pytest.fixture
async def env(tmp_path: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async with running(make_settings(tmp_path)) as pair:
        yield pair


async def _tokens(
    app: FastAPI, http: httpx.AsyncClient, kind: str = "public"
) -> tuple[dict[str, str], str, str | None]:
    client, secret = await add_client(app, kind, SCOPE)
    code, verifier = await code_flow(http, client, SCOPE)
    extra = {"client_secret": secret} if secret else {}
    response = await exchange(http, client, code, verifier, **extra)
    assert response.status_code == 200, response.text
    return response.json(), client.client_id, secret


async def _refresh(
    http: httpx.AsyncClient, client_id: str, token: str, **extra: str
) -> httpx.Response:
    data = {"grant_type": "refresh_token", "refresh_token": token, "client_id": client_id, **extra}
    return await http.post("/auth/token", data=data)


async def test_rotation_and_reuse_revokes_the_family(
    env: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, http = env
    first, client_id, _ = await _tokens(app, http)
    second = await _refresh(http, client_id, first["refresh_token"])
    assert second.status_code == 200, second.text
    body = second.json()
    assert body["refresh_token"] != first["refresh_token"]
    assert body["scope"] == first["scope"]
    # reusing the rotated token fails and kills the newer one and its access tokens
    reuse = await _refresh(http, client_id, first["refresh_token"])
    assert reuse.status_code == 400 and reuse.json()["error"] == "invalid_grant"
    newer = await _refresh(http, client_id, body["refresh_token"])
    assert newer.json()["error"] == "invalid_grant"
    with pytest.raises(AuthenticationError):
        await server_of(app).authenticate(f"Bearer {body['access_token']}", None)


async def test_narrowing_allowed_widening_refused(env: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, http = env
    first, client_id, _ = await _tokens(app, http)
    wider = await _refresh(http, client_id, first["refresh_token"], scope="user/*.cruds")
    assert wider.status_code == 400 and wider.json()["error"] == "invalid_scope"
    narrow = await _refresh(
        http, client_id, first["refresh_token"], scope="offline_access patient/Claim.r"
    )
    assert narrow.status_code == 200, narrow.text
    assert narrow.json()["scope"] == "offline_access patient/Claim.r"
    other = await _refresh(http, "someone-else", narrow.json()["refresh_token"])
    assert other.json()["error"] == "invalid_client"
    bogus = await _refresh(http, client_id, "not-a-token")
    assert bogus.json()["error"] == "invalid_grant"


async def test_revocation_endpoint(env: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, http = env
    tokens, client_id, _ = await _tokens(app, http)
    revoked = await http.post(
        "/auth/revoke", data={"token": tokens["refresh_token"], "client_id": client_id}
    )
    assert revoked.status_code == 200
    refresh = await _refresh(http, client_id, tokens["refresh_token"])
    assert refresh.json()["error"] == "invalid_grant"
    # the access token of the same grant is revoked too
    with pytest.raises(AuthenticationError):
        await server_of(app).authenticate(f"Bearer {tokens['access_token']}", None)
    unknown = await http.post("/auth/revoke", data={"token": "whatever", "client_id": client_id})
    assert unknown.status_code == 200
    no_client = await http.post("/auth/revoke", data={"token": "whatever"})
    assert no_client.status_code == 401


async def test_revoke_access_token_by_jti(env: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, http = env
    tokens, client_id, _ = await _tokens(app, http)
    access = tokens["access_token"]
    headers = {"Authorization": f"Bearer {access}"}
    assert (await http.get("/fhir/Claim", headers=headers)).status_code == 200
    await http.post("/auth/revoke", data={"token": access, "client_id": client_id})
    assert (await http.get("/fhir/Claim", headers=headers)).status_code == 401


async def test_introspection(env: tuple[FastAPI, httpx.AsyncClient]) -> None:
    app, http = env
    tokens, client_id, secret = await _tokens(app, http, "confidential-symmetric")
    assert secret
    auth = httpx.BasicAuth(client_id, secret)
    active = await http.post("/auth/introspect", data={"token": tokens["access_token"]}, auth=auth)
    body = active.json()
    assert body["active"] is True and body["client_id"] == client_id
    assert body["scope"] == tokens["scope"] and body["sub"] == "alice"
    refresh = await http.post(
        "/auth/introspect", data={"token": tokens["refresh_token"]}, auth=auth
    )
    assert refresh.json()["active"] is True
    inactive = await http.post("/auth/introspect", data={"token": "junk"}, auth=auth)
    assert inactive.json() == {"active": False}
    # the caller authenticates (client credentials or a bearer token)
    anonymous = await http.post("/auth/introspect", data={"token": tokens["access_token"]})
    assert anonymous.status_code == 401
    bearer = await http.post(
        "/auth/introspect",
        data={"token": tokens["access_token"]},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert bearer.json()["active"] is True
    wrong = await http.post(
        "/auth/introspect", data={"token": "x"}, auth=httpx.BasicAuth(client_id, "bad")
    )
    assert wrong.status_code == 401 and "Basic" in wrong.headers["www-authenticate"]
