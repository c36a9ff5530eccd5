"""A small, hand-written corpus of all 18 served types with known search answers.

Every resource has a fixed id (written with PUT), so the expected result of a query is a literal
set of ids. Values vary between the resources of a type so that every registered search
parameter has at least one hit and one miss. The first resource of every type carries a
``meta`` with a profile, a security label, a tag and a source; the others carry none.

References to types the server does not serve (Device, Endpoint, Account, ...) are stored as
written: the server does not check referential integrity, and their index entries are still
searchable. ``claim-3`` points to its patient with an absolute URL under the test server's base
(a local reference however written); ``enc-2`` points to another server's
``Organization/org-prov``, ``Practitioner/prac-1`` and ``Account/acct-1`` (never local).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
from asgi_lifespan import LifespanManager

from server.app import create_app
from server.settings import AuthSettings, LimitsSettings, Settings
from tests.api.corpus_audit import AUDIT_EVENTS
from tests.api.corpus_clinical import (
    CONDITIONS,
    ENCOUNTERS,
    GROUPS,
    LOCATIONS,
    ORGANIZATIONS,
    PATIENTS,
    PRACTITIONER_ROLES,
    PRACTITIONERS,
    PROCEDURES,
    RELATED_PERSONS,
)
from tests.api.corpus_financial import (
    CLAIM_RESPONSES,
    CLAIMS,
    COVERAGES,
    ELIGIBILITY_REQUESTS,
    ELIGIBILITY_RESPONSES,
    EOBS,
    PAYMENT_NOTICES,
    PAYMENT_RECONCILIATIONS,
)
from tests.api.corpus_terms import BASE_URL, PROFILE, SECURITY, SOURCE, TAG, cc, ref, usd
from tests.api.fhir_client import strict_model

__all__ = [
    "BASE_URL",
    "BY_TYPE",
    "PROFILE",
    "RESOURCES",
    "STRICT",
    "SECURITY",
    "SOURCE",
    "TAG",
    "cc",
    "corpus_server",
    "ids_of",
    "links_of",
    "ref",
    "relative",
    "search_bundle",
    "search_ids",
    "usd",
]


RESOURCES: list[dict[str, Any]] = [
    *PATIENTS,
    *PRACTITIONERS,
    *PRACTITIONER_ROLES,
    *ORGANIZATIONS,
    *LOCATIONS,
    *RELATED_PERSONS,
    *ENCOUNTERS,
    *CONDITIONS,
    *PROCEDURES,
    *GROUPS,
    *COVERAGES,
    *CLAIMS,
    *CLAIM_RESPONSES,
    *EOBS,
    *ELIGIBILITY_REQUESTS,
    *ELIGIBILITY_RESPONSES,
    *PAYMENT_NOTICES,
    *PAYMENT_RECONCILIATIONS,
    *AUDIT_EVENTS,
]

BY_TYPE: dict[str, list[str]] = {}
for _resource in RESOURCES:
    BY_TYPE.setdefault(_resource["resourceType"], []).append(_resource["id"])


def ids_of(resource_type: str) -> set[str]:
    """Every corpus id of one type."""
    return set(BY_TYPE[resource_type])


@asynccontextmanager
async def corpus_server(
    folder: Path, resources: list[dict[str, Any]] | None = None
) -> AsyncIterator[httpx.AsyncClient]:
    """A client on a fresh server (store in ``folder``) holding ``resources`` (default: the
    whole corpus), each written with PUT."""
    settings = Settings(
        database_url=f"sqlite:///{folder / 'facade.db'}",
        base_url=BASE_URL,
        limits=LimitsSettings(max_body_bytes=256 * 1024, default_count=50, max_count=100),
        auth=AuthSettings(enabled=False),
    )
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            for resource in RESOURCES if resources is None else resources:
                url = f"/fhir/{resource['resourceType']}/{resource['id']}"
                response = await client.put(url, json=resource)
                assert response.status_code == 201, response.text
            yield client


def search_ids(body: dict[str, Any], mode: str = "match") -> list[str]:
    """``Type/id`` of the entries of a searchset with ``search.mode`` ``mode``, in order."""
    return [
        f"{e['resource']['resourceType']}/{e['resource']['id']}"
        for e in body.get("entry", [])
        if e["search"]["mode"] == mode
    ]


def links_of(body: dict[str, Any]) -> dict[str, str]:
    """A Bundle's links by relation."""
    return {link["relation"]: link["url"] for link in body["link"]}


def relative(url: str) -> str:
    """An absolute link as a path for the test client."""
    parts = urlsplit(url)
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


#: Searches in tests refuse anything unsupported rather than ignore it.
STRICT = {"Prefer": "handling=strict"}


async def search_bundle(
    client: httpx.AsyncClient, query: str, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """GET ``/fhir/<query>``; the Bundle, checked against the strict R4 models."""
    path, _, text = query.partition("?")
    response = await client.get(
        f"/fhir/{path}",
        params=tuple(parse_qsl(text, keep_blank_values=True)),
        headers=headers,
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    assert body["resourceType"] == "Bundle" and body["type"] == "searchset"
    strict_model(body)
    return body
