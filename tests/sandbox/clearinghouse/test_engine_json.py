"""CHC professional claims v3 through the engine: submission, validation, Idempotency-Key,
and the mailbox reports (277CA, 835) as X12 and as report JSON."""

from __future__ import annotations

from typing import Any

from mappers.x12.balancing import check_835
from tests.sandbox.clearinghouse.engine_inputs import (
    SUBMITTER,
    json_claim,
    new_engine,
    pyx12_verdict,
    read_valid,
    resources,
    segments,
)


def test_accepted_submission_answers_success_with_reports() -> None:
    engine = new_engine()
    status, body, files = engine.submit_claim_json(json_claim("PCN-J1"), SUBMITTER, None)
    assert status == 200
    assert body["status"] == "SUCCESS" and body["httpStatusCode"] == "200 OK"
    ref = body["claimReference"]
    assert ref["patientControlNumber"] == "PCN-J1"
    assert ref["serviceLines"] == [{"lineItemControlNumber": "PCN-J1-1"}]
    assert body["meta"]["applicationMode"] == "sandbox"
    assert body["payer"] == {"payerName": "EXTRA HEALTHY INSURANCE", "payerID": "9496"}
    assert [f.kind for f in files] == ["277CA", "835"]
    assert body["x12"] == files[0].content
    for f in files:
        assert pyx12_verdict(f.content)[0], f.kind
    ca = read_valid(files[0].content)[0]
    assert [t.get(2) for t in segments(ca, "TRN") if t.get(1) == "2"] == ["555123", "PCN-J1"]
    remit = read_valid(files[1].content)[0]
    assert check_835(remit) == []
    assert [r.get(2) for r in segments(remit, "REF") if r.get(1) == "6R"] == ["PCN-J1-1"]
    # 90837 allows 120.00 > 109.20 charged: allowed as charged, 20 % coinsurance.
    assert segments(remit, "CLP")[0].elements[1:6] == ["PCN-J1", "1", "109.2", "87.36",
                                                      "21.84"]
    eob = next(r for r in resources(files[1].content)
               if r["resourceType"] == "ExplanationOfBenefit")
    assert eob["claim"]["identifier"]["value"] == "PCN-J1"
    assert engine.ledger.claim_counts() == {"FACADE|PCN-J1": 1}


def test_failed_edits_answer_400_and_make_no_reports() -> None:
    engine = new_engine()
    cases: dict[str, dict[str, Any]] = {
        "500": json_claim("PCN-Z", zip_code="12345"),
        "178": json_claim("PCN-C", charge="100"),
        "481": json_claim("PCN-L", lines=[("99213", "10")] * 51),
        "562": json_claim("PCN-N", npi="1999999980"),
    }
    for code, claim in cases.items():
        status, body, files = engine.submit_claim_json(claim, SUBMITTER, None)
        assert status == 400, code
        assert body["status"] == "ERROR" and files == []
        assert [e["code"] for e in body["errors"]] == [code]
        assert body["errors"][0]["followupAction"]
    assert engine.ledger.claim_counts() == {f"FACADE|PCN-{x}": 1 for x in "ZCLN"}


def test_unreadable_body_is_400_and_not_counted() -> None:
    engine = new_engine()
    claim = json_claim("PCN-U")
    del claim["billing"]
    claim["claimInformation"]["claimChargeAmount"] = "lots"
    status, body, files = engine.submit_claim_json(claim, SUBMITTER, None)
    assert status == 400 and files == []
    assert {e["field"] for e in body["errors"]} == {"billing",
                                                    "claimInformation.claimChargeAmount"}
    assert engine.submit_claim_json(["not", "an", "object"], SUBMITTER, None)[0] == 400
    assert engine.ledger.claim_counts() == {}


def test_idempotency_key_replays_the_first_answer() -> None:
    engine = new_engine()
    claim = json_claim("PCN-I1")
    first = engine.submit_claim_json(claim, SUBMITTER, "key-1")
    again = engine.submit_claim_json(claim, SUBMITTER, "key-1")
    assert first[0] == again[0] == 200
    assert again[1] == first[1] and again[2] == []
    other = engine.submit_claim_json(json_claim("PCN-I2"), SUBMITTER, "key-1")
    assert other[0] == 422 and other[2] == []
    assert engine.ledger.claim_counts() == {"FACADE|PCN-I1": 1}
    assert engine.submit_claim_json(claim, SUBMITTER, "key-2")[0] == 200
    assert engine.ledger.claim_counts() == {"FACADE|PCN-I1": 2}


def test_validation_edits_without_recording() -> None:
    engine = new_engine()
    assert engine.validate_claim_json(json_claim("PCN-V1"), SUBMITTER)[0] == 200
    status, body = engine.validate_claim_json(json_claim("PCN-V2", zip_code="12345"), SUBMITTER)
    assert status == 400 and body["errors"][0]["field"] == "billing.address.postalCode"
    assert engine.ledger.claim_counts() == {}


def test_report_json_for_277ca_and_835() -> None:
    engine = new_engine()
    _, _, files = engine.submit_claim_json(
        json_claim("PCN-R1", lines=[("99213", "100"), ("99999", "50")]), SUBMITTER, None)
    ack = engine.report_json(files[0])
    (transaction,) = ack["transactions"]
    (payer,) = transaction["payers"]
    assert payer["payerIdentification"] == "9496"
    claims = payer["claimStatusTransactions"][0]["claimStatusDetails"][0][
        "patientClaimStatusDetails"][0]["claims"]
    status = claims[0]["claimStatus"]
    assert status["patientAccountNumber"] == "PCN-R1"
    assert status["tradingPartnerClaimNumber"].startswith("PCC")
    assert status["informationClaimStatuses"][0]["informationStatuses"] == [
        {"healthCareClaimStatusCategoryCode": "A2", "statusCode": "20"}]

    remit = engine.report_json(files[1])
    (transaction,) = remit["transactions"]
    assert transaction["financialInformation"]["totalActualProviderPaymentAmount"] == "60"
    info = transaction["detailInfo"][0]["paymentInfo"][0]
    assert info["claimPaymentInfo"]["patientControlNumber"] == "PCN-R1"
    assert info["claimPaymentInfo"]["payerClaimControlNumber"] == status[
        "tradingPartnerClaimNumber"]
    lines = info["serviceLines"]
    assert [ln["lineItemControlNumber"] for ln in lines] == ["PCN-R1-1", "PCN-R1-2"]
    assert lines[1]["serviceAdjustments"] == [{"claimAdjustmentGroupCode": "CO",
                                               "adjustmentReasonCode1": "96",
                                               "adjustmentAmount1": "50"}]
    assert lines[1]["healthCareCheckRemarkCodes"] == [{"codeListQualifierCode": "HE",
                                                       "remarkCode": "N130"}]
