"""Da Vinci PAS request Bundle -> 278 request; 278 response -> PAS Response Bundle."""

from __future__ import annotations

import copy
import json
import tarfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from mappers.fhir_x12.interchange import TradingPartners
from mappers.fhir_x12.pas_to_278 import VERSION, build_278, pas_to_278_interchange
from mappers.fhir_x12.references import BundleIndex
from mappers.fhir_x12.x278_to_pas import (
    CLAIM_RESPONSE_PROFILE,
    EXT_REVIEW_ACTION,
    EXT_REVIEW_ACTION_CODE,
    pas_response_bundle,
)
from mappers.x12 import CountingControlNumbers, Segment, TransactionSet, parse, validate
from server.errors import MappingGapError
from server.fhir.json_codec import dumps, loads
from server.fhir.validation import validate_resource
from tests.api.fhir_client import strict_model
from tests.conftest import CONFORMANCE

FIXTURES = Path(__file__).resolve().parent / "fixtures"
TR3 = CONFORMANCE / "x12" / "tr3"
PAS_PACKAGE = CONFORMANCE / "ig" / "hl7.fhir.us.davinci-pas-2.2.1.tgz"
WHEN = datetime(2024, 3, 1, 9, 15)

Json = dict[str, Any]


def _request() -> Json:
    data: Json = json.loads((FIXTURES / "pas_request_bundle.json").read_text())
    return data


def _interchange(*bundles: Json) -> str:
    return pas_to_278_interchange(list(bundles), TradingPartners(), CountingControlNumbers(1),
                                  WHEN)


def _set(text: str) -> TransactionSet:
    sets, report = parse(text)
    assert report.valid, report.errors
    return sets[0]


def _segments(ts: TransactionSet, tag: str) -> list[Segment]:
    return [s for s in ts.root.walk() if s.tag == tag]


def _assert_valid_x12(text: str) -> None:
    report = validate(text)
    details = [e.as_dict() for i in report.interchanges for g in i.groups for s in g.sets
               for e in s.errors]
    assert report.valid, (report.errors, details)


def _assert_valid_fhir(bundle: Json) -> None:
    validate_resource(loads(dumps(bundle)), model_check=True)
    strict_model(json.loads(dumps(bundle)))
    for entry in bundle["entry"]:
        validate_resource(loads(dumps(entry["resource"])), model_check=True)
        strict_model(json.loads(dumps(entry["resource"])))


def _review(item: Json) -> dict[str, Any]:
    """The reviewAction sub-extensions of an item's first adjudication, by url."""
    ext = next(e for e in item["adjudication"][0].get("extension", [])
               if e["url"] == EXT_REVIEW_ACTION)
    out: dict[str, Any] = {}
    for part in ext["extension"]:
        value = next(v for k, v in part.items() if k.startswith("value"))
        out[part["url"]] = value
    return out


# -- PAS request -> 278 ---------------------------------------------------------------------


def test_request_builds_a_valid_278() -> None:
    text = _interchange(_request())
    _assert_valid_x12(text)
    ts = _set(text)
    assert ts.guide == VERSION
    bht = _segments(ts, "BHT")[0]
    assert bht.elements[1:6] == ["0007", "13", "SUB-20240301-01", "20240301", "0915"]
    assert [(h.get(3), h.get(4)) for h in _segments(ts, "HL")] == [
        ("20", "1"), ("21", "1"), ("22", "1"), ("EV", "1"), ("SS", "0"), ("SS", "0")]
    names = {s.get(1): s for s in _segments(ts, "NM1")}
    assert names["X3"].elements[3] == "NORTHWIND HEALTH PLAN"
    assert (names["X3"].get(8), names["X3"].get(9)) == ("PI", "PAYER88")
    assert (names["1P"].get(3), names["1P"].get(8), names["1P"].get(9)) == (
        "OKAFOR", "XX", "1457389009")
    assert (names["IL"].get(3), names["IL"].get(4), names["IL"].get(8), names["IL"].get(9)) == (
        "QUINTERO", "ALMA", "MI", "MBR4417002")
    assert (names["SJ"].get(3), names["SJ"].get(9)) == ("LINDQVIST", "1629554712")
    assert _segments(ts, "DMG")[0].elements[1:] == ["D8", "19610714", "F"]
    assert [p.elements[1:] for p in _segments(ts, "PRV")] == [
        ["AT", "PXC", "207Q00000X"], ["PE", "PXC", "207X00000X"]]


def test_request_event_and_services() -> None:
    ts = _set(_interchange(_request()))
    event = next(ts.root.find("2000E"))
    trn = next(event.segments("TRN"))
    assert trn.elements[1:] == ["1", "TRC77001", "1987654321"]  # EIN gets the "1" prefix
    assert next(event.segments("UM")).elements[1:] == ["HS", "I", "2", "22:B", "", "E"]
    assert next(event.segments("HI")).elements[1:] == ["ABK:M1711", "ABF:M25561"]
    first, second = list(event.loops("2000F"))
    assert next(first.segments("TRN")).get(2) == "TRC77001-1"
    assert next(first.segments("DTP")).elements[1:] == ["472", "D8", "20240410"]
    sv1 = next(first.segments("SV1"))
    assert sv1.get(1) == "HC:27447:RT" and sv1.get(2) == "4200"
    assert (sv1.get(3), sv1.get(4), sv1.get(7)) == ("UN", "1", "1")
    assert next(second.segments("TRN")).get(2) == "TRC77001-2"
    assert next(second.segments("UM")).elements[1:5] == ["HS", "I", "PT", "11:B"]
    assert next(second.segments("DTP")).elements[1:] == ["472", "RD8", "20240420-20240620"]
    sv1 = next(second.segments("SV1"))
    assert (sv1.get(1), sv1.get(2), sv1.get(3), sv1.get(7)) == ("HC:97110", "1020", "", "1:2")
    assert next(second.segments("HSD")).elements[1:] == ["VS", "12"]


def test_build_278_returns_segments_without_se() -> None:
    bundle = _request()
    index = BundleIndex(bundle)
    claim = index.first("Claim")
    assert claim is not None
    segments = build_278(index, claim, bundle)
    assert segments[0] == ["ST", "278", "", VERSION]
    assert segments[-1][0] != "SE"
    # Without the Bundle, BHT03 falls back on the Claim's identifier.
    assert build_278(index, claim)[1][3] == "TRC77001"


def test_dependent_patient_gets_2000d() -> None:
    bundle = _request()
    resources = {e["resource"]["resourceType"]: e["resource"] for e in bundle["entry"]}
    subscriber = {"resourceType": "Patient", "id": "sub-1",
                  "name": [{"family": "QUINTERO", "given": ["TOMAS"]}]}
    bundle["entry"].append({"fullUrl": "urn:uuid:sub-1", "resource": subscriber})
    coverage = resources["Coverage"]
    coverage["subscriber"] = {"reference": "urn:uuid:sub-1"}
    coverage["relationship"]["coding"][0]["code"] = "spouse"
    text = _interchange(bundle)
    _assert_valid_x12(text)
    ts = _set(text)
    assert [h.get(3) for h in _segments(ts, "HL")][:5] == ["20", "21", "22", "23", "EV"]
    names = {s.get(1): s for s in _segments(ts, "NM1")}
    assert names["IL"].get(4) == "TOMAS" and names["QC"].get(4) == "ALMA"
    assert _segments(ts, "INS")[0].elements[1:] == ["N", "01"]


def test_all_gaps_in_one_error() -> None:
    bundle = _request()
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] in ("Organization", "Practitioner") and resource[
                "id"].endswith(("04", "05")):
            resource.pop("identifier")
        if resource["resourceType"] == "Coverage":
            resource.pop("subscriberId")
        if resource["resourceType"] == "Patient":
            resource.pop("identifier")
    with pytest.raises(MappingGapError) as caught:
        _interchange(bundle)
    expressions = {e for issue in caught.value.issues for e in issue.expression}
    assert expressions == {
        "Claim.insurer.resolve().identifier",
        "Claim.provider.resolve().identifier",
        "Claim.insurance.coverage.resolve().subscriberId",
    }
    assert caught.value.code == "FAC-4001"


def test_gaps_of_several_bundles_are_prefixed() -> None:
    good, bad = _request(), _request()
    bad["entry"][0]["resource"]["use"] = "claim"
    with pytest.raises(MappingGapError) as caught:
        _interchange(good, bad)
    assert [i.expression for i in caught.value.issues] == [("Bundle[1].Claim.use",)]


def test_several_bundles_share_one_group() -> None:
    text = _interchange(_request(), _request())
    _assert_valid_x12(text)
    sets, _ = parse(text)
    assert [ts.st.get(2) for ts in sets] == ["0001", "0002"]


# -- 278 response -> PAS Response Bundle --------------------------------------------------


def _response(name: str = "pas_278_response.x12", request: Json | None = None) -> Json:
    text = (FIXTURES / name).read_text()
    _assert_valid_x12(text)
    return pas_response_bundle(_set(text), request)


@pytest.mark.parametrize("with_request", [False, True])
def test_response_bundle_is_valid(with_request: bool) -> None:
    bundle = _response(request=_request() if with_request else None)
    _assert_valid_fhir(bundle)
    assert bundle["type"] == "collection"
    assert bundle["identifier"]["value"] == "SUB-20240301-01"
    assert bundle["timestamp"] == "2024-03-01T09:20:00Z"
    response = bundle["entry"][0]["resource"]
    assert response["resourceType"] == "ClaimResponse"
    assert response["meta"]["profile"] == [CLAIM_RESPONSE_PROFILE]
    assert (response["status"], response["use"], response["outcome"]) == (
        "active", "preauthorization", "complete")
    assert response["preAuthRef"] == "AUTH7731"
    urls = {e["fullUrl"] for e in bundle["entry"]}
    for field in ("patient", "insurer", "requestor"):
        assert response[field]["reference"] in urls


def test_response_items_and_review_actions() -> None:
    bundle = _response(request=_request())
    response = bundle["entry"][0]["resource"]
    assert response["request"] == {"reference": "urn:uuid:8e0b6f52-1c1d-4a51-9d0e-5a1f00000001"}
    assert response["identifier"][0]["value"] == "TRC77001"
    assert response["identifier"][0]["system"] == "urn:example:pas:trace"
    first, second = response["item"]
    assert [first["itemSequence"], second["itemSequence"]] == [1, 2]
    for item in (first, second):
        assert item["adjudication"][0]["category"]["coding"][0]["code"] == "submitted"
    one, two = _review(first), _review(second)
    action = one[EXT_REVIEW_ACTION_CODE]["coding"][0]
    assert (action["system"], action["code"]) == ("https://codesystem.x12.org/005010/306", "A1")
    assert one["number"] == "AUTH7731" and "reasonCode" not in one
    assert two[EXT_REVIEW_ACTION_CODE]["coding"][0]["code"] == "A4"
    assert "number" not in two
    assert two["reasonCode"]["coding"][0]["system"] == "https://codesystem.x12.org/external/886"
    assert two["reasonCode"]["coding"][0]["code"] == "0U"
    period = next(e for e in first["extension"] if e["url"].endswith("itemPreAuthPeriod"))
    assert period["valuePeriod"] == {"start": "2024-04-10", "end": "2024-07-10"}
    pending = next(e for e in second["extension"]
                   if e["url"].endswith("administrationReferenceNumber"))
    assert pending["valueString"] == "PEND4410"


def test_items_match_by_trace_not_position() -> None:
    request = _request()
    items = request["entry"][0]["resource"]["item"]
    items[0]["sequence"], items[1]["sequence"] = 7, 3  # the 278 lists trace -1 first
    response = _response(request=request)["entry"][0]["resource"]
    assert [i["itemSequence"] for i in response["item"]] == [7, 3]
    assert _review(response["item"][0])["number"] == "AUTH7731"


def test_response_without_request_builds_parties() -> None:
    bundle = _response()
    kinds = [e["resource"]["resourceType"] for e in bundle["entry"]]
    assert kinds[0] == "ClaimResponse"
    assert {"Patient", "Organization", "PractitionerRole", "Practitioner"} <= set(kinds)
    response = bundle["entry"][0]["resource"]
    assert response["request"]["identifier"]["value"] == "TRC77001"
    assert response["identifier"][0]["assigner"]["identifier"]["value"] == "1987654321"
    patient = next(e["resource"] for e in bundle["entry"]
                   if e["resource"]["resourceType"] == "Patient")
    assert patient["identifier"][0]["value"] == "MBR4417002"
    assert patient["birthDate"] == "1961-07-14"
    assert _response() == bundle  # deterministic ids


@pytest.mark.parametrize("with_request", [False, True])
def test_rejected_response(with_request: bool) -> None:
    bundle = _response("pas_278_response_rejected.x12", _request() if with_request else None)
    _assert_valid_fhir(bundle)
    response = bundle["entry"][0]["resource"]
    assert response["outcome"] == "error"
    assert "preAuthRef" not in response
    [error] = response["error"]
    assert error["code"]["coding"] == [
        {"system": "https://codesystem.x12.org/005010/901", "code": "72"}]
    element = next(e for e in error["extension"] if e["url"].endswith("extension-errorElement"))
    assert element["extension"] == [{"url": "error", "valueString": "2010C-NM109"}]
    assert len(response["item"]) == (2 if with_request else 1)


def test_event_level_decision_applies_to_every_item() -> None:
    lines = (FIXTURES / "pas_278_response.x12").read_text().split("~\n")
    start = next(i for i, line in enumerate(lines) if line.startswith("HL*5*"))
    end = next(i for i, line in enumerate(lines) if line.startswith("SE*"))
    del lines[start:end]  # drop both 2000F loops
    at_um = next(i for i, line in enumerate(lines) if line.startswith("UM*HS*I*2"))
    lines.insert(at_um + 1, "HCR*A1*EVT9001")
    lines = [line.replace("HL*4*3*EV*1", "HL*4*3*EV*0") for line in lines]
    first = next(i for i, line in enumerate(lines) if line.startswith("ST*"))
    last = next(i for i, line in enumerate(lines) if line.startswith("SE*"))
    lines[last] = f"SE*{last - first + 1}*0411"
    text = "~\n".join(lines)
    _assert_valid_x12(text)
    bundle = pas_response_bundle(_set(text), _request())
    _assert_valid_fhir(bundle)
    response = bundle["entry"][0]["resource"]
    assert [i["itemSequence"] for i in response["item"]] == [1, 2]
    assert [_review(i)["number"] for i in response["item"]] == ["EVT9001", "EVT9001"]
    assert response["preAuthRef"] == "EVT9001"


def test_round_trip_request_to_response() -> None:
    """The 278 built from the request, answered, maps back onto the request's items."""
    request = _request()
    built = _set(_interchange(request))
    assert [t.get(2) for t in _segments(built, "TRN")] == ["TRC77001", "TRC77001-1",
                                                          "TRC77001-2"]
    bundle = _response(request=copy.deepcopy(request))
    assert [i["itemSequence"] for i in bundle["entry"][0]["resource"]["item"]] == [1, 2]


def test_not_a_278_response() -> None:
    sets, _ = parse(_interchange(_request()))
    with pytest.raises(ValueError):
        pas_response_bundle(sets[0])


# -- conformance extras -------------------------------------------------------------------


def _pas_example(name: str) -> Json:
    with tarfile.open(PAS_PACKAGE) as package:
        member = package.extractfile(f"package/example/{name}.json")
        assert member is not None
        data: Json = json.loads(member.read())
    return data


needs_shared = pytest.mark.skipif(not PAS_PACKAGE.exists() or not TR3.exists(),
                                  reason="conformance folder absent")


@pytest.mark.conformance
@needs_shared
@pytest.mark.parametrize("name", ["Bundle-ReferralAuthorizationBundleExample",
                                  "Bundle-MedicalServicesAuthorizationBundleExample",
                                  "Bundle-HomecareAuthorizationBundleExample"])
def test_pas_examples_map_to_valid_278(name: str) -> None:
    bundle = _pas_example(name)
    text = _interchange(bundle)
    _assert_valid_x12(text)
    ts = _set(text)
    assert _segments(ts, "BHT")[0].get(3) == bundle["identifier"]["value"]
    items = bundle["entry"][0]["resource"]["item"]
    assert len([h for h in _segments(ts, "HL") if h.get(3) == "SS"]) == len(items)


@pytest.mark.conformance
@needs_shared
@pytest.mark.parametrize("name", ["admission-response-to-request-for-review",
                                  "referral-response-to-request-for-review",
                                  "response-to-medical-services-reservation"])
def test_278_samples_map_to_valid_pas_bundles(name: str) -> None:
    ts = _set((TR3 / f"278-X217-{name}.edi").read_text())
    bundle = pas_response_bundle(ts)
    _assert_valid_fhir(bundle)
    response = bundle["entry"][0]["resource"]
    assert response["outcome"] == "complete" and response["item"]


@pytest.mark.conformance
@needs_shared
def test_referral_sample_gives_auth0001() -> None:
    ts = _set((TR3 / "278-X217-referral-response-to-request-for-review.edi").read_text())
    request = _pas_example("Bundle-ReferralAuthorizationBundleExample")
    bundle = pas_response_bundle(ts, request)
    _assert_valid_fhir(bundle)
    response = bundle["entry"][0]["resource"]
    [item] = response["item"]
    assert item["itemSequence"] == 1
    review = _review(item)
    assert review["number"] == "AUTH0001"
    assert review[EXT_REVIEW_ACTION_CODE]["coding"][0]["code"] == "A1"
    assert response["preAuthRef"] == "AUTH0001"
    assert response["identifier"][0]["value"] == "111099"
    assert response["identifier"][0]["assigner"]["identifier"]["value"] == "9012345678"
    assert response["request"]["reference"].endswith("Claim/ReferralAuthorizationExample")
    assert response["preAuthPeriod"] == {"start": "2005-05-02", "end": "2005-06-02"}
