"""277CA -> ClaimResponse per claim; 999 -> a verdict per transaction set."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mappers.fhir_x12.acknowledgments import claim_acknowledgments, set_acceptances
from mappers.x12 import CountingControlNumbers, acknowledgments, parse, validate
from server.fhir.json_codec import dumps, loads
from server.fhir.validation import validate_resource
from tests.api.fhir_client import strict_model

FIXTURES = Path(__file__).resolve().parents[1] / "x12" / "fixtures"


def _responses() -> list[dict]:  # type: ignore[type-arg]
    sets, report = parse((FIXTURES / "277ca_mixed.x12").read_text())
    assert report.valid
    return claim_acknowledgments(sets[0])


def test_accepted_and_rejected_claims() -> None:
    accepted, rejected = _responses()
    assert accepted["request"]["identifier"]["value"] == "PCN-1001"
    assert accepted["outcome"] == "queued" and "error" not in accepted
    assert [i["value"] for i in accepted["identifier"]] == ["BATCH0001/PCN-1001/1",
                                                            "PAYERCTRL0001"]
    assert rejected["request"]["identifier"]["value"] == "PCN-1002"
    assert rejected["outcome"] == "error"
    codes = [c["code"] for c in rejected["error"][0]["code"]["coding"]]
    assert codes == ["A7", "254"]
    assert rejected["processNote"][0]["text"].startswith("PRINCIPAL DIAGNOSIS M545")
    assert rejected["requestor"]["identifier"]["value"] == "1234567893"


def test_claim_responses_are_valid_r4() -> None:
    for response in _responses():
        validate_resource(loads(dumps(response)), model_check=True)
        strict_model(json.loads(dumps(response)))


def test_999_verdicts_per_set() -> None:
    text = (FIXTURES / "837p_two_claims.x12").read_text()
    good = acknowledgments(validate(text), CountingControlNumbers())
    bad = acknowledgments(validate(text.replace("SBR*P*", "SBR*Q*")), CountingControlNumbers())
    verdicts = []
    for ack in (good, bad):
        sets, _ = parse(ack)
        verdicts += [v for ts in sets if ts.guide == "005010X231A1" for v in set_acceptances(ts)]
    assert [(v.transaction, v.control_number, v.accepted, v.code) for v in verdicts] == [
        ("837", "0001", True, "A"), ("837", "0001", False, "R")]
    assert verdicts[1].group_control_number == "101"
    assert verdicts[1].reasons == ["segment SBR at 13: Segment has data element errors",
                                   "  element 1: Invalid code value"]


def test_wrong_transaction_is_refused() -> None:
    sets, _ = parse((FIXTURES / "835_three_claims.x12").read_text())
    with pytest.raises(ValueError):
        claim_acknowledgments(sets[0])
    with pytest.raises(ValueError):
        set_acceptances(sets[0])
