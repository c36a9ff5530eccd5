"""The outbox on the storage port: jobs commit with their unit of work, leases are exclusive
across processes (two repositories on one file stand for two processes), expired leases come
back, failures back off and bury, records and counters are durable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from server.storage.sqlite import SqliteRepository
from server.storage.sqlite_outbox import backoff_seconds


@pytest.fixture
async def repo(tmp_path: Path) -> AsyncIterator[SqliteRepository]:
    store = SqliteRepository(tmp_path / "facade.db")
    await store.open()
    yield store
    await store.close()


async def test_a_job_commits_with_its_unit_of_work_or_not_at_all(repo: SqliteRepository) -> None:
    async with repo.unit_of_work() as uow:
        assert await uow.enqueue("claim.send", "Claim/1")
    with pytest.raises(RuntimeError):
        async with repo.unit_of_work() as uow:
            await uow.enqueue("claim.send", "Claim/2")
            await uow.put_record("claim", "2", {"state": "queued"})
            raise RuntimeError("the state change failed")
    jobs = await repo.list_jobs()
    assert [j.subject for j in jobs] == ["Claim/1"]
    assert await repo.get_record("claim", "2") is None


async def test_dedupe_keeps_one_live_job(repo: SqliteRepository) -> None:
    async with repo.unit_of_work() as uow:
        assert await uow.enqueue("connector.poll", "sandbox", dedupe="poll:sandbox")
        assert not await uow.enqueue("connector.poll", "sandbox", dedupe="poll:sandbox")
    assert (await repo.job_counts()) == {"connector.poll:ready": 1}


async def test_two_processes_never_lease_the_same_job(tmp_path: Path) -> None:
    a, b = SqliteRepository(tmp_path / "f.db"), SqliteRepository(tmp_path / "f.db")
    await a.open()
    await b.open()
    try:
        async with a.unit_of_work() as uow:
            for n in range(200):
                await uow.enqueue("claim.send", f"Claim/{n}")

        async def drain(store: SqliteRepository, owner: str) -> list[str]:
            taken: list[str] = []
            while True:
                async with store.unit_of_work() as uow:
                    jobs = await uow.lease_jobs(owner, ["claim.send"], 7, 60)
                if not jobs:
                    return taken
                taken += [j.subject for j in jobs]
                async with store.unit_of_work() as uow:
                    for j in jobs:
                        assert await uow.finish_job(j.id, owner)

        got_a, got_b = await asyncio.gather(drain(a, "a"), drain(b, "b"))
        assert sorted(got_a + got_b) == sorted(f"Claim/{n}" for n in range(200))
        assert not set(got_a) & set(got_b)
    finally:
        await a.close()
        await b.close()


async def test_an_expired_lease_makes_the_job_due_again(repo: SqliteRepository) -> None:
    async with repo.unit_of_work() as uow:
        await uow.enqueue("claim.send", "Claim/1")
    async with repo.unit_of_work() as uow:
        (job,) = await uow.lease_jobs("dead-worker", ["claim.send"], 10, 0.05)
    async with repo.unit_of_work() as uow:
        assert await uow.lease_jobs("other", ["claim.send"], 10, 60) == []
    await asyncio.sleep(0.1)
    async with repo.unit_of_work() as uow:
        (again,) = await uow.lease_jobs("other", ["claim.send"], 10, 60)
    assert again.id == job.id and again.attempts == 2
    async with repo.unit_of_work() as uow:
        assert not await uow.finish_job(job.id, "dead-worker")  # its lease is gone
        assert await uow.finish_job(job.id, "other")


async def test_failures_back_off_then_bury_and_replay_revives(repo: SqliteRepository) -> None:
    async with repo.unit_of_work() as uow:
        await uow.enqueue("claim.send", "Claim/1")
    for attempt in (1, 2, 3):
        async with repo.unit_of_work() as uow:
            (job,) = await uow.lease_jobs("w", ["claim.send"], 1, 60)
            assert job.attempts == attempt
            state = await uow.retry_job(job.id, "w", f"boom {attempt}", 0, max_attempts=3)
        assert state == ("dead" if attempt == 3 else "ready")
    (dead,) = await repo.list_jobs(state="dead")
    assert dead.last_error == "boom 3"
    async with repo.unit_of_work() as uow:
        assert await uow.lease_jobs("w", ["claim.send"], 1, 60) == []
        assert await uow.replay_job(dead.id)
    async with repo.unit_of_work() as uow:
        (job,) = await uow.lease_jobs("w", ["claim.send"], 1, 60)
    assert job.attempts == 1


async def test_a_delayed_job_waits(repo: SqliteRepository) -> None:
    async with repo.unit_of_work() as uow:
        await uow.enqueue("claim.status", "Claim/1", delay_seconds=0.2)
    async with repo.unit_of_work() as uow:
        assert await uow.lease_jobs("w", ["claim.status"], 1, 60) == []
    await asyncio.sleep(0.25)
    async with repo.unit_of_work() as uow:
        assert len(await uow.lease_jobs("w", ["claim.status"], 1, 60)) == 1


def test_backoff_grows_with_jitter_and_a_ceiling() -> None:
    assert all(0.5 <= backoff_seconds(1, 1.0, 60) <= 1.0 for _ in range(50))
    assert all(0.5 <= backoff_seconds(4, 1.0, 60) <= 8.0 for _ in range(50))
    assert all(backoff_seconds(30, 1.0, 60) <= 60 for _ in range(50))
    assert len({backoff_seconds(5, 1.0, 60) for _ in range(20)}) > 1


async def test_records_and_counters_survive_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "f.db"
    store = SqliteRepository(path)
    await store.open()
    async with store.unit_of_work() as uow:
        await uow.put_record("claim", "c1", {"pcn": "P1", "state": "sent"}, ref="P1",
                             state="sent")
        assert await uow.take_numbers("isa:FACADE", 3) == 1
        assert await uow.take_numbers("isa:FACADE", 2) == 4
    await store.close()
    store = SqliteRepository(path)
    await store.open()
    try:
        (rec,) = await store.find_records("claim", ref="P1")
        assert rec.data == {"pcn": "P1", "state": "sent"} and rec.state == "sent"
        assert await store.find_records("claim", state="queued") == []
        async with store.unit_of_work() as uow:
            assert await uow.take_numbers("isa:FACADE", 1) == 6
            await uow.delete_record("claim", "c1")
        assert await store.get_record("claim", "c1") is None
    finally:
        await store.close()


