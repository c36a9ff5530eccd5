"""The connectors against the sandbox clearinghouse (``sandbox/clearinghouse``): claims from the
mapper tests' Bundles go out over SFTP and REST (CHC and Stedi), the acknowledgments and
remittances come back and read as X12 our mappers understand, every claim is counted once by
the clearinghouse, and its chaos (failures after processing, 429s, outages) gives the verdicts
the pipeline relies on (CLEARINGHOUSES.md sections 5, 5.1 and 6)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from mappers.fhir_x12.acknowledgments import claim_acknowledgments, set_acceptances
from mappers.fhir_x12.interchange import TradingPartners
from mappers.fhir_x12.translations import inbound_resources
from mappers.vendor.chc_claims import professional_claim
from mappers.x12 import CountingControlNumbers, TransactionSet, parse
from sandbox.clearinghouse import ClearinghouseSandbox, running_clearinghouse
from sandbox.clearinghouse.accounts import DEFAULT_ACCOUNTS
from sandbox.clearinghouse.engine import Engine, EngineConfig
from sandbox.clearinghouse.ledger import Ledger
from server.connectors.chc import ChcConnector
from server.connectors.port import Inbound
from server.connectors.sftp import SftpConnector
from server.errors import ConnectorDownError, DeliveryUnknownError
from server.settings import ConnectorSettings
from tests.connectors.builders import claim, eligibility
from tests.mappers import claim_bundles

_OPEN: list[SftpConnector | ChcConnector] = []


@pytest.fixture
async def clearinghouse(tmp_path: Path) -> AsyncIterator[ClearinghouseSandbox]:
    async with running_clearinghouse(tmp_path / "clearinghouse") as ch:
        try:
            yield ch
        finally:
            while _OPEN:
                await _OPEN.pop().close()


def _sftp(ch: ClearinghouseSandbox, **overrides: Any) -> SftpConnector:
    values: dict[str, Any] = {"kind": "sftp", "port": ch.sftp_port, "username": "facade",
                              "password": "sandbox-only", "timeout_seconds": 5}
    values.update(overrides)
    connector = SftpConnector("sandbox-sftp", ConnectorSettings(**values))
    _OPEN.append(connector)
    return connector


def _rest(ch: ClearinghouseSandbox, kind: str, **overrides: Any) -> ChcConnector:
    values: dict[str, Any] = {"kind": kind, "base_url": ch.rest_url,
                              "client_id": "facade-sandbox",
                              "client_secret": SecretStr("sandbox-only"),
                              "api_key": SecretStr("sandbox-api-key"), "timeout_seconds": 5}
    values.update(overrides)
    connector = ChcConnector(f"sandbox-{kind}", ConnectorSettings(**values))
    _OPEN.append(connector)
    return connector


def _sets(document: Inbound, *, valid: bool = True) -> list[TransactionSet]:
    assert document.x12 is not None
    sets, report = parse(document.x12)
    assert report.valid or not valid, (document.name, report.errors)
    return sets


def _kind(name: str) -> str:
    return name.rsplit("_", 1)[-1].removesuffix(".x12")


async def test_sftp_batch_out_acknowledgments_and_remittance_back(
        clearinghouse: ClearinghouseSandbox) -> None:
    connector = _sftp(clearinghouse, file_prefix="OATEST_")
    claims = [claim("SFTP-1"), claim("SFTP-2", procedure="99213"),
              claim("SFTP-3", procedure="99999")]
    prepared = connector.prepare(claims, CountingControlNumbers(501))
    assert prepared.reference.startswith("OATEST_")
    await connector.send(prepared)
    await clearinghouse.drain()
    documents = await connector.poll()
    by_kind = {_kind(d.name): d for d in documents}
    assert set(by_kind) == {"999", "277CA", "835"}
    # 999: the set we sent, by our GS06 and ST02 (section 5.1).
    [acceptance] = [a for ts in _sets(by_kind["999"]) for a in set_acceptances(ts)]
    assert acceptance.accepted
    assert {(acceptance.group_control_number, acceptance.control_number)} == set(
        prepared.sets.values())
    # 277CA: one ClaimResponse per claim, linked by CLM01.
    acknowledged = {r["request"]["identifier"]["value"]: r["outcome"]
                    for ts in _sets(by_kind["277CA"]) for r in claim_acknowledgments(ts)}
    assert acknowledged == {"SFTP-1": "queued", "SFTP-2": "queued", "SFTP-3": "queued"}
    # 835: remittance for every claim, readable by our 835 mapping.
    remitted = [r for ts in _sets(by_kind["835"]) for r in inbound_resources(ts) or []]
    assert {r["resourceType"] for r in remitted} >= {"ExplanationOfBenefit",
                                                      "PaymentReconciliation"}
    for document in documents:
        await connector.settle(document)
    assert await connector.poll() == []
    assert await connector.delivered(prepared) is True  # archived by the clearinghouse
    counts = clearinghouse.ledger.claim_counts()
    assert [counts.get(f"FACADE|SFTP-{n}") for n in (1, 2, 3)] == [1, 1, 1]


async def test_sftp_unknown_delivery_is_reconciled_not_resent(
        clearinghouse: ClearinghouseSandbox) -> None:
    connector = _sftp(clearinghouse)
    prepared = connector.prepare([claim("SFTP-U")], CountingControlNumbers(601))
    clearinghouse.chaos.configure(fail_next=1)
    with pytest.raises(ConnectorDownError) as refused:
        await connector.send(prepared)
    assert not isinstance(refused.value, DeliveryUnknownError)
    assert await connector.delivered(prepared) is not True
    clearinghouse.chaos.configure(fail_next=1, fail_after_processing=True)
    with pytest.raises(DeliveryUnknownError):
        await connector.send(prepared)
    clearinghouse.chaos.reset()
    await clearinghouse.drain()
    assert await connector.delivered(prepared) is True
    assert clearinghouse.ledger.claim_counts().get("FACADE|SFTP-U") == 1


async def test_sftp_outage_then_the_same_connector_carries_on(
        clearinghouse: ClearinghouseSandbox) -> None:
    connector = _sftp(clearinghouse, timeout_seconds=2)
    assert await connector.poll() == []
    await clearinghouse.outage(0.5)
    with pytest.raises(ConnectorDownError):
        await connector.poll()
    await clearinghouse.wait_up()
    prepared = connector.prepare([claim("SFTP-O")], CountingControlNumbers(701))
    await connector.send(prepared)
    await clearinghouse.drain()
    assert {_kind(d.name) for d in await connector.poll()} == {"999", "277CA", "835"}


@pytest.mark.parametrize("kind", ["chc", "stedi"])
async def test_rest_claims_answers_and_mailbox(clearinghouse: ClearinghouseSandbox,
                                               kind: str) -> None:
    connector = _rest(clearinghouse, kind)
    prepared = connector.prepare([claim(f"{kind}-1"), claim(f"{kind}-2", procedure="99999")],
                                 CountingControlNumbers(801))
    answers = await connector.send(prepared)
    responses = [r for a in answers for r in a.resources or []]
    assert [r["outcome"] for r in responses] == ["queued", "queued"]
    assert [r["request"]["identifier"]["value"] for r in responses] == [f"{kind}-1",
                                                                         f"{kind}-2"]
    stedi_277ca = [a for a in answers if a.x12]
    assert len(stedi_277ca) == (2 if kind == "stedi" else 0)
    for answer in stedi_277ca:
        assert [ts.guide for ts in _sets(answer)] == ["005010X214"]
    reports = await connector.poll()
    guides = sorted(ts.guide for report in reports for ts in _sets(report))
    assert guides == ["005010X214", "005010X214", "005010X221A1", "005010X221A1"]
    assert all(r.name[:2] in ("X3", "R5") for r in reports)
    for report in reports:
        await connector.settle(report)
    assert await connector.poll() == []
    counts = clearinghouse.ledger.claim_counts()
    assert [counts.get(f"FACADE|{kind}-{n}") for n in (1, 2)] == [1, 1]


async def test_stedi_resend_after_an_unknown_outcome_is_not_processed_twice(
        clearinghouse: ClearinghouseSandbox) -> None:
    connector = _rest(clearinghouse, "stedi")
    prepared = connector.prepare([claim("IDEM-1")], CountingControlNumbers(901))
    clearinghouse.chaos.configure(fail_next=1, fail_after_processing=True)
    with pytest.raises(DeliveryUnknownError):
        await connector.send(prepared)
    clearinghouse.chaos.reset()
    answers = await connector.send(prepared)  # same Idempotency-Key
    assert answers and answers[0].resources
    assert answers[0].resources[0]["outcome"] == "queued"
    assert clearinghouse.ledger.claim_counts().get("FACADE|IDEM-1") == 1


async def test_rest_throttling_and_outage(clearinghouse: ClearinghouseSandbox) -> None:
    connector = _rest(clearinghouse, "chc", timeout_seconds=3)
    clearinghouse.chaos.configure(throttle_next=1, retry_after_seconds=0.2)
    answers = await connector.send(connector.prepare([claim("THR-1")],
                                                     CountingControlNumbers(1001)))
    assert answers[0].resources and answers[0].resources[0]["outcome"] == "queued"
    clearinghouse.chaos.configure(throttle_next=1, retry_after_seconds=30)
    with pytest.raises(ConnectorDownError) as caught:
        await connector.poll()
    assert caught.value.retry_after == 30
    clearinghouse.chaos.reset()
    other = _rest(clearinghouse, "chc", timeout_seconds=1)
    await clearinghouse.outage(0.5)
    with pytest.raises(ConnectorDownError):
        await other.send(other.prepare([claim("OUT-1")], CountingControlNumbers(1101)))
    await clearinghouse.wait_up()
    await other.send(other.prepare([claim("OUT-1")], CountingControlNumbers(1102)))
    assert clearinghouse.ledger.claim_counts().get("FACADE|OUT-1") == 1


@pytest.mark.parametrize("kind", ["chc", "stedi"])
async def test_real_time_eligibility_and_claim_status(clearinghouse: ClearinghouseSandbox,
                                                      kind: str) -> None:
    connector = _rest(clearinghouse, kind)
    active = await connector.eligibility(eligibility(), CountingControlNumbers(1201))
    [response] = [r for ts in _sets(active) for r in inbound_resources(ts) or []]
    assert response["resourceType"] == "CoverageEligibilityResponse"
    assert response["insurance"][0]["inforce"] is True
    inactive = await connector.eligibility(eligibility(payer_id="000041"),
                                           CountingControlNumbers(1202))
    [response] = [r for ts in _sets(inactive) for r in inbound_resources(ts) or []]
    assert response["insurance"][0]["inforce"] is False
    unknown = await connector.eligibility(eligibility("NOT-CANNED"),
                                          CountingControlNumbers(1203))
    if unknown.resources is not None:
        assert unknown.resources[0]["outcome"] == "error"
    else:
        [response] = [r for ts in _sets(unknown) for r in inbound_resources(ts) or []]
        assert response["outcome"] == "error"
    await connector.send(connector.prepare([claim(f"ST-{kind}")], CountingControlNumbers(1301)))
    status = await connector.claim_status(claim(f"ST-{kind}"), CountingControlNumbers(1302))
    # The 277's own conformance is the sandbox tests' business; here: it maps back to the claim.
    [paid] = [r for ts in _sets(status, valid=False) for r in inbound_resources(ts) or []]
    assert paid["request"]["identifier"]["value"] == f"ST-{kind}"
    assert paid["outcome"] == "complete"


@pytest.mark.parametrize("bundle", [claim_bundles.professional_bundle,
                                    claim_bundles.secondary_bundle])
def test_the_clearinghouse_engine_accepts_our_claim_json(bundle: Any) -> None:
    engine = Engine(EngineConfig(), Ledger(None))
    body = professional_claim(bundle(), TradingPartners(), "000000001")
    status, answer = engine.validate_claim_json(body, DEFAULT_ACCOUNTS[0].submitter)
    assert (status, answer["status"], answer["errors"]) == (200, "SUCCESS", [])
