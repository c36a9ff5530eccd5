"""History (instance, type, system; `_since`, `_count`, paging) and the foundation's search
(`_id`, `_lastUpdated`, `identifier`, `_type`, paging, strict and lenient handling)."""

from __future__ import annotations

import httpx

from tests.api.fhir_client import assert_outcome, claim, patient, resource_id, strict_model


async def _follow(client: httpx.AsyncClient, url: str) -> list[dict]:
    entries: list[dict] = []
    while url:
        body = (await client.get(url)).json()
        strict_model(body)
        entries += body.get("entry", [])
        url = next((link["url"] for link in body["link"] if link["relation"] == "next"), "")
    return entries


class TestHistory:
    async def test_type_and_system_history(self, client: httpx.AsyncClient) -> None:
        cid = resource_id(await client.post("/fhir/Claim", json=claim()))
        await client.post("/fhir/Patient", json=patient())
        current = (await client.get(f"/fhir/Claim/{cid}")).json()
        await client.put(f"/fhir/Claim/{cid}", json={**current, "status": "cancelled"})
        claims = (await client.get("/fhir/Claim/_history")).json()
        assert claims["type"] == "history"
        assert [e["request"]["method"] for e in claims["entry"]] == ["PUT", "POST"]
        assert claims["entry"][0]["response"]["status"] == "200 OK"
        assert claims["entry"][1]["response"]["status"] == "201 Created"
        everything = (await client.get("/fhir/_history")).json()
        assert [e["resource"]["resourceType"] for e in everything["entry"]] == [
            "Claim",
            "Patient",
            "Claim",
        ]

    async def test_since_and_paging(self, client: httpx.AsyncClient) -> None:
        stamps = []
        for i in range(5):
            created = await client.post("/fhir/Patient", json=patient(f"H{i}"))
            stamps.append(created.json()["meta"]["lastUpdated"])
        since = (await client.get("/fhir/Patient/_history", params={"_since": stamps[3]})).json()
        assert [e["resource"]["identifier"][0]["value"] for e in since["entry"]] == ["H4", "H3"]
        entries = await _follow(client, "/fhir/_history?_count=2")
        assert [e["resource"]["identifier"][0]["value"] for e in entries] == [
            "H4",
            "H3",
            "H2",
            "H1",
            "H0",
        ]

    async def test_instance_history_unknown(self, client: httpx.AsyncClient) -> None:
        assert_outcome(await client.get("/fhir/Claim/none/_history"), 404, "FAC-1002")

    async def test_bad_since(self, client: httpx.AsyncClient) -> None:
        response = await client.get("/fhir/_history", params={"_since": "yesterday"})
        assert_outcome(response, 400, "FAC-1013")


class TestSearch:
    async def test_identifier_and_id(self, client: httpx.AsyncClient) -> None:
        a = resource_id(await client.post("/fhir/Claim", json=claim("S-1")))
        b = resource_id(await client.post("/fhir/Claim", json=claim("S-2")))
        found = (
            await client.get("/fhir/Claim", params={"identifier": "urn:example:pcn|S-1"})
        ).json()
        assert [e["resource"]["id"] for e in found["entry"]] == [a]
        assert found["entry"][0]["search"]["mode"] == "match"
        assert found["entry"][0]["fullUrl"] == f"http://testserver/fhir/Claim/{a}"
        either = (await client.get("/fhir/Claim", params={"identifier": "S-1,S-2"})).json()
        assert {e["resource"]["id"] for e in either["entry"]} == {a, b}
        by_id = (await client.get("/fhir/Claim", params={"_id": b})).json()
        assert [e["resource"]["id"] for e in by_id["entry"]] == [b]
        none = (await client.get("/fhir/Claim", params={"identifier": "other|S-1"})).json()
        assert "entry" not in none

    async def test_last_updated(self, client: httpx.AsyncClient) -> None:
        first = (await client.post("/fhir/Claim", json=claim("L-1"))).json()
        second = (await client.post("/fhir/Claim", json=claim("L-2"))).json()
        stamp = first["meta"]["lastUpdated"]
        later = (await client.get("/fhir/Claim", params={"_lastUpdated": f"gt{stamp}"})).json()
        assert [e["resource"]["id"] for e in later["entry"]] == [second["id"]]
        year = stamp[:4]
        both = (await client.get("/fhir/Claim", params={"_lastUpdated": year})).json()
        assert len(both["entry"]) == 2
        assert (
            "entry"
            not in (await client.get("/fhir/Claim", params={"_lastUpdated": "lt2000"})).json()
        )

    async def test_paging_and_total(self, client: httpx.AsyncClient) -> None:
        for i in range(7):
            await client.post("/fhir/Patient", json=patient(f"P{i}"))
        first = (
            await client.get("/fhir/Patient", params={"_count": 3, "_total": "accurate"})
        ).json()
        assert first["total"] == 7
        entries = await _follow(client, "/fhir/Patient?_count=3")
        assert len(entries) == 7 and len({e["resource"]["id"] for e in entries}) == 7
        no_total = (await client.get("/fhir/Patient")).json()
        assert "total" not in no_total

    async def test_system_search_with_type(self, client: httpx.AsyncClient) -> None:
        await client.post("/fhir/Claim", json=claim("X-1"))
        await client.post("/fhir/Patient", json=patient("X-1"))
        both = (await client.get("/fhir", params={"identifier": "X-1"})).json()
        assert sorted(e["resource"]["resourceType"] for e in both["entry"]) == ["Claim", "Patient"]
        one = (await client.get("/fhir", params={"_type": "Patient", "identifier": "X-1"})).json()
        assert [e["resource"]["resourceType"] for e in one["entry"]] == ["Patient"]
        assert_outcome(await client.get("/fhir", params={"_type": "Observation"}), 404, "FAC-1004")

    async def test_unknown_parameter_lenient_and_strict(self, client: httpx.AsyncClient) -> None:
        await client.post("/fhir/Claim", json=claim())
        lenient = (await client.get("/fhir/Claim", params={"nonsense": "1", "_count": 5})).json()
        assert lenient["link"][0]["url"] == "http://testserver/fhir/Claim?_count=5"
        outcome = [e for e in lenient["entry"] if e["search"]["mode"] == "outcome"]
        assert outcome and outcome[0]["resource"]["issue"][0]["expression"] == ["nonsense"]
        strict = await client.get(
            "/fhir/Claim", params={"nonsense": "1"}, headers={"Prefer": "handling=strict"}
        )
        assert_outcome(strict, 400, "FAC-1013")

    async def test_malformed_values_are_400(self, client: httpx.AsyncClient) -> None:
        for params in ({"_lastUpdated": "xx2020"}, {"_count": "-1"}, {"_total": "all"}):
            assert_outcome(await client.get("/fhir/Claim", params=params), 400, "FAC-1013")
        assert_outcome(await client.get("/fhir/Claim", params={"_cursor": "junk"}), 400, "FAC-1001")

    async def test_post_search(self, client: httpx.AsyncClient) -> None:
        await client.post("/fhir/Claim", json=claim("F-1"))
        response = await client.post("/fhir/Claim/_search", data={"identifier": "F-1"})
        assert response.status_code == 200
        assert len(response.json()["entry"]) == 1


async def test_system_search_by_post(client: httpx.AsyncClient) -> None:
    await client.post("/fhir/Claim", json=claim("SP-1"))
    await client.post("/fhir/Patient", json=patient("SP-1"))
    response = await client.post("/fhir/_search", data={"identifier": "SP-1", "_type": "Claim"})
    assert response.status_code == 200
    assert [e["resource"]["resourceType"] for e in response.json()["entry"]] == ["Claim"]
