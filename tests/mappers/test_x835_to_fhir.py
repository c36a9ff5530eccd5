"""835 -> ExplanationOfBenefit, ClaimResponse, PaymentReconciliation: the FHIR is valid R4 (for
fhirclient's strict models and for the server), the money adds up, and importing the same 835
twice through the server changes nothing."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from mappers.fhir_x12.x835_to_fhir import remittance_bundle, remittance_resources
from mappers.x12 import parse
from server.fhir.json_codec import dumps, loads
from server.fhir.validation import validate_resource
from tests.api.fhir_client import strict_model
from tests.conftest import CONFORMANCE

FIXTURE = Path(__file__).resolve().parents[1] / "x12" / "fixtures" / "835_three_claims.x12"
SAMPLES = sorted((CONFORMANCE / "x12" / "tr3").glob("835-*.edi")) if CONFORMANCE.is_dir() else []


def _resources(path: Path) -> list[dict[str, Any]]:
    sets, report = parse(path.read_text())
    assert report.valid
    return [r for ts in sets for r in remittance_resources(ts)]


def _of(resources: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in resources if r["resourceType"] == kind]


def _category(entries: list[dict[str, Any]], code: str) -> list[Decimal]:
    return [e["amount"]["value"] for e in entries
            if e["category"]["coding"][0]["code"] == code]


@pytest.mark.parametrize("path", [FIXTURE, *SAMPLES], ids=lambda p: p.name)
def test_every_resource_is_valid_r4(path: Path) -> None:
    for resource in _resources(path):
        as_json = loads(dumps(resource))
        validate_resource(as_json, model_check=True)
        strict_model(json.loads(dumps(resource)))


def test_claims_lines_and_adjustments() -> None:
    resources = _resources(FIXTURE)
    eobs = _of(resources, "ExplanationOfBenefit")
    first = eobs[0]
    assert first["claim"]["identifier"]["value"] == "PCN-1001"
    assert [i["value"] for i in first["identifier"]] == [
        "1600054321/EFT20261121001/1", "PAYERCTRL0001"]
    assert _category(first["total"], "submitted") == [Decimal("160")]
    assert _category(first["total"], "paidtoprovider") == [Decimal("98")]
    assert _category(first["total"], "memberliability") == [Decimal("20")]
    line2 = first["item"][1]
    assert line2["productOrService"]["coding"][0]["code"] == "87880"
    assert _category(line2["adjudication"], "discount") == [Decimal("12")]
    assert _category(line2["adjudication"], "coinsurance") == [Decimal("20")]
    reasons = [a["reason"]["coding"][0]["code"] for a in line2["adjudication"] if "reason" in a]
    assert reasons == ["45", "2"]
    # Every line balances: charge - adjustments = paid.
    for eob in eobs:
        for item in eob.get("item", []):
            adj = item["adjudication"]
            charged = sum(_category(adj, "submitted"))
            paid = sum(_category(adj, "paidtoprovider"))
            adjusted = sum(a["amount"]["value"] for a in adj if "reason" in a)
            assert charged - adjusted == paid


def test_reversal_keeps_negative_amounts() -> None:
    reversal = _of(_resources(FIXTURE), "ClaimResponse")[2]
    assert reversal["identifier"][1]["value"] == "PAYERCTRL0000"
    assert reversal["disposition"] == "Reversal of a previous payment"
    assert _category(reversal["total"], "paidtoprovider") == [Decimal("-30")]
    assert _category(reversal["adjudication"], "discount") == [Decimal("-10")]


def test_payment_reconciliation_adds_up() -> None:
    recon = _of(_resources(FIXTURE), "PaymentReconciliation")[0]
    assert recon["paymentAmount"]["value"] == Decimal("213.50")
    assert sum(d["amount"]["value"] for d in recon["detail"]) == Decimal("213.50")
    kinds = [d["type"]["coding"][0]["code"] for d in recon["detail"]]
    assert kinds == ["payment", "payment", "payment", "adjustment"]
    assert recon["paymentIdentifier"]["value"] == "EFT20261121001"


def test_mapping_is_deterministic() -> None:
    assert _resources(FIXTURE) == _resources(FIXTURE)


async def test_importing_the_same_835_twice_changes_nothing(client: httpx.AsyncClient) -> None:
    sets, _ = parse(FIXTURE.read_text())
    bundle = remittance_bundle(sets[0])
    headers = {"Content-Type": "application/fhir+json"}
    first = await client.post("/fhir", content=dumps(bundle), headers=headers)
    assert first.status_code == 200, first.text
    assert [e["response"]["status"][:3] for e in first.json()["entry"]] == ["201"] * 7
    again = await client.post("/fhir", content=dumps(bundle), headers=headers)
    assert again.status_code == 200, again.text
    assert [e["response"]["status"][:3] for e in again.json()["entry"]] == ["200"] * 7
    found = await client.get("/fhir/ExplanationOfBenefit", params={"_total": "accurate"})
    assert found.json()["total"] == 3


async def test_a_reversal_and_its_correction_are_both_kept(client: httpx.AsyncClient) -> None:
    """They share the payer claim number (CLP07); each is its own ClaimResponse and EOB."""
    text = FIXTURE.read_text().replace("*PAYERCTRL0000*", "*PAYERCTRL0001*")
    sets, _ = parse(text)
    bundle = remittance_bundle(sets[0])
    done = await client.post("/fhir", content=dumps(bundle),
                             headers={"Content-Type": "application/fhir+json"})
    assert done.status_code == 200, done.text
    found = await client.get("/fhir/ClaimResponse", params={
        "identifier": "urn:fhir-facade:x12:payer-claim-number:60054|PAYERCTRL0001",
        "_total": "accurate"})
    assert found.json()["total"] == 2


def test_an_unbalanced_remittance_is_reported_not_hidden() -> None:
    text = FIXTURE.read_text()
    # The first claim pays 10.00 more than its charge less adjustments; BPR02 no longer adds up.
    clp = next(line for line in text.split("~") if line.strip().startswith("CLP*"))
    parts = clp.split("*")
    parts[4] = str(Decimal(parts[4]) + 10)
    text = text.replace(clp, "*".join(parts), 1)
    sets, report = parse(text)
    assert report.valid  # balancing findings are warnings, not syntax errors
    resources = remittance_resources(sets[0])
    eob = _of(resources, "ExplanationOfBenefit")[0]
    notes = [n["text"] for n in eob["processNote"]]
    assert any(n.startswith("Does not balance: CLP: CLP04 should be") for n in notes)
    assert eob["payment"]["amount"]["value"] == Decimal(parts[4])  # the 835's amount, as sent
    reconciliation = _of(resources, "PaymentReconciliation")[0]
    assert reconciliation["processNote"][0]["text"].startswith("Does not balance: BPR02 should")
    for resource in resources:
        validate_resource(loads(dumps(resource)), model_check=True)
    balanced = _of(_resources(FIXTURE), "ExplanationOfBenefit")[0]
    assert not [n for n in balanced.get("processNote", []) if "balance" in n["text"]]
