"""Real-time transactions through the CHC-shaped REST connector: eligibility `$submit` answered
synchronously, and `Claim/{id}/$status` for a claim sent over SFTP."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from fhirclient.models.coverageeligibilityresponse import CoverageEligibilityResponse

from sandbox.clearinghouse import ClearinghouseSandbox
from tests.pipeline.claims import claim_bundle
from tests.pipeline.waiting import eventually

FHIR = {"Content-Type": "application/fhir+json"}
FIXTURES = Path(__file__).resolve().parents[1] / "mappers" / "fixtures"

Resource = dict[str, Any]


def eligibility_bundle(member: str, payer_id: str) -> Resource:
    bundle: Resource = json.loads((FIXTURES / "eligibility_request_subscriber.json").read_text())
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Coverage":
            resource["subscriberId"] = member
        if resource["resourceType"] == "Organization" and resource.get("identifier"):
            resource["identifier"][0]["value"] = payer_id
        if resource["resourceType"] == "Patient":
            resource["name"] = [{"family": "doeone", "given": ["johnone"]}]
            resource["birthDate"] = "1880-01-02"
            resource["gender"] = "male"
    return bundle


async def test_eligibility_is_answered_and_stored(client: httpx.AsyncClient) -> None:
    r = await client.post("/fhir/CoverageEligibilityRequest/$submit", headers=FHIR,
                          json=eligibility_bundle("0000000001", "000045"))
    assert r.status_code == 200, r.text
    answer = r.json()
    CoverageEligibilityResponse(answer, strict=True)
    assert answer["request"]["reference"].startswith("CoverageEligibilityRequest/")
    assert answer["outcome"] == "complete"
    assert any(i.get("inforce") for i in answer.get("insurance", []))
    stored = await client.get(f"/fhir/CoverageEligibilityResponse/{answer['id']}")
    assert stored.status_code == 200
    inactive = await client.post("/fhir/CoverageEligibilityRequest/$submit", headers=FHIR,
                                 json=eligibility_bundle("0000000001", "000041"))
    assert inactive.status_code == 200, inactive.text
    assert inactive.json()["insurance"][0]["inforce"] is False


async def test_an_unknown_member_is_an_answered_error(client: httpx.AsyncClient) -> None:
    r = await client.post("/fhir/CoverageEligibilityRequest/$submit", headers=FHIR,
                          json=eligibility_bundle("NOBODY42", "000045"))
    assert r.status_code == 200, r.text
    answer = r.json()
    CoverageEligibilityResponse(answer, strict=True)
    assert answer["outcome"] == "error"
    (error,) = answer["error"]
    assert error["code"]["coding"][0]["code"] == "75"  # AAA03 75: subscriber not found
    assert "canned users" in error["code"]["text"]


async def test_eligibility_waits_no_longer_than_its_timeout(
    client: httpx.AsyncClient, clearinghouse: ClearinghouseSandbox, app: Any
) -> None:
    app.state.settings.pipeline.eligibility_timeout_seconds = 0.5
    clearinghouse.chaos.configure(slow_seconds=3)
    r = await client.post("/fhir/CoverageEligibilityRequest/$submit", headers=FHIR,
                          json=eligibility_bundle("0000000001", "000045"))
    assert r.status_code == 504, r.text
    assert r.json()["resourceType"] == "OperationOutcome"


async def test_status_of_a_sent_claim(client: httpx.AsyncClient) -> None:
    r = await client.post("/fhir/Claim/$submit", json=claim_bundle("STAT-0001"), headers=FHIR)
    claim = r.json()["request"]["reference"]

    async def sent() -> bool:
        r = await client.post(f"/fhir/{claim}/$status")
        return r.status_code == 200

    await eventually(sent, what="a status answer")
    r = await client.post(f"/fhir/{claim}/$status")
    answer = r.json()
    assert answer["resourceType"] == "ClaimResponse"
    assert answer["request"] == {"reference": claim}
    systems = {i["system"] for i in answer["identifier"]}
    assert "urn:fhir-facade:claim-submission" in systems
