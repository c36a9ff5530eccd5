"""The sandbox clearinghouse's SFTP server (asyncssh): password (or the account's public key)
authentication, each account chrooted to ``<root>/<username>/`` with ``inbound/``,
``outbound/`` and ``archive/`` (CLEARINGHOUSES.md section 5, "Folders"; Office Ally and Stedi
SFTP conventions).

An upload is complete when a file in ``inbound/`` is closed under a final name, or renamed to
one (the ``NAME.part`` -> ``NAME`` pattern); it is then handed to the ``Inbox``. Writing is
allowed in ``inbound/`` only; partners read and delete in ``outbound/``. A file left open when a
session ends (a client killed mid-upload) is not processed.

Chaos (``chaos.py``): ``fail_next`` makes an upload fail when it is opened, or, with
``fail_after_processing``, after it has been handed over (the client sees an error on the close
or rename although the file is processed). ``stop(drop=True)`` closes the listener and drops every
session (an outage); ``start`` listens again on the same port with the same host key.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

import asyncssh

from sandbox.clearinghouse.accounts import Account, AccountBook
from sandbox.clearinghouse.chaos import Chaos
from sandbox.clearinghouse.sftp_inbox import Inbox, is_final_name

__all__ = ["SftpService"]

_log = logging.getLogger("sandbox.clearinghouse.sftp")

_WRITE_FLAGS = (asyncssh.FXF_WRITE | asyncssh.FXF_CREAT | asyncssh.FXF_TRUNC
                | asyncssh.FXF_APPEND)
_WRITE_ACCESS = asyncssh.ACE4_WRITE_DATA | asyncssh.ACE4_APPEND_DATA


class _SshServer(asyncssh.SSHServer):
    """Authentication and session bookkeeping for one connection."""

    def __init__(self, service: SftpService) -> None:
        self._service = service
        self._conn: asyncssh.SSHServerConnection | None = None

    def connection_made(self, conn: asyncssh.SSHServerConnection) -> None:
        self._conn = conn
        self._service.connections.add(conn)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._conn is not None:
            self._service.connections.discard(self._conn)

    def begin_auth(self, username: str) -> bool:
        return True

    def password_auth_supported(self) -> bool:
        return True

    def validate_password(self, username: str, password: str) -> bool:
        return self._service.accounts.by_password(username, password) is not None

    def public_key_auth_supported(self) -> bool:
        return any(a.public_keys for a in self._service.accounts)

    def validate_public_key(self, username: str, key: asyncssh.SSHKey) -> bool:
        wanted = key.export_public_key("openssh").split()[:2]
        for line in self._service.accounts.public_keys(username):
            try:
                known = asyncssh.import_public_key(line).export_public_key("openssh").split()[:2]
            except (asyncssh.KeyImportError, ValueError):
                continue
            if known == wanted:
                return True
        return False


class _PartnerSftp(asyncssh.SFTPServer):
    """One SFTP session, chrooted to the account's folder."""

    def __init__(self, chan: asyncssh.SSHServerChannel[bytes], service: SftpService) -> None:
        username = str(chan.get_extra_info("username"))
        account = service.accounts.by_username(username)
        if account is None:  # authentication lets known accounts only
            raise asyncssh.SFTPPermissionDenied("unknown account")
        self._account: Account = account
        self._service = service
        folders = service.inbox.folders(account)
        super().__init__(chan, chroot=os.fsencode(folders.home))
        self._inbound = os.path.realpath(folders.inbound)
        self._uploads: dict[int, tuple[object, str]] = {}

    # --- helpers ---------------------------------------------------------------------------

    def _local(self, path: bytes) -> str:
        return os.fsdecode(self.map_path(path))

    def _in_inbound(self, local: str) -> bool:
        return os.path.dirname(os.path.realpath(local)) == self._inbound

    def _check_upload(self, local: str) -> None:
        if not self._in_inbound(local):
            raise asyncssh.SFTPPermissionDenied("uploads go to inbound/")
        if self._service.chaos.take_failure(after_processing=False):
            raise asyncssh.SFTPFailure("upload refused (sandbox chaos: fail_next)")

    def _completed(self, local: str) -> None:
        """A file in inbound/ has its final name: hand it over (and fail afterwards if the
        chaos switch says so)."""
        name = os.path.basename(local)
        if not self._in_inbound(local) or not is_final_name(name):
            return
        self._service.inbox.submit(self._account, Path(local))
        if self._service.chaos.take_failure(after_processing=True):
            raise asyncssh.SFTPFailure("connection trouble (sandbox chaos: fail_next)")

    def _track(self, file_obj: object, local: str) -> object:
        self._uploads[id(file_obj)] = (file_obj, local)
        return file_obj

    # --- SFTP operations -------------------------------------------------------------------

    def open(self, path: bytes, pflags: int, attrs: asyncssh.SFTPAttrs) -> object:
        local = self._local(path)
        if not pflags & _WRITE_FLAGS:
            return super().open(path, pflags, attrs)
        self._check_upload(local)
        return self._track(super().open(path, pflags, attrs), local)

    def open56(self, path: bytes, desired_access: int, flags: int,
               attrs: asyncssh.SFTPAttrs) -> object:
        local = self._local(path)
        disposition = flags & asyncssh.FXF_ACCESS_DISPOSITION
        writing = desired_access & _WRITE_ACCESS or disposition != asyncssh.FXF_OPEN_EXISTING
        if not writing:
            return super().open56(path, desired_access, flags, attrs)
        self._check_upload(local)
        return self._track(super().open56(path, desired_access, flags, attrs), local)

    def close(self, file_obj: object) -> None:
        entry = self._uploads.pop(id(file_obj), None)
        super().close(file_obj)
        if entry is None:
            return
        if self.channel.is_closing():
            # The session ended with the file still open: an interrupted upload.
            _log.info("upload %s of %s interrupted; not processed", entry[1],
                      self._account.username)
            return
        self._completed(entry[1])

    def rename(self, oldpath: bytes, newpath: bytes) -> None:
        super().rename(oldpath, newpath)
        self._completed(self._local(newpath))

    def posix_rename(self, oldpath: bytes, newpath: bytes) -> None:
        super().posix_rename(oldpath, newpath)
        self._completed(self._local(newpath))

    def exit(self) -> None:
        for file_obj, _ in self._uploads.values():
            try:
                super().close(file_obj)
            except OSError:
                pass
        self._uploads.clear()


class SftpService:
    """The listener and the sessions; restartable on the same port with the same host key."""

    def __init__(self, accounts: AccountBook, inbox: Inbox, chaos: Chaos, *,
                 host: str = "127.0.0.1", port: int = 0,
                 host_key: asyncssh.SSHKey | None = None) -> None:
        self.accounts = accounts
        self.inbox = inbox
        self.chaos = chaos
        self.host = host
        self.port = port
        self.host_key = host_key or asyncssh.generate_private_key("ssh-ed25519")
        self.connections: set[asyncssh.SSHServerConnection] = set()
        self._acceptor: asyncssh.SSHAcceptor | None = None

    @property
    def listening(self) -> bool:
        return self._acceptor is not None

    async def start(self) -> None:
        if self._acceptor is not None:
            return
        self._acceptor = await asyncssh.listen(
            self.host, self.port,
            server_factory=lambda: _SshServer(self),
            sftp_factory=lambda chan: _PartnerSftp(chan, self),
            server_host_keys=[self.host_key],
            allow_scp=False,
            reuse_address=True,
            login_timeout=30,
        )
        self.port = self._acceptor.get_port()
        _log.info("SFTP listening on %s:%s", self.host, self.port)

    async def stop(self, *, drop: bool = True) -> None:
        """Stop listening; with ``drop`` also cut every open session."""
        acceptor, self._acceptor = self._acceptor, None
        if acceptor is not None:
            acceptor.close()
            await acceptor.wait_closed()
        if drop:
            for conn in list(self.connections):
                conn.abort()
            self.connections.clear()
