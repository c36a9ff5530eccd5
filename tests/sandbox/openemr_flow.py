"""Driving the OpenEMR stand-in's browser flow from tests: PKCE pairs, the login form, the
scope confirmation, the code in the redirect."""

from __future__ import annotations

import base64
import hashlib
import secrets
from urllib.parse import parse_qs, urlsplit

import httpx

OPENEMR = "http://127.0.0.1:8081"
OAUTH = f"{OPENEMR}/oauth2/default"
FHIR = f"{OPENEMR}/apis/default/fhir"


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def query_of(url: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}


async def login_and_consent(
    http: httpx.AsyncClient, first: httpx.Response, *, username: str = "admin",
    password: str = "pass", patient: str | None = None,
) -> httpx.Response:
    """From the 302 of ``/authorize`` to the redirect carrying the code (or an error)."""
    assert first.status_code == 302, first.text
    login = first.headers["location"]
    assert (await http.get(login)).status_code == 200
    after = await http.post(login, data={"username": username, "password": password})
    assert after.status_code == 302, after.text
    if after.headers["location"].endswith("/smart/patient-select"):
        picker = after.headers["location"]
        assert (await http.get(picker)).status_code == 200
        after = await http.post(picker, data={"patient_id": patient or ""})
        assert after.status_code == 302, after.text
    confirm = after.headers["location"]
    assert (await http.get(confirm)).status_code == 200
    done = await http.post(f"{OAUTH}/device/code", data={"proceed": "1"})
    assert done.status_code == 302, done.text
    return done
