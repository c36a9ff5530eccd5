"""The ledger: persistent in a file, thread-safe, counting claims and remembering interchanges,
outcomes, idempotency keys and control numbers."""

from __future__ import annotations

import threading
from decimal import Decimal
from pathlib import Path

from sandbox.clearinghouse.engine import Engine, EngineConfig
from sandbox.clearinghouse.ledger import ClaimOutcome, Ledger, LedgerNumbers, OutcomeLine
from tests.sandbox.clearinghouse.engine_inputs import SUBMITTER, hand_837


def test_file_ledger_survives_a_restart(tmp_path: Path) -> None:
    path = tmp_path / "state" / "ledger.sqlite3"
    ledger = Ledger(path)
    assert ledger.record_interchange("FACADE", "000000001", "a.x12")
    assert not ledger.record_interchange("FACADE", "000000001", "b.x12")
    ledger.record_claims("FACADE", ["P1", "P2"], "sftp", "a.x12")
    numbers = LedgerNumbers(ledger)
    assert [numbers.next("ISA"), numbers.next("ISA"), numbers.next("GS")] == [1, 2, 1]
    ledger.close()

    again = Ledger(path)
    assert again.interchange_seen("FACADE", "000000001")
    assert not again.interchange_seen("OTHER", "000000001")
    assert again.claim_counts() == {"FACADE|P1": 1, "FACADE|P2": 1}
    assert LedgerNumbers(again).next("ISA") == 3
    again.close()


def test_engine_on_a_file_ledger_refuses_a_repeat_after_restart(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    first = Engine(EngineConfig(), Ledger(path))
    assert [f.kind for f in first.receive_x12(hand_837().encode(), SUBMITTER, "a")] == [
        "999", "277CA", "835"]
    first.ledger.close()
    second = Engine(EngineConfig(), Ledger(path))
    assert [f.kind for f in second.receive_x12(hand_837().encode(), SUBMITTER, "a")] == ["TA1"]
    assert second.ledger.claim_counts() == {"FACADE|PCN-H1": 1}
    second.ledger.close()


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    ledger = Ledger(tmp_path / "l.sqlite3")
    taken: list[int] = []
    lock = threading.Lock()

    def work(n: int) -> None:
        ledger.record_claims("FACADE", [f"P{n}-{i}" for i in range(50)], "sftp")
        first = ledger.take("trace", 10)
        with lock:
            taken.extend(range(first, first + 10))
        ledger.record_interchange("FACADE", f"{n:09d}")

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(ledger.claim_counts()) == 400
    assert sorted(taken) == list(range(1, 81))
    ledger.close()


def test_outcomes_are_found_by_payer_claim_number_or_pcn() -> None:
    ledger = Ledger(None)
    outcome = ClaimOutcome("FACADE", "P1", "PHP01", "M1", "PCC1", "SBX1", "F1", "65", "",
                           Decimal("100"), Decimal("60"), Decimal("15"), "20261005", "20261005",
                           "0000000001", "20261101",
                           (OutcomeLine("HC:99213", "1", Decimal("100"), Decimal("60"),
                                        "20261005", Decimal("2")),))
    ledger.record_outcomes([outcome])
    assert ledger.find_outcome(payer_claim_number="PCC1") == outcome
    assert ledger.find_outcome(pcn="P1", payer_id="PHP01", member_id="M1") == outcome
    assert ledger.find_outcome(pcn="P1", payer_id="OTHER") is None
    assert ledger.find_outcome() is None


def test_idempotency_records() -> None:
    ledger = Ledger(None)
    assert ledger.idempotent("facade", "k1") is None
    ledger.remember("facade", "k1", "hash", 200, {"status": "SUCCESS"})
    found = ledger.idempotent("facade", "k1")
    assert found is not None and found.response == {"status": "SUCCESS"}
    assert ledger.idempotent("other", "k1") is None
