"""Helpers of the OAuth tests: an app with auth on, clients, PKCE pairs, logins, assertions."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
from asgi_lifespan import LifespanManager
from fastapi import FastAPI
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from server.app import create_app
from server.security.auth_store import Client
from server.security.authorization import AuthServer
from server.security.registration import new_client
from server.settings import AuthSettings, Settings

BASE = "http://testserver"
FHIR_BASE = f"{BASE}/fhir"
TOKEN_URL = f"{BASE}/auth/token"
REDIRECT = "http://127.0.0.1:9999/callback"
FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def make_settings(tmp_path: Path, **auth: Any) -> Settings:
    fields: dict[str, Any] = {
        "demo_username": "alice",
        "demo_password": "wonderland",
        "demo_fhir_user": "Practitioner/p1",
        **auth,
    }
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'facade.db'}",
        base_url=BASE,
        auth=AuthSettings(**fields),
    )


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as http:
            yield app, http


def server_of(app: FastAPI) -> AuthServer:
    server = app.state.auth
    assert isinstance(server, AuthServer)
    return server


async def add_client(
    app: FastAPI,
    kind: str = "public",
    scope: str = "openid fhirUser launch launch/patient offline_access patient/*.rs user/*.rs",
    *,
    jwks: dict[str, Any] | None = None,
    jwks_uri: str | None = None,
    enabled: bool = True,
) -> tuple[Client, str | None]:
    client, secret = new_client(
        "Test app",
        kind,
        (REDIRECT,),
        scope,
        jwks=jwks,
        jwks_uri=jwks_uri,
        enabled=enabled,
        launch_uri="http://127.0.0.1:9999/launch",
    )
    await server_of(app).store.put_client(client)
    return client, secret


async def set_enabled(app: FastAPI, client: Client, enabled: bool) -> None:
    await server_of(app).store.put_client(replace(client, enabled=enabled))


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return verifier, challenge.decode().rstrip("=")


def query_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def form_token(html: str) -> str:
    m = re.search(r'name="form_token" value="([^"]+)"', html)
    assert m, html
    return m.group(1)


def authorize_params(
    client: Client, challenge: str | None, scope: str, **extra: str
) -> dict[str, str]:
    params = {
        "response_type": "code",
        "client_id": client.client_id,
        "redirect_uri": REDIRECT,
        "scope": scope,
        "state": "st-1",
        "aud": FHIR_BASE,
        **extra,
    }
    if challenge is not None:
        params |= {"code_challenge": challenge, "code_challenge_method": "S256"}
    return params


async def login_for_code(
    http: httpx.AsyncClient,
    params: dict[str, str],
    *,
    username: str = "alice",
    password: str = "wonderland",
    patient: str | None = None,
) -> httpx.Response:
    """GET authorize, post the login form (and the picker); the final response."""
    page = await http.get("/auth/authorize", params=params)
    assert page.status_code == 200, page.text
    data = {
        **params,
        "_action": "login",
        "form_token": form_token(page.text),
        "username": username,
        "password": password,
    }
    response = await http.post("/auth/authorize", data=data)
    if response.status_code == 200 and 'value="pick"' in response.text:
        data = {
            **params,
            "_action": "pick",
            "form_token": form_token(response.text),
            "patient": patient or "",
        }
        response = await http.post("/auth/authorize", data=data)
    return response


async def code_flow(
    http: httpx.AsyncClient, client: Client, scope: str, **login: Any
) -> tuple[str, str]:
    """A code and its verifier from a full login."""
    verifier, challenge = pkce()
    response = await login_for_code(http, authorize_params(client, challenge, scope), **login)
    assert response.status_code == 302, response.text
    query = query_of(response.headers["location"])
    assert query["state"] == "st-1", query
    return query["code"], verifier


async def exchange(
    http: httpx.AsyncClient, client: Client, code: str, verifier: str | None, **extra: str
) -> httpx.Response:
    data = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "client_id": client.client_id,
        **extra,
    }
    if verifier is not None:
        data["code_verifier"] = verifier
    return await http.post("/auth/token", data=data)


def client_keys(kind: str = "EC") -> tuple[RSAKey | ECKey, dict[str, Any]]:
    key: RSAKey | ECKey = (
        ECKey.generate_key("P-384", private=True)
        if kind == "EC"
        else RSAKey.generate_key(2048, private=True)
    )
    kid = key.thumbprint()
    public = {**key.as_dict(private=False), "kid": kid}
    return key, {"keys": [public]}


def assertion(key: RSAKey | ECKey, client_id: str, **claims: Any) -> str:
    alg = "ES384" if isinstance(key, ECKey) else "RS384"
    now = int(time.time())
    body = {
        "iss": client_id,
        "sub": client_id,
        "aud": TOKEN_URL,
        "exp": now + 240,
        "jti": uuid.uuid4().hex,
        **claims,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return jwt.encode({"alg": alg, "kid": key.thumbprint()}, body, key, algorithms=[alg])


async def bearer(app: FastAPI, scope: str = "system/*.cruds") -> dict[str, str]:
    """An Authorization header with a token minted for a fresh backend client."""
    client, _ = await add_client(app, "confidential-symmetric", scope)
    body = await server_of(app).mint_for_client(client, scope)
    return {"Authorization": f"Bearer {body['access_token']}"}
