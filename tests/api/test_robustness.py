"""Hostile or unusual requests: crafted cursors, huge version ids and searches, unexpected
exceptions, and transaction entries that touch the same resource twice."""

from __future__ import annotations

import base64
import json
import logging

import httpx
import pytest
from fastapi import FastAPI

from tests.api.fhir_client import assert_outcome, claim, patient

PATCH = "application/json-patch+json"


def _cursor(payload: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")


class TestCraftedInput:
    @pytest.mark.parametrize(
        ("path", "cursor"),
        [
            ("/fhir/Encounter", _cursor({"d": "a", "k": [], "p": 2**70})),
            ("/fhir/Encounter?_sort=date", _cursor({"d": "a", "k": [[1]], "p": 1})),
            ("/fhir/Patient/_history", base64.urlsafe_b64encode(b"h1:" + b"9" * 30).decode()),
        ],
    )
    async def test_forged_cursors_are_400(
        self, client: httpx.AsyncClient, path: str, cursor: str
    ) -> None:
        sep = "&" if "?" in path else "?"
        assert_outcome(await client.get(f"{path}{sep}_cursor={cursor}"), 400, "FAC-1001")

    async def test_huge_version_id_is_404(self, client: httpx.AsyncClient) -> None:
        await client.put("/fhir/Patient/p1", json=patient(id="p1"))
        response = await client.get("/fhir/Patient/p1/_history/99999999999999999999999")
        assert_outcome(response, 404, "FAC-1002")

    async def test_too_many_values_is_400(self, client: httpx.AsyncClient) -> None:
        names = ",".join(f"a{i}" for i in range(1000))
        assert_outcome(await client.get(f"/fhir/Patient?name={names}"), 400, "FAC-1013")
        many = "&".join(f"name=a{i}" for i in range(300))
        assert_outcome(await client.get(f"/fhir/Patient?{many}"), 400, "FAC-1013")

    async def test_patch_errors_do_not_quote_the_resource(self, client: httpx.AsyncClient) -> None:
        body = patient(id="s1", identifier=[{"system": "urn:ssn", "value": "123-45-6789"}])
        await client.put("/fhir/Patient/s1", json=body)
        ops = [{"op": "replace", "path": "/identifier/0/nothere/x", "value": 1}]
        response = await client.patch(
            "/fhir/Patient/s1", content=json.dumps(ops), headers={"content-type": PATCH}
        )
        assert_outcome(response, 422, "FAC-1017")
        assert "123-45-6789" not in response.text

    async def test_invalid_ids_are_400_everywhere(self, client: httpx.AsyncClient) -> None:
        bad = "/fhir/Patient/b$d"
        assert_outcome(await client.delete(bad), 400, "FAC-1001")
        assert_outcome(await client.get(f"{bad}/_history"), 400, "FAC-1001")
        patch = await client.patch(bad, content=b"[]", headers={"content-type": PATCH})
        assert patch.status_code == 400

    async def test_put_with_if_none_match_star(self, client: httpx.AsyncClient) -> None:
        first = await client.put(
            "/fhir/Patient/n1", json=patient(id="n1"), headers={"If-None-Match": "*"}
        )
        assert first.status_code == 201
        again = await client.put(
            "/fhir/Patient/n1", json=patient(id="n1", gender="male"), headers={"If-None-Match": "*"}
        )
        assert_outcome(again, 412, "FAC-1009")

    async def test_empty_if_none_exist(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/fhir/Claim", json=claim(), headers={"If-None-Exist": " "})
        assert_outcome(response, 400, "FAC-1001")


class TestUnexpectedErrors:
    async def test_500_is_an_outcome_with_the_request_id(
        self, app: FastAPI, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        async def boom() -> None:
            value = "-".join(["secret", "patient", "4242"])  # request data at run time
            raise RuntimeError(value)

        app.add_api_route("/boom", boom)
        caplog.set_level(logging.ERROR, logger="facade")
        response = await client.get("/boom", headers={"X-Request-ID": "boom-1"})
        assert_outcome(response, 500, "FAC-9001")
        assert response.headers["x-request-id"] == "boom-1"
        assert "secret" not in response.text
        logged = " ".join(r.getMessage() for r in caplog.records)
        assert "request_id=boom-1" in logged and "secret-patient-4242" not in logged


def _entry(method: str, url: str, resource: dict | None = None, **extra: object) -> dict:
    entry: dict = {"request": {"method": method, "url": url, **extra}}
    if resource is not None:
        entry["resource"] = resource
    return entry


def _transaction(*entries: dict) -> dict:
    return {"resourceType": "Bundle", "type": "transaction", "entry": list(entries)}


class TestTransactionIdentity:
    async def test_reads_see_the_transactions_writes(self, client: httpx.AsyncClient) -> None:
        await client.put("/fhir/Patient/t1", json=patient(id="t1"))
        await client.put("/fhir/Patient/t2", json=patient(id="t2"))
        bundle = _transaction(
            _entry("PUT", "Patient/t1", patient(id="t1", gender="male")),
            _entry("GET", "Patient/t1/_history/2"),
            _entry("DELETE", "Patient/t2"),
            _entry("GET", "Patient/t2"),
        )
        response = await client.post("/fhir", json=bundle)
        assert_outcome(response, 410, "FAC-1016")
        bundle["entry"] = bundle["entry"][:2]
        response = await client.post("/fhir", json=bundle)
        assert response.status_code == 200, response.text
        assert response.json()["entry"][1]["resource"]["gender"] == "male"

    async def test_conditional_put_with_full_url_checks_the_id(
        self, client: httpx.AsyncClient
    ) -> None:
        await client.put("/fhir/Patient/c1", json=patient("MRN-C1", id="c1"))
        bundle = _transaction(
            {
                **_entry("PUT", "Patient?identifier=MRN-C1", patient("MRN-C1", id="other")),
                "fullUrl": "urn:uuid:11111111-0000-0000-0000-000000000001",
            }
        )
        assert_outcome(await client.post("/fhir", json=bundle), 400, "FAC-1016")

    async def test_same_conditions_or_full_url_twice_are_refused(
        self, client: httpx.AsyncClient
    ) -> None:
        twice = _transaction(
            _entry("POST", "Patient", patient("Z"), ifNoneExist="identifier=Z"),
            _entry("POST", "Patient", patient("Z"), ifNoneExist="identifier=Z"),
        )
        assert_outcome(await client.post("/fhir", json=twice), 400, "FAC-1001")
        url = "urn:uuid:22222222-0000-0000-0000-000000000002"
        shared = _transaction(
            {**_entry("POST", "Patient", patient("Y1")), "fullUrl": url},
            {**_entry("POST", "Patient", patient("Y2")), "fullUrl": url},
        )
        assert_outcome(await client.post("/fhir", json=shared), 400, "FAC-1001")
        found = (await client.get("/fhir/Patient", params={"identifier": "Z,Y1,Y2"})).json()
        assert "entry" not in found

    async def test_narrative_and_uri_links_are_rewritten(self, client: httpx.AsyncClient) -> None:
        url = "urn:uuid:33333333-0000-0000-0000-000000000003"
        text = {
            "status": "generated",
            "div": f'<div xmlns="http://www.w3.org/1999/xhtml"><a href="{url}">patient</a></div>',
        }
        bundle = _transaction(
            {**_entry("POST", "Patient", patient("L1")), "fullUrl": url},
            _entry("POST", "Claim", claim(patient={"reference": url}, text=text)),
        )
        response = await client.post("/fhir", json=bundle)
        assert response.status_code == 200, response.text
        assert url not in response.text
        patient_id = response.json()["entry"][0]["resource"]["id"]
        stored = response.json()["entry"][1]["resource"]
        assert f'href="Patient/{patient_id}"' in stored["text"]["div"]
