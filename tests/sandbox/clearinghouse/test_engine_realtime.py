"""Eligibility (270 -> 271, CHC eligibility v3) and claim status (276 -> 277, CHC claim status
v2) through the engine, fed by the facade's own 270/276 writers and read back by its 271/277
mappers. pyx12 has no 270/271 or 276/277 maps: our guide validator plus the round trip."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from mappers.fhir_x12.interchange import TradingPartners
from mappers.fhir_x12.translations import outbound
from mappers.x12.writer import CountingControlNumbers
from sandbox.clearinghouse.model import Submitter
from tests.sandbox.clearinghouse.engine_inputs import (
    SUBMITTER,
    claim_bundle,
    facade_837,
    hand_837,
    json_claim,
    new_engine,
    read_valid,
    resources,
    segments,
)

FIXTURES = Path(__file__).parents[2] / "mappers" / "fixtures"


def eligibility_request(member: str, payer: str) -> dict[str, Any]:
    bundle: dict[str, Any] = json.loads(
        (FIXTURES / "eligibility_request_subscriber.json").read_text())
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Coverage":
            resource["subscriberId"] = member
        if resource["resourceType"] == "Organization":
            resource["identifier"][0]["value"] = payer
    return bundle


def request_270(member: str, payer: str) -> bytes:
    text = outbound("270", [eligibility_request(member, payer)], TradingPartners(),
                    CountingControlNumbers())
    return text.encode()


@pytest.mark.parametrize(("member", "payer", "inforce"), [
    ("0000000001", "000045", True), ("1234567890", "000041", False),
    ("AETNA9wcSu", "60054", True)])
def test_canned_members_get_coverage(member: str, payer: str, inforce: bool) -> None:
    engine = new_engine()
    answer = engine.eligibility_x12(request_270(member, payer), SUBMITTER)
    (ts,) = read_valid(answer)
    assert ts.st.get(1) == "271"
    assert segments(ts, "TRN")[0].elements[1:] == ["2", "ELG-2026-0001", "9876500001"]
    assert segments(ts, "EB")[0].get(1) == ("1" if inforce else "6")
    (response,) = resources(answer)
    assert response["resourceType"] == "CoverageEligibilityResponse"
    assert response["insurance"][0]["inforce"] is inforce
    assert response["request"]["identifier"]["value"] == "ELG-2026-0001"


def test_unknown_member_is_aaa_75() -> None:
    answer = new_engine().eligibility_x12(request_270("WQX448120", "PRH60054"), SUBMITTER)
    (ts,) = read_valid(answer)
    assert segments(ts, "AAA")[0].elements[1:] == ["N", "", "75", "C"]
    (response,) = resources(answer)
    assert response["outcome"] == "error"


def test_realtime_envelope_for_another_clearinghouse_is_a_ta1() -> None:
    text = request_270("0000000001", "000045").decode().replace("CLEARINGHOUSE  *",
                                                                "ELSEWHERE      *")
    answer = new_engine().eligibility_x12(text.encode(), SUBMITTER)
    assert "TA1*000000001*" in answer and "*R*008~" in answer


def test_wrong_transaction_is_a_999_rejection() -> None:
    answer = new_engine().eligibility_x12(hand_837().encode(), SUBMITTER)
    (ack,) = read_valid(answer)
    assert ack.st.get(1) == "999"
    assert segments(ack, "IK5")[0].get(1) == "R"


def test_eligibility_json_with_x12() -> None:
    engine = new_engine()
    body: dict[str, Any] = {"controlNumber": "123456789", "tradingPartnerServiceId": "000050",
            "provider": {"organizationName": "provider_name", "npi": "0123456789"},
            "subscriber": {"memberId": "0000000000", "firstName": "johnone",
                           "lastName": "doeone", "dateOfBirth": "18800102", "gender": "M"},
            "encounter": {"serviceTypeCodes": ["30"]}}
    status, answer = engine.eligibility_json(body, SUBMITTER)
    assert status == 200
    assert answer["planStatus"][0]["statusCode"] == "1"
    assert {b["code"] for b in answer["benefitsInformation"]} == {"1", "A", "B", "C"}
    (response,) = resources(answer["x12"])
    assert response["insurance"][0]["inforce"] is True

    inactive = engine.eligibility_json({**body, "tradingPartnerServiceId": "000041"},
                                       SUBMITTER)[1]
    assert inactive["planStatus"][0]["statusCode"] == "6"
    unknown = copy.deepcopy(body)
    unknown["subscriber"] = {**body["subscriber"], "memberId": "999"}
    status, error = engine.eligibility_json(unknown, SUBMITTER)
    assert status == 400 and error["errors"][0]["field"] == "subscriber"
    aaa = engine.eligibility_json({**body, "tradingPartnerServiceId": "STEDI", "subscriber": {
        "memberId": "23051322", "firstName": "Bernie", "lastName": "Prohas"}}, SUBMITTER)[1]
    assert aaa["errors"][0]["code"] == "73" and "AAA*N**73*C~" in aaa["x12"]
    assert engine.eligibility_json({"subscriber": {}}, SUBMITTER)[0] == 400


def status_request(bundle: dict[str, Any]) -> bytes:
    return outbound("276", [bundle], TradingPartners(), CountingControlNumbers()).encode()


def test_claim_status_of_an_adjudicated_claim() -> None:
    engine = new_engine()
    bundle = claim_bundle("PCN-S1", [("99213", "100", "")])
    files = engine.receive_x12(facade_837([bundle]).encode(), SUBMITTER, "s")
    remit = read_valid(files[-1].content)[0]
    answer = engine.claim_status_x12(status_request(bundle), SUBMITTER)
    (ts,) = read_valid(answer)
    stc = segments(ts, "STC")[0]
    assert stc.get(1) == "F1:65" and (stc.get(4), stc.get(5)) == ("100", "60")
    assert stc.get(9) == segments(remit, "TRN")[0].get(2)
    assert [r.get(2) for r in segments(ts, "REF") if r.get(1) == "1K"] == [
        segments(remit, "CLP")[0].get(7)]
    (response,) = resources(answer)
    assert response["outcome"] == "complete"
    assert response["request"]["identifier"]["value"] == "PCN-S1"
    assert response["payment"]["amount"]["value"] == 60


def test_claim_status_of_rejected_unknown_and_magic_claims() -> None:
    engine = new_engine()
    engine.receive_x12(hand_837("PCN-S2", zip_code="97205").encode(), SUBMITTER, "z")
    rejected = claim_bundle("PCN-S2", payer_id="60054")
    rejected["entry"][2]["resource"]["subscriberId"] = "W1000200301"
    found = read_valid(engine.claim_status_x12(status_request(rejected), SUBMITTER))[0]
    assert segments(found, "STC")[0].get(1) == "A7:500:85"
    unknown = read_valid(engine.claim_status_x12(
        status_request(claim_bundle("PCN-NOPE")), SUBMITTER))[0]
    assert segments(unknown, "STC")[0].get(1) == "A4:35"
    magic = read_valid(engine.claim_status_x12(
        status_request(claim_bundle("PCN-X", payer_id="00004")), SUBMITTER))[0]
    assert segments(magic, "STC")[0].get(1) == "A7:21"
    assert [r["outcome"] for ts in (found, unknown, magic)
            for r in resources_of(ts)] == ["error", "error", "error"]


def resources_of(ts: Any) -> list[dict[str, Any]]:
    from mappers.fhir_x12.translations import inbound_resources

    found = inbound_resources(ts)
    assert found is not None
    return found


def test_claim_status_json() -> None:
    engine = new_engine()
    _, submitted, _ = engine.submit_claim_json(json_claim("PCN-CS"), SUBMITTER, None)
    body = {"controlNumber": "000000001", "tradingPartnerServiceId": "9496",
            "providers": [{"organizationName": "Therapy Associates", "npi": "1999999984",
                           "providerType": "BillingProvider"}],
            "subscriber": {"memberId": "U7777788888", "firstName": "John", "lastName": "Anon"},
            "encounter": {"beginningDateOfService": "20240101", "endDateOfService": "20240101",
                          "patientAccountNumber": "PCN-CS"}}
    status, answer = engine.claim_status_json(body, SUBMITTER)
    assert status == 200
    claim_status = answer["claims"][0]["claimStatus"]
    assert (claim_status["statusCategoryCode"], claim_status["statusCode"]) == ("F1", "65")
    assert claim_status["amountPaid"] == "87.36"
    assert claim_status["clearinghouseTraceNumber"] == submitted["claimReference"][
        "rhclaimNumber"]
    (ts,) = read_valid(answer["x12"])
    assert ts.st.get(1) == "277" and ts.guide == "005010X212"
    for payer, category in (("00001", "E1"), ("000002", "F2"), ("00003", "F1")):
        magic = engine.claim_status_json({**body, "tradingPartnerServiceId": payer},
                                         SUBMITTER)[1]
        assert magic["claims"][0]["claimStatus"]["statusCategoryCode"] == category
    assert engine.claim_status_json({}, Submitter("x", "X"))[0] == 400
