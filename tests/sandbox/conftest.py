"""The seeded OpenEMR stand-in and an HTTP client on it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from sandbox.openemr import DemoSeed, OpenEmrConfig, StandIn, create_openemr_app, seed_demo
from tests.sandbox.openemr_flow import OPENEMR

FACADE = "http://testserver"


@pytest.fixture
def standin() -> StandIn:
    stand = StandIn(OpenEmrConfig(base_url=OPENEMR))
    seed_demo(stand.state, DemoSeed(FACADE, "facade-sandbox", "dev-secret", "api:fhir"))
    return stand


@pytest.fixture
async def openemr(standin: StandIn) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_openemr_app(standin=standin))
    async with httpx.AsyncClient(transport=transport, base_url=OPENEMR) as http:
        yield http
