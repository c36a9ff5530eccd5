"""``facade fhir to-x12`` and ``facade x12 to-fhir`` as a user runs them: every outbound
transaction from a FHIR Bundle file, every inbound one to a transaction Bundle, and gaps or bad
input as an OperationOutcome with exit status 1."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from mappers.x12 import validate
from server.fhir.json_codec import dumps
from tests.mappers.claim_bundles import institutional_bundle, professional_bundle

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).resolve().parent / "fixtures"


def _facade(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "server.cli", *args], capture_output=True,
                          text=True, timeout=60, cwd=ROOT)


@pytest.fixture
def claim_files(tmp_path: Path) -> dict[str, Path]:
    files = {}
    for name, bundle in (("837P", professional_bundle()), ("837I", institutional_bundle())):
        path = tmp_path / f"{name}.json"
        path.write_bytes(dumps(bundle))
        files[name] = path
    files["270"] = FIXTURES / "eligibility_request_subscriber.json"
    files["276"] = FIXTURES / "claim_status_claim_bundle.json"
    files["278"] = FIXTURES / "pas_request_bundle.json"
    return files


@pytest.mark.parametrize("transaction", ["837P", "837I", "270", "276", "278"])
def test_to_x12_writes_a_valid_interchange(transaction: str, claim_files: dict[str, Path]
                                           ) -> None:
    done = _facade("fhir", "to-x12", "--transaction", transaction, "--control-number", "41",
                   str(claim_files[transaction]))
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.startswith("ISA*") and "*000000041*" in done.stdout
    assert validate(done.stdout).valid
    st01 = transaction[:3]
    assert f"~\nST*{st01}*" in done.stdout


def test_to_x12_gaps_are_an_operation_outcome(tmp_path: Path) -> None:
    bundle = professional_bundle()
    bundle["entry"][2]["resource"].pop("subscriberId")
    path = tmp_path / "claim.json"
    path.write_bytes(dumps(bundle))
    done = _facade("fhir", "to-x12", "--transaction", "837P", str(path))
    assert done.returncode == 1
    outcome = json.loads(done.stdout)
    assert outcome["resourceType"] == "OperationOutcome"
    assert outcome["issue"][0]["expression"] == ["Claim.insurance[0].coverage.subscriberId"]
    assert outcome["issue"][0]["details"]["coding"][0]["code"] == "FAC-4001"


def test_to_x12_refuses_the_wrong_claim_type(claim_files: dict[str, Path]) -> None:
    done = _facade("fhir", "to-x12", "--transaction", "837I", str(claim_files["837P"]))
    assert done.returncode == 1
    assert json.loads(done.stdout)["issue"][0]["expression"] == ["Claim.type"]


def test_to_x12_bad_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"resourceType": "Bundle",')
    done = _facade("fhir", "to-x12", "--transaction", "270", str(path))
    assert done.returncode == 1
    assert json.loads(done.stdout)["issue"][0]["details"]["coding"][0]["code"] == "FAC-2001"
    missing = _facade("fhir", "to-x12", "--transaction", "270", str(tmp_path / "nope.json"))
    assert missing.returncode == 2


@pytest.mark.parametrize(("name", "kind"), [
    ("eligibility_271_benefits.x12", "CoverageEligibilityResponse"),
    ("claim_status_277.x12", "ClaimResponse"),
    ("pas_278_response.x12", "ClaimResponse"),
    ("c4bb_835_institutional.x12", "ExplanationOfBenefit"),
])
def test_to_fhir_maps_each_inbound_transaction(name: str, kind: str) -> None:
    done = _facade("x12", "to-fhir", str(FIXTURES / name))
    assert done.returncode == 0, done.stderr
    bundle = json.loads(done.stdout)
    assert bundle["type"] == "transaction"
    assert kind in {e["resource"]["resourceType"] for e in bundle["entry"]}


def test_round_trip_through_the_command_line(tmp_path: Path,
                                             claim_files: dict[str, Path]) -> None:
    x12 = tmp_path / "claims.837"
    x12.write_text(_facade("fhir", "to-x12", "--transaction", "837P",
                           str(claim_files["837P"])).stdout)
    bundle = json.loads(_facade("x12", "to-fhir", str(x12)).stdout)
    claim = bundle["entry"][0]["resource"]
    assert claim["resourceType"] == "Claim"
    assert claim["identifier"][0]["value"] == "PCN-2026-0001"
    assert claim["total"]["value"] == 192.5
