"""What a search returns beyond the match set: `_include`/`_revinclude` (with `:iterate` and
`*`), `_sort`, cursor paging under concurrent writes, `_total`, `_summary`/`_elements`, system
search, `POST _search`, strict and lenient handling, and malformed values."""

from __future__ import annotations

from collections.abc import AsyncIterator
from urllib.parse import parse_qsl

import httpx
import pytest
import pytest_asyncio

from server.fhir.search.shaping import SUBSETTED
from tests.api.fhir_client import assert_outcome, strict_model
from tests.api.search_corpus import (
    STRICT,
    corpus_server,
    links_of,
    relative,
    search_bundle,
    search_ids,
)

module = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def corpus(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[httpx.AsyncClient]:
    async with corpus_server(tmp_path_factory.mktemp("search-results")) as client:
        yield client


# --- _include / _revinclude ----------------------------------------------------------------


@module
class TestIncludes:
    @pytest.mark.parametrize(
        ("param", "expected"),
        [
            ("patient", {"Patient/pat-1"}),
            ("provider", {"Organization/org-prov"}),
            ("care-team", {"Practitioner/prac-1", "PractitionerRole/role-1"}),
            ("coverage", {"Coverage/cov-1"}),
            ("insurer", {"Organization/org-payer"}),
            ("payee", {"Organization/org-prov"}),
            ("claim", {"Claim/claim-1"}),
            ("facility", {"Location/loc-1"}),
            ("enterer", {"Practitioner/prac-1"}),
            ("encounter", {"Encounter/enc-1"}),
        ],
    )
    async def test_each_eob_reference(
        self, corpus: httpx.AsyncClient, param: str, expected: set[str]
    ) -> None:
        body = await search_bundle(
            corpus, f"ExplanationOfBenefit?_id=eob-1&_include=ExplanationOfBenefit:{param}", STRICT
        )
        assert search_ids(body) == ["ExplanationOfBenefit/eob-1"]
        assert set(search_ids(body, "include")) == expected
        assert all(e["search"]["mode"] in ("match", "include") for e in body["entry"])

    async def test_star_includes_every_reference(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(
            corpus, "ExplanationOfBenefit?_id=eob-1&_include=ExplanationOfBenefit:*", STRICT
        )
        included = search_ids(body, "include")
        assert len(included) == len(set(included))
        assert set(included) == {
            "Patient/pat-1",
            "Organization/org-prov",
            "Practitioner/prac-1",
            "PractitionerRole/role-1",
            "Coverage/cov-1",
            "Organization/org-payer",
            "Claim/claim-1",
            "Encounter/enc-1",
            "Location/loc-1",
        }
        urls = {e["fullUrl"] for e in body["entry"]}
        assert "http://testserver/fhir/Coverage/cov-1" in urls

    async def test_include_with_target_type(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(
            corpus,
            "ExplanationOfBenefit?_id=eob-1&_include=ExplanationOfBenefit:care-team:Practitioner",
            STRICT,
        )
        assert search_ids(body, "include") == ["Practitioner/prac-1"]

    async def test_iterate_reaches_the_payor(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(
            corpus,
            "ExplanationOfBenefit?_id=eob-1&_include=ExplanationOfBenefit:coverage"
            "&_include:iterate=Coverage:payor",
            STRICT,
        )
        assert set(search_ids(body, "include")) == {"Coverage/cov-1", "Organization/org-payer"}
        every = await search_bundle(
            corpus,
            "ExplanationOfBenefit?_include=ExplanationOfBenefit:coverage"
            "&_include:iterate=Coverage:payor",
            STRICT,
        )
        assert set(search_ids(every)) == {
            "ExplanationOfBenefit/eob-1",
            "ExplanationOfBenefit/eob-2",
            "ExplanationOfBenefit/eob-3",
        }
        assert set(search_ids(every, "include")) == {
            "Coverage/cov-1",
            "Coverage/cov-2",
            "Organization/org-payer",
            "Organization/org-sub",
        }

    async def test_without_iterate_no_second_level(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(
            corpus,
            "ExplanationOfBenefit?_id=eob-1&_include=ExplanationOfBenefit:coverage"
            "&_include=Coverage:payor",
        )
        assert search_ids(body, "include") == ["Coverage/cov-1"]
        outcome = [e for e in body["entry"] if e["search"]["mode"] == "outcome"]
        assert outcome and outcome[0]["resource"]["issue"][0]["expression"] == ["_include"]

    async def test_coverage_payor(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(corpus, "Coverage?_include=Coverage:payor", STRICT)
        assert set(search_ids(body)) == {"Coverage/cov-1", "Coverage/cov-2"}
        assert set(search_ids(body, "include")) == {
            "Organization/org-payer",
            "Organization/org-sub",
        }

    async def test_revinclude(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(corpus, "Patient?_id=pat-1&_revinclude=Claim:patient", STRICT)
        assert search_ids(body) == ["Patient/pat-1"]
        # claim-3 names the patient with an absolute URL under our base: still a local reference
        assert set(search_ids(body, "include")) == {"Claim/claim-1", "Claim/claim-3"}

    async def test_revinclude_iterate(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(
            corpus,
            "Patient?_id=pat-2&_revinclude=Coverage:beneficiary"
            "&_revinclude:iterate=ExplanationOfBenefit:coverage",
            STRICT,
        )
        assert set(search_ids(body, "include")) == {
            "Coverage/cov-2",
            "ExplanationOfBenefit/eob-2",
        }

    async def test_revinclude_star(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(
            corpus, "Organization?_id=org-sub&_revinclude=Coverage:*", STRICT
        )
        assert search_ids(body, "include") == ["Coverage/cov-2"]

    async def test_a_match_is_not_repeated_as_include(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(corpus, "Organization?_include=Organization:partof", STRICT)
        assert set(search_ids(body)) == {
            "Organization/org-prov",
            "Organization/org-payer",
            "Organization/org-sub",
        }
        assert search_ids(body, "include") == []
        narrow = await search_bundle(
            corpus, "Organization?_id=org-sub&_include=Organization:partof", STRICT
        )
        assert search_ids(narrow, "include") == ["Organization/org-payer"]

    async def test_another_servers_reference_is_not_included(
        self, corpus: httpx.AsyncClient
    ) -> None:
        body = await search_bundle(
            corpus, "Encounter?_id=enc-2&_include=Encounter:service-provider", STRICT
        )
        assert search_ids(body) == ["Encounter/enc-2"]
        assert search_ids(body, "include") == []
        reverse = await search_bundle(
            corpus, "Organization?_id=org-prov&_revinclude=Encounter:service-provider", STRICT
        )
        assert search_ids(reverse, "include") == ["Encounter/enc-1"]

    async def test_include_in_system_search(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(
            corpus, "?_type=Claim&_id=claim-2&_include=Claim:patient&_include=Claim:insurer"
        )
        assert search_ids(body) == ["Claim/claim-2"]
        assert set(search_ids(body, "include")) == {"Patient/pat-2", "Organization/org-sub"}

    async def test_includes_follow_the_page(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(corpus, "Claim?_count=1&_include=Claim:patient", STRICT)
        assert search_ids(body) == ["Claim/claim-1"]
        assert search_ids(body, "include") == ["Patient/pat-1"]
        second = (await corpus.get(relative(links_of(body)["next"]))).json()
        assert search_ids(second) == ["Claim/claim-2"]
        assert search_ids(second, "include") == ["Patient/pat-2"]
        assert "_include=Claim%3Apatient" in links_of(second)["self"]


# --- _sort -------------------------------------------------------------------------------------


@module
class TestSort:
    @pytest.mark.parametrize(
        ("query", "expected"),
        [
            ("Claim?_sort=created", ["claim-3", "claim-1", "claim-2"]),
            ("Claim?_sort=-created", ["claim-2", "claim-1", "claim-3"]),
            ("Claim?_sort=status", ["claim-1", "claim-3", "claim-2"]),
            ("Claim?_sort=priority,-created", ["claim-1", "claim-3", "claim-2"]),
            ("Claim?_sort=-priority,created", ["claim-2", "claim-3", "claim-1"]),
            # references sort as Type/id however written (claim-3: absolute URL, our base)
            ("Claim?_sort=patient,created", ["claim-3", "claim-1", "claim-2"]),
            ("Claim?_sort=-patient,-created", ["claim-2", "claim-1", "claim-3"]),
            # missing values last in both directions
            ("Claim?_sort=enterer", ["claim-1", "claim-2", "claim-3"]),
            ("Claim?_sort=-enterer,status", ["claim-1", "claim-3", "claim-2"]),
            ("ExplanationOfBenefit?_sort=billable-period-start", ["eob-1", "eob-2", "eob-3"]),
            ("ExplanationOfBenefit?_sort=-billable-period-start", ["eob-2", "eob-1", "eob-3"]),
            ("ExplanationOfBenefit?_sort=service-date", ["eob-3", "eob-1", "eob-2"]),
            ("Procedure?_sort=-instantiates-uri", ["proc-1", "proc-2"]),
            # strings sort folded (Müller between Doe and Smith)
            ("Patient?_sort=family", ["pat-3", "pat-1", "pat-2"]),
            ("Patient?_sort=-family", ["pat-2", "pat-1", "pat-3"]),
            ("Patient?_sort=birthdate", ["pat-2", "pat-1", "pat-3"]),
            # a Period sorts by its start ascending and by its end descending
            ("Encounter?_sort=date", ["enc-1", "enc-2"]),
            ("Encounter?_sort=-date", ["enc-2", "enc-1"]),
            ("Encounter?_sort=length", ["enc-2", "enc-1"]),
            ("Organization?_sort=-_id", ["org-sub", "org-prov", "org-payer"]),
            ("Organization?_sort=_lastUpdated", ["org-prov", "org-payer", "org-sub"]),
            ("Organization?_sort=-_lastUpdated", ["org-sub", "org-payer", "org-prov"]),
            ("Condition?_sort=-onset-date,_id", ["cond-1", "cond-2", "cond-3"]),
        ],
    )
    async def test_order(self, corpus: httpx.AsyncClient, query: str, expected: list[str]) -> None:
        body = await search_bundle(corpus, query, STRICT)
        assert [i.split("/")[1] for i in search_ids(body)] == expected
        assert f"_sort={parse_qsl(query.split('?')[1])[0][1]}" in links_of(body)["self"].replace(
            "%2C", ","
        )

    @pytest.mark.parametrize(
        "query",
        [
            "Claim?_sort=priority,-created",
            "Claim?_sort=-enterer,status",
            "ExplanationOfBenefit?_sort=-billable-period-start",
            "Patient?_sort=-family",
            "Claim?_sort=patient,-_lastUpdated",
            "Claim?_sort=enterer",
            "ExplanationOfBenefit?_sort=billable-period-start,-_id",
            "Encounter?_sort=-date",
        ],
    )
    async def test_pages_keep_the_order(self, corpus: httpx.AsyncClient, query: str) -> None:
        whole = search_ids(await search_bundle(corpus, query, STRICT))
        paged: list[str] = []
        body = await search_bundle(corpus, query + "&_count=1", STRICT)
        pages = [body]
        while True:
            paged += search_ids(body)
            nxt = links_of(body).get("next")
            if nxt is None:
                break
            body = await search_bundle(corpus, relative(nxt).removeprefix("/fhir/"), STRICT)
            pages.append(body)
        assert paged == whole
        backwards: list[str] = []
        while (previous := links_of(body).get("previous")) is not None:
            body = await search_bundle(corpus, relative(previous).removeprefix("/fhir/"), STRICT)
            backwards = search_ids(body) + backwards
        assert backwards + search_ids(pages[-1]) == whole

    async def test_unsortable(self, corpus: httpx.AsyncClient) -> None:
        strict = await corpus.get(
            "/fhir/Group", params={"_sort": "characteristic-value"}, headers=STRICT
        )
        assert_outcome(strict, 400, "FAC-1013")
        lenient = await search_bundle(corpus, "Group?_sort=characteristic-value")
        assert "_sort" not in links_of(lenient)["self"]


# --- _total, _summary, _elements --------------------------------------------------------------


@module
class TestTotalsAndShaping:
    async def test_totals(self, corpus: httpx.AsyncClient) -> None:
        assert "total" not in await search_bundle(corpus, "Claim")
        assert "total" not in await search_bundle(corpus, "Claim?_total=none")
        accurate = await search_bundle(corpus, "Claim?_total=accurate&_count=1&status=active,draft")
        assert accurate["total"] == 2 and len(accurate["entry"]) == 1
        assert (await search_bundle(corpus, "Claim?_total=estimate"))["total"] == 3

    async def test_summary_count(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(corpus, "Claim?_summary=count&patient=Patient/pat-1")
        assert body["total"] == 2 and "entry" not in body
        assert "_summary=count" in links_of(body)["self"]

    @pytest.mark.parametrize(
        ("query", "present", "absent"),
        [
            ("Claim?_id=claim-1&_summary=true", {"status", "patient", "insurance"}, {"item"}),
            ("Patient?_id=pat-2&_summary=true", {"deceasedDateTime", "name"}, {"communication"}),
            ("Claim?_id=claim-1&_summary=text", {"status", "insurance", "priority"}, {"item"}),
            ("Claim?_id=claim-1&_summary=data", {"item", "careTeam"}, {"text"}),
            (
                "Claim?_id=claim-1&_elements=item,identifier",
                {"item", "identifier", "status", "patient"},
                {"careTeam", "facility", "payee"},
            ),
            ("Patient?_id=pat-2&_elements=deceased", {"deceasedDateTime"}, {"name"}),
            (
                "ExplanationOfBenefit?_id=eob-1&_elements=careTeam",
                {"careTeam", "outcome", "insurer"},
                {"item", "payee", "facility"},
            ),
        ],
    )
    async def test_subsets(
        self, corpus: httpx.AsyncClient, query: str, present: set[str], absent: set[str]
    ) -> None:
        body = await search_bundle(corpus, query, STRICT)
        (entry,) = body["entry"]
        resource = entry["resource"]
        assert present <= set(resource) and not absent & set(resource)
        assert SUBSETTED in resource["meta"]["tag"]
        assert resource["meta"]["versionId"] == "1" and resource["id"]
        strict_model(resource)

    async def test_subset_keeps_other_tags(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(corpus, "Patient?_id=pat-1&_summary=true")
        tags = body["entry"][0]["resource"]["meta"]["tag"]
        assert {"system": "http://example.org/fhir/tags", "code": "batch-7"} in tags
        assert SUBSETTED in tags

    async def test_no_subset_no_tag(self, corpus: httpx.AsyncClient) -> None:
        for query in ("Claim?_id=claim-2", "Claim?_id=claim-2&_summary=false"):
            resource = (await search_bundle(corpus, query))["entry"][0]["resource"]
            assert "tag" not in resource["meta"]
            assert "item" in resource


# --- system search, POST _search ------------------------------------------------------------


@module
class TestSystemAndPost:
    async def test_system_search_with_type(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(
            corpus, "?_type=Claim,ExplanationOfBenefit&patient=Patient/pat-2", STRICT
        )
        assert set(search_ids(body)) == {"Claim/claim-2", "ExplanationOfBenefit/eob-2"}
        assert "_type=Claim%2CExplanationOfBenefit" in links_of(body)["self"]
        names = await search_bundle(corpus, "?_type=Patient,RelatedPerson&name=muller", STRICT)
        assert set(search_ids(names)) == {"Patient/pat-1", "RelatedPerson/rp-2"}

    async def test_system_search_over_every_type(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(corpus, "?_id=pat-1,claim-1", STRICT)
        assert set(search_ids(body)) == {"Patient/pat-1", "Claim/claim-1"}
        tagged = await search_bundle(
            corpus, "?_tag=http://example.org/fhir/tags|batch-7&_count=100"
        )
        assert len(search_ids(tagged)) == 18
        assert search_ids(await search_bundle(corpus, "?_lastUpdated=lt2000")) == []

    async def test_system_search_sorted(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(corpus, "?_type=Claim,ClaimResponse&_sort=-created", STRICT)
        assert search_ids(body) == [
            "ClaimResponse/cr-2",
            "Claim/claim-2",
            "ClaimResponse/cr-1",
            "Claim/claim-1",
            "Claim/claim-3",
        ]

    async def test_post_search(self, corpus: httpx.AsyncClient) -> None:
        response = await corpus.post(
            "/fhir/Claim/_search",
            data={"patient": "Patient/pat-1", "_sort": "-created"},
            headers=STRICT,
        )
        assert response.status_code == 200, response.text
        body = response.json()
        strict_model(body)
        assert search_ids(body) == ["Claim/claim-1", "Claim/claim-3"]
        assert links_of(body)["self"].startswith("http://testserver/fhir/Claim?")
        assert "patient=Patient%2Fpat-1" in links_of(body)["self"]

    async def test_post_search_combines_url_and_body(self, corpus: httpx.AsyncClient) -> None:
        response = await corpus.post(
            "/fhir/Claim/_search?status=cancelled", data={"patient": "Patient/pat-1"}
        )
        assert search_ids(response.json()) == ["Claim/claim-3"]

    async def test_post_search_needs_a_form(self, corpus: httpx.AsyncClient) -> None:
        response = await corpus.post("/fhir/Claim/_search", json={"patient": "Patient/pat-1"})
        assert response.status_code == 415


# --- strict and lenient handling, malformed values --------------------------------------------


@module
class TestHandling:
    @pytest.mark.parametrize(
        ("params", "dropped"),
        [
            ({"nonsense": "1"}, "nonsense"),
            ({"status:exact": "active"}, "status:exact"),
            ({"_id:text": "claim-1"}, "_id:text"),
            ({"created:missing:x": "true"}, "created:missing:x"),
            ({"status.name": "x"}, "status.name"),
            ({"patient.nonsense": "x"}, "patient.nonsense"),
            ({"patient.link.link.link.name": "x"}, "patient.link.link.link.name"),
            ({"_has:Claim:status:status": "active"}, "_has:Claim:status:status"),
            ({"_has:Observation:patient:code": "x"}, "_has:Observation:patient:code"),
            ({"_sort": "nonsense"}, "_sort"),
            ({"_include": "Claim:status"}, "_include"),
            ({"_include": "Observation:patient"}, "_include"),
            ({"_revinclude:deep": "Claim:patient"}, "_revinclude:deep"),
            ({"_contained": "true"}, "_contained"),
            ({"_filter": "status eq active"}, "_filter"),
            ({"patient:Group": "x"}, "patient:Group"),
        ],
    )
    async def test_dropped_parameter(
        self, corpus: httpx.AsyncClient, params: dict[str, str], dropped: str
    ) -> None:
        query = {**params, "use": "claim"}
        lenient = await corpus.get("/fhir/Claim", params=query)
        assert lenient.status_code == 200, lenient.text
        body = lenient.json()
        strict_model(body)
        assert set(search_ids(body)) == {"Claim/claim-1", "Claim/claim-3"}
        assert links_of(body)["self"] == "http://testserver/fhir/Claim?use=claim"
        (outcome,) = [e for e in body["entry"] if e["search"]["mode"] == "outcome"]
        assert [i["expression"] for i in outcome["resource"]["issue"]] == [[dropped]]
        assert outcome["resource"]["issue"][0]["severity"] == "warning"
        strict = await corpus.get("/fhir/Claim", params=query, headers=STRICT)
        issue = assert_outcome(strict, 400, "FAC-1013")["issue"][0]
        assert issue["expression"] == [dropped]

    @pytest.mark.parametrize(
        ("path", "params", "name"),
        [
            ("Claim", {"created": "2024-13-01"}, "created"),
            ("Claim", {"created": "2024-02-30"}, "created"),
            ("Claim", {"created": "xx2024"}, "created"),
            ("Claim", {"created": "eq"}, "created"),
            ("Claim", {"created": "2024-02-28T25:00:00Z"}, "created"),
            ("Claim", {"_lastUpdated": "yesterday"}, "_lastUpdated"),
            ("Condition", {"onset-age": "abc"}, "onset-age"),
            ("Condition", {"onset-age": "gt"}, "onset-age"),
            ("Condition", {"onset-age": "zz5"}, "onset-age"),
            ("Condition", {"onset-age": "5|a|b|c"}, "onset-age"),
            ("Condition", {"onset-age": "Infinity"}, "onset-age"),
            ("Condition", {"onset-age": "1e400"}, "onset-age"),
            ("Condition", {"onset-age": "1e999999999"}, "onset-age"),
            ("Claim", {"patient": "Patient/"}, "patient"),
            ("Claim", {"patient": "/pat-1"}, "patient"),
            ("Encounter", {"length": "ge1e"}, "length"),
            ("Location", {"near": "abc"}, "near"),
            ("Location", {"near": "91|0|1"}, "near"),
            ("Location", {"near": "40|-89|10|parsecs"}, "near"),
            ("Claim", {"patient": "Observation/1"}, "patient"),
            ("Claim", {"patient:Patient": "Practitioner/1"}, "patient:Patient"),
            ("Group", {"characteristic-value": "abc"}, "characteristic-value"),
            ("Patient", {"identifier:of-type": "a|b"}, "identifier:of-type"),
            ("Patient", {"active:missing": "maybe"}, "active:missing"),
            ("Claim", {"_count": "abc"}, "_count"),
            ("Claim", {"_count": "-1"}, "_count"),
            ("Claim", {"_summary": "bogus"}, "_summary"),
            ("Claim", {"_total": "all"}, "_total"),
            ("Claim", {"patient.birthdate": "not-a-date"}, "patient.birthdate"),
            ("Patient", {"_has:Claim:patient:created": "2024-99"}, "_has:Claim:patient:created"),
        ],
    )
    async def test_malformed_value_is_400(
        self, corpus: httpx.AsyncClient, path: str, params: dict[str, str], name: str
    ) -> None:
        for headers in ({}, STRICT):
            response = await corpus.get(f"/fhir/{path}", params=params, headers=headers)
            issue = assert_outcome(response, 400, "FAC-1013")["issue"][0]
            assert issue["expression"] == [name]

    async def test_year_9999_is_a_date(self, corpus: httpx.AsyncClient) -> None:
        for value in ("9999", "9999-12", "gt9999-12-31", "lt9999"):
            body = await search_bundle(
                corpus, f"Claim?created={value}&_lastUpdated={value}", STRICT
            )
            expected = ["claim-1", "claim-2", "claim-3"] if value == "lt9999" else []
            assert [i.split("/")[1] for i in search_ids(body)] == expected

    async def test_repeated_result_parameters(self, corpus: httpx.AsyncClient) -> None:
        body = await search_bundle(corpus, "Claim?_count=1&_count=2&_sort=priority&_sort=-created")
        assert search_ids(body) == ["Claim/claim-1", "Claim/claim-3"]
        assert links_of(body)["self"] == (
            "http://testserver/fhir/Claim?_count=2&_sort=priority&_sort=-created"
        )
        shaped = await search_bundle(
            corpus, "Claim?_id=claim-1&_elements=Claim.item&_elements=careTeam"
        )
        resource = shaped["entry"][0]["resource"]
        assert {"item", "careTeam", "status"} <= set(resource) and "payee" not in resource

    async def test_bad_cursor(self, corpus: httpx.AsyncClient) -> None:
        assert_outcome(await corpus.get("/fhir/Claim?_cursor=junk"), 400, "FAC-1001")
