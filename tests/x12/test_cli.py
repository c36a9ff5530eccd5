"""``facade x12 validate`` and ``facade x12 inspect`` as a user runs them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from tests.x12.conftest import FIXTURES


def _facade(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True,
                          text=True, timeout=60, cwd=Path(__file__).resolve().parents[2])


def test_validate_valid_file_writes_its_999(tmp_path: Path) -> None:
    ack = tmp_path / "out.999"
    done = _facade("x12", "validate", str(FIXTURES / "837p_two_claims.x12"), "--ack", str(ack))
    assert done.returncode == 0, done.stderr
    assert "valid (1 interchange(s), 1 transaction set(s))" in done.stdout
    text = ack.read_text()
    assert "AK9*A*1*1*1~" in text and "IK5*A~" in text


def test_validate_invalid_file_exit_1_and_json(tmp_path: Path) -> None:
    bad = tmp_path / "bad.x12"
    bad.write_text((FIXTURES / "835_three_claims.x12").read_text().replace("SE*43*", "SE*44*"))
    human = _facade("x12", "validate", str(bad))
    assert human.returncode == 1
    assert "IK5 4 Number of included segments does not match actual count" in human.stdout
    machine = _facade("x12", "validate", str(bad), "--json")
    assert machine.returncode == 1
    doc = json.loads(machine.stdout)
    assert doc["valid"] is False
    ts = doc["interchanges"][0]["groups"][0]["transaction_sets"][0]
    assert ts["codes"] == [{"code": "4",
                            "message": "Number of included segments does not match actual count"}]


def test_validate_missing_file() -> None:
    done = _facade("x12", "validate", "/nonexistent/file.x12")
    assert done.returncode == 2 and "no such file" in done.stderr


def test_inspect_prints_the_loop_tree() -> None:
    done = _facade("x12", "inspect", str(FIXTURES / "835_three_claims.x12"))
    assert done.returncode == 0, done.stderr
    doc = json.loads(done.stdout)
    ts = doc["transaction_sets"][0]
    assert ts["guide"] == "005010X221A1" and ts["accepted"] is True

    def loops(node: dict, found: list[str]) -> list[str]:  # type: ignore[type-arg]
        if "loop" in node:
            found.append(node["loop"])
            for child in node["children"]:
                loops(child, found)
        return found

    ids = loops(ts["tree"], [])
    assert ids.count("2100") == 3 and ids.count("2110") == 3 and "1000A" in ids
    clp = [c for c in _segments(ts["tree"]) if c["segment"] == "CLP"]
    assert clp[0]["elements"]["CLP01"] == "PCN-1001"
    svc = next(c for c in _segments(ts["tree"]) if c["segment"] == "SVC")
    assert svc["elements"]["SVC01"] == {"SVC01-1": "HC", "SVC01-2": "99214", "SVC01-3": "25"}


def _segments(node: dict) -> list[dict]:  # type: ignore[type-arg]
    if "segment" in node:
        return [node]
    out = []
    for child in node["children"]:
        out.extend(_segments(child))
    return out


def test_acknowledgment_control_numbers(tmp_path: Path) -> None:
    ack = tmp_path / "out.999"
    fixture = str(FIXTURES / "837p_two_claims.x12")
    done = _facade("x12", "validate", fixture, "--ack", str(ack), "--control-number", "500")
    assert done.returncode == 0
    assert "*00501*000000500*" in ack.read_text()
    _facade("x12", "validate", fixture, "--ack", str(ack))
    assert "*00501*000000001*" not in ack.read_text()  # from the clock, not from 1 again


def test_inspect_fails_on_a_rejected_envelope(tmp_path: Path) -> None:
    bad = tmp_path / "bad.x12"
    text = (FIXTURES / "835_three_claims.x12").read_text()
    bad.write_text(text.replace("IEA*1*000000202", "IEA*1*000000203"))
    assert _facade("x12", "inspect", str(bad)).returncode == 1
    orphan = tmp_path / "orphan.x12"
    lines = text.split("~\n")
    orphan.write_text("~\n".join(line for line in lines if not line.startswith(("GS", "GE"))))
    done = _facade("x12", "inspect", str(orphan))
    assert done.returncode == 1 and "Traceback" not in done.stderr


def test_to_fhir_maps_a_remittance_and_an_acknowledgment() -> None:
    done = _facade("x12", "to-fhir", str(FIXTURES / "835_three_claims.x12"))
    assert done.returncode == 0, done.stderr
    bundle = json.loads(done.stdout)
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert bundle["type"] == "transaction"
    assert kinds.count("ExplanationOfBenefit") == 3 and kinds[0] == "PaymentReconciliation"
    assert '"value": 213.50' in done.stdout  # amounts keep their text
    ack = json.loads(_facade("x12", "to-fhir", str(FIXTURES / "277ca_mixed.x12")).stdout)
    assert [e["resource"]["outcome"] for e in ack["entry"]] == ["queued", "error"]


def test_to_fhir_maps_claims() -> None:
    done = _facade("x12", "to-fhir", str(FIXTURES / "837p_two_claims.x12"))
    assert done.returncode == 0, done.stderr
    kinds = [e["resource"]["resourceType"] for e in json.loads(done.stdout)["entry"]]
    assert kinds.count("Claim") == 2


def test_to_fhir_refuses_what_it_cannot_map(tmp_path: Path) -> None:
    ack = tmp_path / "ack.999"
    _facade("x12", "validate", str(FIXTURES / "837p_two_claims.x12"), "--ack", str(ack))
    done = _facade("x12", "to-fhir", str(ack))
    assert done.returncode == 1 and "has no FHIR mapping" in done.stderr
