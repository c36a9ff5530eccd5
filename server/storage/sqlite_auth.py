"""The SQLite adapter of the authorization server's port (``server/security/auth_store.py``).

Lives in the same database file as the FHIR store (``settings.sqlite_path()``), in its own
``auth_*`` tables and on its own connection (WAL). ``sqlite://`` gives a private in-memory store.
Rows hold the dataclasses as JSON; secrets only as digests or hashes (see the port).
"""

from __future__ import annotations

import asyncio
import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path
from typing import Any, TypeVar

from server.security.auth_store import (
    AuthCode,
    Client,
    LaunchContext,
    RefreshGrant,
    SigningKey,
    User,
)
from server.security.passwords import digest, new_secret

__all__ = ["SqliteAuthStore"]

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS auth_client (client_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS auth_user (username TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS auth_key (kid TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS auth_launch (
    id_hash TEXT PRIMARY KEY, data TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_code (
    code_hash TEXT PRIMARY KEY, data TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_refresh (
    token_hash TEXT PRIMARY KEY, family_id TEXT NOT NULL, data TEXT NOT NULL,
    revoked INTEGER NOT NULL DEFAULT 0, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS auth_refresh_family ON auth_refresh (family_id);
CREATE TABLE IF NOT EXISTS auth_access (
    jti TEXT PRIMARY KEY, family_id TEXT NOT NULL, expires_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS auth_access_family ON auth_access (family_id);
CREATE TABLE IF NOT EXISTS auth_revoked (jti TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_used_jti (key TEXT PRIMARY KEY, expires_at INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS auth_secret (name TEXT PRIMARY KEY, value BLOB NOT NULL);
"""


def _client(data: dict[str, Any]) -> Client:
    data["redirect_uris"] = tuple(data.get("redirect_uris") or ())
    return Client(**data)


class SqliteAuthStore:
    """:class:`~server.security.auth_store.AuthStore` on SQLite."""

    def __init__(self, path: Path | None) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    async def open(self) -> None:
        if self._conn is not None:
            return
        if self._path is None:
            conn = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
        else:
            os.makedirs(self._path.parent, exist_ok=True)
            conn = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA journal_mode = WAL")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute("PRAGMA busy_timeout = 5000")
        conn.executescript(_SCHEMA)
        self._conn = conn

    async def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    async def _run(self, work: Callable[[sqlite3.Connection], T]) -> T:
        conn = self._conn
        if conn is None:
            raise RuntimeError("The auth store is not open")

        def locked() -> T:
            with self._lock:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    result = work(conn)
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                return result

        return await asyncio.to_thread(locked)

    # --- clients ---
    async def get_client(self, client_id: str) -> Client | None:
        row = await self._run(
            lambda c: c.execute(
                "SELECT data FROM auth_client WHERE client_id = ?", (client_id,)
            ).fetchone()
        )
        return _client(json.loads(row[0])) if row else None

    async def put_client(self, client: Client) -> None:
        data = json.dumps(asdict(client))
        await self._run(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO auth_client (client_id, data) VALUES (?, ?)",
                (client.client_id, data),
            )
        )

    async def list_clients(self) -> list[Client]:
        rows = await self._run(
            lambda c: c.execute("SELECT data FROM auth_client ORDER BY client_id").fetchall()
        )
        return [_client(json.loads(r[0])) for r in rows]

    # --- launches ---
    async def create_launch(self, ctx: LaunchContext, ttl_seconds: int = 300) -> str:
        launch_id = new_secret(24)
        expires = int(time.time()) + ttl_seconds
        data = json.dumps(asdict(ctx))
        await self._run(
            lambda c: c.execute(
                "INSERT INTO auth_launch (id_hash, data, expires_at) VALUES (?, ?, ?)",
                (digest(launch_id), data, expires),
            )
        )
        return launch_id

    async def take_launch(self, launch_id: str) -> LaunchContext | None:
        key = digest(launch_id)

        def take(c: sqlite3.Connection) -> Any:
            row = c.execute(
                "SELECT data, expires_at FROM auth_launch WHERE id_hash = ?", (key,)
            ).fetchone()
            c.execute("DELETE FROM auth_launch WHERE id_hash = ?", (key,))
            return row

        row = await self._run(take)
        if not row or row[1] < time.time():
            return None
        return LaunchContext(**json.loads(row[0]))

    # --- users ---
    async def get_user(self, username: str) -> User | None:
        row = await self._run(
            lambda c: c.execute(
                "SELECT data FROM auth_user WHERE username = ?", (username,)
            ).fetchone()
        )
        return User(**json.loads(row[0])) if row else None

    async def put_user(self, user: User) -> None:
        data = json.dumps(asdict(user))
        await self._run(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO auth_user (username, data) VALUES (?, ?)",
                (user.username, data),
            )
        )

    # --- keys ---
    async def list_keys(self) -> list[SigningKey]:
        rows = await self._run(lambda c: c.execute("SELECT data FROM auth_key").fetchall())
        return [SigningKey(**json.loads(r[0])) for r in rows]

    async def put_key(self, key: SigningKey) -> None:
        data = json.dumps(asdict(key))
        await self._run(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO auth_key (kid, data) VALUES (?, ?)", (key.kid, data)
            )
        )

    async def delete_key(self, kid: str) -> None:
        await self._run(lambda c: c.execute("DELETE FROM auth_key WHERE kid = ?", (kid,)))

    # --- codes ---
    async def save_code(self, code: AuthCode) -> None:
        data = json.dumps(asdict(code))
        await self._run(
            lambda c: c.execute(
                "INSERT INTO auth_code (code_hash, data, expires_at) VALUES (?, ?, ?)",
                (code.code_hash, data, code.expires_at),
            )
        )

    async def take_code(self, code_hash: str) -> AuthCode | None:
        def take(c: sqlite3.Connection) -> Any:
            row = c.execute("SELECT data FROM auth_code WHERE code_hash = ?", (code_hash,))
            found = row.fetchone()
            c.execute("DELETE FROM auth_code WHERE code_hash = ?", (code_hash,))
            return found

        row = await self._run(take)
        return AuthCode(**json.loads(row[0])) if row else None

    # --- refresh tokens ---
    async def save_refresh(self, grant: RefreshGrant) -> None:
        data = json.dumps(asdict(grant))
        await self._run(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO auth_refresh "
                "(token_hash, family_id, data, revoked, expires_at) VALUES (?, ?, ?, ?, ?)",
                (grant.token_hash, grant.family_id, data, int(grant.revoked), grant.expires_at),
            )
        )

    async def get_refresh(self, token_hash: str) -> RefreshGrant | None:
        row = await self._run(
            lambda c: c.execute(
                "SELECT data, revoked FROM auth_refresh WHERE token_hash = ?", (token_hash,)
            ).fetchone()
        )
        if not row:
            return None
        data = json.loads(row[0])
        data["revoked"] = bool(row[1])
        return RefreshGrant(**data)

    async def revoke_refresh(self, token_hash: str) -> bool:
        def revoke(c: sqlite3.Connection) -> bool:
            cur = c.execute(
                "UPDATE auth_refresh SET revoked = 1 WHERE token_hash = ? AND revoked = 0",
                (token_hash,),
            )
            return cur.rowcount > 0

        return await self._run(revoke)

    async def revoke_family(self, family_id: str) -> None:
        def revoke(c: sqlite3.Connection) -> None:
            c.execute("UPDATE auth_refresh SET revoked = 1 WHERE family_id = ?", (family_id,))
            c.execute(
                "INSERT OR IGNORE INTO auth_revoked (jti, expires_at) "
                "SELECT jti, expires_at FROM auth_access WHERE family_id = ?",
                (family_id,),
            )

        await self._run(revoke)

    async def link_access(self, jti: str, family_id: str, expires_at: int) -> None:
        await self._run(
            lambda c: c.execute(
                "INSERT OR REPLACE INTO auth_access (jti, family_id, expires_at) VALUES (?, ?, ?)",
                (jti, family_id, expires_at),
            )
        )

    # --- access-token revocation ---
    async def revoke_jti(self, jti: str, expires_at: int) -> None:
        await self._run(
            lambda c: c.execute(
                "INSERT OR IGNORE INTO auth_revoked (jti, expires_at) VALUES (?, ?)",
                (jti, expires_at),
            )
        )

    async def revoked_jtis(self) -> dict[str, int]:
        now = int(time.time())
        rows = await self._run(
            lambda c: c.execute(
                "SELECT jti, expires_at FROM auth_revoked WHERE expires_at >= ?", (now,)
            ).fetchall()
        )
        return {str(r[0]): int(r[1]) for r in rows}

    # --- client-assertion replay ---
    async def use_jti(self, key: str, expires_at: int) -> bool:
        def use(c: sqlite3.Connection) -> bool:
            now = int(time.time())
            c.execute("DELETE FROM auth_used_jti WHERE key = ? AND expires_at < ?", (key, now))
            cur = c.execute(
                "INSERT OR IGNORE INTO auth_used_jti (key, expires_at) VALUES (?, ?)",
                (key, expires_at),
            )
            return cur.rowcount > 0

        return await self._run(use)

    async def secret(self, name: str) -> bytes:
        fresh = os.urandom(32)

        def get(c: sqlite3.Connection) -> bytes:
            c.execute(
                "INSERT OR IGNORE INTO auth_secret (name, value) VALUES (?, ?)", (name, fresh)
            )
            row = c.execute("SELECT value FROM auth_secret WHERE name = ?", (name,)).fetchone()
            return bytes(row[0])

        return await self._run(get)

    async def purge_expired(self, now: int) -> None:
        def purge(c: sqlite3.Connection) -> None:
            for table in (
                "auth_launch",
                "auth_code",
                "auth_refresh",
                "auth_access",
                "auth_revoked",
                "auth_used_jti",
            ):
                c.execute(f"DELETE FROM {table} WHERE expires_at < ?", (now,))

        await self._run(purge)
