"""Batch and transaction Bundles (R4 http.html#transaction)."""

from __future__ import annotations

import base64
import json
from typing import Any

import httpx

from tests.api.fhir_client import assert_outcome, claim, patient, strict_model


def _entry(
    method: str, url: str, resource: dict[str, Any] | None = None, **extra: Any
) -> dict[str, Any]:
    entry: dict[str, Any] = {"request": {"method": method, "url": url, **extra}}
    if resource is not None:
        entry["resource"] = resource
    return entry


def _bundle(kind: str, *entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


async def _count(client: httpx.AsyncClient, rtype: str) -> int:
    body = (await client.get(f"/fhir/{rtype}", params={"_count": 50})).json()
    return len(body.get("entry", []))


class TestTransaction:
    async def test_urn_uuid_references_are_rewritten(self, client: httpx.AsyncClient) -> None:
        pat_url = "urn:uuid:7a5c1f5e-0a53-4c8c-9c9e-4a8a3f3f0a01"
        c = claim(patient={"reference": pat_url})
        bundle = _bundle(
            "transaction",
            {
                **_entry("POST", "Claim", c),
                "fullUrl": "urn:uuid:11111111-2222-3333-4444-555555555555",
            },
            {**_entry("POST", "Patient", patient()), "fullUrl": pat_url},
        )
        response = await client.post("/fhir", json=bundle)
        assert response.status_code == 200, response.text
        body = response.json()
        strict_model(body)
        assert body["type"] == "transaction-response"
        claim_entry, patient_entry = body["entry"]
        assert claim_entry["response"]["status"] == "201 Created"
        assert claim_entry["response"]["location"].startswith("Claim/")
        assert claim_entry["response"]["etag"] == 'W/"1"'
        patient_id = patient_entry["resource"]["id"]
        stored = await client.get(
            "/fhir/" + claim_entry["response"]["location"].split("/_history")[0]
        )
        assert stored.json()["patient"]["reference"] == f"Patient/{patient_id}"

    async def test_all_or_nothing(self, client: httpx.AsyncClient) -> None:
        await client.put("/fhir/Patient/keep", json=patient(id="keep"))
        await client.put("/fhir/Patient/stale", json=patient(id="stale"))
        bundle = _bundle(
            "transaction",
            _entry("POST", "Claim", claim()),
            _entry("DELETE", "Patient/keep"),
            _entry("PUT", "Patient/keep2", patient(id="keep2")),
            _entry("PUT", "Patient/stale", patient(id="stale", gender="male"), ifMatch='W/"9"'),
        )
        response = await client.post("/fhir", json=bundle)
        body = assert_outcome(response, 412, "FAC-1016")
        assert "Bundle.entry[3]" in body["issue"][0]["details"]["text"]
        assert await _count(client, "Claim") == 0
        assert (await client.get("/fhir/Patient/keep")).status_code == 200
        assert (await client.get("/fhir/Patient/keep2")).status_code == 404

    async def test_invalid_entries_are_all_reported(self, client: httpx.AsyncClient) -> None:
        bad_claim = claim(status="bogus")
        bad_patient = patient(gender="robot")
        bundle = _bundle(
            "transaction",
            _entry("POST", "Claim", bad_claim),
            _entry("POST", "Patient", patient()),
            _entry("POST", "Patient", bad_patient),
        )
        body = assert_outcome(await client.post("/fhir", json=bundle), 400, "FAC-2003")
        expressions = {e for i in body["issue"] for e in i.get("expression", [])}
        assert "Bundle.entry[0].resource.status" in expressions
        assert "Bundle.entry[2].resource.gender" in expressions
        assert await _count(client, "Patient") == 0

    async def test_conditional_entries(self, client: httpx.AsyncClient) -> None:
        existing = (await client.post("/fhir/Patient", json=patient("MRN-T"))).json()
        pat_url = "urn:uuid:aaaaaaaa-0000-0000-0000-000000000001"
        bundle = _bundle(
            "transaction",
            {
                **_entry("POST", "Patient", patient("MRN-T"), ifNoneExist="identifier=MRN-T"),
                "fullUrl": pat_url,
            },
            _entry("POST", "Claim", claim(patient={"reference": pat_url})),
            _entry("PUT", "Claim?identifier=PCN-T", claim("PCN-T")),
            _entry(
                "POST", "Claim", claim("PCN-R", patient={"reference": "Patient?identifier=MRN-T"})
            ),
        )
        response = await client.post("/fhir", json=bundle)
        assert response.status_code == 200, response.text
        entries = response.json()["entry"]
        assert entries[0]["response"]["status"] == "200 OK"
        assert entries[0]["resource"]["id"] == existing["id"]
        assert entries[1]["resource"]["patient"]["reference"] == f"Patient/{existing['id']}"
        assert entries[2]["response"]["status"] == "201 Created"
        assert entries[3]["resource"]["patient"]["reference"] == f"Patient/{existing['id']}"
        assert await _count(client, "Patient") == 1

    async def test_processing_order_and_reads(self, client: httpx.AsyncClient) -> None:
        await client.put("/fhir/Patient/gone", json=patient(id="gone"))
        bundle = _bundle(
            "transaction",
            _entry("GET", "Patient/new"),
            _entry("PUT", "Patient/new", patient(id="new")),
            _entry("DELETE", "Patient/gone"),
        )
        response = await client.post("/fhir", json=bundle)
        assert response.status_code == 200, response.text
        read, put, delete = response.json()["entry"]
        assert read["response"]["status"] == "200 OK" and read["resource"]["id"] == "new"
        assert put["response"]["status"] == "201 Created"
        assert delete["response"]["status"] == "200 OK"

    async def test_same_resource_twice_is_refused(self, client: httpx.AsyncClient) -> None:
        bundle = _bundle(
            "transaction",
            _entry("PUT", "Patient/x", patient(id="x")),
            _entry("DELETE", "Patient/x"),
        )
        assert_outcome(await client.post("/fhir", json=bundle), 400, "FAC-1001")

    async def test_unresolved_urn_is_refused(self, client: httpx.AsyncClient) -> None:
        bundle = _bundle(
            "transaction",
            _entry("POST", "Claim", claim(patient={"reference": "urn:uuid:0000-missing"})),
        )
        assert_outcome(await client.post("/fhir", json=bundle), 400, "FAC-1016")
        assert await _count(client, "Claim") == 0

    async def test_patch_entry(self, client: httpx.AsyncClient) -> None:
        await client.put("/fhir/Patient/pp", json=patient(id="pp"))
        ops = [{"op": "replace", "path": "/gender", "value": "unknown"}]
        binary = {
            "resourceType": "Binary",
            "contentType": "application/json-patch+json",
            "data": base64.b64encode(json.dumps(ops).encode()).decode(),
        }
        response = await client.post(
            "/fhir", json=_bundle("transaction", _entry("PATCH", "Patient/pp", binary))
        )
        assert response.status_code == 200, response.text
        assert (await client.get("/fhir/Patient/pp")).json()["gender"] == "unknown"


class TestBatch:
    async def test_each_entry_stands_alone(self, client: httpx.AsyncClient) -> None:
        bundle = _bundle(
            "batch",
            _entry("POST", "Claim", claim()),
            _entry("POST", "Claim", claim(status="bogus")),
            _entry("GET", "Patient/none"),
            _entry("PUT", "Patient/b1", patient(id="b1")),
        )
        response = await client.post("/fhir", json=bundle)
        assert response.status_code == 200
        body = response.json()
        strict_model(body)
        statuses = [e["response"]["status"] for e in body["entry"]]
        assert statuses == ["201 Created", "400", "404", "201 Created"]
        assert body["entry"][1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
        assert await _count(client, "Claim") == 1


class TestBundleErrors:
    async def test_not_a_bundle(self, client: httpx.AsyncClient) -> None:
        assert_outcome(await client.post("/fhir", json=patient()), 400, "FAC-2002")
        assert_outcome(
            await client.post("/fhir", json={"resourceType": "Bundle", "type": "collection"}),
            400,
            "FAC-1001",
        )
        bad_entry = _bundle("transaction", {"request": {"method": "FETCH", "url": "Patient"}})
        assert_outcome(await client.post("/fhir", json=bad_entry), 400, "FAC-1001")
        wrong_type = _bundle("transaction", _entry("POST", "Claim", patient()))
        assert_outcome(await client.post("/fhir", json=wrong_type), 400, "FAC-2002")
