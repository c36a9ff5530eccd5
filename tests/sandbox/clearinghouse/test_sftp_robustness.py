"""The SFTP side under stress: many concurrent sessions and uploads, clients killed in the
middle of an upload, uploads the engine cannot digest. The server keeps serving throughout."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable

import asyncssh
import pytest

from sandbox.clearinghouse import ClearinghouseSandbox
from sandbox.clearinghouse.model import ResponseFile, Submitter
from tests.sandbox.clearinghouse.clients import (
    kinds,
    make_837,
    outbound_files,
    sftp_session,
    upload,
)


async def _until(predicate: Callable[[], bool], timeout: float = 5.0) -> None:
    async def wait() -> None:
        while not predicate():
            await asyncio.sleep(0.01)
    await asyncio.wait_for(wait(), timeout)


async def test_many_concurrent_sessions_and_uploads(clearinghouse: ClearinghouseSandbox) -> None:
    async def one_session(n: int) -> None:
        async with sftp_session(clearinghouse) as sftp:
            # Several uploads at once in the same session too.
            await asyncio.gather(*(
                upload(sftp, f"s{n}-{k}.x12", make_837(1000 + n * 10 + k, [f"P{n}-{k}"]))
                for k in range(3)))

    await asyncio.gather(*(one_session(n) for n in range(12)))
    await clearinghouse.drain()
    counts = clearinghouse.ledger.claim_counts()
    assert counts == {f"FACADE|P{n}-{k}": 1 for n in range(12) for k in range(3)}
    async with sftp_session(clearinghouse) as sftp:
        names = list(await outbound_files(sftp))
        assert sorted(kinds(names)) == sorted(["TA1", "999", "277CA", "835"] * 36)
        assert len(await sftp.listdir("archive")) == 36 + 2


@pytest.mark.parametrize("name", ["killed.x12.part", "killed.x12"])
async def test_client_killed_mid_upload_leaves_an_unprocessed_file(
    clearinghouse: ClearinghouseSandbox, name: str,
) -> None:
    content = make_837(2001, ["PCN-K"]).encode()
    conn = await asyncssh.connect(clearinghouse.host, clearinghouse.sftp_port, username="facade",
                                  password="sandbox-only", known_hosts=None, client_keys=None,
                                  agent_path=None)
    sftp = await conn.start_sftp_client()
    f = await sftp.open(f"inbound/{name}", "wb")
    await f.write(content[: len(content) // 2])
    conn.abort()  # the client dies: no close, no rename
    await _until(lambda: clearinghouse.stats()["sftp"]["sessions"] == 0)
    await clearinghouse.drain()
    inbound = clearinghouse.folders().inbound
    assert [p.name for p in inbound.iterdir()] == [name]
    assert clearinghouse.ledger.claim_counts() == {}
    # The server carries on; a fresh upload of the same batch goes through.
    async with sftp_session(clearinghouse) as sftp:
        await upload(sftp, "retry.x12", content)
        await clearinghouse.drain()
        assert "835" in kinds(list(await outbound_files(sftp)))
    assert clearinghouse.ledger.claim_counts() == {"FACADE|PCN-K": 1}


async def test_engine_failure_is_logged_and_the_upload_archived(
    clearinghouse: ClearinghouseSandbox, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def broken(content: bytes, submitter: Submitter, filename: str) -> list[ResponseFile]:
        raise RuntimeError("engine bug")

    monkeypatch.setattr(clearinghouse.engine, "receive_x12", broken)
    with caplog.at_level(logging.ERROR, logger="sandbox.clearinghouse.sftp"):
        async with sftp_session(clearinghouse) as sftp:
            await upload(sftp, "boom.x12", make_837(3001))
            await clearinghouse.drain()
            assert "boom.x12.failed" in await sftp.listdir("archive")
            assert await outbound_files(sftp) == {}
    assert any("boom.x12" in r.getMessage() for r in caplog.records)
    monkeypatch.undo()
    async with sftp_session(clearinghouse) as sftp:
        await upload(sftp, "fine.x12", make_837(3002, ["PCN-F"]))
        await clearinghouse.drain()
        assert "835" in kinds(list(await outbound_files(sftp)))


@pytest.mark.parametrize("content", [b"", b"not x12 at all", b"\xff\xfe\x00garbage",
                                     b"ISA*00*truncated"])
async def test_unreadable_uploads_never_stop_the_server(
    clearinghouse: ClearinghouseSandbox, content: bytes,
) -> None:
    async with sftp_session(clearinghouse) as sftp:
        await upload(sftp, "junk.x12", content)
        await clearinghouse.drain()
        archived = await sftp.listdir("archive")
        assert "junk.x12" in archived or "junk.x12.failed" in archived
        await upload(sftp, "good.x12", make_837(4001, ["PCN-G"]))
        await clearinghouse.drain()
        assert "835" in kinds(list(await outbound_files(sftp)))
    assert clearinghouse.ledger.claim_counts() == {"FACADE|PCN-G": 1}


async def test_answers_are_never_seen_half_written(clearinghouse: ClearinghouseSandbox) -> None:
    """Everything that appears in outbound/ is a complete interchange (written elsewhere, then
    renamed in)."""
    seen: dict[str, str] = {}

    async def watch(stop: asyncio.Event) -> None:
        async with sftp_session(clearinghouse) as sftp:
            while not stop.is_set():
                for name, text in (await outbound_files(sftp)).items():
                    seen.setdefault(name, text)
                await asyncio.sleep(0)

    stop = asyncio.Event()
    watcher = asyncio.create_task(watch(stop))
    async with sftp_session(clearinghouse) as sftp:
        for n in range(5):
            await upload(sftp, f"w{n}.x12", make_837(5000 + n, [f"W{n}-{k}" for k in range(40)]))
        await clearinghouse.drain()
    stop.set()
    await watcher
    assert seen
    assert all(text.rstrip().endswith("~") and "IEA*" in text for text in seen.values())
