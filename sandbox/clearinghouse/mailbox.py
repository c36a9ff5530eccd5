"""The CHC reports v2 mailbox (CLEARINGHOUSES.md section 2, "Reports v2"): the 277CA and 835
reports a REST submitter collects with ``GET /medicalnetwork/reports/v2``, reads with
``GET /{file}`` (raw X12 as ``report_content``) or ``/{file}/277`` and ``/{file}/835`` (JSON), and
removes with ``DELETE /{file}``.

Names are CHC's ``AAnnnnnn.XX``: a 2-character type prefix (``X3`` 277, ``R5`` 835), a 6-digit
submitter number and a rolling 2-letter extension (``AA`` .. ``ZZ``). So that names stay unique
however many reports pile up, the sandbox carries into the 6 digits when the extension wraps.

Reports are kept in memory and, when a directory is given, written through to it (one JSON file
per report, written atomically), so they survive a restart of the sandbox.
"""

from __future__ import annotations

import json
import os
import re
import string
import threading
import zlib
from pathlib import Path

from sandbox.clearinghouse.model import ResponseFile

__all__ = ["PREFIX_OF_KIND", "Mailbox"]

PREFIX_OF_KIND = {"277CA": "X3", "277": "X3", "835": "R5"}
"""Report kind -> mailbox name prefix (CLEARINGHOUSES.md section 2: ``X3`` 277, ``R5`` 835)."""

_LETTERS = string.ascii_uppercase
_EXTENSIONS = len(_LETTERS) ** 2
_NAME = re.compile(r"^(?P<prefix>[A-Z][A-Z0-9])(?P<digits>\d{6})\.(?P<ext>[A-Z]{2})$")


def _extension(index: int) -> str:
    return _LETTERS[index // 26] + _LETTERS[index % 26]


def _base_number(owner: str) -> int:
    """A stable 6-digit submitter number for an account."""
    return zlib.crc32(owner.encode()) % 1_000_000


class Mailbox:
    """Reports per account (the owner is the account's user name)."""

    def __init__(self, directory: Path | None = None) -> None:
        self._dir = directory
        self._lock = threading.Lock()
        self._reports: dict[str, dict[str, ResponseFile]] = {}
        self._next: dict[tuple[str, str], int] = {}
        if directory is not None:
            directory.mkdir(parents=True, exist_ok=True)
            self._load(directory)

    @staticmethod
    def is_name(name: str) -> bool:
        return _NAME.match(name) is not None

    def deliver(self, owner: str, report: ResponseFile) -> str | None:
        """File a report; its mailbox name, or None when the kind has no place in the mailbox
        (TA1, 999)."""
        prefix = PREFIX_OF_KIND.get(report.kind) or PREFIX_OF_KIND.get(
            report.meta.get("kind", ""))
        if prefix is None:
            return None
        with self._lock:
            box = self._reports.setdefault(owner, {})
            seq = self._next.get((owner, prefix), 0)
            while True:
                name = self._name(owner, prefix, seq)
                seq += 1
                if name not in box:
                    break
            self._next[(owner, prefix)] = seq
            filed = ResponseFile(kind=report.kind, content=report.content, name=name,
                                 meta=dict(report.meta))
            box[name] = filed
            if self._dir is not None:
                self._write(owner, filed)
        return name

    def names(self, owner: str) -> list[str]:
        """The names in the mailbox, oldest first."""
        with self._lock:
            return list(self._reports.get(owner, {}))

    def get(self, owner: str, name: str) -> ResponseFile | None:
        with self._lock:
            return self._reports.get(owner, {}).get(name)

    def delete(self, owner: str, name: str) -> bool:
        with self._lock:
            box = self._reports.get(owner, {})
            if box.pop(name, None) is None:
                return False
            if self._dir is not None:
                (self._dir / owner / f"{name}.json").unlink(missing_ok=True)
            return True

    def count(self) -> int:
        with self._lock:
            return sum(len(box) for box in self._reports.values())

    # --- naming and storage ----------------------------------------------------------------

    @staticmethod
    def _name(owner: str, prefix: str, seq: int) -> str:
        digits = (_base_number(owner) + seq // _EXTENSIONS) % 1_000_000
        return f"{prefix}{digits:06d}.{_extension(seq % _EXTENSIONS)}"

    @staticmethod
    def _seq_of(owner: str, name: str) -> int:
        m = _NAME.match(name)
        if m is None:
            return -1
        ext = m["ext"]
        carry = (int(m["digits"]) - _base_number(owner)) % 1_000_000
        return carry * _EXTENSIONS + _LETTERS.index(ext[0]) * 26 + _LETTERS.index(ext[1])

    def _write(self, owner: str, report: ResponseFile) -> None:
        assert self._dir is not None
        folder = self._dir / owner
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"{report.name}.json"
        temp = folder / f".{report.name}.json.tmp"
        temp.write_text(json.dumps({"kind": report.kind, "content": report.content,
                                    "meta": report.meta}), encoding="utf-8")
        os.replace(temp, final)

    def _load(self, directory: Path) -> None:
        for folder in sorted(p for p in directory.iterdir() if p.is_dir()):
            owner = folder.name
            found: list[tuple[int, ResponseFile]] = []
            for path in folder.glob("*.json"):
                name = path.name[: -len(".json")]
                seq = self._seq_of(owner, name)
                if seq < 0:
                    continue
                try:
                    data = json.loads(path.read_text(encoding="utf-8"))
                    found.append((seq, ResponseFile(kind=str(data["kind"]),
                                                    content=str(data["content"]), name=name,
                                                    meta=dict(data.get("meta") or {}))))
                except (OSError, ValueError, KeyError, TypeError):
                    continue
            found.sort(key=lambda item: (os.path.getmtime(folder / f"{item[1].name}.json"),
                                         item[0]))
            box = self._reports.setdefault(owner, {})
            for seq, report in found:
                box[report.name] = report
                key = (owner, report.name[:2])
                self._next[key] = max(self._next.get(key, 0), seq + 1)
