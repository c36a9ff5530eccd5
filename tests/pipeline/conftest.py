"""The facade wired to a running sandbox clearinghouse: SFTP as the claim connector, the
CHC-shaped REST API as the real-time one, and the worker running inside the app."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager
from fastapi import FastAPI

from sandbox.clearinghouse import ClearinghouseSandbox, running_clearinghouse
from server.app import create_app
from server.settings import (
    AuthSettings,
    ConnectorSettings,
    LimitsSettings,
    PipelineSettings,
    Settings,
)
from tests.conftest import BASE_URL


def connector_settings(ch: ClearinghouseSandbox) -> dict[str, ConnectorSettings]:
    """The sandbox's default account over SFTP (claims) and REST (eligibility, status)."""
    return {
        "sandbox": ConnectorSettings(kind="sftp", host="127.0.0.1", port=ch.sftp_port,
                                     username="facade", password="sandbox-only",
                                     timeout_seconds=10, breaker_reset_seconds=1),
        "realtime": ConnectorSettings(kind="chc", base_url=ch.rest_url,
                                      client_id="facade-sandbox", client_secret="sandbox-only",
                                      timeout_seconds=10, breaker_reset_seconds=1),
    }


def pipeline_settings(tmp_path: Path, ch: ClearinghouseSandbox, **changes: object) -> Settings:
    pipeline = {
        "default_connector": "sandbox", "realtime_connector": "realtime",
        "poll_seconds": 0.2, "idle_seconds": 0.05, "lease_seconds": 10,
        "ack_timeout_seconds": 3, "backoff_base_seconds": 0.2, "backoff_max_seconds": 2,
        "eligibility_timeout_seconds": 10, **changes,
    }
    return Settings(
        database_url=f"sqlite:///{tmp_path / 'facade.db'}",
        base_url=BASE_URL,
        limits=LimitsSettings(max_body_bytes=1024 * 1024),
        auth=AuthSettings(enabled=False),
        connectors=connector_settings(ch),
        pipeline=PipelineSettings.model_validate(pipeline),
    )


@pytest.fixture
async def clearinghouse(tmp_path: Path) -> AsyncIterator[ClearinghouseSandbox]:
    async with running_clearinghouse(tmp_path / "clearinghouse") as ch:
        yield ch


@pytest.fixture
def settings(tmp_path: Path, clearinghouse: ClearinghouseSandbox) -> Settings:
    return pipeline_settings(tmp_path, clearinghouse)


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with LifespanManager(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, timeout=30) as c:
        yield c
