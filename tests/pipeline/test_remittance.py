"""835 import: the same payment twice changes nothing; a remittance claim that matches no
submitted Claim (by patient control number and charge) waits in the exception queue until staff
resolve it against a Claim or dismiss it, through the admin API."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from sandbox.clearinghouse import ClearinghouseSandbox
from server.settings import Settings
from tests.pipeline.claims import claim_bundle
from tests.pipeline.conftest import pipeline_settings
from tests.pipeline.waiting import eventually

FHIR = {"Content-Type": "application/fhir+json"}


@pytest.fixture
def settings(tmp_path: Path, clearinghouse: ClearinghouseSandbox) -> Settings:
    settings = pipeline_settings(tmp_path, clearinghouse)
    settings.connectors["sandbox"].archive_dir = "fetched"
    (clearinghouse.folders().home / "fetched").mkdir()
    return settings


async def _paid_claim(client: httpx.AsyncClient, pcn: str) -> str:
    r = await client.post("/fhir/Claim/$submit", json=claim_bundle(pcn), headers=FHIR)
    claim: str = r.json()["request"]["reference"]

    async def eob() -> bool:
        found = await client.get(f"/fhir/ExplanationOfBenefit?claim={claim}")
        return bool(found.json().get("entry"))

    await eventually(eob, what="the EOB")
    return claim


def _fetched_835(clearinghouse: ClearinghouseSandbox) -> str:
    (path,) = [p for p in (clearinghouse.folders().home / "fetched").iterdir()
               if p.name.endswith("_835.x12")]
    return path.read_text()


async def _deliver(clearinghouse: ClearinghouseSandbox, name: str, text: str) -> None:
    outbound = clearinghouse.folders().outbound
    (outbound / f".{name}").write_text(text)
    (outbound / f".{name}").rename(outbound / name)


async def _versions(client: httpx.AsyncClient) -> int:
    history = (await client.get("/fhir/_history?_count=500")).json()
    assert "next" not in {link["relation"] for link in history.get("link", [])}
    return len(history.get("entry", []))


async def _count(client: httpx.AsyncClient, query: str) -> int:
    sep = "&" if "?" in query else "?"
    total: int = (await client.get(f"/fhir/{query}{sep}_summary=count")).json()["total"]
    return total


async def _settled(clearinghouse: ClearinghouseSandbox) -> bool:
    return not any(clearinghouse.folders().outbound.iterdir())


async def test_the_same_835_delivered_twice_changes_nothing(
    client: httpx.AsyncClient, clearinghouse: ClearinghouseSandbox
) -> None:
    await _paid_claim(client, "REMIT-0001")
    await eventually(lambda: _settled(clearinghouse))
    remittance = _fetched_835(clearinghouse)
    before = await _versions(client)
    payments = await _count(client, "PaymentReconciliation")
    await _deliver(clearinghouse, "again_835.x12", remittance)
    await eventually(lambda: _settled(clearinghouse), what="the second copy's fetch")
    assert await _versions(client) == before
    assert await _count(client, "PaymentReconciliation") == payments
    assert (await client.get("/admin/exceptions")).json()["exceptions"] == []


def _retarget(remittance: str, pcn: str | None, trace: str, charge: str | None = None) -> str:
    """The same 835 as another payment (TRN02), for another claim (CLP01) or charge (CLP03)."""
    text = re.sub(r"TRN\*1\*[^*~]+", f"TRN*1*{trace}", remittance)

    def clp(m: re.Match[str]) -> str:
        parts = m.group(0).split("*")
        if pcn is not None:
            parts[1] = pcn
        if charge is not None:
            parts[3] = charge
        return "*".join(parts)

    return re.sub(r"CLP\*[^~]+", clp, text)


async def test_unmatched_remittances_wait_for_staff(
    client: httpx.AsyncClient, clearinghouse: ClearinghouseSandbox
) -> None:
    claim = await _paid_claim(client, "REMIT-0002")
    await eventually(lambda: _settled(clearinghouse))
    remittance = _fetched_835(clearinghouse)
    await _deliver(clearinghouse, "stray_835.x12", _retarget(remittance, "NOSUCH-0001", "T900"))
    await _deliver(clearinghouse, "odd_835.x12",
                   _retarget(remittance, None, "T901", charge="999.99"))

    async def two_open() -> list[dict[str, object]] | None:
        found = (await client.get("/admin/exceptions")).json()["exceptions"]
        return found if len(found) == 2 else None

    found = await eventually(two_open, what="two open exceptions")
    by_pcn = {e["pcn"]: e for e in found}
    stray, odd = by_pcn["NOSUCH-0001"], by_pcn["REMIT-0002"]
    assert "No submitted claim" in str(stray["reason"])
    assert "999.99" in str(odd["reason"])
    eobs_before = await _count(client, f"ExplanationOfBenefit?claim={claim}")

    r = await client.post(f"/admin/exceptions/{stray['id']}/resolve", json={"claim": claim})
    assert r.status_code == 200 and r.json()["state"] == "resolved"
    assert await _count(client, f"ExplanationOfBenefit?claim={claim}") == eobs_before + 1
    again = await client.post(f"/admin/exceptions/{stray['id']}/resolve", json={"claim": claim})
    assert again.status_code == 409

    r = await client.post(f"/admin/exceptions/{odd['id']}/dismiss", json={})
    assert r.status_code == 400
    r = await client.post(f"/admin/exceptions/{odd['id']}/dismiss",
                          json={"reason": "a correction the payer sent by mistake"})
    assert r.status_code == 200 and r.json()["state"] == "dismissed"
    assert (await client.get("/admin/exceptions")).json()["exceptions"] == []
    closed = (await client.get("/admin/exceptions?state=dismissed")).json()["exceptions"]
    assert closed[0]["resolution"]["reason"] == "a correction the payer sent by mistake"
    r = await client.post("/admin/exceptions/nope/resolve", json={"claim": claim})
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/fhir+json")
