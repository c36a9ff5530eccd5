"""FHIR -> CHC / Stedi JSON (professional claims v3, eligibility v3, claim status v2) and the
JSON answers -> FHIR: the JSON says what the same FHIR says as X12 (the 837 parsed back is the
oracle), the same gaps are reported, and the FHIR built from answers is valid R4."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

import pytest

from mappers.fhir_x12.claim_to_276 import claims_to_276
from mappers.fhir_x12.claim_to_837 import claims_to_837
from mappers.fhir_x12.eligibility_to_270 import requests_to_270
from mappers.fhir_x12.gaps import MappingGapError
from mappers.fhir_x12.interchange import TradingPartners
from mappers.vendor.chc_claim_response import submission_accepted, submission_response
from mappers.vendor.chc_claims import MAX_SERVICE_LINES, professional_claim
from mappers.vendor.chc_eligibility import eligibility_request, eligibility_response
from mappers.vendor.chc_status import claim_status_request, claim_status_responses
from mappers.x12 import CountingControlNumbers, parse
from server.fhir.json_codec import dumps, loads
from server.fhir.validation import validate_resource
from tests.api.fhir_client import strict_model
from tests.connectors.builders import fixture
from tests.mappers import claim_bundles

WHEN = datetime(2026, 10, 6, 12, 0)
PARTNERS = TradingPartners(sender_id="FACADE", receiver_id="CLEARINGHOUSE", usage="T")
Json = dict[str, Any]


def _valid(resource: Json) -> None:
    validate_resource(loads(dumps(resource)), model_check=True)
    strict_model(json.loads(dumps(resource)))


def _expressions(error: MappingGapError) -> set[tuple[str, ...]]:
    return {issue.expression for issue in error.issues}


def _segments(text: str) -> list[list[str]]:
    sets, report = parse(text)
    assert report.valid
    return [s.elements for ts in sets for s in ts.root.walk()]


def _first(segments: list[list[str]], tag: str, qualifier: str | None = None) -> list[str]:
    return next(s for s in segments if s[0] == tag and (qualifier is None or s[1] == qualifier))


# --- professional claims v3 ---------------------------------------------------------------


def test_claim_json_says_what_the_837_says() -> None:
    bundle = claim_bundles.professional_bundle()
    body = professional_claim(bundle, PARTNERS, "000000042", WHEN)
    x12 = _segments(claims_to_837([bundle], PARTNERS, CountingControlNumbers(1), WHEN))
    clm, billing = _first(x12, "CLM"), _first(x12, "NM1", "85")
    subscriber, payer = _first(x12, "NM1", "IL"), _first(x12, "NM1", "PR")
    info = body["claimInformation"]
    assert body["controlNumber"] == "000000042" and body["usageIndicator"] == "T"
    assert body["tradingPartnerServiceId"] == payer[9] == "PHP01"
    assert info["patientControlNumber"] == clm[1] == "PCN-2026-0001"
    assert info["claimChargeAmount"] == clm[2]
    assert (info["placeOfServiceCode"], info["claimFrequencyCode"]) == ("11", "1")
    assert info["claimFilingCode"] == _first(x12, "SBR")[9] == "CI"
    assert body["billing"]["npi"] == billing[9]
    assert body["billing"]["employerId"] == _first(x12, "REF", "EI")[2]
    assert body["billing"]["address"]["postalCode"] == "627011234"
    assert body["subscriber"]["memberId"] == subscriber[9]
    assert (body["subscriber"]["dateOfBirth"], body["subscriber"]["gender"]) == ("19800229", "F")
    assert body["rendering"] == {"providerType": "RenderingProvider", "lastName": "Nguyen",
                                 "firstName": "Anh", "npi": "1245319599",
                                 "taxonomyCode": "207Q00000X"}
    assert info["serviceFacilityLocation"]["npi"] == "1679576722"
    assert info["claimSupplementalInformation"] == {"priorAuthorizationNumber": "AUTH-55501"}
    assert info["healthCareCodeInformation"] == [
        {"diagnosisTypeCode": "ABK", "diagnosisCode": "E119"},
        {"diagnosisTypeCode": "ABF", "diagnosisCode": "I10"}]
    first, second = info["serviceLines"]
    assert first["professionalService"]["procedureCode"] == "99214"
    assert first["professionalService"]["procedureModifiers"] == ["25"]
    assert first["professionalService"]["compositeDiagnosisCodePointers"] == {
        "diagnosisCodePointers": ["1", "2"]}
    assert (first["serviceDate"], first["providerControlNumber"]) == ("20261005", "1")
    assert second["drugIdentification"] == {"serviceIdQualifier": "N4",
                                            "nationalDrugCode": "00003029305",
                                            "nationalDrugUnitCount": "2",
                                            "measurementUnitCode": "ML"}
    json.dumps(body)  # plain JSON


def test_dependent_secondary_claim_carries_the_other_payer() -> None:
    body = professional_claim(claim_bundles.secondary_bundle(), PARTNERS, "000000043", WHEN)
    assert body["dependent"]["relationshipToSubscriberCode"] == "19"
    assert body["dependent"]["firstName"] == "Sam"
    assert body["subscriber"]["paymentResponsibilityLevelCode"] == "S"
    other = body["claimInformation"]["otherSubscriberInformation"][0]
    assert other["payerPaidAmount"] == "100"
    assert other["otherPayerName"]["otherPayerIdentifier"] == "PHP01"
    assert other["otherSubscriberName"]["otherInsuredIdentifier"] == "PHP555"
    line = body["claimInformation"]["serviceLines"][0]["lineAdjudicationInformation"][0]
    assert line["serviceLinePaidAmount"] == "100"
    assert [a["adjustmentGroupCode"] for a in line["claimAdjustmentInformation"]] == ["CO", "PR"]
    assert line["adjudicationOrPaymentDate"] == "20261021"


def test_claim_json_reports_the_same_gaps_as_the_837() -> None:
    bundle = claim_bundles.professional_bundle()
    org = next(e["resource"] for e in bundle["entry"]
               if e["resource"]["resourceType"] == "Organization"
               and e["resource"]["name"].startswith("Riverside"))
    org["identifier"] = []
    org["address"][0]["postalCode"] = "62701"
    cov = next(e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] ==
               "Coverage")
    del cov["subscriberId"]
    with pytest.raises(MappingGapError) as as_json:
        professional_claim(bundle, PARTNERS, "000000044", WHEN)
    with pytest.raises(MappingGapError) as as_x12:
        claims_to_837([bundle], PARTNERS, CountingControlNumbers(1), WHEN)
    assert _expressions(as_json.value) == _expressions(as_x12.value)
    assert ("Claim.provider.address.postalCode",) in _expressions(as_json.value)


def test_institutional_and_oversized_claims_are_not_sent_as_professional_json() -> None:
    with pytest.raises(MappingGapError) as caught:
        professional_claim(claim_bundles.institutional_bundle(), PARTNERS, "1", WHEN)
    assert ("Claim.type",) in _expressions(caught.value)
    bundle = claim_bundles.professional_bundle()
    claim = bundle["entry"][0]["resource"]
    claim["item"] = [dict(claim["item"][0], sequence=n) for n in range(1, MAX_SERVICE_LINES + 2)]
    with pytest.raises(MappingGapError) as caught:
        professional_claim(bundle, PARTNERS, "1", WHEN)
    assert ("Claim.item",) in _expressions(caught.value)
    with pytest.raises(MappingGapError):
        professional_claim({"resourceType": "Bundle", "type": "collection", "entry": []},
                           PARTNERS, "1", WHEN)


def test_submission_answers_become_claim_responses() -> None:
    request = professional_claim(claim_bundles.professional_bundle(), PARTNERS, "000000045",
                                 WHEN)
    success = {"status": "SUCCESS", "controlNumber": "000000045",
               "claimReference": {"correlationId": "210923R999898~37", "patientControlNumber":
                                  "PCN-2026-0001", "timeOfResponse": "2026-10-06T17:15:06.649"
                                  "-05:00", "rhclaimNumber": "2126651512492"},
               "payer": {"payerName": "Prairie Health Plan", "payerID": "PHP01"}}
    accepted = submission_response(request, success)
    _valid(accepted)
    assert submission_accepted(success)
    assert accepted["outcome"] == "queued" and accepted["created"] == "2026-10-06"
    assert accepted["request"]["identifier"]["value"] == "PCN-2026-0001"
    assert accepted["patient"]["identifier"]["value"] == "PHP123456789"
    assert accepted == submission_response(request, success)  # same answer, same resource
    error = {"status": "ERROR", "errors": [{"code": "33", "description": "Invalid member",
                                            "followupAction": "Correct and resubmit"}],
             "editResponses": [{"editName": "ZIP9", "errorDescription": "ZIP+4 required",
                                "loop": "2010AA", "segment": "N4", "element": "03"}]}
    refused = submission_response(request, error, today=date(2026, 10, 7))
    _valid(refused)
    assert refused["outcome"] == "error" and refused["created"] == "2026-10-07"
    assert [e["code"]["coding"][0]["code"] for e in refused["error"]] == ["33", "ZIP9"]
    assert refused["processNote"][0]["text"] == "Correct and resubmit"


# --- eligibility v3 -----------------------------------------------------------------------


def test_eligibility_json_from_the_270_reading() -> None:
    body = eligibility_request(fixture("eligibility_request_subscriber.json"), "000000046")
    assert body["controlNumber"] == "000000046"
    assert body["tradingPartnerServiceId"] == "PRH60054"
    assert body["provider"] == {"lastName": "Lindqvist", "firstName": "Maren",
                                "npi": "1558209346"}
    assert body["subscriber"]["memberId"] == "WQX448120"
    assert body["subscriber"]["groupNumber"] == "GRP-77310"
    assert body["encounter"] == {"dateOfService": "20260302", "serviceTypeCodes": ["30", "98"],
                                 "productOrServiceIDQualifier": "HC", "procedureCode": "99214"}
    dependent = eligibility_request(fixture("eligibility_request_dependent.json"), "1")
    assert dependent["dependents"][0]["firstName"] == "Teo"
    assert dependent["encounter"]["beginningDateOfService"] == "20260401"


def test_eligibility_json_gaps_are_the_270_gaps() -> None:
    bundle = fixture("eligibility_request_subscriber.json")
    for entry in bundle["entry"]:
        if entry["resource"]["resourceType"] == "Coverage":
            del entry["resource"]["subscriberId"]
    with pytest.raises(MappingGapError) as as_json:
        eligibility_request(bundle, "1")
    with pytest.raises(MappingGapError) as as_x12:
        requests_to_270([bundle], PARTNERS, CountingControlNumbers(1))
    assert _expressions(as_json.value) == _expressions(as_x12.value)


def test_eligibility_answer_without_x12_becomes_a_coverage_eligibility_response() -> None:
    request = eligibility_request(fixture("eligibility_request_subscriber.json"), "000000047")
    answer = {"controlNumber": "000000047", "payer": {"name": "Prairie", "payorIdentification":
                                                      "PRH60054"},
              "subscriber": {"memberId": "WQX448120", "firstName": "ADAEZE", "lastName": "OKAFOR"},
              "planStatus": [{"statusCode": "1", "status": "Active Coverage",
                              "serviceTypeCodes": ["30"]}],
              "benefitsInformation": [
                  {"code": "1", "serviceTypeCodes": ["30"], "name": "Active Coverage"},
                  {"code": "C", "coverageLevelCode": "IND", "serviceTypeCodes": ["30"],
                   "timeQualifierCode": "23", "benefitAmount": "500",
                   "inPlanNetworkIndicatorCode": "Y"},
                  {"code": "A", "serviceTypeCodes": ["98"], "benefitPercent": "0.2"}]}
    response = eligibility_response(request, answer)
    _valid(response)
    insurance = response["insurance"][0]
    assert insurance["inforce"] is True and response["outcome"] == "complete"
    deductible = next(i for i in insurance["item"] if "benefit" in i
                      and i["benefit"][0].get("allowedMoney"))
    assert str(deductible["benefit"][0]["allowedMoney"]["value"]) == "500"
    percent = next(i for i in insurance["item"] if i["category"]["coding"][0]["code"] == "98")
    assert percent["benefit"][0]["allowedUnsignedInt"] == 20
    rejected = eligibility_response(request, {"errors": [
        {"code": "73", "description": "Invalid/Missing Subscriber/Insured Name",
         "followupAction": "Please Correct and Resubmit", "location": "Loop 2100C"},
        {"field": "subscriber", "description": "Please use predefined canned users"}]})
    _valid(rejected)
    assert rejected["outcome"] == "error"
    assert rejected["error"][0]["code"]["coding"][0]["code"] == "73"
    assert "coding" not in rejected["error"][1]["code"]


# --- claim status v2 ----------------------------------------------------------------------


def test_claim_status_json_from_the_276_reading() -> None:
    body = claim_status_request(fixture("claim_status_claim_bundle.json"), PARTNERS,
                                "000000048")
    assert body["tradingPartnerServiceId"] == "NWHP1"
    assert [p["providerType"] for p in body["providers"]] == ["BillingProvider",
                                                               "ServiceProvider"]
    assert body["providers"][1]["npi"] == "1234567893"
    assert body["subscriber"]["memberId"] == "NWH55501"
    assert body["subscriber"]["dateOfBirth"] == "19800412"
    assert body["encounter"] == {"trackingNumber": "PCN-7001",
                                 "tradingPartnerClaimNumber": "NW2024031500017",
                                 "patientAccountNumber": "PCN-7001", "submittedAmount": "250",
                                 "beginningDateOfService": "20240301",
                                 "endDateOfService": "20240301"}
    dependent = claim_status_request(fixture("claim_status_dependent_bundle.json"), PARTNERS,
                                     "1")
    assert dependent["dependent"] == {"dateOfBirth": "20150621", "gender": "F",
                                      "lastName": "Rivera", "firstName": "Sofia"}
    assert "dateOfBirth" not in dependent["subscriber"]


def test_claim_status_gaps_are_the_276_gaps() -> None:
    bundle = fixture("claim_status_claim_bundle.json")
    claim = bundle["entry"][0]["resource"]
    claim["identifier"] = []
    with pytest.raises(MappingGapError) as as_json:
        claim_status_request(bundle, PARTNERS, "1")
    with pytest.raises(MappingGapError) as as_x12:
        claims_to_276([bundle], PARTNERS, CountingControlNumbers(1))
    assert _expressions(as_json.value) == _expressions(as_x12.value)


def test_claim_status_answer_without_x12_becomes_claim_responses() -> None:
    request = claim_status_request(fixture("claim_status_claim_bundle.json"), PARTNERS, "1")
    paid = {"claims": [{"claimStatus": {
        "statusCategoryCode": "F1", "statusCode": "65", "entityCode": "PR",
        "effectiveDate": "20240401", "submittedAmount": "250", "amountPaid": "180",
        "paidDate": "20240402", "tradingPartnerClaimNumber": "NW2024031500017"}}]}
    [response] = claim_status_responses(request, paid)
    _valid(response)
    assert response["outcome"] == "complete"
    assert response["request"]["identifier"]["value"] == "PCN-7001"
    assert str(response["payment"]["amount"]["value"]) == "180"
    rejected = {"claims": [{"claimStatus": {"statusCategoryCode": "A7", "statusCode": "21"}}]}
    [response] = claim_status_responses(request, rejected)
    _valid(response)
    assert response["outcome"] == "error" and response["error"]
    [failed] = claim_status_responses(request, {"errors": [{"code": "E0", "description":
                                                            "Payer not available"}]})
    _valid(failed)
    assert failed["outcome"] == "error"
    assert claim_status_responses(request, {}) == []
