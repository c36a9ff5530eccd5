"""The outbox on SQLite (``server/storage/outbox.py``): ``job``, ``record`` and ``counter``
tables in the store's file, written on the writer connection inside units of work so a job
commits with the state change that queued it, and read on the reader connection.

Leasing is one ``UPDATE ... RETURNING`` inside a ``BEGIN IMMEDIATE`` transaction: SQLite's
single writer makes it atomic across processes, so two workers never hold the same job.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Mapping, Sequence
from typing import Any

from server.fhir import json_codec
from server.storage.outbox import Job, Record

__all__ = ["OUTBOX_SCHEMA", "OutboxReads", "OutboxWrites", "backoff_seconds"]

OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS job (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    dedupe TEXT,
    state TEXT NOT NULL,
    run_at_us INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until_us INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    last_error TEXT,
    created_us INTEGER NOT NULL,
    updated_us INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS job_due ON job (state, kind, run_at_us);
CREATE INDEX IF NOT EXISTS job_lease ON job (state, lease_until_us) WHERE state = 'leased';
CREATE UNIQUE INDEX IF NOT EXISTS job_dedupe ON job (dedupe)
    WHERE dedupe IS NOT NULL AND state != 'dead';
CREATE TABLE IF NOT EXISTS record (
    kind TEXT NOT NULL,
    key TEXT NOT NULL,
    ref TEXT,
    state TEXT,
    data BLOB NOT NULL,
    updated_us INTEGER NOT NULL,
    PRIMARY KEY (kind, key)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS record_ref ON record (kind, ref) WHERE ref IS NOT NULL;
CREATE INDEX IF NOT EXISTS record_state ON record (kind, state, key) WHERE state IS NOT NULL;
CREATE TABLE IF NOT EXISTS counter (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

_JOB = ("SELECT id, kind, subject, state, attempts, run_at_us, created_us, dedupe, last_error, "
        "lease_owner FROM job ")
_RECORD = "SELECT kind, key, data, updated_us, ref, state FROM record "


def _now_us() -> int:
    return time.time_ns() // 1000


def backoff_seconds(attempt: int, base: float, ceiling: float) -> float:
    """Exponential backoff with full jitter: uniform in [base/2, min(ceiling, base * 2^(n-1))]."""
    top = min(ceiling, base * (2 ** max(0, attempt - 1)))
    return random.uniform(min(base / 2, top), top)


def _job(row: Sequence[Any]) -> Job:
    return Job(row[0], row[1], row[2], row[3], row[4], row[5], row[6], row[7], row[8], row[9])


def _record(row: Sequence[Any]) -> Record:
    # Records hold FHIR (a claim's Bundle): decimals stay decimals (json_codec, as resources).
    return Record(row[0], row[1], json_codec.loads(row[2]), row[3], row[4], row[5])


def _find(conn: sqlite3.Connection, kind: str, ref: str | None, state: str | None, limit: int,
          after_key: str | None = None) -> list[Record]:
    where, args = ["kind = ?"], [kind]
    if ref is not None:
        where.append("ref = ?")
        args.append(ref)
    if state is not None:
        where.append("state = ?")
        args.append(state)
    if after_key is not None:
        where.append("key > ?")
        args.append(after_key)
    rows = conn.execute(
        _RECORD + f"WHERE {' AND '.join(where)} ORDER BY key LIMIT ?", (*args, limit)
    ).fetchall()
    return [_record(r) for r in rows]


class OutboxWrites:
    """The outbox operations of one unit of work, on the writer connection."""

    _conn: sqlite3.Connection

    async def enqueue(self, kind: str, subject: str, *, dedupe: str | None = None,
                      delay_seconds: float = 0.0) -> bool:
        now = _now_us()
        cursor = self._conn.execute(
            "INSERT OR IGNORE INTO job (kind, subject, dedupe, state, run_at_us, created_us, "
            "updated_us) VALUES (?, ?, ?, 'ready', ?, ?, ?)",
            (kind, subject, dedupe, now + int(delay_seconds * 1_000_000), now, now),
        )
        return cursor.rowcount == 1

    async def lease_jobs(self, owner: str, kinds: Sequence[str], limit: int,
                         lease_seconds: float) -> list[Job]:
        if not kinds or limit < 1:
            return []
        now = _now_us()
        marks = ", ".join("?" * len(kinds))
        rows = self._conn.execute(
            "UPDATE job SET state = 'leased', lease_owner = ?, lease_until_us = ?, "
            "attempts = attempts + 1, updated_us = ? WHERE id IN ("
            f"SELECT id FROM job WHERE state = 'ready' AND kind IN ({marks}) AND run_at_us <= ? "
            "UNION ALL "
            f"SELECT id FROM job WHERE state = 'leased' AND lease_until_us < ? "
            f"AND kind IN ({marks}) ORDER BY 1 LIMIT ?) "
            "RETURNING id, kind, subject, state, attempts, run_at_us, created_us, dedupe, "
            "last_error, lease_owner",
            (owner, now + int(lease_seconds * 1_000_000), now, *kinds, now, now, *kinds, limit),
        ).fetchall()
        return sorted((_job(r) for r in rows), key=lambda j: j.id)

    async def finish_job(self, job_id: int, owner: str) -> bool:
        cursor = self._conn.execute(
            "DELETE FROM job WHERE id = ? AND lease_owner = ? AND state = 'leased'",
            (job_id, owner),
        )
        return cursor.rowcount == 1

    async def retry_job(self, job_id: int, owner: str, error: str, delay_seconds: float,
                        max_attempts: int) -> str:
        now = _now_us()
        row = self._conn.execute(
            "UPDATE job SET state = CASE WHEN attempts >= ? THEN 'dead' ELSE 'ready' END, "
            "run_at_us = ?, last_error = ?, lease_owner = NULL, lease_until_us = NULL, "
            "updated_us = ? WHERE id = ? AND lease_owner = ? AND state = 'leased' "
            "RETURNING state",
            (max_attempts, now + int(delay_seconds * 1_000_000), error[:2000], now, job_id,
             owner),
        ).fetchone()
        return str(row[0]) if row else ""

    async def defer_job(self, job_id: int, owner: str, note: str, delay_seconds: float) -> bool:
        now = _now_us()
        cursor = self._conn.execute(
            "UPDATE job SET state = 'ready', run_at_us = ?, last_error = ?, lease_owner = NULL, "
            "lease_until_us = NULL, attempts = MAX(0, attempts - 1), updated_us = ? "
            "WHERE id = ? AND lease_owner = ? AND state = 'leased'",
            (now + int(delay_seconds * 1_000_000), note[:2000], now, job_id, owner),
        )
        return cursor.rowcount == 1

    async def replay_job(self, job_id: int) -> bool:
        now = _now_us()
        try:
            cursor = self._conn.execute(
                "UPDATE job SET state = 'ready', attempts = 0, run_at_us = ?, updated_us = ? "
                "WHERE id = ? AND state = 'dead'",
                (now, now, job_id),
            )
        except sqlite3.IntegrityError:
            return False  # a live job with the same dedupe key does the same work
        return cursor.rowcount == 1

    async def get_record(self, kind: str, key: str) -> Record | None:
        row = self._conn.execute(_RECORD + "WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return _record(row) if row else None

    async def put_record(self, kind: str, key: str, data: Mapping[str, Any], *,
                         ref: str | None = None, state: str | None = None) -> None:
        self._conn.execute(
            "INSERT OR REPLACE INTO record (kind, key, ref, state, data, updated_us) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            (kind, key, ref, state, json_codec.dumps(data), _now_us()),
        )

    async def delete_record(self, kind: str, key: str) -> None:
        self._conn.execute("DELETE FROM record WHERE kind = ? AND key = ?", (kind, key))

    async def find_records(self, kind: str, *, ref: str | None = None,
                           state: str | None = None, limit: int = 100) -> list[Record]:
        return _find(self._conn, kind, ref, state, limit)

    async def take_numbers(self, name: str, count: int) -> int:
        row = self._conn.execute(
            "INSERT INTO counter (name, value) VALUES (?, ?) "
            "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value RETURNING value",
            (name, count),
        ).fetchone()
        return int(row[0]) - count + 1


class OutboxReads:
    """The outbox reads of the repository, on the reader connection."""

    def _read_conn(self) -> sqlite3.Connection:
        raise NotImplementedError

    async def get_record(self, kind: str, key: str) -> Record | None:
        row = self._read_conn().execute(
            _RECORD + "WHERE kind = ? AND key = ?", (kind, key)
        ).fetchone()
        return _record(row) if row else None

    async def find_records(self, kind: str, *, ref: str | None = None,
                           state: str | None = None, limit: int = 100,
                           after_key: str | None = None) -> list[Record]:
        return _find(self._read_conn(), kind, ref, state, limit, after_key)

    async def list_jobs(self, *, state: str | None = None, kind: str | None = None,
                        limit: int = 100) -> list[Job]:
        where, args = [], []
        if state is not None:
            where.append("state = ?")
            args.append(state)
        if kind is not None:
            where.append("kind = ?")
            args.append(kind)
        clause = f"WHERE {' AND '.join(where)} " if where else ""
        rows = self._read_conn().execute(
            _JOB + clause + "ORDER BY id LIMIT ?", (*args, limit)
        ).fetchall()
        return [_job(r) for r in rows]

    async def record_counts(self, kind: str) -> dict[str, int]:
        rows = self._read_conn().execute(
            "SELECT state, COUNT(*) FROM record WHERE kind = ? AND state IS NOT NULL "
            "GROUP BY state", (kind,)
        ).fetchall()
        return {state: n for state, n in rows}

    async def job_counts(self) -> dict[str, int]:
        rows = self._read_conn().execute(
            "SELECT kind, state, COUNT(*) FROM job GROUP BY kind, state"
        ).fetchall()
        return {f"{kind}:{state}": n for kind, state, n in rows}
