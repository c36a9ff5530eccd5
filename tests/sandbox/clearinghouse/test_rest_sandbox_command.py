"""``facade sandbox`` runs the OpenEMR stand-in and the clearinghouse (REST and SFTP) in one
process and one event loop, and stops them together."""

from __future__ import annotations

import asyncio
from pathlib import Path

import asyncssh
import httpx
import pytest

from sandbox.clearinghouse.__main__ import clearinghouse_in
from sandbox.clearinghouse.__main__ import main as clearinghouse_main
from sandbox.openemr import DemoSeed
from sandbox.openemr.__main__ import openemr_listener
from sandbox.standins import serve_all
from tests.sandbox.clearinghouse.clients import sftp_session


async def test_both_stand_ins_in_one_loop(tmp_path: Path) -> None:
    openemr = openemr_listener("127.0.0.1", 0, DemoSeed("http://127.0.0.1:8080", "facade",
                                                        "secret", "api:fhir"))
    clearinghouse = clearinghouse_in(tmp_path / "state", rest_port=0, sftp_port=0)
    stop, started = asyncio.Event(), asyncio.Event()
    task = asyncio.create_task(serve_all([openemr, clearinghouse], stop, started.set))
    await asyncio.wait_for(started.wait(), 10)
    async with httpx.AsyncClient(timeout=5) as http:
        r = await http.get(f"{openemr.url}/apis/default/fhir/metadata")
        assert r.status_code == 200 and r.json()["resourceType"] == "CapabilityStatement"
        r = await http.get(f"{clearinghouse.rest_url}/sandbox/admin/ledger")
        assert r.status_code == 200 and r.json()["claims"] == {}
    async with sftp_session(clearinghouse) as sftp:
        assert "inbound" in await sftp.listdir(".")
    assert (tmp_path / "state" / "ledger.sqlite3").exists()
    assert (tmp_path / "state" / "sftp" / "facade" / "outbound").is_dir()
    stop.set()
    await asyncio.wait_for(task, 10)
    with pytest.raises(httpx.ConnectError):
        async with httpx.AsyncClient() as http:
            await http.get(f"{clearinghouse.rest_url}/sandbox/admin/ledger")
    with pytest.raises(OSError):
        await asyncssh.connect("127.0.0.1", clearinghouse.sftp_port, known_hosts=None)


@pytest.mark.parametrize("host", ["0.0.0.0", "10.1.2.3", "example.org"])
def test_clearinghouse_alone_refuses_non_loopback_hosts(host: str) -> None:
    assert clearinghouse_main(["--host", host]) == 2
