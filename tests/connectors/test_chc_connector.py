"""The CHC / Stedi connector against a scripted vendor (``httpx.MockTransport``): OAuth token
cache and refresh, API key, Stedi paths and idempotency keys, the answers as FHIR or X12, the
reports mailbox, and the failure verdicts (CLEARINGHOUSES.md sections 2 and 6)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from mappers.x12 import CountingControlNumbers
from server.connectors.chc import ChcConnector
from server.connectors.port import Prepared
from server.connectors.vendor_auth import TokenCache
from server.errors import ConnectorDownError, ConnectorRejectedError, DeliveryUnknownError
from server.settings import ConnectorSettings
from tests.connectors.builders import claim, fixture

Json = dict[str, Any]
Handler = Callable[[httpx.Request], Awaitable[httpx.Response] | httpx.Response]
SUBMIT = "/medicalnetwork/professionalclaims/v3/submission"
X12_277CA = ("ISA*00*          *00*          *ZZ*CLEARINGHOUSE  *ZZ*FACADE         *261006*1200"
             "*^*00501*000000009*0*T*:~")


class Vendor:
    """A scripted clearinghouse: tokens, and per path a queue of canned answers (else a
    default answer per path)."""

    def __init__(self, token_ttl: int = 3600) -> None:
        self.token_ttl = token_ttl
        self.tokens_issued = 0
        self.valid_tokens: set[str] = set()
        self.requests: list[httpx.Request] = []
        self.scripts: dict[str, list[Handler]] = {}
        self.mailbox: dict[str, str] = {"X3000001.AA": X12_277CA, "CF000001.AA": "A|B|C"}

    def script(self, path: str, *handlers: Handler) -> None:
        self.scripts.setdefault(path, []).extend(handlers)

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.endswith("/apip/auth/v2/token"):
            body = json.loads(request.content)
            if body.get("client_secret") != "secret" or body["grant_type"] != \
                    "client_credentials":
                return httpx.Response(401, json={"error": "invalid_client"})
            await asyncio.sleep(0.01)
            self.tokens_issued += 1
            token = f"token-{self.tokens_issued}"
            self.valid_tokens.add(token)
            return httpx.Response(200, json={"access_token": token, "token_type": "bearer",
                                             "expires_in": self.token_ttl})
        self.requests.append(request)
        auth = request.headers.get("Authorization", "")
        if auth not in ("stedi-key",) and auth.removeprefix("Bearer ") not in self.valid_tokens:
            return httpx.Response(401, json={"message": "unauthorized"})
        queue = self.scripts.get(path.removeprefix("/2024-04-01/change"))
        if queue:
            result = queue.pop(0)(request)
            return await result if not isinstance(result, httpx.Response) else result
        return self.default(request)

    def default(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path.removeprefix("/2024-04-01/change")
        if path == SUBMIT:
            body = json.loads(request.content)
            pcn = body["claimInformation"]["patientControlNumber"]
            return httpx.Response(200, json={
                "status": "SUCCESS", "controlNumber": body["controlNumber"],
                "claimReference": {"correlationId": f"CORR-{pcn}", "patientControlNumber": pcn},
                "payer": {"payerName": "Prairie Health Plan", "payerID": "PHP01"},
                "x12": X12_277CA})
        if path == "/medicalnetwork/reports/v2":
            return httpx.Response(200, json={"reports": list(self.mailbox)})
        if path.startswith("/medicalnetwork/reports/v2/"):
            name = path.rsplit("/", 1)[1]
            if name not in self.mailbox:
                return httpx.Response(404, json={"message": "not found"})
            if request.method == "DELETE":
                del self.mailbox[name]
                return httpx.Response(200, json={})
            return httpx.Response(200, json={"report_content": self.mailbox[name]})
        return httpx.Response(404, json={"message": "no such path"})


def _settings(kind: str = "chc", **overrides: Any) -> ConnectorSettings:
    values: Json = {"kind": kind, "base_url": "https://vendor.test", "client_id": "facade",
                    "client_secret": SecretStr("secret"), "api_key": SecretStr("stedi-key"),
                    "timeout_seconds": 2, "rate_per_second": 1000, "burst": 100,
                    "breaker_failures": 3, "breaker_reset_seconds": 60}
    values.update(overrides)
    return ConnectorSettings(**values)


def _connector(vendor: Vendor, kind: str = "chc", tokens: TokenCache | None = None,
               **overrides: Any) -> ChcConnector:
    return ChcConnector("ch", _settings(kind, **overrides),
                        transport=httpx.MockTransport(vendor), tokens=tokens)


def _prepared(connector: ChcConnector, *pcns: str) -> Prepared:
    return connector.prepare([claim(pcn) for pcn in pcns or ("PCN-1",)],
                             CountingControlNumbers(1))


async def test_chc_submission_answers_as_claim_responses_with_one_cached_token() -> None:
    vendor = Vendor()
    connector = _connector(vendor)
    prepared = _prepared(connector, "PCN-1", "PCN-2")
    assert prepared.pcns == ("PCN-1", "PCN-2") and prepared.control_number == ""
    assert [json.loads(d)["controlNumber"] for d in prepared.documents] == ["000000001",
                                                                            "000000002"]
    answers = await connector.send(prepared)
    assert [a.name for a in answers] == ["submission/CORR-PCN-1", "submission/CORR-PCN-2"]
    assert all(a.resources and a.resources[0]["outcome"] == "queued" for a in answers)
    assert vendor.tokens_issued == 1
    assert all(r.headers["Authorization"] == "Bearer token-1" for r in vendor.requests)
    assert all("Idempotency-Key" not in r.headers for r in vendor.requests)
    assert [r.content for r in vendor.requests] == list(prepared.documents)
    assert await connector.delivered(prepared) is None
    await connector.close()


async def test_token_is_single_flight_shared_per_credential_and_refreshed_early() -> None:
    vendor = Vendor(token_ttl=3600)
    tokens = TokenCache()
    first, second = _connector(vendor, tokens=tokens), _connector(vendor, tokens=tokens)
    await asyncio.gather(*(c.poll() for c in (first, second) for _ in range(5)))
    assert vendor.tokens_issued == 1
    grant = tokens.grant(first.settings.token_url or "https://vendor.test/apip/auth/v2/token",
                         "facade", SecretStr("secret"), 2)
    assert grant._token is not None
    # 80 % of 3600 s: refreshed 720 s before it would expire.
    assert grant._token.refresh_at - time.monotonic() == pytest.approx(2880, abs=5)
    grant._token.refresh_at = time.monotonic() - 1
    await first.poll()
    assert vendor.tokens_issued == 2
    await first.close()
    await second.close()


async def test_a_401_gets_a_new_token_once_then_the_call_is_refused() -> None:
    vendor = Vendor()
    connector = _connector(vendor)
    await connector.poll()
    vendor.valid_tokens.clear()  # the vendor forgot every token
    assert await connector.poll() is not None
    assert vendor.tokens_issued == 2
    vendor.script("/medicalnetwork/reports/v2",
                  lambda r: httpx.Response(401, json={"message": "expired"}),
                  lambda r: httpx.Response(401, json={"message": "expired"}))
    with pytest.raises(ConnectorRejectedError):
        await connector.poll()
    assert vendor.tokens_issued == 3
    bad = _connector(vendor, client_secret=SecretStr("wrong"))
    with pytest.raises(ConnectorRejectedError) as caught:
        await bad.poll()
    assert "wrong" not in str(caught.value) and "secret" not in str(caught.value)
    await connector.close()
    await bad.close()


async def test_stedi_paths_api_key_idempotency_key_and_its_277ca() -> None:
    vendor = Vendor()
    connector = _connector(vendor, "stedi")
    prepared = _prepared(connector, "PCN-7")
    answers = await connector.send(prepared)
    request = vendor.requests[-1]
    assert request.url.path == "/2024-04-01/change" + SUBMIT
    assert request.headers["Authorization"] == "stedi-key"
    assert request.headers["Idempotency-Key"] == prepared.reference
    assert [a.name for a in answers] == ["submission/CORR-PCN-7", "submission/CORR-PCN-7/277CA"]
    assert answers[1].x12 == X12_277CA and answers[1].resources is None
    assert vendor.tokens_issued == 0
    # The same prepared payload resent: the same key.
    await connector.send(prepared)
    assert vendor.requests[-1].headers["Idempotency-Key"] == prepared.reference
    several = _prepared(connector, "PCN-8", "PCN-9")
    await connector.send(several)
    assert [r.headers["Idempotency-Key"] for r in vendor.requests[-2:]] == [
        f"{several.reference}-1", f"{several.reference}-2"]
    versioned = _connector(vendor, "stedi", base_url="https://vendor.test/2024-04-01")
    await versioned.poll()
    assert vendor.requests[-1].url.path.startswith("/2024-04-01/change/medicalnetwork/")
    await connector.close()
    await versioned.close()


async def test_edit_errors_are_an_answer_not_a_failure() -> None:
    vendor = Vendor()
    connector = _connector(vendor)
    vendor.script(SUBMIT, lambda r: httpx.Response(400, json={
        "status": "ERROR", "httpStatusCode": "400 BAD_REQUEST",
        "errors": [{"code": "A7", "description": "Billing provider ZIP+4 required"}]}))
    [answer] = await connector.send(_prepared(connector))
    assert answer.resources is not None
    response = answer.resources[0]
    assert response["outcome"] == "error"
    assert response["error"][0]["code"]["coding"][0]["code"] == "A7"
    vendor.script(SUBMIT, lambda r: httpx.Response(403, json={"message": "forbidden"}))
    with pytest.raises(ConnectorRejectedError):
        await connector.send(_prepared(connector))
    await connector.close()


async def test_429_pauses_and_retries_within_the_budget() -> None:
    vendor = Vendor()
    connector = _connector(vendor, timeout_seconds=2)
    throttled = httpx.Response(429, headers={"Retry-After": "0.05"},
                               json={"code": "TOO_MANY_REQUESTS", "message": "slow down"})
    vendor.script(SUBMIT, lambda r: throttled, lambda r: throttled)
    started = time.monotonic()
    answers = await connector.send(_prepared(connector))
    assert time.monotonic() - started >= 0.1
    assert answers and len([r for r in vendor.requests if r.url.path == SUBMIT]) == 3
    vendor.script(SUBMIT, lambda r: httpx.Response(429, headers={"Retry-After": "30"}))
    with pytest.raises(ConnectorDownError) as caught:
        await connector.send(_prepared(connector))
    assert caught.value.retry_after == 30
    # Every call of the connector now waits for the pause; one that cannot wait fails at once.
    with pytest.raises(ConnectorDownError) as caught:
        await connector.poll()
    assert caught.value.retry_after is not None and caught.value.retry_after > 25
    await connector.close()


async def test_failure_verdicts_follow_what_the_vendor_may_have() -> None:
    vendor = Vendor()
    connector = _connector(vendor, timeout_seconds=0.3, breaker_failures=50)

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("refused", request=request)

    async def hang(request: httpx.Request) -> httpx.Response:
        await asyncio.sleep(5)
        raise AssertionError("not reached")

    cases: list[tuple[Handler, type[Exception]]] = [
        (refuse, ConnectorDownError),
        (lambda r: httpx.Response(503, headers={"Retry-After": "0.01"}), ConnectorDownError),
        (lambda r: httpx.Response(408), ConnectorDownError),
        (lambda r: httpx.Response(500), DeliveryUnknownError),
        (lambda r: httpx.Response(504), DeliveryUnknownError),
        (lambda r: httpx.Response(409, headers={"Retry-After": "1"}), DeliveryUnknownError),
        (hang, DeliveryUnknownError),
        (lambda r: httpx.Response(404, json={"message": "no route"}), ConnectorRejectedError),
    ]
    for handler, expected in cases:
        vendor.script(SUBMIT, handler)
        with pytest.raises(expected):
            await connector.send(_prepared(connector))
    # The same failures on a read are simply "not now".
    for handler in (hang, lambda r: httpx.Response(500)):
        vendor.script("/medicalnetwork/reports/v2", handler)
        with pytest.raises(ConnectorDownError) as caught:
            await connector.poll()
        assert not isinstance(caught.value, DeliveryUnknownError)
    await connector.close()


async def test_a_failure_after_some_claims_were_taken_is_an_unknown_outcome() -> None:
    vendor = Vendor()
    connector = _connector(vendor)
    vendor.script(SUBMIT, vendor.default, lambda r: httpx.Response(503))
    with pytest.raises(DeliveryUnknownError) as caught:
        await connector.send(_prepared(connector, "PCN-1", "PCN-2"))
    assert "1 of 2" in str(caught.value)
    await connector.close()


async def test_breaker_opens_and_refuses_without_calling_the_vendor() -> None:
    vendor = Vendor()
    connector = _connector(vendor, breaker_failures=2, breaker_reset_seconds=0.2)
    await connector.poll()  # token obtained
    vendor.script("/medicalnetwork/reports/v2", lambda r: httpx.Response(502),
                  lambda r: httpx.Response(502))
    for _ in range(2):
        with pytest.raises(ConnectorDownError):
            await connector.poll()
    calls = len(vendor.requests)
    with pytest.raises(ConnectorDownError) as caught:
        await connector.poll()
    assert "circuit open" in str(caught.value) and len(vendor.requests) == calls
    await asyncio.sleep(0.21)
    assert await connector.poll() is not None  # the trial call closes it
    assert connector.http.breaker.state == "closed"
    await connector.close()


async def test_reports_are_polled_as_x12_and_settled_by_delete() -> None:
    vendor = Vendor()
    connector = _connector(vendor)
    found = await connector.poll()
    assert [(d.name, d.x12) for d in found] == [("X3000001.AA", X12_277CA)]  # CF left alone
    await connector.settle(found[0])
    await connector.settle(found[0])  # gone already: fine
    assert list(vendor.mailbox) == ["CF000001.AA"]
    assert await connector.poll() == []
    answers = await connector.send(_prepared(connector))
    await connector.settle(answers[0])  # an answer to a request: nothing to delete
    assert vendor.requests[-1].url.path == SUBMIT
    await connector.close()


async def test_eligibility_and_claim_status_return_x12_when_the_answer_has_it() -> None:
    vendor = Vendor()
    connector = _connector(vendor)
    x271 = "ISA*00*...271"
    vendor.script("/medicalnetwork/eligibility/v3/", lambda r: httpx.Response(
        200, json={"controlNumber": json.loads(r.content)["controlNumber"], "x12": x271}))
    request = fixture("eligibility_request_subscriber.json")
    answer = await connector.eligibility(request, CountingControlNumbers(5))
    assert answer.x12 == x271 and answer.name == "eligibility/000000005"
    vendor.script("/medicalnetwork/eligibility/v3/", lambda r: httpx.Response(400, json={
        "errors": [{"code": "73", "description": "Invalid/Missing Subscriber/Insured Name"}]}))
    answer = await connector.eligibility(request, CountingControlNumbers(6))
    assert answer.resources and answer.resources[0]["outcome"] == "error"
    vendor.script("/medicalnetwork/claimstatus/v2/", lambda r: httpx.Response(200, json={
        "claims": [{"claimStatus": {"statusCategoryCode": "F1", "statusCode": "65"}}]}))
    status = await connector.claim_status(fixture("claim_status_claim_bundle.json"),
                                          CountingControlNumbers(7))
    assert status.resources and status.resources[0]["outcome"] == "complete"
    assert vendor.requests[-1].url.path == "/medicalnetwork/claimstatus/v2/"
    vendor.script("/medicalnetwork/claimstatus/v2/", lambda r: httpx.Response(
        200, json={"x12": "ISA*277"}))
    status = await connector.claim_status(fixture("claim_status_claim_bundle.json"),
                                          CountingControlNumbers(8))
    assert status.x12 == "ISA*277"
    await connector.close()


async def test_real_transport_tells_a_refused_connection_from_a_request_sent() -> None:
    """Over real sockets: nobody listening -> nothing delivered; a server that reads the
    request and never answers -> the submission may have been delivered."""
    received, done = asyncio.Event(), asyncio.Event()
    handlers: list[asyncio.Task[Any]] = []

    async def swallow(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.append(task)
        await reader.read(65536)
        received.set()
        await done.wait()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(swallow, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    silent = ChcConnector("ch", _settings("stedi", base_url=f"http://127.0.0.1:{port}",
                                          timeout_seconds=0.3))
    prepared = _prepared(silent)
    with pytest.raises(DeliveryUnknownError):
        await silent.send(prepared)
    assert received.is_set()
    with pytest.raises(ConnectorDownError) as caught:
        await silent.poll()
    assert not isinstance(caught.value, DeliveryUnknownError)
    await silent.close()
    done.set()
    server.close()
    await server.wait_closed()
    await asyncio.gather(*handlers)
    refused = ChcConnector("ch", _settings("stedi", base_url=f"http://127.0.0.1:{port}",
                                           timeout_seconds=0.3))
    with pytest.raises(ConnectorDownError) as caught:
        await refused.send(prepared)
    assert not isinstance(caught.value, DeliveryUnknownError)
    await refused.close()
