"""What happens to a batch file once it has arrived in a partner's ``inbound/`` folder
(CLEARINGHOUSES.md section 5: Office Ally style ``inbound/`` -> ``outbound/``; Stedi-style return
names ``{TIMESTAMP}_{UUID}_{999|TA1|277CA|835}.x12``).

Per account the SFTP root holds ``<root>/<username>/`` with ``inbound/`` (uploads), ``outbound/``
(answers for the partner to fetch and delete) and ``archive/`` (processed uploads). Outside
the partner's chroot, ``<root>/.work/<username>/`` holds ``processing/`` (an upload taken from
``inbound/`` while the engine works on it) and ``tmp/`` (answers being written, then renamed into
``outbound/`` so a partner never sees half a file).

Names ending ``.part`` or ``.tmp`` or starting with ``.`` are uploads in progress and are ignored.
A failure of the engine never stops the server: it is logged and the upload archived as
``NAME.failed``.
"""

from __future__ import annotations

import asyncio
import logging
import os
import secrets
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sandbox.clearinghouse.accounts import Account
from sandbox.clearinghouse.chaos import Chaos
from sandbox.clearinghouse.engine import Engine
from sandbox.clearinghouse.model import ResponseFile

__all__ = ["Inbox", "UserFolders", "is_final_name", "outbound_name"]

_log = logging.getLogger("sandbox.clearinghouse.sftp")

_IN_PROGRESS_SUFFIXES = (".part", ".tmp")


def is_final_name(name: str) -> bool:
    """Whether an upload under this name is complete (not ``.part``/``.tmp``/hidden)."""
    return bool(name) and not name.startswith(".") and not name.endswith(_IN_PROGRESS_SUFFIXES)


_uuid_lock = threading.Lock()
_uuid_last = 0


def _time_ordered_uuid() -> uuid.UUID:
    """A version 7 UUID (RFC 9562 section 5.7): 48-bit Unix milliseconds first, so answers
    written in order also sort in order by name; strictly increasing within the process."""
    global _uuid_last
    with _uuid_lock:
        stamp = max(time.time_ns() // 1_000_000 << 12, _uuid_last + 1)
        _uuid_last = stamp
    ms, seq = stamp >> 12, stamp & 0xFFF
    value = (ms << 80) | (0x7 << 76) | (seq << 64) | (0b10 << 62) | secrets.randbits(62)
    return uuid.UUID(int=value)


def outbound_name(kind: str, when: datetime | None = None) -> str:
    """Stedi's SFTP return name ``{YYYYmmddHHMMSS}_{uuid}_{kind}.x12`` (CLEARINGHOUSES.md
    section 5, "File naming")."""
    when = when or datetime.now(UTC)
    return f"{when:%Y%m%d%H%M%S}_{_time_ordered_uuid()}_{kind}.x12"


@dataclass(frozen=True, slots=True)
class UserFolders:
    home: Path
    inbound: Path
    outbound: Path
    archive: Path
    processing: Path
    temp: Path

    @classmethod
    def of(cls, root: Path, username: str) -> UserFolders:
        home, work = root / username, root / ".work" / username
        folders = cls(home, home / "inbound", home / "outbound", home / "archive",
                      work / "processing", work / "tmp")
        for folder in (folders.inbound, folders.outbound, folders.archive, folders.processing,
                       folders.temp):
            folder.mkdir(parents=True, exist_ok=True)
        return folders


class Inbox:
    """Processes completed uploads through ``Engine.receive_x12``, at most ``concurrency`` at a
    time, each file exactly once."""

    def __init__(self, root: Path, engine: Engine, chaos: Chaos, *, concurrency: int = 4,
                 on_processed: Callable[[str, list[Path]], None] | None = None) -> None:
        self.root = root
        self.engine = engine
        self.chaos = chaos
        self._limit = asyncio.Semaphore(concurrency)
        self._tasks: set[asyncio.Task[None]] = set()
        self._on_processed = on_processed
        self.processed = 0
        """Uploads taken through the engine (successfully or not) since start."""

    def folders(self, account: Account) -> UserFolders:
        return UserFolders.of(self.root, account.username)

    def submit(self, account: Account, path: Path) -> None:
        """Queue a completed upload in ``inbound/``. It is moved out of ``inbound/`` at once, so
        the same name can be uploaded again while it is processed."""
        folders = self.folders(account)
        if path.parent.resolve() != folders.inbound.resolve() or not is_final_name(path.name):
            return
        work = folders.processing / f"{_time_ordered_uuid().hex}_{path.name}"
        try:
            os.replace(path, work)
        except FileNotFoundError:
            return
        self._spawn(account, work, path.name)

    def recover(self, accounts: tuple[Account, ...]) -> int:
        """Pick up what a previous run left: files in ``.processing/`` and completed uploads in
        ``inbound/``. Returns how many were queued."""
        queued = 0
        for account in accounts:
            folders = self.folders(account)
            for work in sorted(folders.processing.iterdir()):
                name = work.name.split("_", 1)[-1]
                self._spawn(account, work, name)
                queued += 1
            for path in sorted(folders.inbound.iterdir()):
                if path.is_file() and is_final_name(path.name):
                    self.submit(account, path)
                    queued += 1
        return queued

    async def drain(self) -> None:
        """Wait until every queued upload has been processed."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    def pending(self) -> int:
        return len(self._tasks)

    def _spawn(self, account: Account, work: Path, name: str) -> None:
        task = asyncio.get_running_loop().create_task(self._process(account, work, name))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _process(self, account: Account, work: Path, name: str) -> None:
        folders = self.folders(account)
        async with self._limit:
            written: list[Path] = []
            failed = False
            try:
                if self.chaos.slow_seconds:
                    await asyncio.sleep(self.chaos.slow_seconds)
                content = await asyncio.to_thread(work.read_bytes)
                answers = await asyncio.to_thread(
                    self.engine.receive_x12, content, account.submitter, name)
                for answer in answers:
                    written.append(await asyncio.to_thread(self._write, folders, answer))
            except Exception:
                failed = True
                _log.exception("processing %s of %s failed", name, account.username)
            finally:
                self.processed += 1
            try:
                await asyncio.to_thread(self._archive, folders, work, name, failed)
            except OSError:
                _log.exception("archiving %s of %s failed", name, account.username)
            if self._on_processed is not None:
                self._on_processed(account.username, written)

    @staticmethod
    def _write(folders: UserFolders, answer: ResponseFile) -> Path:
        """Write an answer atomically: into ``.tmp/``, then renamed into ``outbound/``."""
        name = outbound_name(answer.kind)
        temp = folders.temp / name
        with open(temp, "wb") as out:
            out.write(answer.content.encode("utf-8"))
            out.flush()
            os.fsync(out.fileno())
        final = folders.outbound / name
        os.replace(temp, final)
        return final

    @staticmethod
    def _archive(folders: UserFolders, work: Path, name: str, failed: bool) -> None:
        base = folders.archive / (f"{name}.failed" if failed else name)
        target = base
        while True:
            # A hard link fails when the name is taken, also by an upload of the same name
            # archived at the same moment: never overwrite one with the other.
            try:
                os.link(work, target)
            except FileExistsError:
                target = base.with_name(f"{base.name}.{uuid.uuid4().hex[:8]}")
                continue
            os.unlink(work)
            return
