"""`Claim/$submit` as an API: what it takes, what it refuses (and that a refusal stores
nothing), and how the operations are advertised."""

from __future__ import annotations

from pathlib import Path

import httpx
from asgi_lifespan import LifespanManager

from server.app import create_app
from server.settings import AuthSettings, Settings
from tests.conftest import BASE_URL
from tests.pipeline.claims import claim_bundle, claim_of

FHIR = {"Content-Type": "application/fhir+json"}


async def _count(client: httpx.AsyncClient, resource_type: str) -> int:
    r = await client.get(f"/fhir/{resource_type}?_summary=count")
    total: int = r.json()["total"]
    return total


async def test_every_gap_comes_back_at_once_and_nothing_is_stored(
    client: httpx.AsyncClient,
) -> None:
    bundle = claim_bundle("GAPS-0001", zip_code="62701")
    claim = claim_of(bundle)
    del claim["total"]
    del claim["item"][0]["net"]
    del claim["diagnosis"]
    r = await client.post("/fhir/Claim/$submit", json=bundle, headers=FHIR)
    assert r.status_code == 422
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome"
    where = {e for issue in outcome["issue"] for e in issue.get("expression", [])}
    assert "Claim.total" in where
    assert any("postalCode" in e for e in where)
    assert any("diagnosis" in e for e in where) or len(outcome["issue"]) >= 3
    for kind in ("Claim", "Patient", "Coverage", "ClaimResponse"):
        assert await _count(client, kind) == 0


async def test_a_claim_without_identifier_is_refused(client: httpx.AsyncClient) -> None:
    bundle = claim_bundle("X")
    del claim_of(bundle)["identifier"]
    r = await client.post("/fhir/Claim/$submit", json=bundle, headers=FHIR)
    assert r.status_code == 422
    assert r.json()["issue"][0]["expression"] == ["Claim.identifier"]
    assert await _count(client, "Claim") == 0


async def test_malformed_and_wrong_inputs_are_precise_errors(client: httpx.AsyncClient) -> None:
    r = await client.post("/fhir/Claim/$submit", content=b'{"resourceType": "Claim",',
                          headers=FHIR)
    assert r.status_code == 400 and r.json()["resourceType"] == "OperationOutcome"
    r = await client.post("/fhir/Claim/$submit", json={"resourceType": "Patient"}, headers=FHIR)
    assert r.status_code == 400
    r = await client.post("/fhir/Claim/$submit",
                          json={"resourceType": "Parameters", "parameter": []}, headers=FHIR)
    assert r.status_code == 400
    bad = claim_bundle("BAD-0001")
    claim_of(bad)["item"][0]["sequence"] = "1"  # a string where R4 wants a positiveInt
    r = await client.post("/fhir/Claim/$submit", json=bad, headers=FHIR)
    assert r.status_code == 400
    assert "sequence" in r.text
    preauth = claim_bundle("PA-0001")
    claim_of(preauth)["use"] = "preauthorization"
    r = await client.post("/fhir/Claim/$submit", json=preauth, headers=FHIR)
    assert r.status_code == 400 and "Claim.use" in r.text
    r = await client.post("/fhir/Claim/$submit", content=b"<Claim/>",
                          headers={"Content-Type": "application/fhir+xml"})
    assert r.status_code == 415
    assert await _count(client, "Claim") == 0


async def test_a_claim_in_parameters_or_alone_is_taken(client: httpx.AsyncClient) -> None:
    bundle = claim_bundle("PARAM-0001")
    r = await client.post("/fhir/Claim/$submit", headers=FHIR, json={
        "resourceType": "Parameters", "parameter": [{"name": "resource", "resource": bundle}]})
    assert r.status_code == 200 and r.json()["outcome"] == "queued"
    claim_ref = r.json()["request"]["reference"]
    stored = (await client.get(f"/fhir/{claim_ref}")).json()
    # A bare Claim whose references are stored here: the same patient, coverage, parties.
    del stored["id"], stored["meta"]
    stored["identifier"] = [{"system": "urn:fhir-facade:x12:patient-control-number",
                             "value": "ALONE-0001"}]
    r = await client.post("/fhir/Claim/$submit", json=stored, headers=FHIR)
    assert r.status_code == 200, r.text
    assert r.json()["outcome"] == "queued"
    second = (await client.get(f"/fhir/{r.json()['request']['reference']}")).json()
    assert second["patient"] == stored["patient"]


async def test_the_operations_are_advertised(client: httpx.AsyncClient) -> None:
    statement = (await client.get("/fhir/metadata")).json()
    ops = {(res["type"], op["name"], op["definition"])
           for res in statement["rest"][0]["resource"] for op in res.get("operation", [])}
    assert ("Claim", "submit", "http://hl7.org/fhir/OperationDefinition/Claim-submit") in ops
    assert ("CoverageEligibilityRequest", "submit",
            "http://hl7.org/fhir/OperationDefinition/CoverageEligibilityRequest-submit") in ops
    status = f"{BASE_URL}/fhir/OperationDefinition/Claim-status"
    assert ("Claim", "status", status) in ops
    definition = (await client.get("/fhir/OperationDefinition/Claim-status")).json()
    assert definition["url"] == status and definition["instance"] is True
    assert (await client.get("/fhir/OperationDefinition/nope")).status_code == 404


async def test_status_of_a_claim_never_submitted_is_a_conflict(
    client: httpx.AsyncClient,
) -> None:
    claim = claim_of(claim_bundle("NEVER-0001"))
    claim.pop("id")
    claim["patient"] = {"display": "nobody"}
    claim["insurer"] = {"display": "nobody"}
    claim["provider"] = {"display": "nobody"}
    claim["insurance"][0]["coverage"] = {"display": "none"}
    claim.pop("careTeam")
    claim.pop("facility")
    created = await client.post("/fhir/Claim", json=claim, headers=FHIR)
    assert created.status_code == 201, created.text
    r = await client.post(f"/fhir/Claim/{created.json()['id']}/$status")
    assert r.status_code == 409
    assert (await client.post("/fhir/Claim/unknown-id/$status")).status_code == 404


async def test_without_a_connector_submission_is_unavailable(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'f.db'}", base_url=BASE_URL,
                        auth=AuthSettings(enabled=False))
    app = create_app(settings)
    async with LifespanManager(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE_URL) as client:
            r = await client.post("/fhir/Claim/$submit", json=claim_bundle("NC-1"),
                                  headers=FHIR)
            assert r.status_code == 503
            assert "FACADE_CONNECTORS" in r.text
            assert await _count(client, "Claim") == 0
