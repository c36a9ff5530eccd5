"""X12 batch files over SFTP (CLEARINGHOUSES.md section 5: Office Ally, Stedi SFTP, Availity
batch, Waystar): 837 files into the clearinghouse's inbound folder, TA1/999/277CA/835 files
from its outbound folder.

- One SSH connection per connector, kept and reused; re-opened when the server dropped it.
  Password or private-key authentication; the server's host key is checked against
  ``known_hosts_file`` (not at all when it is empty: loopback sandboxes only).
- ``send`` uploads ``{inbound_dir}/{name}.part`` and renames it to ``{inbound_dir}/{name}``
  (a POSIX rename: the clearinghouse never sees half a file, and picks up only final names).
  A failure before the rename began delivered nothing (``ConnectorDownError``); once it began
  the file may be there (``DeliveryUnknownError``), and :meth:`SftpConnector.delivered` looks.
- ``poll`` lists ``{outbound_dir}`` (hidden, ``.part`` and ``.tmp`` names are files still being
  written) and downloads each file; ``settle`` deletes it, or moves it to ``archive_dir``, only
  after the pipeline stored it (section 6, remote deletion).
- Real-time 270/276 are not offered over SFTP (Stedi's SFTP takes neither, section 5): the
  REST connectors answer those.

Every operation goes through the connector's rate limit and circuit breaker and is bounded by
``timeout_seconds``. Only file names and counts are logged.
"""

from __future__ import annotations

import asyncio
import logging
import posixpath
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import asyncssh

from mappers.x12.writer import ControlNumbers
from server.connectors.batch_837 import build_batch
from server.connectors.breaker import CircuitBreaker
from server.connectors.port import Inbound, Prepared
from server.connectors.throttle import TokenBucket
from server.connectors.trading_partners import partners_of
from server.errors import ConnectorDownError, ConnectorRejectedError, DeliveryUnknownError
from server.settings import ConnectorSettings

__all__ = ["CLEARINGHOUSE_ARCHIVE", "SftpConnector"]

log = logging.getLogger(__name__)

T = TypeVar("T")

#: Where an SFTP clearinghouse moves the inbound files it has picked up (the sandbox and
#: Office Ally-style accounts); ``delivered`` looks there too.
CLEARINGHOUSE_ARCHIVE = "archive"
#: Files fetched per poll (the rest wait for the next one).
MAX_FILES = 500
_IN_PROGRESS = (".part", ".tmp")
#: Failures of the link itself (as opposed to the server refusing one operation).
_LINK_ERRORS = (asyncssh.DisconnectError, asyncssh.ConnectionLost, asyncssh.ChannelOpenError,
                asyncssh.SFTPConnectionLost, asyncssh.SFTPNoConnection, OSError, TimeoutError,
                EOFError)


class SftpConnector:
    """A ``sftp`` connection (see the module docstring)."""

    kind = "sftp"

    def __init__(self, name: str, settings: ConnectorSettings) -> None:
        self.name = name
        self.settings = settings
        self.partners = partners_of(settings)
        self.timeout = settings.timeout_seconds
        self.bucket = TokenBucket(settings.rate_per_second, settings.burst)
        self.breaker = CircuitBreaker(name, settings.breaker_failures,
                                      settings.breaker_reset_seconds)
        self._conn: asyncssh.SSHClientConnection | None = None
        self._sftp: asyncssh.SFTPClient | None = None
        self._lock = asyncio.Lock()

    # --- the connection ----------------------------------------------------------------------

    def _options(self) -> dict[str, Any]:
        s = self.settings
        password = s.password.get_secret_value()
        return {
            "host": s.host, "port": s.port, "username": s.username or None,
            "password": password or None,
            "client_keys": [s.private_key_file] if s.private_key_file else None,
            "known_hosts": s.known_hosts_file or None,
            "agent_path": None, "config": None, "connect_timeout": self.timeout,
            "keepalive_interval": 30,
        }

    async def _client(self) -> asyncssh.SFTPClient:
        """The open SFTP session, (re)connecting when there is none or it was dropped."""
        async with self._lock:
            if self._sftp is not None and self._conn is not None and not self._conn.is_closed():
                return self._sftp
            await self._drop()
            try:
                async with asyncio.timeout(self.timeout):
                    conn = await asyncssh.connect(**self._options())
                    try:
                        sftp = await conn.start_sftp_client()
                    except BaseException:
                        conn.close()
                        raise
            except (asyncssh.PermissionDenied, asyncssh.HostKeyNotVerifiable) as error:
                self.breaker.success()  # the server is up; our credentials or its key are not
                raise ConnectorRejectedError(f"{self.name}: the SFTP server refused us "
                                             f"({type(error).__name__})") from None
            except (asyncssh.Error, *_LINK_ERRORS) as error:
                self.breaker.failure()
                raise ConnectorDownError(f"{self.name}: the SFTP server could not be reached "
                                         f"({type(error).__name__})") from None
            self._conn, self._sftp = conn, sftp
            log.info("%s: SFTP session opened", self.name)
            return sftp

    async def _drop(self) -> None:
        conn, self._conn, self._sftp = self._conn, None, None
        if conn is not None:
            conn.close()
            try:
                async with asyncio.timeout(1.0):
                    await conn.wait_closed()
            except (TimeoutError, asyncssh.Error, OSError):
                pass

    async def _run(self, what: str, op: Callable[[asyncssh.SFTPClient], Awaitable[T]], *,
                   throttle: bool = True) -> T:
        """One idempotent operation, retried once on a fresh connection when the link broke."""
        self.breaker.before()
        try:
            if throttle:
                await self.bucket.acquire(max_wait=self.timeout)
            for attempt in (1, 2):
                sftp = await self._client()
                try:
                    async with asyncio.timeout(self.timeout):
                        result = await op(sftp)
                except _LINK_ERRORS as error:
                    await self._drop()
                    if attempt == 1 and not isinstance(error, TimeoutError):
                        continue
                    self.breaker.failure()
                    raise ConnectorDownError(f"{self.name}: {what} failed "
                                             f"({type(error).__name__})") from None
                except asyncssh.SFTPError as error:
                    self.breaker.failure()
                    raise ConnectorDownError(f"{self.name}: {what} failed on the server "
                                             f"({type(error).__name__})") from None
                self.breaker.success()
                return result
            raise AssertionError("unreachable")
        finally:
            self.breaker.release()

    # --- claims ------------------------------------------------------------------------------

    def prepare(self, claims: Sequence[Mapping[str, Any]], numbers: ControlNumbers,
                when: datetime | None = None) -> Prepared:
        """One 837 interchange for all ``claims`` and its file name (``batch_837.py``)."""
        batch = build_batch(claims, self.partners, numbers, prefix=self.settings.file_prefix,
                            when=when)
        return Prepared(connector=self.name, reference=batch.name, control_number=batch.isa13,
                        documents=(batch.text.encode(),), pcns=batch.pcns, sets=batch.sets)

    def _inbound(self, name: str) -> str:
        return posixpath.join(self.settings.inbound_dir, name)

    async def send(self, prepared: Prepared) -> list[Inbound]:
        """Upload under a temporary name, then rename it to the final one (atomic)."""
        final = self._inbound(prepared.reference)
        part = final + ".part"
        data = b"".join(prepared.documents)
        self.breaker.before()
        try:
            await self.bucket.acquire(max_wait=self.timeout)
            sftp = await self._client()
            renaming = False
            try:
                async with asyncio.timeout(self.timeout):
                    async with sftp.open(part, "wb") as handle:
                        await handle.write(data)
                    renaming = True
                    await self._rename(sftp, part, final)
            except (asyncssh.Error, *_LINK_ERRORS) as error:
                if isinstance(error, _LINK_ERRORS):
                    await self._drop()
                self.breaker.failure()
                kind = type(error).__name__
                if renaming:
                    raise DeliveryUnknownError(f"{self.name}: the rename of {prepared.reference} "
                                               f"did not complete ({kind})") from None
                raise ConnectorDownError(f"{self.name}: the upload of {prepared.reference} "
                                         f"failed ({kind})") from None
            self.breaker.success()
        finally:
            self.breaker.release()
        log.info("%s: uploaded %s (%d claims, %d bytes)", self.name, prepared.reference,
                 len(prepared.pcns), len(data))
        return []

    @staticmethod
    async def _rename(sftp: asyncssh.SFTPClient, source: str, target: str) -> None:
        try:
            await sftp.posix_rename(source, target)
        except asyncssh.SFTPOpUnsupported:
            await sftp.rename(source, target)

    async def delivered(self, prepared: Prepared) -> bool | None:
        """True when the file is in the inbound folder or the clearinghouse archived it;
        False when only its ``.part`` is there (the rename never happened); else None (it may
        have been picked up and removed: wait for the TA1/999)."""
        name = prepared.reference
        folders = [self.settings.inbound_dir, CLEARINGHOUSE_ARCHIVE]
        if self.settings.archive_dir:
            folders.append(self.settings.archive_dir)

        async def look(sftp: asyncssh.SFTPClient) -> bool | None:
            for folder in dict.fromkeys(folders):
                if await sftp.exists(posixpath.join(folder, name)):
                    return True
            if await sftp.exists(self._inbound(name) + ".part"):
                return False
            return None

        return await self._run("delivery check", look)

    # --- outbound folder ---------------------------------------------------------------------

    async def poll(self) -> list[Inbound]:
        """The finished files of the outbound folder, oldest first."""
        folder = self.settings.outbound_dir

        async def listing(sftp: asyncssh.SFTPClient) -> list[asyncssh.SFTPName]:
            return list(await sftp.readdir(folder))

        names = [entry for entry in await self._run("listing", listing)
                 if isinstance(entry.filename, str)
                 and not entry.filename.startswith(".")
                 and not entry.filename.endswith(_IN_PROGRESS)
                 and entry.attrs.type == asyncssh.FILEXFER_TYPE_REGULAR]
        names.sort(key=lambda e: (e.attrs.mtime or 0, str(e.filename)))
        out: list[Inbound] = []
        for entry in names[:MAX_FILES]:
            filename = str(entry.filename)
            path = posixpath.join(folder, filename)

            async def read(sftp: asyncssh.SFTPClient, path: str = path) -> bytes | None:
                try:
                    async with sftp.open(path, "rb") as handle:
                        data = await handle.read()
                except asyncssh.SFTPNoSuchFile:
                    return None  # settled by someone else meanwhile
                return data if isinstance(data, bytes) else str(data).encode()

            data = await self._run("download", read, throttle=False)
            if data is None:
                continue
            received = (datetime.fromtimestamp(entry.attrs.mtime, UTC)
                        if entry.attrs.mtime else datetime.now(UTC))
            out.append(Inbound(connector=self.name, name=filename,
                               x12=data.decode("utf-8", errors="replace"), received=received))
        log.info("%s: %d files fetched from %s", self.name, len(out), folder)
        return out

    async def settle(self, document: Inbound) -> None:
        """Delete the fetched file, or move it to ``archive_dir``; gone already is fine."""
        source = posixpath.join(self.settings.outbound_dir, document.name)
        archive = self.settings.archive_dir

        async def settle(sftp: asyncssh.SFTPClient) -> None:
            try:
                if archive:
                    await self._rename(sftp, source, posixpath.join(archive, document.name))
                else:
                    await sftp.remove(source)
            except asyncssh.SFTPNoSuchFile:
                pass

        await self._run("settle", settle)

    # --- real time ---------------------------------------------------------------------------

    async def eligibility(self, request: Mapping[str, Any], numbers: ControlNumbers) -> Inbound:
        raise ConnectorRejectedError(f"{self.name}: real-time eligibility (270/271) is not "
                                     "offered over SFTP; use a REST connector")

    async def claim_status(self, claim: Mapping[str, Any], numbers: ControlNumbers) -> Inbound:
        raise ConnectorRejectedError(f"{self.name}: real-time claim status (276/277) is not "
                                     "offered over SFTP; use a REST connector")

    async def close(self) -> None:
        async with self._lock:
            await self._drop()
