"""The whole sandbox clearinghouse in the running event loop: SFTP server, REST API, engine,
ledger, mailbox and chaos (issue 7 part 5), for ``facade sandbox`` and for tests::

    async with running_clearinghouse(tmp_path) as ch:   # ports 0: ephemeral
        ... ch.sftp_port, ch.rest_url, ch.chaos.configure(fail_next=1), ch.ledger.claim_counts()

State: the SFTP folders live under ``root``; with ``state_path`` the ledger is that SQLite file
and the REST mailbox is kept under ``root/.mailbox`` (neither reachable over SFTP), so both
survive a restart; without it they live in memory.

An outage (``chaos.configure(down_for_seconds=...)``, ``outage()`` or the admin API) stops the
REST listener (connections refused, open ones cut) and the SFTP listener (sessions dropped);
both listen again on the same ports, with the same host key, when the time is up or on
``chaos.reset()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Iterable
from pathlib import Path
from typing import Any, TypeVar

import asyncssh

from sandbox.clearinghouse.accounts import DEFAULT_ACCOUNTS, Account, AccountBook
from sandbox.clearinghouse.chaos import Chaos
from sandbox.clearinghouse.engine import Engine, EngineConfig
from sandbox.clearinghouse.ledger import Ledger
from sandbox.clearinghouse.mailbox import Mailbox
from sandbox.clearinghouse.rest import RestContext, create_clearinghouse_app
from sandbox.clearinghouse.rest_auth import TOKEN_TTL_SECONDS, TokenStore
from sandbox.clearinghouse.sftp_inbox import Inbox, UserFolders
from sandbox.clearinghouse.sftp_server import SftpService
from sandbox.http_listener import HttpListener, is_loopback

__all__ = ["ClearinghouseSandbox", "running_clearinghouse"]

_log = logging.getLogger("sandbox.clearinghouse")
_T = TypeVar("_T")


class ClearinghouseSandbox:
    """The sandbox clearinghouse; ``start()`` then ``stop()`` (or ``running_clearinghouse``)."""

    def __init__(
        self,
        root: Path,
        *,
        host: str = "127.0.0.1",
        sftp_port: int = 0,
        rest_port: int = 0,
        accounts: Iterable[Account] = DEFAULT_ACCOUNTS,
        state_path: Path | None = None,
        config: EngineConfig | None = None,
        token_ttl_seconds: float = TOKEN_TTL_SECONDS,
        concurrency: int = 4,
    ) -> None:
        if not is_loopback(host):
            raise ValueError(f"the sandbox binds loopback addresses only, not {host}")
        self.root = Path(root)
        self.host = host
        self.accounts = AccountBook(accounts)
        self.state_path = state_path
        self.config = config or EngineConfig()
        self.chaos = Chaos()
        self.tokens = TokenStore(token_ttl_seconds)
        self._ports = (sftp_port, rest_port)
        self._concurrency = concurrency
        self._ledger: Ledger | None = None
        self._engine: Engine | None = None
        self._mailbox: Mailbox | None = None
        self._inbox: Inbox | None = None
        self._sftp: SftpService | None = None
        self._rest: HttpListener | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._unsubscribe: Any = None
        self._outage_task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._down = asyncio.Event()
        self._up = asyncio.Event()

    # --- what tests and the CLI use --------------------------------------------------------

    @property
    def engine(self) -> Engine:
        return self._require(self._engine)

    @property
    def ledger(self) -> Ledger:
        return self._require(self._ledger)

    @property
    def mailbox(self) -> Mailbox:
        return self._require(self._mailbox)

    @property
    def inbox(self) -> Inbox:
        return self._require(self._inbox)

    @property
    def sftp_port(self) -> int:
        return self._require(self._sftp).port

    @property
    def rest_port(self) -> int:
        return self._require(self._rest).port

    @property
    def rest_url(self) -> str:
        return self._require(self._rest).url

    @property
    def host_key(self) -> asyncssh.SSHKey:
        return self._require(self._sftp).host_key

    def known_hosts(self) -> str:
        """An OpenSSH known_hosts line for the SFTP server (``[host]:port keytype key``)."""
        public = self.host_key.export_public_key().decode().strip()
        return f"[{self.host}]:{self.sftp_port} {public}\n"

    def folders(self, username: str = "facade") -> UserFolders:
        """The account's SFTP folders (inbound, outbound, archive) on disk."""
        account = self.accounts.by_username(username)
        if account is None:
            raise KeyError(username)
        return self.inbox.folders(account)

    @property
    def is_down(self) -> bool:
        return self._down.is_set()

    async def outage(self, seconds: float) -> None:
        """Go down for ``seconds``; returns once both listeners are closed."""
        self.chaos.configure(down_for_seconds=seconds)
        await self._down.wait()

    async def wait_up(self) -> None:
        """Return once both listeners are up (at once when there is no outage)."""
        await self._up.wait()

    async def drain(self) -> None:
        """Wait until every upload received so far has been processed."""
        await self.inbox.drain()

    # --- life cycle ------------------------------------------------------------------------

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()
        self.root.mkdir(parents=True, exist_ok=True)
        self._ledger = Ledger(self.state_path)
        self._engine = Engine(self.config, self._ledger)
        self._mailbox = Mailbox(self.root / ".mailbox" if self.state_path else None)
        self._inbox = Inbox(self.root, self._engine, self.chaos, concurrency=self._concurrency)
        for account in self.accounts:
            self._inbox.folders(account)
        recovered = self._inbox.recover(self.accounts.accounts)
        if recovered:
            _log.info("picked up %d upload(s) left by the previous run", recovered)
        ctx = RestContext(engine=self._engine, mailbox=self._mailbox, chaos=self.chaos,
                          accounts=self.accounts, tokens=self.tokens, stats=self.stats)
        self._sftp = SftpService(self.accounts, self._inbox, self.chaos, host=self.host,
                                 port=self._ports[0])
        self._rest = HttpListener(create_clearinghouse_app(ctx), self.host, self._ports[1],
                                  name="clearinghouse-rest")
        await self._sftp.start()
        try:
            await self._rest.start()
        except BaseException:
            await self._sftp.stop()
            raise
        self._unsubscribe = self.chaos.subscribe(self._chaos_changed)
        self._up.set()

    async def stop(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._outage_task is not None:
            self._outage_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._outage_task
            self._outage_task = None
        if self._rest is not None:
            await self._rest.stop()
        if self._sftp is not None:
            await self._sftp.stop(drop=True)
        if self._inbox is not None:
            await self._inbox.drain()
        if self._ledger is not None:
            self._ledger.close()
        self._up.clear()

    # --- outages ---------------------------------------------------------------------------

    def _chaos_changed(self) -> None:
        """Called by ``Chaos`` from any thread when an outage is set or lifted."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            loop.call_soon_threadsafe(self._on_chaos_change)

    def _on_chaos_change(self) -> None:
        self._wake.set()
        if self.chaos.down_remaining() > 0 and self._outage_task is None:
            self._outage_task = asyncio.get_running_loop().create_task(self._outage())

    async def _outage(self) -> None:
        rest, sftp = self._require(self._rest), self._require(self._sftp)
        try:
            self._up.clear()
            _log.warning("clearinghouse down for %.1f s (chaos)", self.chaos.down_remaining())
            await rest.stop(abrupt=True)
            await sftp.stop(drop=True)
            self._down.set()
            while (remaining := self.chaos.down_remaining()) > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), remaining)
            await sftp.start()
            await rest.start()
            _log.warning("clearinghouse back up")
        finally:
            self._down.clear()
            self._outage_task = None
            if sftp.listening and rest.listening:
                self._up.set()

    def stats(self) -> dict[str, Any]:
        inbox, mailbox, sftp = self._inbox, self._mailbox, self._sftp
        return {
            "sftp": {"processed": inbox.processed if inbox else 0,
                     "pending": inbox.pending() if inbox else 0,
                     "sessions": len(sftp.connections) if sftp else 0},
            "mailbox": mailbox.count() if mailbox else 0,
            "tokens_issued": self.tokens.issued,
        }

    @staticmethod
    def _require(value: _T | None) -> _T:
        if value is None:
            raise RuntimeError("the clearinghouse sandbox is not started")
        return value


@contextlib.asynccontextmanager
async def running_clearinghouse(
    root: Path,
    *,
    host: str = "127.0.0.1",
    sftp_port: int = 0,
    rest_port: int = 0,
    accounts: Iterable[Account] = DEFAULT_ACCOUNTS,
    state_path: Path | None = None,
    **options: Any,
) -> AsyncIterator[ClearinghouseSandbox]:
    """Start the sandbox clearinghouse for the duration of the block."""
    sandbox = ClearinghouseSandbox(root, host=host, sftp_port=sftp_port, rest_port=rest_port,
                                   accounts=accounts, state_path=state_path, **options)
    await sandbox.start()
    try:
        yield sandbox
    finally:
        await sandbox.stop()
