"""The generated CapabilityStatement, and error handling that every route shares."""

from __future__ import annotations

import logging

import httpx
import pytest

from capability.resource_types import RESOURCE_TYPES, SYSTEM_INTERACTIONS, interactions_of
from capability.search_parameters import parameters_for, reference_parameters
from tests.api.fhir_client import assert_outcome, claim, patient, strict_model


class TestCapabilityStatement:
    async def test_lists_exactly_what_is_registered(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/fhir/metadata")
        assert response.status_code == 200
        statement = response.json()
        strict_model(statement)
        assert statement["fhirVersion"] == "4.0.1"
        assert "json" in statement["format"]
        rest = statement["rest"][0]
        assert {r["type"] for r in rest["resource"]} == set(RESOURCE_TYPES)
        assert {i["code"] for i in rest["interaction"]} == set(SYSTEM_INTERACTIONS)
        for resource in rest["resource"]:
            assert [i["code"] for i in resource["interaction"]] == list(
                interactions_of(resource["type"])
            )
            assert {p["name"] for p in resource["searchParam"]} == set(
                parameters_for(resource["type"])
            )
        assert statement["implementation"]["url"] == "http://testserver/fhir"

    async def test_includes_follow_the_registry(self, client: httpx.AsyncClient) -> None:
        statement = (await client.get("/fhir/metadata")).json()
        by_type = {r["type"]: r for r in statement["rest"][0]["resource"]}
        for rtype, resource in by_type.items():
            refs = {f"{rtype}:{p.code}" for p in reference_parameters(rtype)}
            assert set(resource.get("searchInclude", [])) == (
                refs | {f"{rtype}:*"} if refs else set()
            )
        eob = by_type["ExplanationOfBenefit"]
        for required in ("patient", "provider", "care-team", "coverage", "insurer", "payee"):
            assert f"ExplanationOfBenefit:{required}" in eob["searchInclude"]
        assert "ExplanationOfBenefit:coverage" in by_type["Coverage"]["searchRevInclude"]
        carin = {p["name"]: p["definition"] for p in eob["searchParam"]}
        assert carin["service-date"].startswith("http://hl7.org/fhir/us/carin-bb/")

    async def test_every_advertised_type_is_served(self, client: httpx.AsyncClient) -> None:
        statement = (await client.get("/fhir/metadata")).json()
        for resource in statement["rest"][0]["resource"]:
            response = await client.get(f"/fhir/{resource['type']}")
            assert response.status_code == 200, resource["type"]


class TestErrors:
    async def test_unknown_route_and_method(self, client: httpx.AsyncClient) -> None:
        assert_outcome(await client.get("/nowhere"), 404, "FAC-1014")
        assert_outcome(await client.get("/fhir/Claim/a/b/c/d/e"), 404, "FAC-1014")
        assert_outcome(await client.post("/fhir/Claim/abc", json={}), 405, "FAC-1005")
        assert_outcome(await client.get("/fhir/Claim/bad$id"), 400, "FAC-1001")

    async def test_unsupported_type(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/fhir/Observation", json={"resourceType": "Observation"})
        assert_outcome(response, 404, "FAC-1004")

    @pytest.mark.parametrize(
        ("body", "code", "expression"),
        [
            (b'{"resourceType": "Claim",', "FAC-2001", None),
            (b"[1, 2]", "FAC-2002", None),
            (b'{"resourceType": "Patient"}', "FAC-2002", None),
            (b"", "FAC-1001", None),
        ],
    )
    async def test_bad_bodies_store_nothing(
        self, client: httpx.AsyncClient, body: bytes, code: str, expression: str | None
    ) -> None:
        response = await client.post(
            "/fhir/Claim", content=body, headers={"content-type": "application/fhir+json"}
        )
        assert_outcome(response, 400, code)
        history = (await client.get("/fhir/_history")).json()
        assert "entry" not in history

    @pytest.mark.parametrize(
        ("change", "expression"),
        [
            ({"status": "bogus"}, "Claim.status"),
            ({"use": "sometimes"}, "Claim.use"),
            ({"unknownThing": 1}, "Claim.unknownThing"),
            ({"patient": None}, "Claim.patient"),
            ({"total": {"value": 1, "currency": "XXQ"}}, "Claim.total.currency"),
            ({"created": 20261101}, "Claim.created"),
            ({"patient": {"reference": "Organization/1"}}, "Claim.patient.reference"),
            ({"created": "2026-02-30"}, "Claim.created"),
        ],
    )
    async def test_invalid_resources_name_the_element(
        self, client: httpx.AsyncClient, change: dict, expression: str
    ) -> None:
        body = claim(**change)
        if change.get("patient", 1) is None:
            del body["patient"]
        response = await client.post("/fhir/Claim", json=body)
        outcome = assert_outcome(response, 400, "FAC-2003")
        expressions = {e for issue in outcome["issue"] for e in issue.get("expression", [])}
        assert expression in expressions, outcome
        assert "entry" not in (await client.get("/fhir/_history")).json()

    async def test_string_for_integer_is_refused(self, client: httpx.AsyncClient) -> None:
        body = claim()
        body["item"][0]["sequence"] = "1"
        outcome = assert_outcome(await client.post("/fhir/Claim", json=body), 400, "FAC-2003")
        assert outcome["issue"][0]["expression"] == ["Claim.item[0].sequence"]

    async def test_body_too_large(self, client: httpx.AsyncClient) -> None:
        huge = patient(name=[{"family": "x" * 300_000}])
        assert_outcome(await client.post("/fhir/Patient", json=huge), 413, "FAC-1008")
        assert "entry" not in (await client.get("/fhir/_history")).json()

    async def test_error_messages_do_not_echo_values(self, client: httpx.AsyncClient) -> None:
        secret = "SSN-123-45-6789"
        body = patient(gender=secret)
        response = await client.post("/fhir/Patient", json=body)
        assert secret not in response.text


class TestRequestIds:
    async def test_generated_and_echoed(self, client: httpx.AsyncClient) -> None:
        generated = await client.get("/healthz")
        assert len(generated.headers["x-request-id"]) == 32
        given = await client.get("/healthz", headers={"X-Request-ID": "abc-123"})
        assert given.headers["x-request-id"] == "abc-123"
        error = await client.get("/fhir/Claim/none", headers={"X-Request-ID": "err-1"})
        assert error.headers["x-request-id"] == "err-1"

    async def test_logs_carry_id_but_no_phi(
        self, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
    ) -> None:
        caplog.set_level(logging.INFO, logger="facade.access")
        await client.get(
            "/fhir/Patient", params={"identifier": "MRN-SECRET"}, headers={"X-Request-ID": "log-1"}
        )
        lines = [r.getMessage() for r in caplog.records if r.name == "facade.access"]
        assert any("request_id=log-1" in line for line in lines)
        assert not any("MRN-SECRET" in line for line in lines)


class TestHealth:
    async def test_health_and_ready(self, client: httpx.AsyncClient) -> None:
        assert (await client.get("/healthz")).json() == {"status": "ok"}
        assert (await client.get("/readyz")).json() == {"status": "ready"}
