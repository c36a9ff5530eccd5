"""Instance and type interactions over HTTP (R4 http.html): create, read, vread, update, patch,
delete, their conditional forms, versioning headers and `Prefer`."""

from __future__ import annotations

import asyncio
import json

import httpx

from tests.api.fhir_client import (
    FHIR_JSON,
    assert_outcome,
    claim,
    patient,
    resource_id,
    strict_model,
)

PATCH = "application/json-patch+json"


async def _history_total(client: httpx.AsyncClient) -> int:
    response = await client.get("/fhir/_history", params={"_count": 50})
    return len(response.json().get("entry", []))


class TestCreate:
    async def test_create_assigns_id_and_version(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/fhir/Claim", json=claim())
        assert response.status_code == 201
        body = response.json()
        strict_model(body)
        assert body["id"] and body["meta"]["versionId"] == "1"
        assert response.headers["location"] == (
            f"http://testserver/fhir/Claim/{body['id']}/_history/1"
        )
        assert response.headers["etag"] == 'W/"1"'
        assert response.headers["last-modified"].endswith("GMT")
        assert response.headers["content-type"] == f"{FHIR_JSON}; charset=utf-8"

    async def test_body_id_is_ignored(self, client: httpx.AsyncClient) -> None:
        response = await client.post("/fhir/Claim", json=claim(id="client-chosen"))
        assert response.status_code == 201
        assert response.json()["id"] != "client-chosen"

    async def test_decimal_precision_survives(self, client: httpx.AsyncClient) -> None:
        raw = json.dumps(claim()).replace("125.5", "125.50").encode()
        response = await client.post(
            "/fhir/Claim", content=raw, headers={"content-type": FHIR_JSON}
        )
        assert response.status_code == 201
        read = await client.get(f"/fhir/Claim/{resource_id(response)}")
        assert b'"value":125.50' in read.content

    async def test_conditional_create(self, client: httpx.AsyncClient) -> None:
        header = {"If-None-Exist": "identifier=urn:example:pcn|PCN-9"}
        first = await client.post("/fhir/Claim", json=claim("PCN-9"), headers=header)
        assert first.status_code == 201
        second = await client.post("/fhir/Claim", json=claim("PCN-9"), headers=header)
        assert second.status_code == 200
        assert second.json()["id"] == first.json()["id"]
        await client.post("/fhir/Claim", json=claim("PCN-9"))  # unconditional duplicate
        third = await client.post("/fhir/Claim", json=claim("PCN-9"), headers=header)
        assert_outcome(third, 412, "FAC-1010")

    async def test_concurrent_conditional_creates_make_one(self, client: httpx.AsyncClient) -> None:
        header = {"If-None-Exist": "identifier=urn:example:pcn|RACE"}
        responses = await asyncio.gather(
            *(client.post("/fhir/Claim", json=claim("RACE"), headers=header) for _ in range(20))
        )
        assert sorted(r.status_code for r in responses) == [200] * 19 + [201]
        assert len({r.json()["id"] for r in responses}) == 1
        found = await client.get("/fhir/Claim", params={"identifier": "RACE"})
        assert len(found.json()["entry"]) == 1

    async def test_conditional_create_needs_known_criteria(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/fhir/Claim", json=claim(), headers={"If-None-Exist": "bogus=1"}
        )
        assert_outcome(response, 400, "FAC-1013")
        assert await _history_total(client) == 0


class TestRead:
    async def test_read_and_vread(self, client: httpx.AsyncClient) -> None:
        created = await client.post("/fhir/Patient", json=patient())
        pid = resource_id(created)
        read = await client.get(f"/fhir/Patient/{pid}")
        assert read.status_code == 200 and read.content == created.content
        vread = await client.get(f"/fhir/Patient/{pid}/_history/1")
        assert vread.status_code == 200 and vread.content == created.content
        missing = await client.get(f"/fhir/Patient/{pid}/_history/9")
        assert_outcome(missing, 404, "FAC-1002")
        assert_outcome(await client.get("/fhir/Patient/nope"), 404, "FAC-1002")

    async def test_if_none_match_gives_304(self, client: httpx.AsyncClient) -> None:
        pid = resource_id(await client.post("/fhir/Patient", json=patient()))
        response = await client.get(f"/fhir/Patient/{pid}", headers={"If-None-Match": 'W/"1"'})
        assert response.status_code == 304 and response.content == b""
        assert response.headers["etag"] == 'W/"1"'
        changed = await client.get(f"/fhir/Patient/{pid}", headers={"If-None-Match": 'W/"0"'})
        assert changed.status_code == 200

    async def test_if_modified_since(self, client: httpx.AsyncClient) -> None:
        created = await client.post("/fhir/Patient", json=patient())
        pid = resource_id(created)
        since = created.headers["last-modified"]
        response = await client.get(f"/fhir/Patient/{pid}", headers={"If-Modified-Since": since})
        assert response.status_code == 304
        old = "Mon, 01 Jan 2001 00:00:00 GMT"
        response = await client.get(f"/fhir/Patient/{pid}", headers={"If-Modified-Since": old})
        assert response.status_code == 200


class TestUpdate:
    async def test_update_makes_a_new_version(self, client: httpx.AsyncClient) -> None:
        created = (await client.post("/fhir/Claim", json=claim())).json()
        changed = {**created, "status": "cancelled"}
        response = await client.put(f"/fhir/Claim/{created['id']}", json=changed)
        assert response.status_code == 200
        assert response.json()["meta"]["versionId"] == "2"
        assert response.headers["etag"] == 'W/"2"'
        old = await client.get(f"/fhir/Claim/{created['id']}/_history/1")
        assert old.json()["status"] == "active"

    async def test_unchanged_update_keeps_version(self, client: httpx.AsyncClient) -> None:
        created = (await client.post("/fhir/Claim", json=claim())).json()
        response = await client.put(f"/fhir/Claim/{created['id']}", json=created)
        assert response.status_code == 200
        assert response.json()["meta"]["versionId"] == "1"

    async def test_update_as_create(self, client: httpx.AsyncClient) -> None:
        response = await client.put("/fhir/Patient/chosen-id", json=patient(id="chosen-id"))
        assert response.status_code == 201
        assert response.headers["location"].endswith("/fhir/Patient/chosen-id/_history/1")

    async def test_id_mismatch(self, client: httpx.AsyncClient) -> None:
        response = await client.put("/fhir/Patient/a", json=patient(id="b"))
        assert_outcome(response, 400, "FAC-1011")
        response = await client.put("/fhir/Patient/a", json=patient())
        assert_outcome(response, 400, "FAC-1011")
        assert (await client.get("/fhir/Patient/a")).status_code == 404

    async def test_if_match(self, client: httpx.AsyncClient) -> None:
        body = (await client.put("/fhir/Patient/m", json=patient(id="m"))).json()
        stale = await client.put(
            "/fhir/Patient/m", json={**body, "gender": "male"}, headers={"If-Match": 'W/"7"'}
        )
        assert_outcome(stale, 412, "FAC-1009")
        fresh = await client.put(
            "/fhir/Patient/m", json={**body, "gender": "male"}, headers={"If-Match": 'W/"1"'}
        )
        assert fresh.status_code == 200

    async def test_concurrent_if_match_one_wins(self, client: httpx.AsyncClient) -> None:
        body = (await client.put("/fhir/Patient/r", json=patient(id="r"))).json()
        responses = await asyncio.gather(
            *(
                client.put(
                    "/fhir/Patient/r",
                    json={**body, "birthDate": f"1990-01-{i + 1:02d}"},
                    headers={"If-Match": 'W/"1"'},
                )
                for i in range(10)
            )
        )
        assert sorted(r.status_code for r in responses) == [200] + [412] * 9
        final = await client.get("/fhir/Patient/r")
        assert final.json()["meta"]["versionId"] == "2"

    async def test_conditional_update(self, client: httpx.AsyncClient) -> None:
        url = "/fhir/Patient?identifier=urn:example:mrn|MRN-C"
        created = await client.put(url, json=patient("MRN-C"))
        assert created.status_code == 201
        updated = await client.put(url, json=patient("MRN-C", gender="other"))
        assert updated.status_code == 200
        assert updated.json()["id"] == created.json()["id"]
        assert updated.json()["meta"]["versionId"] == "2"
        await client.post("/fhir/Patient", json=patient("MRN-C"))
        assert_outcome(await client.put(url, json=patient("MRN-C")), 412, "FAC-1010")

    async def test_conditional_update_rejects_other_id(self, client: httpx.AsyncClient) -> None:
        url = "/fhir/Patient?identifier=MRN-D"
        await client.put(url, json=patient("MRN-D"))
        response = await client.put(url, json=patient("MRN-D", id="other"))
        assert_outcome(response, 400, "FAC-1011")


class TestPatch:
    async def test_json_patch(self, client: httpx.AsyncClient) -> None:
        pid = resource_id(await client.post("/fhir/Patient", json=patient()))
        ops = [{"op": "replace", "path": "/gender", "value": "male"}]
        response = await client.patch(
            f"/fhir/Patient/{pid}", content=json.dumps(ops), headers={"content-type": PATCH}
        )
        assert response.status_code == 200, response.text
        assert response.json()["gender"] == "male"
        assert response.json()["meta"]["versionId"] == "2"

    async def test_patch_result_is_revalidated(self, client: httpx.AsyncClient) -> None:
        pid = resource_id(await client.post("/fhir/Claim", json=claim()))
        for ops, expression in (
            ([{"op": "replace", "path": "/status", "value": "bogus"}], "Claim.status"),
            (
                [{"op": "replace", "path": "/item/0/sequence", "value": "1"}],
                "Claim.item[0].sequence",
            ),
            ([{"op": "remove", "path": "/patient"}], "Claim.patient"),
        ):
            response = await client.patch(
                f"/fhir/Claim/{pid}", content=json.dumps(ops), headers={"content-type": PATCH}
            )
            body = assert_outcome(response, 422, "FAC-2004")
            assert any(expression in i.get("expression", []) for i in body["issue"]), body
        current = await client.get(f"/fhir/Claim/{pid}")
        assert current.json()["meta"]["versionId"] == "1"

    async def test_patch_errors(self, client: httpx.AsyncClient) -> None:
        pid = resource_id(await client.post("/fhir/Patient", json=patient()))
        url = f"/fhir/Patient/{pid}"
        wrong_type = await client.patch(url, json=[{"op": "remove", "path": "/gender"}])
        assert_outcome(wrong_type, 415, "FAC-1007")
        not_a_patch = await client.patch(
            url, content=b'{"op":"x"}', headers={"content-type": PATCH}
        )
        assert_outcome(not_a_patch, 400, "FAC-1015")
        failed_test = [{"op": "test", "path": "/gender", "value": "male"}]
        response = await client.patch(
            url, content=json.dumps(failed_test), headers={"content-type": PATCH}
        )
        assert_outcome(response, 422, "FAC-1017")
        change_id = [{"op": "replace", "path": "/id", "value": "other"}]
        response = await client.patch(
            url, content=json.dumps(change_id), headers={"content-type": PATCH}
        )
        assert_outcome(response, 422, "FAC-1017")
        missing = await client.patch(
            "/fhir/Patient/none", content=json.dumps(failed_test), headers={"content-type": PATCH}
        )
        assert_outcome(missing, 404, "FAC-1002")

    async def test_conditional_patch_with_if_match(self, client: httpx.AsyncClient) -> None:
        await client.post("/fhir/Patient", json=patient("MRN-P"))
        ops = json.dumps([{"op": "add", "path": "/active", "value": True}])
        stale = await client.patch(
            "/fhir/Patient?identifier=MRN-P",
            content=ops,
            headers={"content-type": PATCH, "If-Match": 'W/"3"'},
        )
        assert_outcome(stale, 412, "FAC-1009")
        response = await client.patch(
            "/fhir/Patient?identifier=MRN-P", content=ops, headers={"content-type": PATCH}
        )
        assert response.status_code == 200 and response.json()["active"] is True


class TestDelete:
    async def test_delete_then_read_is_gone(self, client: httpx.AsyncClient) -> None:
        pid = resource_id(await client.post("/fhir/Claim", json=claim()))
        response = await client.delete(f"/fhir/Claim/{pid}")
        assert response.status_code == 200
        assert response.headers["etag"] == 'W/"2"'
        assert_outcome(await client.get(f"/fhir/Claim/{pid}"), 410, "FAC-1003")
        assert (await client.get(f"/fhir/Claim/{pid}/_history/1")).status_code == 200
        assert_outcome(await client.get(f"/fhir/Claim/{pid}/_history/2"), 410, "FAC-1003")
        history = (await client.get(f"/fhir/Claim/{pid}/_history")).json()
        assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "POST"]
        strict_model(history)
        search = (await client.get("/fhir/Claim")).json()
        assert "entry" not in search

    async def test_delete_is_idempotent(self, client: httpx.AsyncClient) -> None:
        pid = resource_id(await client.post("/fhir/Claim", json=claim()))
        assert (await client.delete(f"/fhir/Claim/{pid}")).status_code == 200
        again = await client.delete(f"/fhir/Claim/{pid}", headers={"Prefer": "return=minimal"})
        assert again.status_code == 204
        history = (await client.get(f"/fhir/Claim/{pid}/_history")).json()
        assert len(history["entry"]) == 2

    async def test_recreate_after_delete(self, client: httpx.AsyncClient) -> None:
        await client.put("/fhir/Patient/z", json=patient(id="z"))
        await client.delete("/fhir/Patient/z")
        response = await client.put("/fhir/Patient/z", json=patient(id="z"))
        assert response.status_code == 201
        assert response.json()["meta"]["versionId"] == "3"

    async def test_conditional_delete(self, client: httpx.AsyncClient) -> None:
        await client.post("/fhir/Claim", json=claim("DEL-1"))
        response = await client.delete("/fhir/Claim?identifier=DEL-1")
        assert response.status_code == 200
        assert "entry" not in (await client.get("/fhir/Claim?identifier=DEL-1")).json()
        await client.post("/fhir/Claim", json=claim("DEL-2"))
        await client.post("/fhir/Claim", json=claim("DEL-2"))
        assert_outcome(await client.delete("/fhir/Claim?identifier=DEL-2"), 412, "FAC-1010")
        assert_outcome(await client.delete("/fhir/Claim?nonsense=1"), 400, "FAC-1013")
        assert_outcome(await client.delete("/fhir/Claim?_count=3"), 400, "FAC-1001")
        assert len((await client.get("/fhir/Claim?identifier=DEL-2")).json()["entry"]) == 2


class TestPrefer:
    async def test_return_minimal_and_outcome(self, client: httpx.AsyncClient) -> None:
        minimal = await client.post(
            "/fhir/Claim", json=claim(), headers={"Prefer": "return=minimal"}
        )
        assert minimal.status_code == 201 and minimal.content == b""
        assert minimal.headers["location"]
        outcome = await client.post(
            "/fhir/Claim", json=claim(), headers={"Prefer": "return=OperationOutcome"}
        )
        assert outcome.status_code == 201
        assert outcome.json()["resourceType"] == "OperationOutcome"
        bad = await client.post("/fhir/Claim", json=claim(), headers={"Prefer": "return=all"})
        assert_outcome(bad, 400, "FAC-1001")


class TestFormats:
    async def test_accept_and_format(self, client: httpx.AsyncClient) -> None:
        pid = resource_id(await client.post("/fhir/Patient", json=patient()))
        url = f"/fhir/Patient/{pid}"
        plain = await client.get(url, headers={"Accept": "application/json"})
        assert plain.headers["content-type"].startswith("application/json")
        browser = await client.get(url, headers={"Accept": "text/html,*/*;q=0.8"})
        assert browser.status_code == 200
        assert_outcome(
            await client.get(url, headers={"Accept": "application/fhir+xml"}), 406, "FAC-1006"
        )
        assert_outcome(await client.get(url, params={"_format": "xml"}), 406, "FAC-1006")
        fmt = await client.get(url, params={"_format": "json"}, headers={"Accept": "text/xml"})
        assert fmt.status_code == 200

    async def test_pretty(self, client: httpx.AsyncClient) -> None:
        pid = resource_id(await client.post("/fhir/Patient", json=patient()))
        pretty = await client.get(f"/fhir/Patient/{pid}", params={"_pretty": "true"})
        assert b"\n  " in pretty.content
        compact = await client.get(f"/fhir/Patient/{pid}")
        assert b"\n" not in compact.content
        assert pretty.json() == compact.json()

    async def test_body_media_type(self, client: httpx.AsyncClient) -> None:
        response = await client.post(
            "/fhir/Patient", content=b"<Patient/>", headers={"content-type": "application/fhir+xml"}
        )
        assert_outcome(response, 415, "FAC-1007")
        assert await _history_total(client) == 0
