"""The embedded SQLite adapter of the storage port: one file, WAL, canonical bytes.

Schema (``server/storage/sqlite_schema.py``):

- ``resource``: one row per logical resource (type, id, current version, deleted flag); ``pk`` is
  the stable internal key search cursors and index rows use; the current content is the
  ``version`` row with the same ``pk`` and version number.
- ``version``: every version ever written, in global write order (``seq``), with the canonical
  JSON bytes (NULL for a delete). History, vread and read all serve these bytes untouched.
- ``sp_*``: write-time index values, one table per search-parameter type; searches are compiled
  by ``sqlite_search.py`` and paged by ``sqlite_paging.py``.

Concurrency: reads use their own connection and see committed data only (WAL snapshot). Units
of work run one at a time on the writer connection, as savepoints inside group-committed
``BEGIN IMMEDIATE`` transactions (``sqlite_writer.py``), so checks and writes inside a unit are
serialised everywhere, also across processes.
"""

from __future__ import annotations

import base64
import os
import sqlite3
import tempfile
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Any

from server.errors import (
    InvalidRequestError,
    StorageUnavailableError,
)
from server.storage.port import HistoryPage, ResourceVersion, SearchPage
from server.storage.query import HistoryQuery, SearchQuery
from server.storage.sqlite_outbox import OUTBOX_SCHEMA, OutboxReads
from server.storage.sqlite_paging import row_to_version, run_search
from server.storage.sqlite_schema import (
    SCHEMA,
    SCHEMA_VERSION,
)
from server.storage.sqlite_search import Sql, distance_km, guard_sql
from server.storage.sqlite_writer import GroupCommitWriter, SqliteUnitOfWork

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
        seq = int(number)
        if prefix != "h1" or not 0 <= seq < 2**63:
            raise ValueError(prefix)
        return seq
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


class SqliteRepository(OutboxReads):
    """The storage port on one SQLite file (``None``: a private temporary file)."""

    def __init__(self, path: Path | None, *, busy_wait_seconds: float = 10.0) -> None:
        self._requested_path = path
        self._path: Path | None = None
        self._temp_dir: tempfile.TemporaryDirectory[str] | None = None
        self._busy_wait = busy_wait_seconds
        self._reader: sqlite3.Connection | None = None
        self._writer_conn: sqlite3.Connection | None = None
        self._writer: GroupCommitWriter | None = None

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
            writer.executescript(OUTBOX_SCHEMA)
            writer.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            writer.execute("PRAGMA busy_timeout = 50")
            writer.execute("PRAGMA wal_autocheckpoint = 4000")
            reader = _connect(self._path)
            reader.execute("PRAGMA busy_timeout = 2000")
            reader.execute("PRAGMA query_only = 1")
        except sqlite3.Error as exc:
            raise StorageUnavailableError(f"Cannot open the SQLite store: {exc}") from exc
        self._writer_conn, self._reader = writer, reader
        self._writer = GroupCommitWriter(writer, self._busy_wait)

    async def close(self) -> None:
        for conn in (self._reader, self._writer_conn):
            if conn is not None:
                conn.close()
        self._reader = self._writer_conn = None
        self._writer = None
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
        if query.guard is not None:
            # Versions of resources the token reaches now (DESIGN.md law 5).
            b = Sql(local_base=query.local_base, guard=query.guard)
            types = (query.resource_type,) if query.resource_type else None
            parts.append(f"pk IN (SELECT r.pk FROM resource r WHERE {guard_sql('r', b, types)})")
            args += b.args
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

    def unit_of_work(self) -> AbstractAsyncContextManager[SqliteUnitOfWork]:
        if self._writer is None:
            raise StorageUnavailableError("The store is not open")
        return self._writer.unit_of_work()

    def __repr__(self) -> str:  # pragma: no cover - debugging aid
        return f"SqliteRepository({os.fspath(self._path) if self._path else None!r})"
