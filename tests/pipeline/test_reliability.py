"""The pipeline survives what production throws at it, counted by the sandbox's own ledger:
the clearinghouse going down for a minute in the middle of a batch, and the worker being killed
with SIGKILL in the middle of 1,000 submissions. Every claim arrives exactly once."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from asgi_lifespan import LifespanManager

from sandbox.clearinghouse import ClearinghouseSandbox
from server.app import create_app
from server.settings import Settings
from tests.conftest import BASE_URL
from tests.pipeline.claims import claim_bundle
from tests.pipeline.conftest import pipeline_settings
from tests.pipeline.waiting import eventually

FHIR = {"Content-Type": "application/fhir+json"}


def _exactly_once(clearinghouse: ClearinghouseSandbox, pcns: list[str]) -> None:
    counts = clearinghouse.ledger.claim_counts()
    mine = {k.split("|", 1)[1]: v for k, v in counts.items() if k.startswith("FACADE|")}
    assert sorted(mine) == sorted(pcns), "claims missing or unexpected"
    assert {pcn: n for pcn, n in mine.items() if n != 1} == {}, "claims received twice"


async def _paid(client: httpx.AsyncClient, expected: int) -> bool:
    state = (await client.get("/admin/pipeline")).json()
    return bool(state["claims"]["paid"] == expected)


@pytest.mark.slow
async def test_a_minute_long_outage_mid_batch_loses_and_doubles_nothing(
    tmp_path: Path, clearinghouse: ClearinghouseSandbox
) -> None:
    settings = pipeline_settings(tmp_path, clearinghouse, batch_size=20)
    app = create_app(settings)
    pcns = [f"OUT-{n:04d}" for n in range(200)]
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL,
                                     timeout=30) as client:
            for pcn in pcns[:100]:
                r = await client.post("/fhir/Claim/$submit", json=claim_bundle(pcn),
                                      headers=FHIR)
                assert r.status_code == 200
            await eventually(lambda: _received(clearinghouse, 1), what="the first batch")
            outage = asyncio.create_task(clearinghouse.outage(60))
            for pcn in pcns[100:]:  # submissions keep being taken while it is down
                r = await client.post("/fhir/Claim/$submit", json=claim_bundle(pcn),
                                      headers=FHIR)
                assert r.status_code == 200
            await outage
            assert clearinghouse.is_down
            await clearinghouse.wait_up()
            await eventually(lambda: _paid(client, len(pcns)), timeout=90,
                             what="every claim paid after the outage")
    _exactly_once(clearinghouse, pcns)


async def _received(clearinghouse: ClearinghouseSandbox, at_least: int) -> bool:
    return clearinghouse.ledger.claims_received() >= at_least


def _worker_env(settings: Settings) -> dict[str, str]:
    sandbox, realtime = settings.connectors["sandbox"], settings.connectors["realtime"]
    p = settings.pipeline
    return {
        **os.environ,
        "FACADE_DATABASE_URL": settings.database_url,
        "FACADE_BASE_URL": settings.base_url,
        "FACADE_AUTH__ENABLED": "false",
        "FACADE_LOG_LEVEL": "WARNING",
        "FACADE_CONNECTORS__SANDBOX__KIND": "sftp",
        "FACADE_CONNECTORS__SANDBOX__PORT": str(sandbox.port),
        "FACADE_CONNECTORS__SANDBOX__USERNAME": sandbox.username,
        "FACADE_CONNECTORS__SANDBOX__PASSWORD": sandbox.password.get_secret_value(),
        "FACADE_CONNECTORS__REALTIME__KIND": "chc",
        "FACADE_CONNECTORS__REALTIME__BASE_URL": realtime.base_url,
        "FACADE_CONNECTORS__REALTIME__CLIENT_ID": realtime.client_id,
        "FACADE_CONNECTORS__REALTIME__CLIENT_SECRET": realtime.client_secret.get_secret_value(),
        "FACADE_PIPELINE__DEFAULT_CONNECTOR": "sandbox",
        "FACADE_PIPELINE__REALTIME_CONNECTOR": "realtime",
        "FACADE_PIPELINE__BATCH_SIZE": str(p.batch_size),
        "FACADE_PIPELINE__POLL_SECONDS": "0.2",
        "FACADE_PIPELINE__IDLE_SECONDS": "0.05",
        "FACADE_PIPELINE__LEASE_SECONDS": "3",
        "FACADE_PIPELINE__ACK_TIMEOUT_SECONDS": "3",
        "FACADE_PIPELINE__BACKOFF_BASE_SECONDS": "0.2",
        "FACADE_PIPELINE__BACKOFF_MAX_SECONDS": "2",
    }


def _start_worker(settings: Settings, log: Path) -> subprocess.Popen[bytes]:
    with log.open("ab") as out:
        return subprocess.Popen([sys.executable, "-m", "server.cli", "worker"],
                                env=_worker_env(settings), stdout=out, stderr=out)


@pytest.mark.slow
async def test_a_worker_killed_mid_run_resumes_and_sends_each_claim_once(
    tmp_path: Path, clearinghouse: ClearinghouseSandbox
) -> None:
    settings = pipeline_settings(tmp_path, clearinghouse, batch_size=25,
                                 worker_in_serve=False)
    pcns = [f"KILL-{n:04d}" for n in range(1000)]
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL,
                                     timeout=30) as client:
            for pcn in pcns:
                r = await client.post("/fhir/Claim/$submit", json=claim_bundle(pcn),
                                      headers=FHIR)
                assert r.status_code == 200
            worker = _start_worker(settings, tmp_path / "worker.log")
            try:
                await eventually(lambda: _received(clearinghouse, 200), timeout=60,
                                 interval=0.01, what="the first claims at the clearinghouse")
                worker.send_signal(signal.SIGKILL)
                worker.wait(10)
                killed_at = clearinghouse.ledger.claims_received()
                assert killed_at < len(pcns), "the worker finished before it was killed"
                worker = _start_worker(settings, tmp_path / "worker.log")
                await eventually(lambda: _paid(client, len(pcns)), timeout=120,
                                 what="every claim paid after the restart")
            finally:
                worker.send_signal(signal.SIGTERM)
                try:
                    worker.wait(10)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait(10)
    _exactly_once(clearinghouse, pcns)
