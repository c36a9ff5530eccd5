"""Shared fixtures: a test Settings, the app with its lifespan, and an HTTP client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from server.app import create_app
from server.settings import AuthSettings, LimitsSettings, Settings

BASE_URL = "http://testserver"

#: The sibling conformance folder; tests that read it skip when it is absent.
CONFORMANCE = Path(__file__).resolve().parents[1].parent / "shared" / "conformance"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'facade.db'}",
        base_url=BASE_URL,
        limits=LimitsSettings(max_body_bytes=256 * 1024, default_count=10, max_count=50),
        # The REST suites test FHIR semantics; tests/security drives authorization itself.
        auth=AuthSettings(enabled=False),
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as c:
        yield c
