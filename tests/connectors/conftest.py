"""A real SFTP server (asyncssh, chrooted, password or public-key auth) on an ephemeral loopback
port, for the SFTP connector tests."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncssh
import pytest

from server.settings import ConnectorSettings

USER, PASSWORD = "facade", "test-password"


class SftpServer:
    """The running server: its port, its folders, its host key, and a way to cut sessions."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.host_key = asyncssh.generate_private_key("ssh-ed25519")
        self.client_key = asyncssh.generate_private_key("ssh-ed25519")
        self.sessions: set[asyncssh.SSHServerConnection] = set()
        self.logins = 0
        self.listener: asyncssh.SSHAcceptor | None = None
        self.fail: dict[str, str] = {}
        """Operation (``open``, ``rename``) -> what goes wrong: ``refuse`` (an SFTP failure
        status), ``hang`` (no answer)."""
        for folder in ("inbound", "outbound", "archive", "fetched"):
            (root / folder).mkdir(parents=True, exist_ok=True)

    @property
    def port(self) -> int:
        assert self.listener is not None
        return int(self.listener.get_port())

    def known_hosts(self, path: Path) -> str:
        public = self.host_key.export_public_key().decode().strip()
        path.write_text(f"[127.0.0.1]:{self.port} {public}\n")
        return str(path)

    def settings(self, **overrides: Any) -> ConnectorSettings:
        values: dict[str, Any] = {"kind": "sftp", "host": "127.0.0.1", "port": self.port,
                                  "username": USER, "password": PASSWORD,
                                  "timeout_seconds": 5, "rate_per_second": 1000, "burst": 100}
        values.update(overrides)
        return ConnectorSettings(**values)

    def drop_sessions(self) -> None:
        for conn in list(self.sessions):
            conn.close()

    def server(self) -> asyncssh.SSHServer:
        outer = self

        class Server(asyncssh.SSHServer):
            def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
                self.conn = conn
                outer.sessions.add(conn)

            def connection_lost(self, exc: Exception | None) -> None:
                outer.sessions.discard(self.conn)

            def begin_auth(self, username: str) -> bool:
                return True

            def password_auth_supported(self) -> bool:
                return True

            def validate_password(self, username: str, password: str) -> bool:
                ok = username == USER and password == PASSWORD
                outer.logins += ok
                return ok

            def public_key_auth_supported(self) -> bool:
                return True

            def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
                ok = username == USER and key.public_data == outer.client_key.public_data
                outer.logins += ok
                return ok

        return Server()

    def sftp(self, chan: asyncssh.SSHServerChannel[bytes]) -> asyncssh.SFTPServer:
        outer = self

        async def trouble(operation: str) -> None:
            mode = outer.fail.get(operation)
            if mode == "refuse":
                raise asyncssh.SFTPFailure(f"{operation} refused")
            if mode == "hang":
                await asyncio.sleep(30)

        class Sftp(asyncssh.SFTPServer):
            async def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
                await trouble("open")
                return super().open(path, pflags, attrs)

            async def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
                await trouble("rename")
                super().posix_rename(oldpath, newpath)

        return Sftp(chan, chroot=os.fsencode(self.root))

    async def start(self) -> None:
        self.listener = await asyncssh.listen(
            "127.0.0.1", 0, server_host_keys=[self.host_key], server_factory=self.server,
            sftp_factory=self.sftp)

    async def stop(self) -> None:
        if self.listener is not None:
            self.listener.close()
            await self.listener.wait_closed()
        self.drop_sessions()


@pytest.fixture
async def sftp_server(tmp_path: Path) -> AsyncIterator[SftpServer]:
    server = SftpServer(tmp_path / "sftp")
    await server.start()
    try:
        yield server
    finally:
        await server.stop()
