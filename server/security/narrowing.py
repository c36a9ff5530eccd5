"""The storage port seen through a token's guard (DESIGN.md law 5: narrow, don't filter).

:class:`GuardedRepository` wraps the repository for one request. Every search, conditional
match and history query it runs carries the token's :class:`~server.storage.query.Guard`, so
the adapter narrows inside the query (matches, `_include`/`_revinclude`, chains, `_has`,
history) and a resource out of reach is indistinguishable from one that does not exist: reads
answer None (a 404), never a 403 that would confirm another patient's id.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import replace

from server.errors import ResourceNotFoundError
from server.storage.index_entries import IndexEntry
from server.storage.port import (
    HistoryPage,
    Repository,
    ResourceKey,
    ResourceVersion,
    SearchPage,
    UnitOfWork,
)
from server.storage.query import (
    Clause,
    Guard,
    HistoryQuery,
    IdCondition,
    ReferenceCondition,
    SearchQuery,
)

__all__ = ["GuardedRepository", "GuardedUnitOfWork", "by_id", "compartment_driver"]


def by_id(resource_type: str, id: str, guard: Guard | None, local_base: str) -> SearchQuery:
    """The query for one live resource by id under ``guard``."""
    where = (Clause((IdCondition((id,)),)),)
    return SearchQuery((resource_type,), where, count=1, guard=guard, local_base=local_base)


def compartment_driver(guard: Guard | None, resource_type: str) -> Clause | None:
    """A search clause equal to the guard's only way into ``resource_type`` when that way is
    one compartment reference (``Claim.patient = Patient/x``): the adapter can drive the
    query from it instead of probing the guard row by row. Adds no restriction of its own."""
    if guard is None or guard.patient_id is None:
        return None
    for t, alternatives in guard.reach:
        if t != resource_type:
            continue
        if len(alternatives) != 1:
            return None
        (only,) = alternatives
        if only.where or only.compartment is None or len(only.compartment) != 1:
            return None
        return Clause((ReferenceCondition(only.compartment[0], "Patient", guard.patient_id),))
    return None


class GuardedUnitOfWork:
    """A unit of work whose reads and matches stay inside the guard; writes pass through
    (what was written is checked against the write guard by the FHIR handlers). Reading a
    live resource out of reach raises 404, so no write can touch or probe it."""

    def __init__(self, inner: UnitOfWork, guard: Guard, local_base: str) -> None:
        self.inner, self.guard, self.local_base = inner, guard, local_base

    async def reachable(self, resource_type: str, id: str, guard: Guard | None = None) -> bool:
        guard = guard or self.guard
        if guard.whole(resource_type):
            return True
        query = by_id(resource_type, id, guard, self.local_base)
        return bool(await self.inner.find(query, 1))

    async def read(self, resource_type: str, id: str) -> ResourceVersion | None:
        current = await self.inner.read(resource_type, id)
        if current is None or current.deleted:
            # A deletion keeps no compartment: the write that follows (an update re-creating
            # the id) is checked against the write guard instead.
            return current
        if not await self.reachable(resource_type, id):
            # The id is taken by a resource out of reach: answer as for an unknown id that
            # cannot be created (a write must not fall through to a version conflict).
            raise ResourceNotFoundError(f"{resource_type}/{id} is not known")
        return current

    async def vread(self, resource_type: str, id: str, version: int) -> ResourceVersion | None:
        if not await self.reachable(resource_type, id):
            return None
        return await self.inner.vread(resource_type, id, version)

    async def find(self, query: SearchQuery, limit: int) -> list[ResourceKey]:
        if query.guard is None:
            query = replace(query, guard=self.guard, local_base=query.local_base or self.local_base)
        return await self.inner.find(query, limit)

    def now_us(self) -> int:
        return self.inner.now_us()

    async def write(self, version: ResourceVersion, index: Sequence[IndexEntry]) -> None:
        await self.inner.write(version, index)


class GuardedRepository:
    """The repository for one request of a token whose reach is narrowed by ``guard``."""

    def __init__(self, inner: Repository, guard: Guard, local_base: str) -> None:
        self.inner, self.guard, self.local_base = inner, guard, local_base

    async def open(self) -> None:  # the wrapped store's lifecycle belongs to the app
        return None

    async def close(self) -> None:
        return None

    async def ping(self) -> None:
        await self.inner.ping()

    async def _found(self, resource_type: str, id: str) -> ResourceVersion | None:
        page = await self.inner.search(by_id(resource_type, id, self.guard, self.local_base))
        return page.matches[0] if page.matches else None

    async def read(self, resource_type: str, id: str) -> ResourceVersion | None:
        """The live resource when it is within reach; None otherwise (deleted ones too: a
        deletion keeps no compartment to check). A type reached whole is read directly."""
        if self.guard.whole(resource_type):
            return await self.inner.read(resource_type, id)
        return await self._found(resource_type, id)

    async def vread(self, resource_type: str, id: str, version: int) -> ResourceVersion | None:
        if self.guard.whole(resource_type):
            return await self.inner.vread(resource_type, id, version)
        if await self._found(resource_type, id) is None:
            return None
        return await self.inner.vread(resource_type, id, version)

    async def search(self, query: SearchQuery) -> SearchPage:
        if query.guard is None:
            query = replace(query, guard=self.guard, local_base=query.local_base or self.local_base)
        return await self.inner.search(query)

    async def history(self, query: HistoryQuery) -> HistoryPage:
        if query.guard is None:
            query = replace(query, guard=self.guard, local_base=query.local_base or self.local_base)
        return await self.inner.history(query)

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]:
        return self._unit_of_work()

    @asynccontextmanager
    async def _unit_of_work(self) -> AsyncIterator[UnitOfWork]:
        async with self.inner.unit_of_work() as uow:
            yield GuardedUnitOfWork(uow, self.guard, self.local_base)
