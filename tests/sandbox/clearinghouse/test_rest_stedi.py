"""The same JSON under Stedi's paths (CLEARINGHOUSES.md section 2, "Stedi"): API-key auth and
``Idempotency-Key`` on claim submission (section 6)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import httpx
import pytest

from sandbox.clearinghouse import ClearinghouseSandbox
from sandbox.clearinghouse.model import ResponseFile, Submitter
from tests.sandbox.clearinghouse.clients import STEDI, STEDI_PREFIX, chc_token, claim_body

SUBMIT = f"{STEDI_PREFIX}/medicalnetwork/professionalclaims/v3/submission"


@pytest.mark.parametrize("header", ["sandbox-api-key", "Key sandbox-api-key"])
async def test_api_key_auth(http: httpx.AsyncClient, header: str) -> None:
    r = await http.get(f"{STEDI_PREFIX}/medicalnetwork/reports/v2",
                       headers={"Authorization": header})
    assert r.status_code == 200


async def test_wrong_or_missing_key_is_401_in_stedi_shape(http: httpx.AsyncClient) -> None:
    for headers in ({}, {"Authorization": "nope"}, {"Authorization": "Bearer sandbox-api-key"}):
        r = await http.get(f"{STEDI_PREFIX}/medicalnetwork/reports/v2", headers=headers)
        assert r.status_code == 401
        assert r.json()["code"] == "UNAUTHORIZED" and r.json()["message"]
    # A CHC bearer is no Stedi key.
    auth = await chc_token(http)
    r = await http.get(f"{STEDI_PREFIX}/medicalnetwork/reports/v2", headers=auth)
    assert r.status_code == 401


async def test_idempotency_key_replays_the_first_answer(
    http: httpx.AsyncClient, clearinghouse: ClearinghouseSandbox,
) -> None:
    headers = {**STEDI, "Idempotency-Key": "key-1"}
    first = await http.post(SUBMIT, json=claim_body("PCN-I1"), headers=headers)
    assert first.status_code == 200, first.text
    reports = clearinghouse.mailbox.count()
    again = await http.post(SUBMIT, json=claim_body("PCN-I1"), headers=headers)
    assert again.status_code == 200 and again.json() == first.json()
    assert clearinghouse.ledger.claim_counts() == {"FACADE|PCN-I1": 1}
    assert clearinghouse.mailbox.count() == reports
    other = await http.post(SUBMIT, json=claim_body("PCN-I2"), headers=headers)
    assert other.status_code == 422
    assert "FACADE|PCN-I2" not in clearinghouse.ledger.claim_counts()


async def test_without_a_key_every_submission_counts(
    http: httpx.AsyncClient, clearinghouse: ClearinghouseSandbox,
) -> None:
    for _ in range(2):
        r = await http.post(SUBMIT, json=claim_body("PCN-N"), headers=STEDI)
        assert r.status_code == 200
    assert clearinghouse.ledger.claim_counts() == {"FACADE|PCN-N": 2}


async def test_same_key_in_flight_is_409_with_retry_after(
    http: httpx.AsyncClient, clearinghouse: ClearinghouseSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entered, release = threading.Event(), threading.Event()

    def slow(body: Any, submitter: Submitter,
             key: str | None) -> tuple[int, dict[str, Any], list[ResponseFile]]:
        entered.set()
        release.wait(5)
        return 200, {"status": "SUCCESS"}, []

    monkeypatch.setattr(clearinghouse.engine, "submit_claim_json", slow)
    headers = {**STEDI, "Idempotency-Key": "key-2"}
    first = asyncio.create_task(http.post(SUBMIT, json=claim_body(), headers=headers))
    await asyncio.to_thread(entered.wait, 5)
    second = await http.post(SUBMIT, json=claim_body(), headers=headers)
    release.set()
    assert second.status_code == 409 and second.headers["retry-after"] == "1"
    assert (await first).status_code == 200
    # Another key is not held up.
    other = await http.post(SUBMIT, json=claim_body(), headers={**STEDI, "Idempotency-Key": "k3"})
    assert other.status_code == 200


async def test_chc_paths_ignore_idempotency_keys(
    http: httpx.AsyncClient, clearinghouse: ClearinghouseSandbox,
) -> None:
    auth = {**(await chc_token(http)), "Idempotency-Key": "key-4"}
    for _ in range(2):
        r = await http.post("/medicalnetwork/professionalclaims/v3/submission",
                            json=claim_body("PCN-C"), headers=auth)
        assert r.status_code == 200
    assert clearinghouse.ledger.claim_counts() == {"FACADE|PCN-C": 2}


async def test_stedi_report_paths(http: httpx.AsyncClient) -> None:
    await http.post(SUBMIT, json=claim_body("PCN-R"), headers=STEDI)
    names = (await http.get(f"{STEDI_PREFIX}/medicalnetwork/reports/v2",
                            headers=STEDI)).json()["reports"]
    r5 = next(n for n in names if n.startswith("R5"))
    era = await http.get(f"{STEDI_PREFIX}/medicalnetwork/reports/v2/{r5}/835", headers=STEDI)
    assert era.status_code == 200 and "PCN-R" in era.text
    missing = await http.get(f"{STEDI_PREFIX}/medicalnetwork/reports/v2/R5000000.QQ",
                             headers=STEDI)
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
