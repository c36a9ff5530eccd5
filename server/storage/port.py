"""The storage port: the few primitives every adapter implements (DESIGN.md law 2).

Routers and operations see only this module. FHIR behaviour built on top of it (conditional
create/update/delete/patch, version checks, Bundle transactions) is written once in
``server/fhir/interactions.py`` against a :class:`UnitOfWork`, the way Medplum's repository base
derives conditional interactions from search plus a transaction.

Law 1: an adapter stores the canonical JSON bytes it is given and hands the same bytes back; it
never parses or re-serialises a resource.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol

from server.storage.index_entries import IndexEntry
from server.storage.query import HistoryQuery, SearchQuery

__all__ = [
    "HistoryPage",
    "Repository",
    "ResourceKey",
    "ResourceVersion",
    "SearchPage",
    "UnitOfWork",
    "instant_from_us",
]


_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def instant_from_us(us: int) -> str:
    """A FHIR `instant` (UTC, microseconds) for microseconds since the epoch."""
    dt = datetime.fromtimestamp(us / 1_000_000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@dataclass(frozen=True, slots=True)
class ResourceKey:
    resource_type: str
    id: str


@dataclass(frozen=True, slots=True)
class ResourceVersion:
    """One stored version of a resource.

    ``content`` is the canonical JSON (with ``meta.versionId`` and ``meta.lastUpdated`` already
    set); it is None for a delete. ``method`` is the HTTP verb that made the version.
    """

    resource_type: str
    id: str
    version: int
    updated_us: int
    deleted: bool
    method: str
    content: bytes | None

    @property
    def last_updated(self) -> str:
        """`meta.lastUpdated` as a FHIR instant."""
        return instant_from_us(self.updated_us)

    @property
    def http_date(self) -> str:
        """The `Last-Modified` header value (RFC 9110 section 5.6.7 IMF-fixdate)."""
        t = time.gmtime(self.updated_us // 1_000_000)
        return (
            f"{_DAYS[t.tm_wday]}, {t.tm_mday:02d} {_MONTHS[t.tm_mon - 1]} {t.tm_year} "
            f"{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d} GMT"
        )

    @property
    def etag(self) -> str:
        """Weak ETag of the version (R4 http.html#versioning)."""
        return f'W/"{self.version}"'


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of matches, in order, and the resources `_include`/`_revinclude` added.

    ``next_cursor`` is None on the last page, ``previous_cursor`` None on the first.
    """

    matches: Sequence[ResourceVersion]
    next_cursor: str | None
    total: int | None = None
    included: Sequence[ResourceVersion] = ()
    previous_cursor: str | None = None


@dataclass(frozen=True, slots=True)
class HistoryPage:
    """One page of versions, newest first. ``next_cursor`` is None on the last page."""

    versions: Sequence[ResourceVersion]
    next_cursor: str | None
    total: int | None = None


class UnitOfWork(Protocol):
    """Reads and writes inside one atomic, isolated transaction.

    Everything written through a unit of work becomes visible together when the context that
    produced it exits normally, and not at all when it exits with an exception. Reads see the
    unit's own writes. Units of work are serialised: two never interleave their writes, so a
    check followed by a write (conditional create, If-Match) is race-free, also across processes.
    """

    async def read(self, resource_type: str, id: str) -> ResourceVersion | None:
        """The current version, deleted or not; None when the id was never used."""
        ...

    async def vread(self, resource_type: str, id: str, version: int) -> ResourceVersion | None:
        """One version, including versions written by this unit of work."""
        ...

    async def find(self, query: SearchQuery, limit: int) -> list[ResourceKey]:
        """Keys of up to ``limit`` live resources matching ``query`` (for conditionals)."""
        ...

    def now_us(self) -> int:
        """A timestamp for the next version: strictly after every version already stored."""
        ...

    async def write(self, version: ResourceVersion, index: Sequence[IndexEntry]) -> None:
        """Store a new version; it becomes current. ``index`` replaces the resource's entries.

        The adapter rejects a version number that is not exactly current + 1 (or 1 for a new
        id) with :class:`~server.errors.VersionConflictError`.
        """
        ...


class Repository(Protocol):
    """The storage port."""

    async def open(self) -> None:
        """Connect and create or migrate the schema."""
        ...

    async def close(self) -> None: ...

    async def ping(self) -> None:
        """Raise :class:`~server.errors.StorageUnavailableError` when the store cannot serve."""
        ...

    async def read(self, resource_type: str, id: str) -> ResourceVersion | None:
        """The current version (R4 http.html#read); deleted versions are returned as such."""
        ...

    async def vread(self, resource_type: str, id: str, version: int) -> ResourceVersion | None:
        """One version (R4 http.html#vread)."""
        ...

    async def search(self, query: SearchQuery) -> SearchPage:
        """Live resources matching ``query`` (R4 search.html)."""
        ...

    async def history(self, query: HistoryQuery) -> HistoryPage:
        """Versions, newest first (R4 http.html#history)."""
        ...

    def unit_of_work(self) -> AbstractAsyncContextManager[UnitOfWork]:
        """Begin a serialised write transaction."""
        ...
