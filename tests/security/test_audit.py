"""Every access and every refusal leaves an AuditEvent, readable only with an AuditEvent scope."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from server.app import create_app
from server.errors import AuthenticationError
from server.fhir import json_codec
from server.security.access import Access
from server.security.scopes import parse_scopes
from server.settings import Settings
from tests.security.compartment_corpus import RESOURCES, key

BASE = "http://testserver"


class TokenTable:
    """Bearer tokens of this test, each standing for a verified Access (``fhirUser`` and the
    client vary here; real token checks are in the OAuth and compartment tests)."""

    def __init__(self, tokens: dict[str, Access]) -> None:
        self.tokens = tokens

    async def authenticate(self, authorization: str | None, source_ip: str | None) -> Access:
        if not authorization or not authorization.startswith("Bearer "):
            raise AuthenticationError("No bearer token", error="")
        access = self.tokens.get(authorization.removeprefix("Bearer "))
        if access is None:
            raise AuthenticationError("The access token is not valid")
        return access


TOKENS = {
    "admin": Access(parse_scopes("system/*.cruds"), client_id="admin", subject="admin"),
    "alpha": Access(
        parse_scopes("patient/*.rs patient/AuditEvent.rs"),
        client_id="portal",
        subject="u-alpha",
        fhir_user="Patient/pa",
        patient="pa",
    ),
    "auditor": Access(parse_scopes("user/AuditEvent.rs"), client_id="siem", subject="u-auditor"),
    "wildcard": Access(parse_scopes("user/*.rs"), client_id="billing", subject="u-billing"),
}


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[FastAPI]:
    application = create_app(
        Settings(database_url=f"sqlite:///{tmp_path / 'facade.db'}", base_url=BASE)
    )
    async with LifespanManager(application):
        application.state.auth = TokenTable(TOKENS)
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app, client=("203.0.113.9", 5555))
    async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
        for resource in RESOURCES:
            r = await c.put(
                f"/fhir/{key(resource)}",
                content=json_codec.dumps(resource),
                headers={"Content-Type": "application/fhir+json", "Authorization": "Bearer admin"},
            )
            assert r.status_code == 201
        yield c


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def _events(client: httpx.AsyncClient, app: FastAPI, query: str) -> list[dict[str, Any]]:
    await app.state.audit.flush()
    r = await client.get(f"/fhir/AuditEvent?{query}&_count=100", headers=_as("auditor"))
    assert r.status_code == 200, r.text
    return [e["resource"] for e in r.json().get("entry", [])]


async def test_reads_searches_and_refusals_are_recorded(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    assert (await client.get("/fhir/Claim/claim-pa", headers=_as("alpha"))).status_code == 200
    assert (await client.get("/fhir/Claim/claim-pb", headers=_as("alpha"))).status_code == 404
    assert (await client.get("/fhir/Claim?status=active", headers=_as("alpha"))).status_code == 200
    assert (await client.get("/fhir/Claim", headers=_as("forged"))).status_code == 401

    reads = await _events(client, app, "entity=Claim/claim-pa&subtype=read")
    assert len(reads) == 1
    (read,) = reads
    assert read["action"] == "R" and read["outcome"] == "0"
    assert read["subtype"][0]["code"] == "read"
    user = read["agent"][0]
    assert user["who"] == {"reference": "Patient/pa"}
    assert user["altId"] == "portal"
    assert user["network"]["address"] == "203.0.113.9"
    assert {"what": {"reference": "Patient/pa"}}.items() <= read["entity"][1].items()

    (refused,) = await _events(client, app, "entity=Claim/claim-pb&subtype=read")
    assert refused["outcome"] == "4" and refused["outcomeDesc"] == "HTTP 404"

    searches = await _events(client, app, "subtype=search-type&entity=Patient/pa")
    assert any(base64.b64decode(e["entity"][0]["query"]) == b"status=active" for e in searches)
    failures = await _events(client, app, "outcome=4&altid:missing=true")
    assert any(e["outcomeDesc"] == "HTTP 401" for e in failures)


async def test_only_an_auditevent_scope_reads_the_trail(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await client.get("/fhir/Claim/claim-pb", headers=_as("admin"))
    await app.state.audit.flush()
    r = await client.get("/fhir/AuditEvent", headers=_as("wildcard"))
    assert r.status_code == 403
    r = await client.get("/fhir?_type=AuditEvent", headers=_as("wildcard"))
    assert r.status_code == 403
    # A patient's AuditEvent scope shows the events about that patient only.
    r = await client.get("/fhir/AuditEvent?_count=100", headers=_as("alpha"))
    assert r.status_code == 200
    for entry in r.json().get("entry", []):
        refs = [e.get("what", {}).get("reference") for e in entry["resource"].get("entity", [])]
        refs += [a["who"].get("reference") for a in entry["resource"]["agent"]]
        assert "Patient/pa" in refs
    # Nobody writes the trail.
    event = (await _events(client, app, "entity=Claim/claim-pb"))[0]
    for token in ("admin", "auditor"):
        r = await client.put(
            f"/fhir/AuditEvent/{event['id']}",
            content=json_codec.dumps(event),
            headers={"Content-Type": "application/fhir+json", **_as(token)},
        )
        assert r.status_code == 403
        r = await client.delete(f"/fhir/AuditEvent/{event['id']}", headers=_as(token))
        assert r.status_code == 403


async def test_token_errors_are_recorded(tmp_path: Path) -> None:
    """A refused token request leaves an authentication event naming the client and the IP."""
    from server.security.auth_store import Client

    application = create_app(
        Settings(database_url=f"sqlite:///{tmp_path / 'facade.db'}", base_url=BASE)
    )
    async with LifespanManager(application):
        auth = application.state.auth
        auditor = Client(client_id="siem", name="siem", kind="public", scope="user/AuditEvent.rs")
        await auth.store.put_client(auditor)
        token = (await auth.mint_for_client(auditor, "user/AuditEvent.rs"))["access_token"]
        transport = httpx.ASGITransport(app=application, client=("198.51.100.4", 4444))
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
            r = await c.post(
                "/auth/token",
                content=b"grant_type=client_credentials&client_id=intruder&client_secret=x",
                headers={"Content-Type": "application/x-www-form-urlencoded"},
            )
            assert r.status_code in (400, 401) and r.json()["error"]
            await application.state.audit.flush()
            r = await c.get(
                "/fhir/AuditEvent?type=110114&altid=intruder",
                headers={"Authorization": f"Bearer {token}"},
            )
            assert r.status_code == 200, r.text
            (entry,) = r.json()["entry"]
            event = entry["resource"]
            assert event["outcome"] == "4"
            assert event["agent"][0]["network"]["address"] == "198.51.100.4"
            assert event["entity"][0]["name"] == "/auth/token"
