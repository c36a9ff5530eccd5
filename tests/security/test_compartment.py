"""A `patient/` token reaches its patient's compartment and nothing else (DESIGN.md law 5).

Tokens are real: minted by the facade's authorization server and verified by it on every
request.

Patient Alpha's token tries every search, chain, `_has`, `_include`/`_revinclude`, history,
paging link, read, write and Bundle entry we can think of, plus hypothesis-generated
combinations, to reach Beta's records. The oracle is the hand-written ownership table of
``compartment_corpus``: every resource a response carries must be Alpha's or shared
reference data; every id of Beta's answers 404 (never 403, which would confirm it exists).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from asgi_lifespan import LifespanManager
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from server.app import create_app
from server.fhir import json_codec
from server.security.auth_store import Client
from server.settings import LimitsSettings, Settings
from tests.security.compartment_corpus import OWNED, RESOURCES, SHARED, key

BASE = "http://testserver"
FHIR = "application/fhir+json"


#: name -> (scopes, patient context) of the tokens the tests use; each is minted by the
#: facade's own authorization server and verified on every request like any other.
TOKENS: dict[str, tuple[str, str | None]] = {
    "admin": ("system/*.cruds", None),
    "alpha": ("launch/patient patient/*.cruds", "pa"),
    "alpha-v1": ("patient/*.read patient/*.write", "pa"),
    "alpha-eob-only": ("patient/ExplanationOfBenefit.rs", "pa"),
    "alpha-granular": ("patient/Claim.rs?use=claim patient/Condition.rs?code=J99.9", "pa"),
    "user-claims": ("user/Claim.rs", None),
}
BEARER: dict[str, str] = {}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("compartment") / "facade.db"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path / 'facade.db'}",
        base_url=BASE,
        limits=LimitsSettings(default_count=50, max_count=100),
    )
    app = create_app(settings)
    async with LifespanManager(app):
        auth = app.state.auth
        for name, (scope, patient) in TOKENS.items():
            client = Client(client_id=f"client-{name}", name=name, kind="public", scope=scope)
            await auth.store.put_client(client)
            body = await auth.mint_for_client(client, scope, patient=patient)
            BEARER[name] = body["access_token"]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=BASE) as c:
            for resource in RESOURCES:
                r = await c.put(
                    f"/fhir/{key(resource)}",
                    content=json_codec.dumps(resource),
                    headers={"Content-Type": FHIR, **_as("admin")},
                )
                assert r.status_code == 201, r.text
            yield c


def _as(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {BEARER.get(token, token)}"}


ALLOWED_ALPHA = OWNED["pa"] | SHARED
BETA_ONLY = sorted(OWNED["pb"] - OWNED["pa"])


def _carried(bundle: dict[str, Any]) -> list[str]:
    return [
        key(e["resource"])
        for e in bundle.get("entry", [])
        if "resource" in e and e["resource"].get("resourceType") != "OperationOutcome"
    ]


async def _leaks(client: httpx.AsyncClient, url: str, token: str = "alpha") -> list[str]:
    """Resources out of Alpha's reach in the response to ``url`` and every page after it."""
    leaked: list[str] = []
    seen_pages = 0
    while url and seen_pages < 10:
        r = await client.get(url, headers=_as(token))
        assert r.status_code in (200, 400, 403, 404), (url, r.status_code, r.text)
        if r.status_code != 200:
            assert "pb" not in r.text.replace(url, ""), (url, r.text)
            return leaked
        bundle = r.json()
        leaked += [k for k in _carried(bundle) if k not in ALLOWED_ALPHA]
        nxt = [link["url"] for link in bundle.get("link", []) if link["relation"] == "next"]
        url = nxt[0].removeprefix(BASE) if nxt else ""
        seen_pages += 1
    return leaked


SEARCHES = [
    "/fhir/Claim",
    "/fhir/Claim?patient=Patient/pb",
    "/fhir/Claim?patient=pb",
    "/fhir/Claim?_id=claim-pb",
    "/fhir/Claim?patient.name=Beta",
    "/fhir/Claim?patient.identifier=MRN-pb",
    "/fhir/Claim?_include=Claim:patient&_include=Claim:insurer",
    "/fhir/Claim?_revinclude=ExplanationOfBenefit:claim&_revinclude=ClaimResponse:request",
    "/fhir/Claim?_include=*&_revinclude=*",
    "/fhir/Claim?_include:iterate=*&_revinclude:iterate=*",
    "/fhir/ExplanationOfBenefit?claim.patient=Patient/pb",
    "/fhir/ExplanationOfBenefit?coverage.beneficiary.name=Beta",
    "/fhir/ExplanationOfBenefit?_include=ExplanationOfBenefit:claim&_include:iterate=Claim:patient",
    "/fhir/Patient",
    "/fhir/Patient?name=Beta",
    "/fhir/Patient?_id=pb",
    "/fhir/Patient?_has:Claim:patient:identifier=PCN-pb",
    "/fhir/Patient?_revinclude=Claim:patient&_revinclude=Coverage:beneficiary",
    "/fhir/Patient?_revinclude=Group:member",
    "/fhir/Organization?_revinclude=Claim:insurer&_revinclude=Coverage:payor",
    "/fhir/Organization?_has:Claim:insurer:patient=Patient/pb",
    "/fhir/Practitioner?_revinclude=ExplanationOfBenefit:provider",
    "/fhir/Coverage",
    "/fhir/Coverage?beneficiary=Patient/pb&_include=Coverage:beneficiary",
    "/fhir/Coverage?_include=Coverage:payor&_revinclude=Claim:insurer",
    "/fhir/ClaimResponse?request.patient=Patient/pb",
    "/fhir/Encounter?_revinclude=Condition:encounter",
    "/fhir/Condition?encounter.patient=Patient/pb",
    "/fhir/CoverageEligibilityRequest?patient.name=Beta",
    "/fhir/PaymentReconciliation",
    "/fhir/Group",
    "/fhir?_type=Claim,Coverage,Patient",
    "/fhir?_id=claim-pb,cov-pb,pb",
    "/fhir/_history",
    "/fhir/Claim/_history",
    "/fhir/Patient/_history",
    "/fhir/Claim?_count=1",
    "/fhir/Coverage?_count=1&_sort=-_lastUpdated",
]


@pytest.mark.parametrize("url", SEARCHES)
async def test_searches_stay_in_the_compartment(client: httpx.AsyncClient, url: str) -> None:
    assert await _leaks(client, url) == []
    assert await _leaks(client, url, "alpha-v1") == []


async def test_alpha_sees_all_of_alphas_records(client: httpx.AsyncClient) -> None:
    found: set[str] = set()
    for rtype in (
        "Patient",
        "Claim",
        "ClaimResponse",
        "ExplanationOfBenefit",
        "Coverage",
        "Encounter",
        "Condition",
        "CoverageEligibilityRequest",
        "Organization",
        "Practitioner",
    ):
        r = await client.get(f"/fhir/{rtype}", headers=_as("alpha"))
        assert r.status_code == 200, r.text
        found |= set(_carried(r.json()))
    assert found == ALLOWED_ALPHA


@pytest.mark.parametrize("target", BETA_ONLY + ["PaymentReconciliation/pay-1", "Group/group-1"])
async def test_betas_ids_answer_404(client: httpx.AsyncClient, target: str) -> None:
    for url in (f"/fhir/{target}", f"/fhir/{target}/_history/1", f"/fhir/{target}/_history"):
        r = await client.get(url, headers=_as("alpha"))
        assert r.status_code in (403, 404), (url, r.status_code)
        if target.split("/")[0] not in ("PaymentReconciliation", "Group"):
            assert r.status_code == 404, (url, r.text)
    before = await client.get(f"/fhir/{target}", headers=_as("admin"))
    # A delete answers exactly as for an id that never existed, and deletes nothing.
    nothing = await client.delete(f"/fhir/{target.split('/')[0]}/never-was", headers=_as("alpha"))
    r = await client.delete(f"/fhir/{target}", headers=_as("alpha"))
    assert r.status_code == nothing.status_code
    body = before.json()
    r = await client.put(
        f"/fhir/{target}",
        content=json_codec.dumps(body),
        headers={**_as("alpha"), "Content-Type": FHIR},
    )
    assert r.status_code in (403, 404), r.text
    after = await client.get(f"/fhir/{target}", headers=_as("admin"))
    assert after.json() == body


async def test_writes_into_another_compartment_are_refused_and_undone(
    client: httpx.AsyncClient,
) -> None:
    mine = next(r for r in RESOURCES if key(r) == "Claim/claim-pa")
    stolen = {**mine, "id": "claim-new", "patient": {"reference": "Patient/pb"}}
    headers = {**_as("alpha"), "Content-Type": FHIR}
    r = await client.put("/fhir/Claim/claim-new", content=json_codec.dumps(stolen), headers=headers)
    assert r.status_code == 403, r.text
    r = await client.post("/fhir/Claim", content=json_codec.dumps(stolen), headers=headers)
    assert r.status_code == 403, r.text
    # Moving my own claim to Beta is refused too, and the claim stays mine.
    moved = {**mine, "patient": {"reference": "Patient/pb"}}
    r = await client.put("/fhir/Claim/claim-pa", content=json_codec.dumps(moved), headers=headers)
    assert r.status_code == 403, r.text
    r = await client.get("/fhir/Claim/claim-pa", headers=_as("admin"))
    assert r.json()["patient"] == {"reference": "Patient/pa"}
    r = await client.get("/fhir/Claim?patient=Patient/pb", headers=_as("admin"))
    assert {e["resource"]["id"] for e in r.json()["entry"]} == {"claim-pb"}
    # A claim for myself is fine.
    mine_new = {**mine, "id": "claim-pa-2"}
    r = await client.put(
        "/fhir/Claim/claim-pa-2", content=json_codec.dumps(mine_new), headers=headers
    )
    assert r.status_code == 201, r.text


async def test_bundle_entries_are_narrowed(client: httpx.AsyncClient) -> None:
    headers = {**_as("alpha"), "Content-Type": FHIR}
    batch = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"request": {"method": "GET", "url": "Claim/claim-pb"}},
            {"request": {"method": "GET", "url": "Claim?patient=Patient/pb"}},
            {"request": {"method": "GET", "url": "Claim/claim-pa"}},
            {"request": {"method": "DELETE", "url": "Coverage/cov-pb"}},
        ],
    }
    r = await client.post("/fhir", content=json_codec.dumps(batch), headers=headers)
    assert r.status_code == 200, r.text
    entries = r.json()["entry"]
    assert entries[0]["response"]["status"].startswith("404")
    assert _carried(entries[1]["resource"]) == []
    assert entries[2]["response"]["status"].startswith("200")
    # As for an id that never existed, and nothing is deleted.
    assert entries[3]["response"]["status"].startswith(("200", "204"))
    r = await client.get("/fhir/Coverage/cov-pb", headers=_as("admin"))
    assert r.status_code == 200
    mine = next(r for r in RESOURCES if key(r) == "Claim/claim-pa")
    transaction = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {
                "fullUrl": "urn:uuid:7f1f7a3e-0000-4000-8000-000000000001",
                "resource": {**mine, "id": None, "patient": {"reference": "Patient/pa"}},
                "request": {"method": "POST", "url": "Claim"},
            },
            {
                "resource": {**mine, "id": "claim-pb", "patient": {"reference": "Patient/pb"}},
                "request": {"method": "PUT", "url": "Claim/claim-pb"},
            },
        ],
    }
    transaction["entry"][0]["resource"].pop("id")
    r = await client.post("/fhir", content=json_codec.dumps(transaction), headers=headers)
    assert r.status_code in (403, 404), r.text
    r = await client.get("/fhir/Claim?patient=Patient/pa", headers=_as("admin"))
    assert {e["resource"]["id"] for e in r.json()["entry"]} == {"claim-pa"}


async def test_scopes_decide_interactions(client: httpx.AsyncClient) -> None:
    r = await client.get("/fhir/Claim", headers=_as("alpha-eob-only"))
    assert r.status_code == 403
    assert "insufficient_scope" in r.headers["www-authenticate"]
    r = await client.get(
        "/fhir/ExplanationOfBenefit?_include=ExplanationOfBenefit:claim",
        headers=_as("alpha-eob-only"),
    )
    assert r.status_code == 200
    assert sorted(_carried(r.json())) == ["ExplanationOfBenefit/eob-pa"]
    r = await client.get("/fhir/Claim?_id=claim-pb", headers=_as("user-claims"))
    assert _carried(r.json()) == ["Claim/claim-pb"]
    r = await client.get("/fhir/Patient/pb", headers=_as("user-claims"))
    assert r.status_code == 403
    r = await client.delete("/fhir/Claim/claim-pb", headers=_as("user-claims"))
    assert r.status_code == 403
    r = await client.get("/fhir/Claim", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and 'error="invalid_token"' in r.headers["www-authenticate"]
    r = await client.get("/fhir/Claim")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    r = await client.get("/fhir/Claim", headers={"Authorization": "Basic Zm9vOmJhcg=="})
    assert r.status_code == 401
    r = await client.get("/fhir/metadata")
    assert r.status_code == 200


async def test_granular_scopes_narrow_the_query(client: httpx.AsyncClient) -> None:
    r = await client.get("/fhir/Claim", headers=_as("alpha-granular"))
    assert _carried(r.json()) == ["Claim/claim-pa"]
    r = await client.get("/fhir/Condition", headers=_as("alpha-granular"))
    assert _carried(r.json()) == []  # only J99.9 conditions, Alpha has J20.9
    r = await client.get("/fhir/Condition/cond-pa", headers=_as("alpha-granular"))
    assert r.status_code == 404


_PARAMS = st.sampled_from(
    [
        ("patient", "Patient/pb"),
        ("patient", "pb"),
        ("patient:missing", "true"),
        ("_id", "claim-pb"),
        ("_id:not", "claim-pa"),
        ("patient.name", "Beta"),
        ("patient.name:contains", "et"),
        ("beneficiary.name", "Beta"),
        ("claim.patient", "Patient/pb"),
        ("request.patient.name", "Beta"),
        ("_has:Claim:patient:_id", "claim-pb"),
        ("_has:ExplanationOfBenefit:patient:claim.patient", "Patient/pb"),
        ("_has:Coverage:policy-holder:beneficiary", "Patient/pb"),
        ("_include", "*"),
        ("_include:iterate", "*"),
        ("_revinclude", "*"),
        ("_revinclude:iterate", "*"),
        ("_include", "Claim:related"),
        ("_revinclude", "Group:member"),
        ("_revinclude", "PaymentReconciliation:request"),
        ("_sort", "-_lastUpdated"),
        ("_count", "1"),
        ("_total", "accurate"),
        ("_summary", "count"),
        ("_elements", "patient"),
    ]
)
_TYPES = st.sampled_from(
    [
        "Claim",
        "ClaimResponse",
        "ExplanationOfBenefit",
        "Coverage",
        "Patient",
        "Organization",
        "Practitioner",
        "Encounter",
        "Condition",
        "CoverageEligibilityRequest",
        "PaymentReconciliation",
        "Group",
        "",
    ]
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(rtype=_TYPES, params=st.lists(_PARAMS, max_size=4))
async def test_no_generated_query_leaks(
    client: httpx.AsyncClient, rtype: str, params: list[tuple[str, str]]
) -> None:
    query = "&".join(f"{k}={v}" for k, v in params)
    url = f"/fhir/{rtype}?{query}" if rtype else f"/fhir?{query}"
    assert await _leaks(client, url) == []
