"""The storage port's contract: every adapter must pass this suite unchanged.

Adapters are listed in ``ADAPTERS``; a new adapter (MongoDB) adds one factory and passes.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from server.errors import InvalidRequestError, VersionConflictError
from server.storage.index_entries import TokenEntry
from server.storage.port import Repository, ResourceVersion
from server.storage.query import (
    Clause,
    HistoryQuery,
    IdCondition,
    LastUpdatedCondition,
    Prefix,
    SearchQuery,
    TokenCondition,
    TotalMode,
)
from server.storage.sqlite import SqliteRepository

ADAPTERS: dict[str, Callable[[Path], Repository]] = {
    "sqlite-file": lambda tmp: SqliteRepository(tmp / "store.db"),
    "sqlite-temporary": lambda tmp: SqliteRepository(None),
}


@pytest.fixture(params=sorted(ADAPTERS))
async def repo(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Repository]:
    repository = ADAPTERS[request.param](tmp_path)
    await repository.open()
    try:
        yield repository
    finally:
        await repository.close()


def _content(rtype: str, id: str, version: int, extra: str = "") -> bytes:
    return (
        f'{{"resourceType":"{rtype}","id":"{id}","meta":{{"versionId":"{version}"}}{extra}}}'
    ).encode()


async def _put(
    repo: Repository,
    rtype: str,
    id: str,
    *,
    deleted: bool = False,
    index: tuple[TokenEntry, ...] = (),
    extra: str = "",
) -> ResourceVersion:
    async with repo.unit_of_work() as uow:
        current = await uow.read(rtype, id)
        version = 1 if current is None else current.version + 1
        written = ResourceVersion(
            rtype,
            id,
            version,
            uow.now_us(),
            deleted,
            "DELETE" if deleted else ("POST" if version == 1 else "PUT"),
            None if deleted else _content(rtype, id, version, extra),
        )
        await uow.write(written, index)
    return written


class TestReadWrite:
    async def test_bytes_come_back_untouched(self, repo: Repository) -> None:
        odd = ',"valueDecimal":1.50,"text":"caf\u00e9 \\u00e9"'
        written = await _put(repo, "Claim", "a", extra=odd)
        read = await repo.read("Claim", "a")
        assert read is not None
        assert read.content == written.content
        assert read.version == 1 and not read.deleted and read.method == "POST"

    async def test_unknown_is_none(self, repo: Repository) -> None:
        assert await repo.read("Claim", "nope") is None
        assert await repo.vread("Claim", "nope", 1) is None

    async def test_versions_and_vread(self, repo: Repository) -> None:
        for _ in range(3):
            await _put(repo, "Claim", "a")
        current = await repo.read("Claim", "a")
        assert current is not None and current.version == 3
        first = await repo.vread("Claim", "a", 1)
        assert first is not None and first.content == _content("Claim", "a", 1)
        assert await repo.vread("Claim", "a", 4) is None

    async def test_delete_is_a_version(self, repo: Repository) -> None:
        await _put(repo, "Claim", "a")
        await _put(repo, "Claim", "a", deleted=True)
        current = await repo.read("Claim", "a")
        assert current is not None and current.deleted and current.content is None
        assert current.version == 2
        again = await _put(repo, "Claim", "a")
        assert again.version == 3

    async def test_same_id_in_two_types(self, repo: Repository) -> None:
        await _put(repo, "Claim", "x")
        await _put(repo, "Patient", "x")
        claim, patient = await repo.read("Claim", "x"), await repo.read("Patient", "x")
        assert claim is not None and patient is not None
        assert claim.content != patient.content

    async def test_wrong_version_number_is_refused(self, repo: Repository) -> None:
        await _put(repo, "Claim", "a")
        with pytest.raises(VersionConflictError):
            async with repo.unit_of_work() as uow:
                await uow.write(
                    ResourceVersion("Claim", "a", 5, uow.now_us(), False, "PUT", b"{}"), ()
                )
        with pytest.raises(VersionConflictError):
            async with repo.unit_of_work() as uow:
                await uow.write(
                    ResourceVersion("Claim", "new", 2, uow.now_us(), False, "PUT", b"{}"), ()
                )

    async def test_timestamps_strictly_increase(self, repo: Repository) -> None:
        stamps = [(await _put(repo, "Claim", f"c{i}")).updated_us for i in range(20)]
        assert stamps == sorted(stamps) and len(set(stamps)) == len(stamps)


class TestUnitOfWork:
    async def test_rollback_leaves_nothing(self, repo: Repository) -> None:
        with pytest.raises(RuntimeError):
            async with repo.unit_of_work() as uow:
                await uow.write(
                    ResourceVersion("Claim", "a", 1, uow.now_us(), False, "POST", b"{}"), ()
                )
                await uow.write(
                    ResourceVersion("Claim", "b", 1, uow.now_us(), False, "POST", b"{}"), ()
                )
                raise RuntimeError("fail in the middle")
        assert await repo.read("Claim", "a") is None
        assert await repo.read("Claim", "b") is None
        page = await repo.history(HistoryQuery(count=10))
        assert list(page.versions) == []

    async def test_reads_see_own_writes_only_inside(self, repo: Repository) -> None:
        async with repo.unit_of_work() as uow:
            await uow.write(
                ResourceVersion("Claim", "a", 1, uow.now_us(), False, "POST", b"{}"), ()
            )
            assert await uow.read("Claim", "a") is not None
            assert await repo.read("Claim", "a") is None  # not committed yet
        assert await repo.read("Claim", "a") is not None

    async def test_units_are_serialised(self, repo: Repository) -> None:
        """Read-then-write in concurrent units never loses an increment."""
        await _put(repo, "Claim", "counter")

        async def bump() -> None:
            async with repo.unit_of_work() as uow:
                current = await uow.read("Claim", "counter")
                assert current is not None
                await asyncio.sleep(0)  # let the others try to interleave
                await uow.write(
                    ResourceVersion(
                        "Claim", "counter", current.version + 1, uow.now_us(), False, "PUT", b"{}"
                    ),
                    (),
                )

        await asyncio.gather(*(bump() for _ in range(25)))
        final = await repo.read("Claim", "counter")
        assert final is not None and final.version == 26

    async def test_a_failing_unit_spares_concurrent_ones(self, repo: Repository) -> None:
        """Units that run concurrently are isolated: one failure rolls back only itself, and
        every unit that returns normally is durable when it returns."""

        async def unit(i: int) -> str:
            async with repo.unit_of_work() as uow:
                await uow.write(
                    ResourceVersion("Claim", f"g{i}", 1, uow.now_us(), False, "POST", b"{}"), ()
                )
                if i == 5:
                    raise RuntimeError("unit 5 fails after writing")
            assert await repo.read("Claim", f"g{i}") is not None  # committed on return
            return f"g{i}"

        results = await asyncio.gather(*(unit(i) for i in range(12)), return_exceptions=True)
        assert isinstance(results[5], RuntimeError)
        assert await repo.read("Claim", "g5") is None
        for i in (*range(5), *range(6, 12)):
            assert await repo.read("Claim", f"g{i}") is not None

    async def test_cancelled_waiter_does_not_strand_a_batch(self, repo: Repository) -> None:
        async def slow_unit() -> None:
            async with repo.unit_of_work() as uow:
                await uow.write(
                    ResourceVersion("Claim", "first", 1, uow.now_us(), False, "POST", b"{}"), ()
                )

        async def waiter() -> None:
            async with repo.unit_of_work():
                pass

        first = asyncio.create_task(slow_unit())
        second = asyncio.create_task(waiter())
        await asyncio.sleep(0)
        second.cancel()
        await asyncio.wait_for(first, timeout=5)
        assert await repo.read("Claim", "first") is not None

    async def test_find_sees_uncommitted_index(self, repo: Repository) -> None:
        query = SearchQuery(("Claim",), (Clause((TokenCondition("identifier", "s", "1"),)),))
        async with repo.unit_of_work() as uow:
            await uow.write(
                ResourceVersion("Claim", "a", 1, uow.now_us(), False, "POST", b"{}"),
                [TokenEntry("identifier", "s", "1")],
            )
            found = await uow.find(query, limit=2)
            assert [k.id for k in found] == ["a"]


class TestSearch:
    async def test_token_forms(self, repo: Repository) -> None:
        await _put(repo, "Claim", "a", index=(TokenEntry("identifier", "sys", "1"),))
        await _put(repo, "Claim", "b", index=(TokenEntry("identifier", None, "1"),))
        await _put(repo, "Claim", "c", index=(TokenEntry("identifier", "other", "2"),))

        async def ids(*conds: TokenCondition) -> list[str]:
            page = await repo.search(SearchQuery(("Claim",), (Clause(conds),)))
            return sorted(v.id for v in page.matches)

        assert await ids(TokenCondition("identifier", None, "1")) == ["a", "b"]
        assert await ids(TokenCondition("identifier", "sys", "1")) == ["a"]
        assert await ids(TokenCondition("identifier", "", "1")) == ["b"]
        assert await ids(TokenCondition("identifier", "other", None)) == ["c"]
        assert await ids(
            TokenCondition("identifier", "sys", "1"), TokenCondition("identifier", None, "2")
        ) == ["a", "c"]
        assert await ids(TokenCondition("identifier", None, "1", negate=True)) == ["c"]

    async def test_reindex_on_update_and_delete(self, repo: Repository) -> None:
        await _put(repo, "Claim", "a", index=(TokenEntry("identifier", None, "old"),))
        await _put(repo, "Claim", "a", index=(TokenEntry("identifier", None, "new"),))
        old = SearchQuery(("Claim",), (Clause((TokenCondition("identifier", None, "old"),)),))
        new = SearchQuery(("Claim",), (Clause((TokenCondition("identifier", None, "new"),)),))
        assert [v.id for v in (await repo.search(old)).matches] == []
        assert [v.id for v in (await repo.search(new)).matches] == ["a"]
        await _put(repo, "Claim", "a", deleted=True)
        assert [v.id for v in (await repo.search(new)).matches] == []
        assert list((await repo.search(SearchQuery(("Claim",)))).matches) == []

    async def test_id_and_last_updated(self, repo: Repository) -> None:
        a = await _put(repo, "Claim", "a")
        b = await _put(repo, "Claim", "b")
        page = await repo.search(SearchQuery(("Claim",), (Clause((IdCondition(("b", "z")),)),)))
        assert [v.id for v in page.matches] == ["b"]
        after_a = LastUpdatedCondition(Prefix.GT, a.updated_us, a.updated_us + 1)
        page = await repo.search(SearchQuery(("Claim",), (Clause((after_a,)),)))
        assert [v.id for v in page.matches] == ["b"]
        up_to_a = LastUpdatedCondition(Prefix.LE, a.updated_us, a.updated_us + 1)
        page = await repo.search(SearchQuery(("Claim",), (Clause((up_to_a,)),)))
        assert [v.id for v in page.matches] == ["a"]
        assert b.updated_us > a.updated_us

    async def test_paging_is_stable_under_writes(self, repo: Repository) -> None:
        for i in range(7):
            await _put(repo, "Claim", f"c{i}")
        seen: list[str] = []
        page = await repo.search(SearchQuery(("Claim",), count=3, total=TotalMode.ACCURATE))
        assert page.total == 7
        seen += [v.id for v in page.matches]
        await _put(repo, "Claim", "late")  # a write between pages
        while page.next_cursor:
            page = await repo.search(SearchQuery(("Claim",), count=3, after=page.next_cursor))
            seen += [v.id for v in page.matches]
        assert seen == [f"c{i}" for i in range(7)] + ["late"]

    async def test_types_are_separate(self, repo: Repository) -> None:
        await _put(repo, "Claim", "a")
        await _put(repo, "Patient", "p")
        page = await repo.search(SearchQuery(("Claim", "Patient")))
        assert sorted(v.resource_type for v in page.matches) == ["Claim", "Patient"]
        page = await repo.search(SearchQuery(("Patient",)))
        assert [v.id for v in page.matches] == ["p"]

    async def test_foreign_cursor_is_refused(self, repo: Repository) -> None:
        with pytest.raises(InvalidRequestError):
            await repo.search(SearchQuery(("Claim",), after="not-a-cursor"))


class TestHistory:
    async def test_instance_type_system(self, repo: Repository) -> None:
        await _put(repo, "Claim", "a")
        await _put(repo, "Patient", "p")
        await _put(repo, "Claim", "a")
        await _put(repo, "Claim", "a", deleted=True)
        inst = await repo.history(HistoryQuery("Claim", "a", count=10))
        assert [(v.version, v.deleted) for v in inst.versions] == [
            (3, True),
            (2, False),
            (1, False),
        ]
        assert inst.total == 3
        typ = await repo.history(HistoryQuery("Claim", count=10))
        assert [v.resource_type for v in typ.versions] == ["Claim"] * 3
        system = await repo.history(HistoryQuery(count=10))
        assert [(v.resource_type, v.version) for v in system.versions] == [
            ("Claim", 3),
            ("Claim", 2),
            ("Patient", 1),
            ("Claim", 1),
        ]

    async def test_since_and_paging(self, repo: Repository) -> None:
        stamps = [(await _put(repo, "Claim", f"c{i}")).updated_us for i in range(5)]
        since = await repo.history(HistoryQuery("Claim", since_us=stamps[2], count=10))
        assert [v.id for v in since.versions] == ["c4", "c3", "c2"]
        page = await repo.history(HistoryQuery(count=2))
        ids = [v.id for v in page.versions]
        await _put(repo, "Claim", "new")  # newer than the cursor: does not disturb paging
        while page.next_cursor:
            page = await repo.history(HistoryQuery(count=2, after=page.next_cursor))
            ids += [v.id for v in page.versions]
        assert ids == ["c4", "c3", "c2", "c1", "c0"]


class TestDurability:
    async def test_reopen_keeps_everything(self, tmp_path: Path) -> None:
        repo = SqliteRepository(tmp_path / "durable.db")
        await repo.open()
        await _put(repo, "Claim", "a", index=(TokenEntry("identifier", None, "1"),))
        await repo.close()
        again = SqliteRepository(tmp_path / "durable.db")
        await again.open()
        try:
            current = await again.read("Claim", "a")
            assert current is not None and current.content == _content("Claim", "a", 1)
            found = await again.search(
                SearchQuery(("Claim",), (Clause((TokenCondition("identifier", None, "1"),)),))
            )
            assert [v.id for v in found.matches] == ["a"]
        finally:
            await again.close()
