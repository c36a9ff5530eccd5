"""What the sandbox clearinghouse has seen: interchanges per sender (a repeated ISA13 is a TA1
TA105 025, CLEARINGHOUSES.md section 5.1), every claim received (the reliability tests count
them), the outcome of each claim (claim status inquiries answer from it, X212 2200D) and Stedi
``Idempotency-Key`` records (CLEARINGHOUSES.md section 6).

One SQLite database: a file (survives restarts, so control numbers are never reused) or in
memory (``path=None``); one connection behind a lock, so any thread may call it.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

__all__ = ["ClaimOutcome", "IdempotencyRecord", "Ledger", "LedgerNumbers", "OutcomeLine"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS interchanges (
    sender_id TEXT NOT NULL, isa13 TEXT NOT NULL, filename TEXT NOT NULL, received REAL NOT NULL,
    PRIMARY KEY (sender_id, isa13));
CREATE TABLE IF NOT EXISTS claims (
    id INTEGER PRIMARY KEY AUTOINCREMENT, sender_id TEXT NOT NULL, pcn TEXT NOT NULL,
    channel TEXT NOT NULL, source TEXT NOT NULL, received REAL NOT NULL);
CREATE INDEX IF NOT EXISTS claims_by_key ON claims (sender_id, pcn);
CREATE TABLE IF NOT EXISTS outcomes (
    id INTEGER PRIMARY KEY AUTOINCREMENT, sender_id TEXT NOT NULL, pcn TEXT NOT NULL,
    payer_id TEXT NOT NULL, member_id TEXT NOT NULL, payer_claim_number TEXT NOT NULL,
    trace TEXT NOT NULL, category TEXT NOT NULL, status_code TEXT NOT NULL,
    entity TEXT NOT NULL, charge TEXT NOT NULL, paid TEXT NOT NULL,
    patient_responsibility TEXT NOT NULL, service_from TEXT NOT NULL, service_to TEXT NOT NULL,
    check_number TEXT NOT NULL, decided TEXT NOT NULL, lines TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS outcomes_by_pcn ON outcomes (pcn);
CREATE INDEX IF NOT EXISTS outcomes_by_payer_claim ON outcomes (payer_claim_number);
CREATE TABLE IF NOT EXISTS idempotency (
    submitter TEXT NOT NULL, key TEXT NOT NULL, body_hash TEXT NOT NULL, status INTEGER NOT NULL,
    response TEXT NOT NULL, created REAL NOT NULL, PRIMARY KEY (submitter, key));
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""

IDEMPOTENCY_WINDOW = 24 * 3600.0
"""Stedi keeps an Idempotency-Key for 24 hours (CLEARINGHOUSES.md section 2, Stedi)."""


@dataclass(frozen=True, slots=True)
class OutcomeLine:
    """A service line as a claim status answers it (X212 2220D SVC, REF*FJ, DTP*472)."""

    procedure: str
    """The SVC01 composite (HC:code:modifiers)."""
    control_number: str
    charge: Decimal
    paid: Decimal
    service_date: str
    units: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class ClaimOutcome:
    """Where a claim ended up: rejected at the front end (A3/A6/A7) or adjudicated (F1/F2),
    as a 277 claim status answers it (X212 2200D STC, REF*1K, REF*D9)."""

    sender_id: str
    pcn: str
    payer_id: str
    member_id: str
    payer_claim_number: str
    trace: str
    category: str
    status_code: str
    entity: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    service_from: str
    service_to: str
    check_number: str = ""
    decided: str = ""
    """CCYYMMDD the clearinghouse decided (STC02)."""
    lines: tuple[OutcomeLine, ...] = ()


@dataclass(frozen=True, slots=True)
class IdempotencyRecord:
    body_hash: str
    status: int
    response: dict[str, Any]


class Ledger:
    """The clearinghouse's memory (thread-safe)."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        target = ":memory:" if path is None else str(path)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(target, check_same_thread=False, isolation_level=None)
        self._lock = threading.RLock()
        with self._lock:
            if path is not None:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.executescript(_SCHEMA)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    # -- interchanges --------------------------------------------------------------------

    def interchange_seen(self, sender_id: str, isa13: str) -> bool:
        """Whether this sender already sent an interchange with this ISA13."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM interchanges WHERE sender_id = ? AND isa13 = ?",
                (sender_id, isa13)).fetchone()
        return row is not None

    def record_interchange(self, sender_id: str, isa13: str, filename: str = "") -> bool:
        """Note an interchange as processed; False (and nothing changed) when this sender's
        ISA13 was seen before: the caller answers TA105 025."""
        with self._lock:
            cur = self._db.execute(
                "INSERT OR IGNORE INTO interchanges VALUES (?, ?, ?, ?)",
                (sender_id, isa13, filename, time.time()))
        return cur.rowcount == 1

    # -- claims --------------------------------------------------------------------------

    def record_claims(self, sender_id: str, pcns: Iterable[str], channel: str,
                      source: str = "") -> None:
        """Count claims received (``channel`` sftp|rest, ``source`` the file or request)."""
        now = time.time()
        rows = [(sender_id, pcn, channel, source, now) for pcn in pcns]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO claims (sender_id, pcn, channel, source, received) "
                "VALUES (?, ?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")

    def claim_counts(self) -> dict[str, int]:
        """``"sender_id|pcn"`` -> how many times a claim with that CLM01 was received."""
        with self._lock:
            rows = self._db.execute(
                "SELECT sender_id, pcn, COUNT(*) FROM claims GROUP BY sender_id, pcn").fetchall()
        return {f"{sender}|{pcn}": n for sender, pcn, n in rows}

    def claims_received(self) -> int:
        with self._lock:
            row = self._db.execute("SELECT COUNT(*) FROM claims").fetchone()
        return int(row[0])

    # -- outcomes ------------------------------------------------------------------------

    def record_outcomes(self, outcomes: Iterable[ClaimOutcome]) -> None:
        rows = [(o.sender_id, o.pcn, o.payer_id, o.member_id, o.payer_claim_number, o.trace,
                 o.category, o.status_code, o.entity, str(o.charge), str(o.paid),
                 str(o.patient_responsibility), o.service_from, o.service_to, o.check_number,
                 o.decided, json.dumps([[ln.procedure, ln.control_number, str(ln.charge),
                                         str(ln.paid), ln.service_date, str(ln.units)]
                                        for ln in o.lines]))
                for o in outcomes]
        with self._lock:
            self._db.execute("BEGIN")
            self._db.executemany(
                "INSERT INTO outcomes (sender_id, pcn, payer_id, member_id, payer_claim_number,"
                " trace, category, status_code, entity, charge, paid, patient_responsibility,"
                " service_from, service_to, check_number, decided, lines)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
            self._db.execute("COMMIT")

    def find_outcome(self, *, pcn: str = "", payer_claim_number: str = "", payer_id: str = "",
                     member_id: str = "") -> ClaimOutcome | None:
        """The latest outcome of the claim with this payer claim number (REF*1K), else with
        this patient control number (REF*EJ / TRN02) for this payer and member."""
        query = ("SELECT sender_id, pcn, payer_id, member_id, payer_claim_number, trace,"
                 " category, status_code, entity, charge, paid, patient_responsibility,"
                 " service_from, service_to, check_number, decided, lines FROM outcomes")
        if payer_claim_number:
            where, args = " WHERE payer_claim_number = ?", [payer_claim_number]
        elif pcn:
            where, args = " WHERE pcn = ?", [pcn]
            if payer_id:
                where += " AND payer_id = ?"
                args.append(payer_id)
            if member_id:
                where += " AND member_id = ?"
                args.append(member_id)
        else:
            return None
        with self._lock:
            row = self._db.execute(query + where + " ORDER BY id DESC LIMIT 1", args).fetchone()
        if row is None:
            return None
        lines = tuple(OutcomeLine(p, c, Decimal(ch), Decimal(pd), d, Decimal(u))
                      for p, c, ch, pd, d, u in json.loads(row[16]))
        return ClaimOutcome(
            sender_id=row[0], pcn=row[1], payer_id=row[2], member_id=row[3],
            payer_claim_number=row[4], trace=row[5], category=row[6], status_code=row[7],
            entity=row[8], charge=Decimal(row[9]), paid=Decimal(row[10]),
            patient_responsibility=Decimal(row[11]), service_from=row[12], service_to=row[13],
            check_number=row[14], decided=row[15], lines=lines)

    # -- idempotency ---------------------------------------------------------------------

    def idempotent(self, submitter: str, key: str) -> IdempotencyRecord | None:
        """The answer first given to this submitter's ``Idempotency-Key`` (within 24 h)."""
        with self._lock:
            row = self._db.execute(
                "SELECT body_hash, status, response, created FROM idempotency"
                " WHERE submitter = ? AND key = ?", (submitter, key)).fetchone()
        if row is None or row[3] < time.time() - IDEMPOTENCY_WINDOW:
            return None
        return IdempotencyRecord(row[0], int(row[1]), json.loads(row[2]))

    def remember(self, submitter: str, key: str, body_hash: str, status: int,
                 response: dict[str, Any]) -> None:
        with self._lock:
            self._db.execute(
                "INSERT OR REPLACE INTO idempotency VALUES (?, ?, ?, ?, ?, ?)",
                (submitter, key, body_hash, status, json.dumps(response), time.time()))

    # -- counters ------------------------------------------------------------------------

    def take(self, name: str, n: int = 1) -> int:
        """Reserve ``n`` consecutive numbers of counter ``name``; the first one (from 1)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            row = self._db.execute("SELECT value FROM counters WHERE name = ?",
                                   (name,)).fetchone()
            first = (row[0] if row else 0) + 1
            self._db.execute("INSERT OR REPLACE INTO counters VALUES (?, ?)",
                             (name, first + n - 1))
            self._db.execute("COMMIT")
        return first


class LedgerNumbers:
    """Durable ISA13/GS06/ST02 for what the clearinghouse writes (``mappers.x12.writer``
    ``ControlNumbers``): never reused, wrapping below 10^9 (X12.5 ISA13)."""

    def __init__(self, ledger: Ledger, prefix: str = "out") -> None:
        self._ledger = ledger
        self._prefix = prefix

    def next(self, kind: str) -> int:
        n = self._ledger.take(f"{self._prefix}:{kind}")
        return (n - 1) % 999_999_999 + 1
