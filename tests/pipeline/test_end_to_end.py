"""Claims in, EOBs out: `$submit` -> 837 over SFTP -> the sandbox clearinghouse -> 999, 277CA,
835 -> ClaimResponses, EOBs and the PaymentReconciliation, readable through the API, with no
manual step; the sandbox's own ledger is the independent count of what it received."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx
from fhirclient.models.claimresponse import ClaimResponse
from fhirclient.models.explanationofbenefit import ExplanationOfBenefit
from fhirclient.models.paymentreconciliation import PaymentReconciliation

from sandbox.clearinghouse import ClearinghouseSandbox
from tests.pipeline.claims import claim_bundle
from tests.pipeline.waiting import eventually

Resource = dict[str, Any]


async def _search(client: httpx.AsyncClient, path: str) -> list[Resource]:
    r = await client.get(path)
    assert r.status_code == 200, r.text
    return [e["resource"] for e in r.json().get("entry", []) if e["search"]["mode"] == "match"]


async def _submit(client: httpx.AsyncClient, bundle: Resource) -> Resource:
    r = await client.post("/fhir/Claim/$submit", json=bundle,
                          headers={"Content-Type": "application/fhir+json"})
    assert r.status_code == 200, r.text
    body: Resource = r.json()
    return body


async def test_claims_come_back_as_eobs_with_no_manual_step(
    client: httpx.AsyncClient, clearinghouse: ClearinghouseSandbox
) -> None:
    pcns = [f"E2E-{n:04d}" for n in range(6)]
    queued = [await _submit(client, claim_bundle(pcn)) for pcn in pcns]
    assert {r["outcome"] for r in queued} == {"queued"}
    claims = [r["request"]["reference"] for r in queued]

    async def all_paid() -> list[list[Resource]] | None:
        found = [await _search(client, f"/fhir/ExplanationOfBenefit?claim={c}") for c in claims]
        return found if all(found) else None

    eobs = await eventually(all_paid, what="every claim's EOB")
    for (eob,), claim in zip(eobs, claims, strict=True):
        ExplanationOfBenefit(eob, strict=True)
        assert eob["claim"] == {"reference": claim}
        assert eob["outcome"] == "complete"
    for response, claim in zip(queued, claims, strict=True):
        r = await client.get(f"/fhir/ClaimResponse/{response['id']}")
        current = r.json()
        ClaimResponse(current, strict=True)
        assert current["outcome"] == "complete"
        assert current["request"] == {"reference": claim}
        assert int(current["meta"]["versionId"]) >= 2  # queued, then answered
        answers = await _search(client, f"/fhir/ClaimResponse?request={claim}")
        assert len(answers) == 2  # the submission's and the payer's (835)
    (payment, *_) = await _search(client, "/fhir/PaymentReconciliation")
    PaymentReconciliation(payment, strict=True)
    assert all(d["request"]["reference"].startswith("Claim/") for d in payment["detail"]
               if d.get("request", {}).get("reference"))
    counts = clearinghouse.ledger.claim_counts()
    assert {k: v for k, v in counts.items() if k.split("|")[1] in pcns} == {
        f"FACADE|{pcn}": 1 for pcn in pcns}


async def test_submitting_the_same_claim_again_sends_nothing_new(
    client: httpx.AsyncClient, clearinghouse: ClearinghouseSandbox
) -> None:
    first = await _submit(client, claim_bundle("IDEM-0001"))
    again = await _submit(client, claim_bundle("IDEM-0001"))
    assert again["id"] == first["id"]
    claim = first["request"]["reference"]
    await eventually(lambda: _search(client, f"/fhir/ExplanationOfBenefit?claim={claim}"))
    third = await _submit(client, claim_bundle("IDEM-0001"))
    assert third["id"] == first["id"] and third["outcome"] == "complete"
    assert clearinghouse.ledger.claim_counts()["FACADE|IDEM-0001"] == 1
    assert len(await _search(client, "/fhir/Claim?identifier=IDEM-0001")) == 1


async def test_an_interchange_the_clearinghouse_refuses_rejects_its_claims(
    client: httpx.AsyncClient, clearinghouse: ClearinghouseSandbox, app: Any
) -> None:
    # The sandbox account is for test data (ISA15 T); a production interchange is refused
    # as a whole with a TA1 (TA104 R, TA105 020) and none of its claims is counted.
    connector = app.state.pipeline.connectors["sandbox"]
    connector.partners = replace(connector.partners, usage="P")
    queued = await _submit(client, claim_bundle("TA1-0001"))

    async def answered() -> Resource | None:
        current: Resource = (await client.get(f"/fhir/ClaimResponse/{queued['id']}")).json()
        return current if current["outcome"] != "queued" else None

    rejected = await eventually(answered, what="the TA1 rejection")
    assert rejected["outcome"] == "error"
    assert "TA1" in rejected["disposition"]
    assert any("020" in n["text"] for n in rejected["processNote"])
    assert "FACADE|TA1-0001" not in clearinghouse.ledger.claim_counts()
    state = (await client.get("/admin/pipeline")).json()
    assert state["claims"]["rejected"] == 1
