"""The CHC / Optum Medical Network REST API of the sandbox over real HTTP (CLEARINGHOUSES.md
section 2): token endpoint, bearer auth, health checks, eligibility, claims, claim status and the
reports v2 mailbox."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from sandbox.clearinghouse import ClearinghouseSandbox
from tests.sandbox.clearinghouse.clients import STEDI, chc_token, claim_body

TOKEN = "/apip/auth/v2/token"
MN = "/medicalnetwork"


async def test_token_endpoint_issues_a_bearer_for_an_hour(http: httpx.AsyncClient) -> None:
    r = await http.post(TOKEN, json={"client_id": "facade-sandbox",
                                     "client_secret": "sandbox-only",
                                     "grant_type": "client_credentials"})
    assert r.status_code == 200
    body = r.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    assert len(body["access_token"]) >= 32
    assert r.headers["cache-control"] == "no-store"


@pytest.mark.parametrize(("payload", "status", "error"), [
    ({"client_id": "facade-sandbox", "client_secret": "wrong",
      "grant_type": "client_credentials"}, 401, "invalid_client"),
    ({"client_id": "nobody", "client_secret": "sandbox-only",
      "grant_type": "client_credentials"}, 401, "invalid_client"),
    ({"client_id": "facade-sandbox", "client_secret": "sandbox-only",
      "grant_type": "password"}, 400, "unsupported_grant_type"),
    ({"grant_type": "client_credentials"}, 400, "invalid_request"),
])
async def test_token_errors_are_rfc6749(http: httpx.AsyncClient, payload: dict[str, Any],
                                        status: int, error: str) -> None:
    r = await http.post(TOKEN, json=payload)
    assert r.status_code == status
    assert r.json()["error"] == error and r.json()["error_description"]


async def test_token_endpoint_takes_a_form_too(http: httpx.AsyncClient) -> None:
    r = await http.post(TOKEN, data={"client_id": "facade-sandbox",
                                     "client_secret": "sandbox-only",
                                     "grant_type": "client_credentials"})
    assert r.status_code == 200


async def test_calls_need_a_valid_bearer(http: httpx.AsyncClient,
                                         clearinghouse: ClearinghouseSandbox) -> None:
    for headers in ({}, {"Authorization": "Bearer nope"}, STEDI, {"Authorization": "Basic x"}):
        r = await http.get(f"{MN}/reports/v2", headers=headers)
        assert r.status_code == 401
        assert r.json()["error"] == "invalid_token"
        assert r.headers["www-authenticate"].startswith("Bearer")
    auth = await chc_token(http)
    assert (await http.get(f"{MN}/reports/v2", headers=auth)).status_code == 200
    clearinghouse.tokens.revoke_all()  # as when the hour is over
    assert (await http.get(f"{MN}/reports/v2", headers=auth)).status_code == 401


@pytest.mark.parametrize(("api", "version"), [
    ("eligibility/v3", "v3"), ("professionalclaims/v3", "v3"), ("claimstatus/v2", "v2"),
    ("reports/v2", "v2")])
async def test_healthchecks(http: httpx.AsyncClient, api: str, version: str) -> None:
    auth = await chc_token(http)
    r = await http.get(f"{MN}/{api}/healthcheck", headers=auth)
    assert r.status_code == 200 and r.json() == {"status": "OK", "version": version}


async def test_submission_fills_the_mailbox(http: httpx.AsyncClient,
                                            clearinghouse: ClearinghouseSandbox) -> None:
    auth = await chc_token(http)
    r = await http.post(f"{MN}/professionalclaims/v3/submission", json=claim_body("PCN-M1"),
                        headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "SUCCESS"
    assert clearinghouse.ledger.claim_counts() == {"FACADE|PCN-M1": 1}

    listing = (await http.get(f"{MN}/reports/v2", headers=auth)).json()
    assert listing["meta"]["applicationMode"] == "sandbox"
    names = listing["reports"]
    assert names and all(re.fullmatch(r"(X3|R5)\d{6}\.[A-Z]{2}", n) for n in names)
    x3 = next(n for n in names if n.startswith("X3"))
    r5 = next(n for n in names if n.startswith("R5"))

    raw = (await http.get(f"{MN}/reports/v2/{x3}", headers=auth)).json()
    assert raw["report_content"].startswith("ISA*") and "005010X214" in raw["report_content"]
    ca = await http.get(f"{MN}/reports/v2/{x3}/277", headers=auth)
    assert ca.status_code == 200 and "PCN-M1" in ca.text
    era = await http.get(f"{MN}/reports/v2/{r5}/835", headers=auth)
    assert era.status_code == 200 and "PCN-M1" in era.text
    wrong = await http.get(f"{MN}/reports/v2/{r5}/277", headers=auth)
    assert wrong.status_code == 400 and wrong.json()["errors"]

    for name in names:
        d = await http.delete(f"{MN}/reports/v2/{name}", headers=auth)
        assert d.status_code == 200 and d.json()["status"] == "success"
    assert (await http.get(f"{MN}/reports/v2", headers=auth)).json()["reports"] == []
    gone = await http.get(f"{MN}/reports/v2/{x3}", headers=auth)
    assert gone.status_code == 404 and gone.json()["errors"][0]["field"] == "fileName"


async def test_mailbox_is_per_account(http: httpx.AsyncClient) -> None:
    auth = await chc_token(http)
    await http.post(f"{MN}/professionalclaims/v3/submission", json=claim_body("PCN-M2"),
                    headers=auth)
    names = (await http.get(f"{MN}/reports/v2", headers=auth)).json()["reports"]
    assert names
    # The Stedi path of the same account sees the same mailbox.
    stedi = await http.get(f"/2024-04-01/change{MN}/reports/v2", headers=STEDI)
    assert stedi.json()["reports"] == names


async def test_validation_records_nothing(http: httpx.AsyncClient,
                                          clearinghouse: ClearinghouseSandbox) -> None:
    auth = await chc_token(http)
    r = await http.post(f"{MN}/professionalclaims/v3/validation", json=claim_body("PCN-V"),
                        headers=auth)
    assert r.status_code == 200, r.text
    assert clearinghouse.ledger.claim_counts() == {}
    assert (await http.get(f"{MN}/reports/v2", headers=auth)).json()["reports"] == []


def _eligibility(member: str = "0000000000", payer: str = "000050") -> dict[str, Any]:
    return {
        "controlNumber": "123456789",
        "tradingPartnerServiceId": payer,
        "provider": {"organizationName": "Provider Name", "npi": "0123456789"},
        "subscriber": {"memberId": member, "firstName": "johnone", "lastName": "doeone",
                       "gender": "M", "dateOfBirth": "18800102"},
        "encounter": {"serviceTypeCodes": ["30"]},
    }


@pytest.mark.parametrize("path", ["/eligibility/v3", "/eligibility/v3/"])
async def test_eligibility_canned_member(http: httpx.AsyncClient, path: str) -> None:
    auth = await chc_token(http)
    r = await http.post(f"{MN}{path}", json=_eligibility(), headers=auth)
    assert r.status_code == 200, r.text
    assert r.json()["x12"].startswith("ISA*") and "*271*" in r.json()["x12"]


async def test_eligibility_unknown_member_is_400(http: httpx.AsyncClient) -> None:
    auth = await chc_token(http)
    r = await http.post(f"{MN}/eligibility/v3", json=_eligibility("W999"), headers=auth)
    assert r.status_code == 400 and r.json()["errors"]


async def test_claim_status_answers_with_a_277(http: httpx.AsyncClient) -> None:
    auth = await chc_token(http)
    await http.post(f"{MN}/professionalclaims/v3/submission", json=claim_body("PCN-CS"),
                    headers=auth)
    r = await http.post(f"{MN}/claimstatus/v2/", headers=auth, json={
        "controlNumber": "000000002",
        "tradingPartnerServiceId": "60054",
        "providers": [{"organizationName": "Riverside Family Medicine", "npi": "1234567893",
                       "providerType": "BillingProvider"}],
        "subscriber": {"memberId": "W1000200301", "firstName": "Rose", "lastName": "Hartley",
                       "dateOfBirth": "19800214"},
        "encounter": {"beginningDateOfService": "20261110", "endDateOfService": "20261110",
                      "patientAccountNumber": "PCN-CS", "submittedAmount": "100.00"},
    })
    assert r.status_code == 200, r.text
    assert "*277*" in r.json()["x12"]


async def test_bad_bodies_are_400(http: httpx.AsyncClient) -> None:
    auth = await chc_token(http)
    r = await http.post(f"{MN}/professionalclaims/v3/submission", content=b"{not json",
                        headers={**auth, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "body"
    r = await http.post(f"{MN}/eligibility/v3/raw-x12", json={"x12": ""}, headers=auth)
    assert r.status_code == 400 and r.json()["errors"][0]["field"] == "x12"


async def test_engine_failure_is_a_500_not_a_crash(
    http: httpx.AsyncClient, clearinghouse: ClearinghouseSandbox,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken(*args: object) -> tuple[int, dict[str, Any]]:
        raise RuntimeError("engine bug")

    monkeypatch.setattr(clearinghouse.engine, "eligibility_json", broken)
    auth = await chc_token(http)
    r = await http.post(f"{MN}/eligibility/v3", json=_eligibility(), headers=auth)
    assert r.status_code == 500 and r.json()["errors"]
    monkeypatch.undo()
    r = await http.post(f"{MN}/eligibility/v3", json=_eligibility(), headers=auth)
    assert r.status_code == 200
