"""CoverageEligibilityRequest -> 270 and 271 -> CoverageEligibilityResponse: the 270s pass our
X12 validation and read back with the values put in, missing data is reported all at once, and
the responses are valid R4 with the benefits mapped exactly."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mappers.fhir_x12 import systems
from mappers.fhir_x12.eligibility_to_270 import VERSION, build_270, requests_to_270
from mappers.fhir_x12.gaps import MappingGapError
from mappers.fhir_x12.interchange import TradingPartners
from mappers.fhir_x12.references import BundleIndex
from mappers.fhir_x12.x271_to_fhir import eligibility_bundle, eligibility_responses
from mappers.x12 import CountingControlNumbers, Loop, Segment, TransactionSet, parse, validate
from server.fhir.json_codec import dumps, loads
from server.fhir.validation import validate_resource
from tests.api.fhir_client import strict_model
from tests.conftest import CONFORMANCE

FIXTURES = Path(__file__).resolve().parent / "fixtures"
SUBSCRIBER = FIXTURES / "eligibility_request_subscriber.json"
DEPENDENT = FIXTURES / "eligibility_request_dependent.json"
BENEFITS_271 = FIXTURES / "eligibility_271_benefits.x12"
REJECTED_271 = FIXTURES / "eligibility_271_rejected.x12"
TR3 = CONFORMANCE / "x12" / "tr3"
SAMPLES_271 = sorted(TR3.glob("271-*.edi")) if TR3.is_dir() else []
WHEN = datetime(2026, 3, 2, 9, 30)

X12 = "https://codesystem.x12.org/005010/"
Resource = dict[str, Any]


# --- helpers ------------------------------------------------------------------------------


def _bundle(path: Path) -> Resource:
    data: Resource = json.loads(path.read_text())
    return data


def _write(*bundles: Resource) -> str:
    return requests_to_270(list(bundles), TradingPartners(), CountingControlNumbers(1), WHEN)


def _valid_sets(text: str) -> list[TransactionSet]:
    report = validate(text)
    details = [(s.st02, s.errors) for i in report.interchanges for g in i.groups for s in g.sets]
    assert report.valid, (report.errors, details, text)
    sets, _ = parse(text)
    return sets


def _loop(ts: TransactionSet, loop_id: str) -> Loop:
    return next(ts.root.find(loop_id))


def _seg(loop: Loop, tag: str) -> Segment:
    return next(loop.segments(tag))


def _elements(loop: Loop, tag: str) -> list[str]:
    return _seg(loop, tag).elements


def _resource(bundle: Resource, kind: str) -> Resource:
    return next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind)


def _responses(path: Path) -> list[Resource]:
    sets, report = parse(path.read_text())
    assert report.valid, report.errors
    return [r for ts in sets for r in eligibility_responses(ts)]


def _assert_valid(resource: Resource) -> None:
    validate_resource(loads(dumps(resource)), model_check=True)
    strict_model(json.loads(dumps(resource)))


def _codes(concept: Resource | None) -> dict[str, str]:
    return {c["system"]: c["code"] for c in (concept or {}).get("coding", [])}


def _items(response: Resource) -> list[Resource]:
    items: list[Resource] = response["insurance"][0]["item"]
    return items


def _find(items: list[Resource], service: str, info: str, network: str | None = None,
          unit: str | None = None, term: str | None = None) -> Iterator[Resource]:
    for item in items:
        if _codes(item.get("category")).get(X12 + "1365") != service:
            continue
        if not any(_codes(b["type"]).get(X12 + "1390") == info for b in item.get("benefit", [])):
            continue
        if network is not None and _codes(item.get("network")).get(
                "http://terminology.hl7.org/CodeSystem/benefit-network",
                _codes(item.get("network")).get(X12 + "1073")) != network:
            continue
        if unit is not None and _codes(item.get("unit")).get(X12 + "1207") != unit:
            continue
        if term is not None and _codes(item.get("term")).get(X12 + "615") != term:
            continue
        yield item


# --- CoverageEligibilityRequest -> 270 ----------------------------------------------------


def test_subscriber_270_is_valid_and_reads_back() -> None:
    ts = _valid_sets(_write(_bundle(SUBSCRIBER)))[0]
    assert ts.st.elements[3] == VERSION
    assert next(s for s in ts.root.walk() if s.tag == "BHT").elements[1:4] == [
        "0022", "13", "ELG-2026-0001"]
    assert _elements(_loop(ts, "2100A"), "NM1") == [
        "NM1", "PR", "2", "Prairie Mutual Health Plan", "", "", "", "", "PI", "PRH60054"]
    assert _elements(_loop(ts, "2100B"), "NM1") == [
        "NM1", "1P", "1", "Lindqvist", "Maren", "", "", "", "XX", "1558209346"]
    subscriber = _loop(ts, "2000C")
    assert _elements(subscriber, "HL")[3:] == ["22", "0"]
    assert _elements(subscriber, "TRN") == ["TRN", "1", "ELG-2026-0001", "9876500001"]
    name = _loop(ts, "2100C")
    assert _elements(name, "NM1") == [
        "NM1", "IL", "1", "Okafor", "Adaeze", "Nneka", "", "", "MI", "WQX448120"]
    assert _elements(name, "REF") == ["REF", "6P", "GRP-77310"]
    assert _elements(name, "DMG") == ["DMG", "D8", "19791123", "F"]
    assert _elements(name, "DTP") == ["DTP", "291", "D8", "20260302"]
    inquiries = [_seg(loop, "EQ").elements[1:] for loop in name.loops("2110C")]
    assert inquiries == [["30"], ["98"], ["", "HC:99214"]]
    assert not list(ts.root.find("2000D"))


def test_dependent_270_has_the_dependent_level() -> None:
    ts = _valid_sets(_write(_bundle(DEPENDENT)))[0]
    assert _elements(_loop(ts, "2100A"), "NM1")[8:] == ["PI", "LKS31200"]  # NIIP identifier
    assert _elements(_loop(ts, "2100B"), "NM1")[1:4] == ["1P", "2", "Riverbend Pediatrics"]
    subscriber = _loop(ts, "2000C")
    assert _elements(subscriber, "HL")[3:] == ["22", "1"]
    assert not list(subscriber.segments("TRN"))  # the trace sits with the patient
    assert _elements(_loop(ts, "2100C"), "NM1") == [
        "NM1", "IL", "1", "Marchetti", "Giulia", "", "", "Jr", "MI", "ZK9031557"]
    assert _elements(_loop(ts, "2100C"), "DMG") == ["DMG", "D8", "19840214", "F"]
    dependent = _loop(ts, "2000D")
    assert _elements(dependent, "HL") == ["HL", "4", "3", "23", "0"]
    # No trace system on the request: its identifier, originator "1" + the provider's EIN.
    assert _elements(dependent, "TRN") == ["TRN", "1", "Q-55120", "1417730215"]
    name = _loop(ts, "2100D")
    assert _elements(name, "NM1") == ["NM1", "03", "1", "Marchetti", "Teo"]
    assert _elements(name, "DMG") == ["DMG", "D8", "20150609", "M"]
    assert _elements(name, "INS") == ["INS", "N", "19"]
    assert _elements(name, "DTP") == ["DTP", "291", "RD8", "20260401-20260430"]
    assert [_seg(loop, "EQ").elements[1:] for loop in name.loops("2110D")] == [["AL"]]


def test_one_interchange_for_many_requests() -> None:
    text = _write(_bundle(SUBSCRIBER), _bundle(DEPENDENT))
    sets = _valid_sets(text)
    assert [ts.st.elements[2] for ts in sets] == ["0001", "0002"]
    assert "GE*2*1~" in text and text.count("ISA*") == 1
    assert sets[0].gs[1] == "HS" and sets[0].gs[8] == VERSION


def test_without_item_the_inquiry_is_plan_coverage() -> None:
    bundle = _bundle(SUBSCRIBER)
    del _resource(bundle, "CoverageEligibilityRequest")["item"]
    ts = _valid_sets(_write(bundle))[0]
    assert [_seg(loop, "EQ").elements for loop in ts.root.find("2110C")] == [["EQ", "30"]]


def test_payer_from_coverage_and_provider_through_practitioner_role() -> None:
    bundle = _bundle(SUBSCRIBER)
    request = _resource(bundle, "CoverageEligibilityRequest")
    del request["insurer"]
    request["provider"] = {"reference": "PractitionerRole/role-1"}
    bundle["entry"].append({"resource": {
        "resourceType": "PractitionerRole", "id": "role-1",
        "practitioner": {"reference": "urn:uuid:6a1c0d52-4f0e-4b8e-9d57-2d1f0a6e1004"}}})
    ts = _valid_sets(_write(bundle))[0]
    assert _elements(_loop(ts, "2100A"), "NM1")[9] == "PRH60054"
    assert _elements(_loop(ts, "2100B"), "NM1")[3:5] == ["Lindqvist", "Maren"]
    assert _elements(_loop(ts, "2100B"), "NM1")[9] == "1558209346"


def test_every_gap_is_reported_at_once() -> None:
    bundle = _bundle(SUBSCRIBER)
    del _resource(bundle, "Practitioner")["identifier"]
    del _resource(bundle, "Coverage")["subscriberId"]
    del _resource(bundle, "Patient")["birthDate"]
    with pytest.raises(MappingGapError) as caught:
        build_270(BundleIndex(bundle), _resource(bundle, "CoverageEligibilityRequest"),
                  when=WHEN)
    issues = caught.value.issues
    assert len(issues) == 3
    expressions = [i.expression[0] for i in issues]
    coverage = "CoverageEligibilityRequest.insurance[0].coverage.resolve()"
    assert expressions == [
        "CoverageEligibilityRequest.provider.resolve().identifier",
        f"{coverage}.subscriberId",
        f"{coverage}.subscriber.resolve().birthDate",
    ]
    assert all(i.code == "required" for i in issues)
    assert "NPI" in issues[0].message and "member id" in issues[1].message
    assert caught.value.code == "FAC-4001"
    # The interchange writer reports the same gaps and writes nothing.
    with pytest.raises(MappingGapError) as again:
        _write(_bundle(DEPENDENT), bundle)
    assert len(again.value.issues) == 3
    assert all(i.message.startswith("Request 2: ") for i in again.value.issues)


def test_missing_coverage_and_bad_service_type_are_gaps() -> None:
    bundle = _bundle(SUBSCRIBER)
    request = _resource(bundle, "CoverageEligibilityRequest")
    request["insurance"] = []
    request["item"] = [{"category": {"coding": [{"system": "urn:other", "code": "x"}]}}]
    with pytest.raises(MappingGapError) as caught:
        build_270(BundleIndex(bundle), request, when=WHEN)
    expressions = {i.expression[0] for i in caught.value.issues}
    assert "CoverageEligibilityRequest.insurance" in expressions
    assert "CoverageEligibilityRequest.item[0].category" in expressions


# --- 271 -> CoverageEligibilityResponse ----------------------------------------------------


@pytest.mark.parametrize("path", [BENEFITS_271, REJECTED_271], ids=lambda p: p.name)
def test_responses_are_valid_r4(path: Path) -> None:
    responses = _responses(path)
    assert responses
    for response in responses:
        _assert_valid(response)


def test_subscriber_response_links_and_parties() -> None:
    response = _responses(BENEFITS_271)[0]
    assert response["outcome"] == "complete"
    assert response["purpose"] == ["validation", "benefits"]
    assert response["request"] == {"type": "CoverageEligibilityRequest", "identifier": {
        "system": systems.trace_number("9876500001"), "value": "ELG-2026-0001"}}
    assert response["insurer"]["identifier"] == {"system": systems.payer_id(),
                                                 "value": "PRH60054"}
    assert response["requestor"]["identifier"] == {"system": systems.NPI, "value": "1558209346"}
    assert response["patient"]["identifier"] == {"system": systems.member_id("PRH60054"),
                                                 "value": "WQX448120"}
    assert response["servicedDate"] == "2026-03-02"
    assert response["created"] == "2026-03-02"
    insurance = response["insurance"][0]
    assert insurance["inforce"] is True
    assert insurance["benefitPeriod"] == {"start": "2026-01-01", "end": "2026-12-31"}
    assert "error" not in response


def test_benefits_are_mapped_exactly() -> None:
    items = _items(_responses(BENEFITS_271)[0])
    # Active coverage for four service types (EB03 repeated), with the plan name.
    active = [i for i in items if i.get("excluded") is False]
    assert [_codes(i["category"])[X12 + "1365"] for i in active] == ["30", "1", "33", "98"]
    assert {i["description"] for i in active} == {"PRAIRIE GOLD PPO"}

    [deductible] = _find(items, "30", "C", "in", "IND", "23")
    [benefit] = deductible["benefit"]
    assert benefit["allowedMoney"] == {"value": Decimal("1500"), "currency": "USD"}
    assert _codes(benefit["type"]) == {
        X12 + "1390": "C", "http://terminology.hl7.org/CodeSystem/benefit-type": "deductible"}
    assert _codes(deductible["unit"])["http://terminology.hl7.org/CodeSystem/benefit-unit"] \
        == "individual"
    assert _codes(deductible["term"])["http://terminology.hl7.org/CodeSystem/benefit-term"] \
        == "annual"
    [remaining] = _find(items, "30", "C", "in", "IND", "29")
    assert remaining["benefit"][0]["allowedMoney"]["value"] == Decimal("975.5")
    [used] = _find(items, "30", "C", "in", "IND", "24")
    assert used["benefit"][0]["usedMoney"]["value"] == Decimal("524.5")
    assert "allowedMoney" not in used["benefit"][0]
    [family] = _find(items, "30", "C", "in", "FAM", "23")
    assert family["benefit"][0]["allowedMoney"]["value"] == Decimal("3000")
    [out_of_network] = _find(items, "30", "C", "out", "IND", "23")
    assert out_of_network["benefit"][0]["allowedMoney"]["value"] == Decimal("4000")
    [out_of_pocket] = _find(items, "30", "G", "W")
    assert out_of_pocket["benefit"][0]["allowedMoney"]["value"] == Decimal("6500")

    # Co-insurance percentages in and out of network.
    [co_in] = _find(items, "98", "A", "in")
    [co_out] = _find(items, "98", "A", "out")
    assert co_in["benefit"][0]["allowedUnsignedInt"] == 20
    assert co_out["benefit"][0]["allowedUnsignedInt"] == 45
    assert "copay-percent" in _codes(co_in["benefit"][0]["type"]).values()

    # Co-payment per visit with the payer's message; a procedure-level co-payment.
    [copay] = _find(items, "98", "B", "in", term="27")
    assert copay["benefit"][0]["allowedMoney"]["value"] == Decimal("25")
    assert copay["description"] == "SPECIALIST VISITS COST MORE"
    [procedure] = [i for i in items if "productOrService" in i]
    assert procedure["productOrService"]["coding"] == [
        {"system": "http://www.ama-assn.org/go/cpt", "code": "99214"}]
    assert "category" not in procedure
    assert procedure["benefit"][0]["allowedMoney"]["value"] == Decimal("40")
    [mental] = _find(items, "MH", "B")
    assert mental["authorizationRequired"] is True

    # A visit limit, and a service that is not covered.
    [limit] = _find(items, "33", "F")
    assert limit["benefit"][0]["allowedUnsignedInt"] == 20
    assert _codes(limit["benefit"][0]["type"])[X12 + "673"] == "VS"
    [excluded] = _find(items, "AL", "I")
    assert excluded["excluded"] is True


def test_dependent_response() -> None:
    response = _responses(BENEFITS_271)[1]
    assert response["patient"] == {"type": "Patient", "display": "TEO MARCHETTI"}
    assert response["request"]["identifier"] == {
        "system": systems.trace_number("1417730215"), "value": "Q-55120"}
    assert response["servicedPeriod"] == {"start": "2026-04-01", "end": "2026-04-30"}
    insurance = response["insurance"][0]
    assert insurance["coverage"]["identifier"] == {
        "system": systems.member_id("LKS31200"), "value": "ZK9031557"}
    items = insurance["item"]
    [coinsurance] = _find(items, "AL", "A", "out", "FAM")
    assert coinsurance["benefit"][0]["allowedUnsignedInt"] == 50
    [copay] = _find(items, "AL", "B", "in")
    assert copay["benefit"][0]["allowedMoney"]["value"] == Decimal("10")


def test_rejections_become_errors() -> None:
    member, provider = _responses(REJECTED_271)
    assert member["outcome"] == "error"
    assert member["error"] == [{"code": {
        "coding": [{"system": X12 + "901", "code": "75"}],
        "text": "Rejected with reason 75: correct the inquiry and send it again"}}]
    assert member["patient"]["identifier"]["value"] == "WQX448199"
    assert member["request"]["identifier"]["value"] == "ELG-2026-0003"
    # Rejected at the provider level: one response for the inquiry, linked by BHT03.
    assert provider["outcome"] == "error"
    assert [_codes(e["code"])[X12 + "901"] for e in provider["error"]] == ["43"]
    assert provider["request"] == {"type": "CoverageEligibilityRequest",
                                   "identifier": {"value": "ELG-2026-0004"}}
    assert "insurance" not in provider


def test_270_trace_comes_back_as_the_response_request() -> None:
    request = _resource(_bundle(SUBSCRIBER), "CoverageEligibilityRequest")
    response = _responses(BENEFITS_271)[0]
    assert response["request"]["identifier"] == request["identifier"][0]


def test_bundle_is_deterministic_and_conditional() -> None:
    sets, _ = parse(BENEFITS_271.read_text())
    first, second = eligibility_bundle(sets[0]), eligibility_bundle(copy.deepcopy(sets[0]))
    assert dumps(first) == dumps(second)
    entry = first["entry"][0]
    assert entry["request"]["ifNoneExist"] == (
        "identifier=urn:fhir-facade:x12:eligibility-response|PRH60054/ELG-2026-0001/"
        "202603020931/1")
    assert entry["fullUrl"] == f"urn:uuid:{eligibility_responses(sets[0])[0]['id']}"


def test_other_transactions_are_refused() -> None:
    sets = _valid_sets(_write(_bundle(SUBSCRIBER)))
    with pytest.raises(ValueError, match="271"):
        eligibility_responses(sets[0])


# --- conformance extras (the TR3 examples) -------------------------------------------------


def _tr3_sets(path: Path) -> list[TransactionSet]:
    # The pre-errata 005010X279 example has the same layout as X279A1, the guide HIPAA adopted.
    text = path.read_text().replace("005010X279*", "005010X279A1*")
    text = text.replace("*005010X279~", "*005010X279A1~")
    sets, _ = parse(text)
    return sets


@pytest.mark.conformance
@pytest.mark.skipif(not SAMPLES_271, reason="no conformance folder")
@pytest.mark.parametrize("path", SAMPLES_271, ids=lambda p: p.name)
def test_tr3_271_samples_map_to_valid_resources(path: Path) -> None:
    sets = _tr3_sets(path)
    assert sets
    responses = [r for ts in sets for r in eligibility_responses(ts)]
    assert responses
    for response in responses:
        _assert_valid(response)
        assert response["insurer"]["identifier"]["value"] == "842610001"
    if "error" in path.name:
        assert responses[0]["outcome"] == "error"
    else:
        assert responses[0]["request"]["identifier"]["value"] == "93175-012547"
        assert responses[0]["insurance"][0]["inforce"] is True


@pytest.mark.conformance
@pytest.mark.skipif(not TR3.is_dir(), reason="no conformance folder")
def test_tr3_270_sample_is_mirrored_by_a_fhir_request() -> None:
    sample = TR3 / "270-X279A1-request-by-clinic-subscriber.edi"
    [ts] = _valid_sets(sample.read_text())
    payer, provider = _seg(_loop(ts, "2100A"), "NM1"), _seg(_loop(ts, "2100B"), "NM1")
    trn = _seg(_loop(ts, "2000C"), "TRN")
    name = _loop(ts, "2100C")
    member, dmg, dtp = _seg(name, "NM1"), _seg(name, "DMG"), _seg(name, "DTP")
    eq = _seg(next(name.loops("2110C")), "EQ")

    def day(value: str) -> str:
        return f"{value[:4]}-{value[4:6]}-{value[6:8]}"

    # The sample names the clinic by a payer-assigned number; a FHIR request needs its NPI.
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in (
        {"resourceType": "CoverageEligibilityRequest", "id": "mirror",
         "identifier": [{"system": systems.trace_number(trn.get(3)), "value": trn.get(2)}],
         "status": "active", "purpose": ["validation"], "patient": {"reference": "Patient/p"},
         "created": "2006-05-01", "servicedDate": day(dtp.get(3)),
         "insurer": {"reference": "Organization/payer"},
         "provider": {"reference": "Organization/clinic"},
         "insurance": [{"coverage": {"reference": "Coverage/c"}}]},
        {"resourceType": "Organization", "id": "payer", "name": payer.get(3),
         "identifier": [{"system": systems.payer_id(), "value": payer.get(9)}]},
        {"resourceType": "Organization", "id": "clinic", "name": provider.get(3),
         "identifier": [{"system": systems.NPI, "value": "1558209346"}]},
        {"resourceType": "Patient", "id": "p", "birthDate": day(dmg.get(2)),
         "name": [{"family": member.get(3), "given": [member.get(4)]}]},
        {"resourceType": "Coverage", "id": "c", "status": "active",
         "subscriberId": member.get(9), "beneficiary": {"reference": "Patient/p"},
         "subscriber": {"reference": "Patient/p"}, "payor": [{"reference": "Organization/payer"}],
         "relationship": {"coding": [{"system": systems.SUBSCRIBER_RELATIONSHIP,
                                      "code": "self"}]}},
    )]}
    ours = _valid_sets(_write(bundle))[0]
    assert _elements(_loop(ours, "2100A"), "NM1") == payer.elements
    assert _elements(_loop(ours, "2000C"), "TRN") == trn.elements
    assert _elements(_loop(ours, "2100C"), "NM1") == member.elements
    assert _elements(_loop(ours, "2100C"), "DMG") == dmg.elements
    assert _elements(_loop(ours, "2100C"), "DTP") == dtp.elements
    assert _seg(next(ours.root.find("2110C")), "EQ").elements == eq.elements
    assert [s.elements[3] for s in ours.root.walk() if s.tag == "HL"] == ["20", "21", "22"]
