"""Cursor paging under concurrent inserts, updates and deletes (next and previous links), and
searches after writes."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from tests.api.fhir_client import assert_outcome, strict_model
from tests.api.search_corpus import STRICT, links_of, relative, search_bundle, search_ids

# --- paging -------------------------------------------------------------------------------------


def _patient(id: str, family: str) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": id, "name": [{"family": family}]}


async def _page(client: httpx.AsyncClient, url: str) -> tuple[list[str], dict[str, str]]:
    response = await client.get(relative(url) if url.startswith("http") else url)
    assert response.status_code == 200, response.text
    body = response.json()
    strict_model(body)
    return [i.split("/")[1] for i in search_ids(body)], links_of(body)


class TestPaging:
    async def test_next_and_previous_while_writing(self, client: httpx.AsyncClient) -> None:
        for n in range(9):
            await client.put(f"/fhir/Patient/p{n}", json=_patient(f"p{n}", f"F{n}"))
        first, links = await _page(client, "/fhir/Patient?_count=3")
        assert first == ["p0", "p1", "p2"] and "previous" not in links
        assert links["self"] == "http://testserver/fhir/Patient?_count=3"
        await client.delete("/fhir/Patient/p1")  # already seen
        await client.delete("/fhir/Patient/p4")  # not seen yet: gone before it is reached
        await client.put("/fhir/Patient/p9", json=_patient("p9", "F9"))
        await client.put("/fhir/Patient/p0", json=_patient("p0", "F0 updated"))
        second, links2 = await _page(client, links["next"])
        assert second == ["p3", "p5", "p6"]
        assert "_cursor=" in links2["self"] and links2["self"].startswith(
            "http://testserver/fhir/Patient?_count=3&_cursor="
        )
        third, links3 = await _page(client, links2["next"])
        assert third == ["p7", "p8", "p9"] and "next" not in links3
        back, back_links = await _page(client, links3["previous"])
        assert back == second
        again, again_links = await _page(client, back_links["previous"])
        assert again == ["p0", "p2"] and "previous" not in again_links
        forward, _ = await _page(client, again_links["next"])
        assert forward == second
        assert (await _page(client, links2["self"]))[0] == second

    async def test_sorted_paging_while_writing(self, client: httpx.AsyncClient) -> None:
        for n, family in enumerate(["Baker", "Clark", "Davis", "Evans", "Ford", "Green"]):
            await client.put(f"/fhir/Patient/s{n}", json=_patient(f"s{n}", family))
        seen, links = await _page(client, "/fhir/Patient?_sort=-family&_count=2")
        assert seen == ["s5", "s4"]
        # Adams sorts last (still ahead of the cursor), Young first (already behind it)
        await client.put("/fhir/Patient/new-a", json=_patient("new-a", "Adams"))
        await client.put("/fhir/Patient/new-z", json=_patient("new-z", "Young"))
        await client.delete("/fhir/Patient/s3")
        while "next" in links:
            page, links = await _page(client, links["next"])
            seen += page
        assert seen == ["s5", "s4", "s2", "s1", "s0", "new-a"]
        assert len(seen) == len(set(seen))

    async def test_empty_page_still_links_back(self, client: httpx.AsyncClient) -> None:
        for n in range(4):
            await client.put(f"/fhir/Patient/e{n}", json=_patient(f"e{n}", "E"))
        first, links = await _page(client, "/fhir/Patient?_count=2")
        for n in (2, 3):
            await client.delete(f"/fhir/Patient/e{n}")
        empty, empty_links = await _page(client, links["next"])
        assert empty == [] and "next" not in empty_links
        back, back_links = await _page(client, empty_links["previous"])
        assert back == first == ["e0", "e1"] and "previous" not in back_links
        await client.delete("/fhir/Patient/e0")
        await client.delete("/fhir/Patient/e1")
        await client.put("/fhir/Patient/e4", json=_patient("e4", "E"))
        nothing, nothing_links = await _page(client, back_links["next"])
        assert nothing == ["e4"]
        before, before_links = await _page(client, nothing_links["previous"])
        assert before == [] and "previous" not in before_links
        assert (await _page(client, before_links["next"]))[0] == ["e4"]

    async def test_default_and_maximum_count(self, client: httpx.AsyncClient) -> None:
        for n in range(12):
            await client.put(f"/fhir/Patient/c{n}", json=_patient(f"c{n}", "Count"))
        ids, links = await _page(client, "/fhir/Patient")
        assert len(ids) == 10 and "next" in links  # settings: default_count=10
        ids, links = await _page(client, "/fhir/Patient?_count=500")
        assert len(ids) == 12 and links["self"].endswith("_count=50")  # max_count=50

    async def test_cursor_of_another_sort(self, client: httpx.AsyncClient) -> None:
        for n in range(3):
            await client.put(f"/fhir/Patient/k{n}", json=_patient(f"k{n}", "K"))
        _, links = await _page(client, "/fhir/Patient?_count=1&_sort=family")
        cursor = dict(parse_qsl(urlsplit(links["next"]).query))["_cursor"]
        other = await client.get("/fhir/Patient", params={"_cursor": cursor})
        assert_outcome(other, 400, "FAC-1001")


# --- searches see every write -------------------------------------------------------------------


class TestWrites:
    async def test_update_patch_and_delete_reindex(self, client: httpx.AsyncClient) -> None:
        for resource in (
            {"resourceType": "Patient", "id": "w-pat", "name": [{"family": "Writer"}]},
            {"resourceType": "Patient", "id": "w-pat-2", "name": [{"family": "Other"}]},
            {
                "resourceType": "Coverage",
                "id": "w-cov",
                "status": "active",
                "beneficiary": {"reference": "Patient/w-pat"},
                "payor": [{"reference": "Patient/w-pat"}],
            },
        ):
            await client.put(f"/fhir/{resource['resourceType']}/{resource['id']}", json=resource)

        async def ids(query: str) -> list[str]:
            return [i.split("/")[1] for i in search_ids(await search_bundle(client, query, STRICT))]

        assert await ids("Coverage?beneficiary.name=writer&status=active") == ["w-cov"]
        current = (await client.get("/fhir/Coverage/w-cov")).json()
        current.update(status="cancelled", beneficiary={"reference": "Patient/w-pat-2"})
        assert (await client.put("/fhir/Coverage/w-cov", json=current)).status_code == 200
        assert await ids("Coverage?status=active") == []
        assert await ids("Coverage?beneficiary.name=writer") == []
        assert await ids("Coverage?beneficiary.name=other&status=cancelled") == ["w-cov"]
        patched = await client.patch(
            "/fhir/Coverage/w-cov",
            json=[{"op": "replace", "path": "/status", "value": "draft"}],
            headers={"Content-Type": "application/json-patch+json"},
        )
        assert patched.status_code == 200, patched.text
        assert await ids("Coverage?status=draft") == ["w-cov"]
        assert await ids("Coverage?status=cancelled") == []
        await client.delete("/fhir/Patient/w-pat-2")
        assert await ids("Coverage?beneficiary.name=other") == []
        assert await ids("Patient?_has:Coverage:payor:status=draft") == ["w-pat"]
        body = await search_bundle(client, "Coverage?_include=Coverage:beneficiary", STRICT)
        assert search_ids(body) == ["Coverage/w-cov"] and search_ids(body, "include") == []
        await client.delete("/fhir/Coverage/w-cov")
        assert await ids("Coverage") == []
        assert await ids("Patient?_has:Coverage:payor:status=draft") == []
        body = await search_bundle(client, "Patient?_revinclude=Coverage:payor", STRICT)
        assert search_ids(body) == ["Patient/w-pat"] and search_ids(body, "include") == []
