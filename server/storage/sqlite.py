"""The embedded SQLite adapter of the storage port: one file, WAL, canonical bytes.

Schema (``server/storage/sqlite_schema.py``):

- ``resource``: one row per logical resource (type, id, current version, deleted flag); ``pk`` is
  the stable internal key search cursors and index rows use; the current content is the
  ``version`` row with the same ``pk`` and version number.
- ``version``: every version ever written, in global write order (``seq``), with the canonical
  JSON bytes (NULL for a delete). History, vread and read all serve these bytes untouched.
- ``sp_*``: write-time index values, one table per search-parameter type; searches are compiled
  by ``sqlite_search.py`` and paged by ``sqlite_paging.py``.

Concurrency: reads use their own connection and see committed data only (WAL snapshot). A unit
of work is one ``BEGIN IMMEDIATE`` transaction on the writer connection, taken under an asyncio
lock in this process and SQLite's write lock across processes, so checks and writes inside it
are serialised everywhere. Waiting for another process's lock is done with ``asyncio.sleep``,
never by blocking the event loop.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import sqlite3
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from server.errors import (
    InvalidRequestError,
    StorageBusyError,
    StorageUnavailableError,
    VersionConflictError,
)
from server.storage.index_entries import IndexEntry
from server.storage.port import HistoryPage, ResourceKey, ResourceVersion, SearchPage
from server.storage.query import HistoryQuery, SearchQuery
from server.storage.sqlite_paging import find_keys, row_to_version, run_search
from server.storage.sqlite_schema import (
    INDEX_TABLES,
    SCHEMA,
    SCHEMA_VERSION,
    index_rows,
    insert_sql,
)
from server.storage.sqlite_search import distance_km

__all__ = ["SqliteRepository"]

_CURRENT = (
    "SELECT r.type, r.id, r.version, v.updated_us, r.deleted, v.method, v.content "
    "FROM resource r JOIN version v ON v.pk = r.pk AND v.version = r.version "
)
_VERSION_COLUMNS = "SELECT type, id, version, updated_us, deleted, method, content FROM version "


def _encode_history_cursor(seq: int) -> str:
    return base64.urlsafe_b64encode(f"h1:{seq}".encode()).decode().rstrip("=")


def _decode_history_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode((cursor + "=" * (-len(cursor) % 4)).encode()).decode()
        prefix, _, number = text.partition(":")
        if prefix != "h1":
            raise ValueError(prefix)
        return int(number)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidRequestError(
            "The paging cursor is not one this server issued", expression="_cursor"
        ) from exc


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = NORMAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA cache_size = -65536")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("PRAGMA mmap_size = 268435456")
    conn.create_function("facade_distance_km", 4, distance_km, deterministic=True)
    return conn


class _SqliteUnitOfWork:
    """A unit of work bound to an open ``BEGIN IMMEDIATE`` transaction."""

    def __init__(self, conn: sqlite3.Connection, last_us: int) -> None:
        self._conn = conn
        self._last_us = last_us

    async def read(self, resource_type: str, id: str) -> ResourceVersion | None:
        row = self._conn.execute(
            _CURRENT + "WHERE r.type = ? AND r.id = ?", (resource_type, id)
        ).fetchone()
        return row_to_version(row) if row else None

    async def find(self, query: SearchQuery, limit: int) -> list[ResourceKey]:
        return [ResourceKey(t, i) for t, i in find_keys(self._conn, query, limit)]

    def now_us(self) -> int:
        self._last_us = max(time.time_ns() // 1000, self._last_us + 1)
        return self._last_us

    async def write(self, version: ResourceVersion, index: Sequence[IndexEntry]) -> None:
        conn = self._conn
        row = conn.execute(
            "SELECT pk, version FROM resource WHERE type = ? AND id = ?",
            (version.resource_type, version.id),
        ).fetchone()
        expected = 1 if row is None else row[1] + 1
        if version.version != expected:
            raise VersionConflictError(
                f"{version.resource_type}/{version.id} is at version {expected - 1}; "
                f"version {version.version} cannot follow it"
            )
        deleted = 1 if version.deleted else 0
        pk: int | None
        if row is None:
            pk = conn.execute(
                "INSERT INTO resource (type, id, version, updated_us, deleted) "
                "VALUES (?, ?, ?, ?, ?)",
                (version.resource_type, version.id, version.version, version.updated_us, deleted),
            ).lastrowid
        else:
            pk = row[0]
            conn.execute(
                "UPDATE resource SET version = ?, updated_us = ?, deleted = ? WHERE pk = ?",
                (version.version, version.updated_us, deleted, pk),
            )
            for table in INDEX_TABLES:
                conn.execute(f"DELETE FROM {table} WHERE pk = ?", (pk,))
        conn.execute(
            "INSERT INTO version (pk, type, id, version, updated_us, method, deleted, content) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                pk,
                version.resource_type,
                version.id,
                version.version,
                version.updated_us,
                version.method,
                deleted,
                version.content,
            ),
        )
        assert pk is not None
        if index and not version.deleted:
            for table, rows in index_rows(pk, index).items():
                conn.executemany(insert_sql(table), rows)


class SqliteRepository:
    """The storage port on one SQLite file (``None``: a private temporary file)."""

    def __init__(self, path: Path | None, *, busy_wait_seconds: float = 10.0) -> None:
        self._requested_path = path
        self._path: Path | None = None
        self._temp_dir: tempfile.TemporaryDirectory[str] | None = None
        self._busy_wait = busy_wait_seconds
        self._reader: sqlite3.Connection | None = None
        self._writer: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()

    @property
    def path(self) -> Path | None:
        return self._path

    async def open(self) -> None:
        if self._requested_path is None:
            self._temp_dir = tempfile.TemporaryDirectory(prefix="facade-")
            self._path = Path(self._temp_dir.name) / "facade.db"
        else:
            self._path = self._requested_path
            self._path.parent.mkdir(parents=True, exist_ok=True)
        try:
            writer = _connect(self._path)
            writer.execute("PRAGMA busy_timeout = 5000")
            (current,) = writer.execute("PRAGMA user_version").fetchone()
            if current > SCHEMA_VERSION:
                raise StorageUnavailableError(
                    f"The database schema (version {current}) is newer than this server's"
                )
            writer.executescript(SCHEMA)
            writer.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            writer.execute("PRAGMA busy_timeout = 50")
            reader = _connect(self._path)
            reader.execute("PRAGMA busy_timeout = 2000")
            reader.execute("PRAGMA query_only = 1")
        except sqlite3.Error as exc:
            raise StorageUnavailableError(f"Cannot open the SQLite store: {exc}") from exc
        self._writer, self._reader = writer, reader

    async def close(self) -> None:
        for conn in (self._reader, self._writer):
            if conn is not None:
                conn.close()
        self._reader = self._writer = None
        if self._temp_dir is not None:
            self._temp_dir.cleanup()
            self._temp_dir = None

    def _read_conn(self) -> sqlite3.Connection:
        if self._reader is None:
            raise StorageUnavailableError("The store is not open")
        return self._reader

    async def ping(self) -> None:
        try:
            self._read_conn().execute("SELECT 1 FROM resource LIMIT 1").fetchall()
        except sqlite3.Error as exc:
            raise StorageUnavailableError("The SQLite store does not answer") from exc

    async def read(self, resource_type: str, id: str) -> ResourceVersion | None:
        row = (
            self._read_conn()
            .execute(_CURRENT + "WHERE r.type = ? AND r.id = ?", (resource_type, id))
            .fetchone()
        )
        return row_to_version(row) if row else None

    async def vread(self, resource_type: str, id: str, version: int) -> ResourceVersion | None:
        conn = self._read_conn()
        row = conn.execute(
            _VERSION_COLUMNS
            + "WHERE pk = (SELECT pk FROM resource WHERE type = ? AND id = ?) AND version = ?",
            (resource_type, id, version),
        ).fetchone()
        return row_to_version(row) if row else None

    async def search(self, query: SearchQuery) -> SearchPage:
        return run_search(self._read_conn(), query)

    async def history(self, query: HistoryQuery) -> HistoryPage:
        conn = self._read_conn()
        parts: list[str] = []
        args: list[Any] = []
        if query.id is not None:
            parts.append("pk = (SELECT pk FROM resource WHERE type = ? AND id = ?)")
            args += [query.resource_type, query.id]
        elif query.resource_type is not None:
            parts.append("type = ?")
            args.append(query.resource_type)
        if query.since_us is not None:
            parts.append("updated_us >= ?")
            args.append(query.since_us)
        total: int | None = None
        where = " AND ".join(parts) if parts else "1"
        if query.id is not None:
            (total,) = conn.execute(f"SELECT COUNT(*) FROM version WHERE {where}", args).fetchone()
        if query.after is not None:
            where += " AND seq < ?"
            args.append(_decode_history_cursor(query.after))
        args.append(query.count + 1)
        rows = conn.execute(
            _VERSION_COLUMNS.replace("SELECT ", "SELECT seq, ", 1)
            + f"WHERE {where} ORDER BY seq DESC LIMIT ?",
            args,
        ).fetchall()
        more = len(rows) > query.count
        rows = rows[: query.count]
        next_cursor = _encode_history_cursor(rows[-1][0]) if more and rows else None
        return HistoryPage([row_to_version(r[1:]) for r in rows], next_cursor, total)

    async def _begin(self, conn: sqlite3.Connection) -> None:
        """``BEGIN IMMEDIATE``, waiting without blocking the loop while another process writes."""
        deadline = time.monotonic() + self._busy_wait
        delay = 0.001
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                message = str(exc).lower()
                if "locked" not in message and "busy" not in message:
                    raise StorageUnavailableError("The SQLite store refused a write") from exc
                if time.monotonic() >= deadline:
                    raise StorageBusyError(
                        "The store is busy with another writer; try again",
                        headers={"Retry-After": "1"},
                    ) from exc
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, 0.05)

    @asynccontextmanager
    async def unit_of_work(self) -> AsyncIterator[_SqliteUnitOfWork]:
        if self._writer is None:
            raise StorageUnavailableError("The store is not open")
        conn = self._writer
        async with self._lock:
            await self._begin(conn)
            try:
                (last_us,) = conn.execute(
                    "SELECT COALESCE(MAX(updated_us), 0) FROM version"
                ).fetchone()
                yield _SqliteUnitOfWork(conn, last_us)
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            try:
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                conn.execute("ROLLBACK")
                raise StorageUnavailableError("The SQLite store could not commit") from exc

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"SqliteRepository({os.fspath(self._path) if self._path else None!r})"
