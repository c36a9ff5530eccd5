"""Real server processes on loopback sharing one SQLite file: conditional creates and If-Match
updates racing across processes still yield exactly one resource / one winner."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.api.fhir_client import claim, patient

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _start(db: Path, port: int, *, auth: bool = False) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "FACADE_DATABASE_URL": f"sqlite:///{db}",
        "FACADE_BASE_URL": f"http://127.0.0.1:{port}",
        "FACADE_LOG_LEVEL": "WARNING",
        "FACADE_AUTH__ENABLED": "true" if auth else "false",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "server.cli", "serve", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def _wait_ready(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(proc.stderr.read().decode() if proc.stderr else "server exited")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    raise TimeoutError(f"server on {port} did not become ready")


@pytest.fixture
def servers(tmp_path: Path) -> Iterator[list[str]]:
    db = tmp_path / "shared.db"
    ports = [_free_port(), _free_port()]
    procs = [_start(db, port) for port in ports]
    try:
        for port, proc in zip(ports, procs, strict=True):
            _wait_ready(port, proc)
        yield [f"http://127.0.0.1:{port}/fhir" for port in ports]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(timeout=10)
            if proc.stderr is not None:
                proc.stderr.close()


async def test_conditional_create_race_across_processes(servers: list[str]) -> None:
    header = {"If-None-Exist": "identifier=urn:example:pcn|XPROC"}
    async with httpx.AsyncClient(timeout=30) as client:
        responses = await asyncio.gather(
            *(
                client.post(f"{servers[i % 2]}/Claim", json=claim("XPROC"), headers=header)
                for i in range(40)
            )
        )
        statuses = sorted(r.status_code for r in responses)
        assert statuses == [200] * 39 + [201], statuses
        assert len({r.json()["id"] for r in responses}) == 1
        found = (await client.get(f"{servers[0]}/Claim", params={"identifier": "XPROC"})).json()
        assert len(found["entry"]) == 1


async def test_if_match_race_across_processes(servers: list[str]) -> None:
    async with httpx.AsyncClient(timeout=30) as client:
        body = (await client.put(f"{servers[0]}/Patient/race", json=patient(id="race"))).json()
        responses = await asyncio.gather(
            *(
                client.put(
                    f"{servers[i % 2]}/Patient/race",
                    json={**body, "birthDate": f"1970-01-{i + 1:02d}"},
                    headers={"If-Match": 'W/"1"'},
                )
                for i in range(20)
            )
        )
        assert sorted(r.status_code for r in responses) == [200] + [412] * 19
        final = (await client.get(f"{servers[1]}/Patient/race")).json()
        assert final["meta"]["versionId"] == "2"
