"""Claim -> 276 claim status request; 277 claim status response -> ClaimResponse (X212)."""

from __future__ import annotations

import copy
import json
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mappers.fhir_x12 import systems
from mappers.fhir_x12.claim_to_276 import VERSION, build_276, claims_to_276
from mappers.fhir_x12.gaps import MappingGapError
from mappers.fhir_x12.interchange import TradingPartners
from mappers.fhir_x12.references import BundleIndex
from mappers.fhir_x12.x277_to_fhir import (
    STATUS_RESPONSE_SYSTEM,
    claim_status_bundle,
    claim_statuses,
    outcome_of,
)
from mappers.x12 import CountingControlNumbers, Loop, TransactionSet, parse, validate
from server.fhir.json_codec import dumps, loads
from server.fhir.validation import validate_resource
from tests.api.fhir_client import strict_model
from tests.conftest import CONFORMANCE

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TR3 = CONFORMANCE / "x12" / "tr3"
WHEN = datetime(2024, 3, 25, 10, 30)

Resource = dict[str, Any]


def _bundle(name: str) -> Resource:
    found: Resource = json.loads((FIXTURES / f"claim_status_{name}_bundle.json").read_text())
    return found


def _resource(bundle: Resource, kind: str, position: int = 0) -> Resource:
    found: Resource = [e["resource"] for e in bundle["entry"]
                       if e["resource"]["resourceType"] == kind][position]
    return found


def _x12(bundles: list[Resource], lines: bool = False) -> str:
    return claims_to_276(bundles, TradingPartners(), CountingControlNumbers(1), WHEN,
                         lines=lines)


def _sets(text: str) -> list[TransactionSet]:
    report = validate(text)
    assert report.valid, (report.errors, [s.errors for i in report.interchanges
                                          for g in i.groups for s in g.sets])
    sets, _ = parse(text)
    return sets


def _one(loop: Loop, loop_id: str) -> Loop:
    found = list(loop.find(loop_id))
    assert len(found) == 1, loop_id
    return found[0]


def _elements(loop: Loop, tag: str) -> list[list[str]]:
    return [s.elements[1:] for s in loop.segments(tag)]


# --- 276 ---------------------------------------------------------------------------------


def test_276_subscriber_claim_is_valid_and_carries_the_claim() -> None:
    (ts,) = _sets(_x12([_bundle("claim")], lines=True))
    assert ts.st.elements[1::2] == ["276", VERSION]
    bht = next(s for s in ts.root.walk() if s.tag == "BHT")
    assert bht.elements[1:] == ["0010", "13", "PCN-7001", "20240325", "1030"]
    assert [s.elements[1:] for s in ts.root.walk() if s.tag == "HL"] == [
        ["1", "", "20", "1"], ["2", "1", "21", "1"], ["3", "2", "19", "1"],
        ["4", "3", "22", "0"]]
    assert _elements(_one(ts.root, "2100A"), "NM1") == [
        ["PR", "2", "Northwind Health Plan", "", "", "", "", "PI", "NWHP1"]]
    assert _elements(_one(ts.root, "2100B"), "NM1") == [
        ["41", "2", "Lakeside Family Clinic", "", "", "", "", "46", "LFC0042"]]
    assert _elements(_one(ts.root, "2100C"), "NM1") == [
        ["1P", "2", "Lakeside Family Clinic", "", "", "", "", "XX", "1234567893"]]
    subscriber = _one(ts.root, "2000D")
    assert _elements(subscriber, "DMG") == [["D8", "19800412", "F"]]
    assert _elements(_one(ts.root, "2100D"), "NM1") == [
        ["IL", "1", "Rivera", "Ana", "Lucia", "", "", "MI", "NWH55501"]]
    assert list(ts.root.find("2000E")) == []
    claim = _one(ts.root, "2200D")
    assert [s.elements[1:] for s in claim.segments()] == [
        ["1", "PCN-7001"], ["1K", "NW2024031500017"], ["EJ", "PCN-7001"], ["T3", "250"],
        ["472", "D8", "20240301"]]
    lines = list(claim.loops("2210D"))
    assert [[s.elements[1:] for s in line.segments()] for line in lines] == [
        [["HC:99213:25", "150", "", "", "", "", "1"], ["FJ", "1"], ["472", "D8", "20240301"]],
        [["HC:36415", "100", "", "", "", "", "1"], ["FJ", "2"], ["472", "D8", "20240301"]],
    ]


def test_276_dependent_claim_uses_the_dependent_loops() -> None:
    (ts,) = _sets(_x12([_bundle("dependent")]))
    assert [s.get(3) for s in ts.root.walk() if s.tag == "HL"] == ["20", "21", "19", "22", "23"]
    subscriber = _one(ts.root, "2000D")
    assert _elements(subscriber, "HL") == [["4", "3", "22", "1"]]
    assert _elements(subscriber, "DMG") == []  # only sent when the subscriber is the patient
    assert _elements(_one(ts.root, "2100D"), "NM1") == [
        ["IL", "1", "Rivera", "Luis", "", "", "", "MI", "NWH55502"]]
    dependent = _one(ts.root, "2000E")
    assert _elements(dependent, "HL") == [["5", "4", "23"]]
    assert _elements(dependent, "DMG") == [["D8", "20150621", "F"]]
    assert _elements(_one(ts.root, "2100E"), "NM1") == [["QC", "1", "Rivera", "Sofia"]]
    claim = _one(ts.root, "2200E")
    assert list(ts.root.find("2200D")) == []
    assert [s.elements[1:] for s in claim.segments()] == [
        ["1", "PCN-7003"], ["EJ", "PCN-7003"], ["T3", "310"],
        ["472", "RD8", "20240312-20240313"]]  # no billablePeriod: the items' dates
    assert list(claim.loops("2210E")) == []  # lines only when asked
    # The provider Organization holds no ETIN: the submitter's own id (837 1000A) is used.
    assert _elements(_one(ts.root, "2100B"), "NM1") == [
        ["41", "2", "FHIR FINANCIAL FACADE", "", "", "", "", "46", "FACADE"]]


def test_276_payer_from_the_coverage_and_typed_payer_id() -> None:
    bundle = _bundle("claim")
    claim = _resource(bundle, "Claim")
    del claim["insurer"]
    payer = _resource(bundle, "Organization")
    payer["identifier"] = [{"type": {"coding": [{
        "system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "NIIP"}]},
        "value": "NWHP1"}]
    segments = build_276(BundleIndex(bundle), claim, when=WHEN, trace="STATUS-42",
                         reference="BATCH-9")
    assert ["NM1", "PR", "2", "Northwind Health Plan", "", "", "", "", "PI", "NWHP1"] in segments
    assert ["BHT", "0010", "13", "BATCH-9", "20240325", "1030"] in segments
    assert ["TRN", "1", "STATUS-42"] in segments
    assert ["REF", "EJ", "PCN-7001"] in segments


def test_276_institutional_claim_sends_its_bill_type() -> None:
    bundle = _bundle("claim")
    claim = _resource(bundle, "Claim")
    claim["type"]["coding"][0]["code"] = "institutional"
    claim["subType"] = {"coding": [{"system": systems.NUBC_BILL_TYPE, "code": "0131"}]}
    segments = build_276(BundleIndex(bundle), claim, when=WHEN)
    tags = [s[:2] for s in segments if s[0] == "REF"]
    assert tags == [["REF", "1K"], ["REF", "BLT"], ["REF", "EJ"]]
    assert ["REF", "BLT", "131"] in segments


def test_276_gaps_are_reported_together() -> None:
    bundle = _bundle("claim")
    claim = _resource(bundle, "Claim")
    claim["identifier"] = [i for i in claim["identifier"]
                           if i["system"] != systems.patient_control_number()]
    del _resource(bundle, "Coverage")["subscriberId"]
    clinic = _resource(bundle, "Organization", 1)
    clinic["identifier"] = [i for i in clinic["identifier"] if i["system"] != systems.NPI]
    with pytest.raises(MappingGapError) as caught:
        build_276(BundleIndex(bundle), claim, when=WHEN)
    error = caught.value
    assert error.code == "FAC-4001" and error.http_status == 422
    expressions = [issue.expression for issue in error.issues]
    assert expressions == [
        ("Claim.identifier",),
        ("Claim.provider.resolve().identifier",),
        ("Claim.insurance[0].coverage.resolve().subscriberId",),
    ]
    assert all(issue.code == "required" for issue in error.issues)
    assert "REF*EJ" in error.issues[0].message and "NPI" in error.issues[1].message
    assert "member id" in error.issues[2].message


def test_276_many_claims_one_interchange_and_gaps_across_bundles() -> None:
    text = _x12([_bundle("claim"), _bundle("dependent")])
    sets = _sets(text)
    assert [ts.st.get(2) for ts in sets] == ["0001", "0002"]
    assert text.count("GS*HR*") == 1 and "GE*2*1~" in text
    broken = _bundle("dependent")
    del _resource(broken, "Patient")["birthDate"]
    no_payer = _bundle("claim")
    no_payer["entry"] = [e for e in no_payer["entry"]
                         if e["resource"].get("name") != "Northwind Health Plan"]
    with pytest.raises(MappingGapError) as caught:
        _x12([no_payer, _bundle("claim"), broken])
    messages = [issue.message for issue in caught.value.issues]
    assert len(messages) == 2
    assert messages[0].startswith("Bundle 1, Claim ") and "payer" in messages[0]
    assert messages[1].startswith("Bundle 3, Claim ") and "birth date" in messages[1]
    assert caught.value.issues[1].expression == ("Claim.patient.resolve().birthDate",)


# --- 277 ---------------------------------------------------------------------------------


def _responses() -> list[Resource]:
    sets, report = parse((FIXTURES / "claim_status_277.x12").read_text())
    assert report.valid
    return claim_statuses(sets[0])


def _codes(concept: Resource) -> list[str]:
    return [c["code"] for c in concept["coding"]]


def _by_category(entries: list[Resource]) -> dict[str, Decimal]:
    return {_codes(e["category"])[0]: e["amount"]["value"] for e in entries if "amount" in e}


def test_277_paid_claim() -> None:
    paid = _responses()[0]
    assert paid["outcome"] == "complete"
    assert paid["request"] == {"identifier": {"system": systems.patient_control_number(),
                                              "value": "PCN-7001"}}
    assert paid["identifier"] == [
        {"system": STATUS_RESPONSE_SYSTEM, "value": "20240326/NWSTAT0412/PCN-7001/1"},
        {"system": systems.payer_claim_number("NWHP1"), "value": "NW2024031500017"}]
    assert paid["created"] == "2024-03-20"
    assert paid["type"]["coding"][0]["code"] == "professional"
    assert paid["patient"]["identifier"] == {"system": systems.member_id("NWHP1"),
                                             "value": "NWH55501"}
    assert paid["insurer"]["identifier"]["value"] == "NWHP1"
    assert paid["requestor"]["identifier"] == {"system": systems.NPI, "value": "1234567893"}
    assert _by_category(paid["total"]) == {"submitted": Decimal("250"),
                                           "benefit": Decimal("180")}
    assert paid["payment"]["amount"] == {"value": Decimal("180"), "currency": "USD"}
    assert paid["payment"]["date"] == "2024-03-21"
    assert paid["payment"]["identifier"]["value"] == "EFT0099"
    (status,) = paid["adjudication"]
    assert (_codes(status["category"]), _codes(status["reason"])) == (["F1"], ["65"])
    assert status["category"]["coding"][0]["system"] == systems.CLAIM_STATUS_CATEGORY
    assert status["reason"]["coding"][0]["system"] == systems.CLAIM_STATUS
    assert [item["itemSequence"] for item in paid["item"]] == [1, 2]
    assert _by_category(paid["item"][0]["adjudication"]) == {"submitted": Decimal("150"),
                                                             "benefit": Decimal("110")}
    assert _codes(paid["item"][1]["adjudication"][2]["reason"]) == ["65"]
    assert paid["processNote"][0]["text"].startswith("F1:65")
    assert "error" not in paid


def test_277_pending_claim() -> None:
    pending = _responses()[1]
    assert pending["outcome"] == "queued"
    assert pending["request"]["identifier"]["value"] == "PCN-7002"
    assert _by_category(pending["total"]) == {"submitted": Decimal("95")}
    assert "payment" not in pending and "error" not in pending and "item" not in pending
    assert _codes(pending["adjudication"][0]["category"]) == ["P1"]
    assert pending["created"] == "2024-03-22"


def test_277_rejected_dependent_claim_with_line_status() -> None:
    rejected = _responses()[2]
    assert rejected["outcome"] == "error"
    assert rejected["request"]["identifier"]["value"] == "PCN-7003"
    assert rejected["patient"] == {"display": "SOFIA RIVERA"}
    assert [(e.get("itemSequence"), _codes(e["code"])) for e in rejected["error"]] == [
        (None, ["A7", "21"]), (None, ["A7", "164"]), (1, ["A7", "454"])]
    assert "adjudication" not in rejected and "payment" not in rejected
    first, second = rejected["item"]
    assert first["itemSequence"] == 1
    assert _by_category(first["adjudication"]) == {"submitted": Decimal("200"),
                                                   "benefit": Decimal("0")}
    assert second["itemSequence"] == 2  # REF*FJ is not a number: the line's place
    assert _codes(second["adjudication"][-1]["category"]) == ["A2"]
    assert [n["text"].split(": ")[0] for n in rejected["processNote"]] == ["A7:21", "A7:164"]


def test_277_claim_responses_are_valid_r4_and_deterministic() -> None:
    responses = _responses()
    assert len(responses) == 3
    for response in responses:
        validate_resource(loads(dumps(response)), model_check=True)
        strict_model(json.loads(dumps(response)))
    assert [r["id"] for r in _responses()] == [r["id"] for r in responses]
    assert len({r["id"] for r in responses}) == 3


def test_277_bundle_and_link_back_to_the_claim() -> None:
    sets, _ = parse((FIXTURES / "claim_status_277.x12").read_text())
    bundle = claim_status_bundle(sets[0])
    assert bundle["type"] == "transaction" and len(bundle["entry"]) == 3
    assert bundle["entry"][0]["request"]["ifNoneExist"].startswith(
        f"identifier={STATUS_RESPONSE_SYSTEM}|")
    # The 276 asked with the patient control number; the 277's request finds that Claim.
    claims = _bundle("claim")
    request = bundle["entry"][0]["resource"]["request"]
    assert BundleIndex(claims).resolve(request, kind="Claim") is _resource(claims, "Claim")


def test_outcomes_by_category() -> None:
    assert [outcome_of(c) for c in ("F1", "F2", "F3F", "F4", "P3", "A1", "A2", "A7", "R4",
                                    "E1", "D0")] == [
        "complete", "complete", "complete", "complete", "queued", "queued", "queued", "error",
        "error", "error", "error"]


def test_other_transactions_are_refused() -> None:
    sets = _sets(_x12([_bundle("claim")]))
    with pytest.raises(ValueError):
        claim_statuses(sets[0])


# --- conformance extras ------------------------------------------------------------------

conformance = pytest.mark.skipif(not TR3.is_dir(), reason="no conformance folder")


@pytest.mark.conformance
@conformance
def test_tr3_277_samples_map_to_valid_claim_responses() -> None:
    samples = sorted(TR3.glob("277-X212-*.edi"))
    assert samples
    for sample in samples:
        sets, report = parse(sample.read_text())
        assert report.valid, sample.name
        responses = claim_statuses(sets[0])
        assert responses, sample.name
        for response in responses:
            validate_resource(loads(dumps(copy.deepcopy(response))), model_check=True)
            strict_model(json.loads(dumps(response)))


@pytest.mark.conformance
@conformance
def test_tr3_277_answers_the_tr3_276() -> None:
    asked, _ = parse((TR3 / "276-X212-claim-request.edi").read_text())
    pcns = [s.get(2) for s in asked[0].root.walk() if s.tag == "REF" and s.get(1) == "EJ"]
    answered, _ = parse((TR3 / "277-X212-claim-response.edi").read_text())
    responses = claim_statuses(answered[0])
    assert [r["request"]["identifier"]["value"] for r in responses] == pcns
    assert [r["outcome"] for r in responses] == ["queued", "complete", "complete"]
    denied = responses[2]
    assert denied["type"]["coding"][0]["code"] == "professional"
    assert "payment" not in denied  # nothing paid and no payment date
    assert _by_category(denied["total"]) == {"submitted": Decimal("150"),
                                             "benefit": Decimal("0")}
    assert responses[0]["type"]["coding"][0]["code"] == "institutional"  # REF*BLT
