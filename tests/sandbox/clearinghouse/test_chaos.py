"""Chaos on demand: slow, fail the next N (before or after processing), 429 with Retry-After,
down for N seconds (REST refuses connections, SFTP drops its sessions, both come back), reset;
through the admin API and in-process."""

from __future__ import annotations

import asyncio
import time

import asyncssh
import httpx
import pytest

from sandbox.clearinghouse import Chaos, ClearinghouseSandbox
from tests.sandbox.clearinghouse.clients import (
    STEDI,
    STEDI_PREFIX,
    chc_token,
    claim_body,
    kinds,
    make_837,
    outbound_files,
    sftp_session,
    upload,
)

REPORTS = "/medicalnetwork/reports/v2"
ADMIN = "/sandbox/admin/chaos"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_counters_and_stages() -> None:
    chaos = Chaos()
    chaos.configure(fail_next=2, throttle_next=1, retry_after_seconds=7)
    assert chaos.take_throttle() == 7 and chaos.take_throttle() is None
    assert not chaos.take_failure(after_processing=True)  # the switch names "before"
    assert chaos.take_failure(after_processing=False)
    chaos.configure(fail_after_processing=True)
    assert not chaos.take_failure(after_processing=False)
    assert chaos.take_failure(after_processing=True)
    assert not chaos.take_failure(after_processing=True)
    with pytest.raises(ValueError):
        chaos.configure(slow_seconds=-1)


def test_outage_runs_out_and_reset_clears_everything() -> None:
    clock = FakeClock()
    chaos = Chaos(clock)
    calls: list[float] = []
    unsubscribe = chaos.subscribe(lambda: calls.append(chaos.down_remaining()))
    chaos.configure(down_for_seconds=10, slow_seconds=1, fail_next=3)
    assert calls == [10] and chaos.state().down_for_seconds == 10
    clock.now += 4
    assert chaos.down_remaining() == 6
    chaos.reset()
    assert calls == [10, 0]
    assert chaos.state() == Chaos().state()
    unsubscribe()
    chaos.configure(down_for_seconds=1)
    assert len(calls) == 2


async def test_throttle_next_answers_429_with_retry_after(http: httpx.AsyncClient) -> None:
    r = await http.post(ADMIN, json={"throttle_next": 2, "retry_after_seconds": 3})
    assert r.status_code == 200 and r.json()["throttle_next"] == 2
    auth = await chc_token(http)  # the token endpoint is exempt
    for path, headers in ((REPORTS, auth), (f"{STEDI_PREFIX}{REPORTS}", STEDI)):
        r = await http.get(path, headers=headers)
        assert r.status_code == 429 and r.headers["retry-after"] == "3"
        assert r.json()["code"] == "TOO_MANY_REQUESTS"
    assert (await http.get(REPORTS, headers=auth)).status_code == 200


async def test_fail_next_before_processing_records_nothing(
    http: httpx.AsyncClient, clearinghouse: ClearinghouseSandbox,
) -> None:
    clearinghouse.chaos.configure(fail_next=2)
    auth = await chc_token(http)
    r = await http.post("/medicalnetwork/professionalclaims/v3/submission",
                        json=claim_body("PCN-F1"), headers=auth)
    assert r.status_code == 500 and r.json()["errors"]
    r = await http.post(f"{STEDI_PREFIX}/medicalnetwork/professionalclaims/v3/submission",
                        json=claim_body("PCN-F1"), headers=STEDI)
    assert r.status_code == 500 and r.json()["code"] == "INTERNAL_SERVER_ERROR"
    assert clearinghouse.ledger.claim_counts() == {}
    r = await http.post("/medicalnetwork/professionalclaims/v3/submission",
                        json=claim_body("PCN-F1"), headers=auth)
    assert r.status_code == 200
    assert clearinghouse.ledger.claim_counts() == {"FACADE|PCN-F1": 1}


async def test_fail_after_processing_leaves_delivery_in_doubt(
    http: httpx.AsyncClient, clearinghouse: ClearinghouseSandbox,
) -> None:
    await http.post(ADMIN, json={"fail_next": 1, "fail_after_processing": True})
    headers = {**STEDI, "Idempotency-Key": "doubt-1"}
    path = f"{STEDI_PREFIX}/medicalnetwork/professionalclaims/v3/submission"
    r = await http.post(path, json=claim_body("PCN-D1"), headers=headers)
    assert r.status_code == 500
    assert clearinghouse.ledger.claim_counts() == {"FACADE|PCN-D1": 1}
    # Retrying with the same key (section 6) answers without processing again.
    r = await http.post(path, json=claim_body("PCN-D1"), headers=headers)
    assert r.status_code == 200
    assert clearinghouse.ledger.claim_counts() == {"FACADE|PCN-D1": 1}


async def test_slow_seconds_delays_vendor_calls(http: httpx.AsyncClient) -> None:
    auth = await chc_token(http)
    await http.post(ADMIN, json={"slow_seconds": 0.3})
    start = time.monotonic()
    assert (await http.get(REPORTS, headers=auth)).status_code == 200
    assert time.monotonic() - start >= 0.3
    await http.post(ADMIN, json={"reset": True})
    start = time.monotonic()
    await http.get(REPORTS, headers=auth)
    assert time.monotonic() - start < 0.3


async def test_admin_rejects_nonsense(http: httpx.AsyncClient) -> None:
    assert (await http.post(ADMIN, json={"fail_next": -1})).status_code == 422
    assert (await http.post(ADMIN, json={"explode": True})).status_code == 422
    assert (await http.get(ADMIN)).json()["fail_next"] == 0


async def test_sftp_upload_fails_then_succeeds(clearinghouse: ClearinghouseSandbox) -> None:
    clearinghouse.chaos.configure(fail_next=1)
    async with sftp_session(clearinghouse) as sftp:
        with pytest.raises(asyncssh.SFTPFailure):
            await upload(sftp, "f1.x12", make_837(11, ["PCN-S1"]))
        await upload(sftp, "f1.x12", make_837(11, ["PCN-S1"]))
        await clearinghouse.drain()
    assert clearinghouse.ledger.claim_counts() == {"FACADE|PCN-S1": 1}


async def test_sftp_failure_after_the_upload_was_taken(
    clearinghouse: ClearinghouseSandbox,
) -> None:
    clearinghouse.chaos.configure(fail_next=1, fail_after_processing=True)
    async with sftp_session(clearinghouse) as sftp:
        with pytest.raises(asyncssh.SFTPFailure):
            await upload(sftp, "f2.x12", make_837(12, ["PCN-S2"]))
        await clearinghouse.drain()
        # The client could not tell, but the batch was processed and answered.
        assert kinds(list(await outbound_files(sftp))) == ["TA1", "999", "277CA", "835"]
    assert clearinghouse.ledger.claim_counts() == {"FACADE|PCN-S2": 1}


async def test_down_for_seconds_through_the_admin_api(
    http: httpx.AsyncClient, clearinghouse: ClearinghouseSandbox,
) -> None:
    async with sftp_session(clearinghouse) as sftp:
        r = await http.post(ADMIN, json={"down_for_seconds": 0.8})
        assert r.status_code == 200 and r.json()["down_for_seconds"] == 0.8
        await asyncio.wait_for(_until_down(clearinghouse), 5)
        # The open SFTP session is dropped, new connections are refused.
        with pytest.raises((asyncssh.Error, OSError)):
            await sftp.listdir("outbound")
    with pytest.raises(OSError):
        async with sftp_session(clearinghouse):
            pass
    with pytest.raises(httpx.ConnectError):
        await http.get(ADMIN)
    # Back by themselves, on the same ports.
    await asyncio.wait_for(clearinghouse.wait_up(), 5)
    assert (await http.get(ADMIN)).json()["down_for_seconds"] == 0
    async with sftp_session(clearinghouse) as sftp:
        await upload(sftp, "after.x12", make_837(21, ["PCN-UP"]))
        await clearinghouse.drain()
    assert clearinghouse.ledger.claim_counts() == {"FACADE|PCN-UP": 1}


async def _until_down(ch: ClearinghouseSandbox) -> None:
    while not ch.is_down:
        await asyncio.sleep(0.01)


async def test_outage_in_process_and_reset_brings_it_back_early(
    http: httpx.AsyncClient, clearinghouse: ClearinghouseSandbox,
) -> None:
    start = time.monotonic()
    await clearinghouse.outage(30)
    with pytest.raises(httpx.ConnectError):
        await http.get(ADMIN)
    clearinghouse.chaos.reset()
    await asyncio.wait_for(clearinghouse.wait_up(), 5)
    assert time.monotonic() - start < 5
    assert (await http.get(ADMIN)).status_code == 200


async def test_request_in_progress_is_cut_by_an_outage(
    http: httpx.AsyncClient, clearinghouse: ClearinghouseSandbox,
) -> None:
    auth = await chc_token(http)
    clearinghouse.chaos.configure(slow_seconds=5)
    pending = asyncio.create_task(http.get(REPORTS, headers=auth))
    await asyncio.sleep(0.1)
    await clearinghouse.outage(0.3)
    with pytest.raises(httpx.TransportError):
        await pending
    clearinghouse.chaos.configure(slow_seconds=0)
    await asyncio.wait_for(clearinghouse.wait_up(), 5)


async def test_ledger_endpoint(http: httpx.AsyncClient,
                               clearinghouse: ClearinghouseSandbox) -> None:
    async with sftp_session(clearinghouse) as sftp:
        await upload(sftp, "l1.x12", make_837(31, ["PCN-L1", "PCN-L2"]))
        await upload(sftp, "l2.x12", make_837(32, ["PCN-L1"]))
        await clearinghouse.drain()
    body = (await http.get("/sandbox/admin/ledger")).json()
    assert body["claims"] == {"FACADE|PCN-L1": 2, "FACADE|PCN-L2": 1}
    assert body["duplicates"] == {"FACADE|PCN-L1": 2}
    assert body["received"] == 3 and body["distinct"] == 2
    assert body["sftp"]["processed"] == 2
