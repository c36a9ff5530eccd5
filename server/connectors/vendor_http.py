"""One REST call to a clearinghouse, with the rules every call follows (CLEARINGHOUSES.md
sections 2 and 6): the connector's rate limit and circuit breaker, its timeout, its credentials
(one token refresh on a 401), and the verdict on what the vendor has, as the port's errors:

- ``ConnectorDownError``: nothing was delivered for sure: the connection failed or timed out
  before the request went out, the breaker is open, or the vendor answered 429 / 503 / 408
  (it did not take the body). 429 and 503 pause the connector's bucket for ``Retry-After``;
  a 429 is retried while the pause fits in the call's time budget.
- ``DeliveryUnknownError`` (only for calls that change something at the vendor, i.e. a claim
  submission): the request may have been taken: a timeout or a broken connection after it
  was sent, 500/502/504, or Stedi's 409 (the same ``Idempotency-Key`` is still in flight).
- ``ConnectorRejectedError``: the vendor answered a 4xx other than 408/409/429 that the caller
  does not read as an answer (a 401 after a fresh token, 403, 404, ...), with the vendor's error
  text (section 2 envelopes ``{error|code, message}`` / ``errors[]``).

Nothing is logged but the method, the path, the status and the time taken.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Collection
from typing import Any

import httpx

from server.connectors.breaker import CircuitBreaker
from server.connectors.throttle import TokenBucket, retry_after_seconds
from server.connectors.vendor_auth import VendorAuth
from server.errors import ConnectorDownError, ConnectorRejectedError, DeliveryUnknownError

__all__ = ["VendorHttp"]

log = logging.getLogger(__name__)

#: httpcore trace events that mean the request has started to go out.
_SENDING = ("send_request_headers.started", "send_request_body.started")
#: At most this many tries of one call when the vendor answers 429.
_TRIES = 3


def _vendor_message(response: httpx.Response) -> str:
    """The vendor's own words for a refusal, kept short."""
    try:
        data = response.json()
    except ValueError:
        return response.reason_phrase or ""
    if not isinstance(data, dict):
        return ""
    parts: list[str] = []
    for key in ("message", "error_description", "error", "code"):
        if isinstance(data.get(key), str) and data[key]:
            parts.append(data[key])
            break
    for entry in (data.get("errors") or [])[:5]:
        if isinstance(entry, dict):
            words = entry.get("description") or entry.get("message") or ""
            parts.append(" ".join(str(x) for x in (entry.get("field") or entry.get("code"),
                                                   words) if x))
    return "; ".join(p for p in parts if p)[:500]


class VendorHttp:
    """The HTTP side of one REST connector."""

    def __init__(self, name: str, base_url: str, auth: VendorAuth, *, timeout: float,
                 bucket: TokenBucket, breaker: CircuitBreaker,
                 transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.name = name
        self.timeout = timeout
        self.auth = auth
        self.bucket = bucket
        self.breaker = breaker
        self.client = httpx.AsyncClient(base_url=base_url, transport=transport,
                                        timeout=httpx.Timeout(timeout),
                                        headers={"Accept": "application/json"})
        # The default (httpcore) transport reports through the ``trace`` extension when a
        # request starts to go out; an injected one (tests, ASGI) may not.
        self._traced = transport is None

    async def close(self) -> None:
        await self.client.aclose()

    async def call(self, method: str, path: str, *, content: bytes | None = None,
                   headers: dict[str, str] | None = None, unsafe: bool = False,
                   answers: Collection[int] = ()) -> httpx.Response:
        """Send one request; returns the response for 2xx and the statuses in ``answers``
        (4xx the caller reads as the vendor's answer), else raises as the module says.
        ``unsafe``: the request changes something at the vendor (a submission)."""
        self.breaker.before()
        deadline = time.monotonic() + self.timeout
        renewed = False
        try:
            for attempt in range(1, _TRIES + 1):
                left = deadline - time.monotonic()
                await self.bucket.acquire(max_wait=max(0.0, left))
                response = await self._send(method, path, content, headers, unsafe, deadline)
                status = response.status_code
                if status == 401 and not renewed:
                    renewed = True
                    rejected = {"Authorization": response.request.headers.get(
                        "Authorization", "")}
                    if await self.auth.renew(self.client, rejected):
                        continue
                if status == 429:
                    wait = retry_after_seconds(response.headers.get("Retry-After")) or 1.0
                    self.bucket.pause(wait)
                    self.breaker.success()
                    if attempt < _TRIES and wait <= deadline - time.monotonic():
                        continue
                    raise ConnectorDownError(f"{self.name}: the clearinghouse is throttling "
                                             "requests (429)", retry_after=wait)
                return self._verdict(response, unsafe, answers)
            raise ConnectorDownError(f"{self.name}: no answer after {_TRIES} tries")
        finally:
            self.breaker.release()

    async def _send(self, method: str, path: str, content: bytes | None,
                    headers: dict[str, str] | None, unsafe: bool,
                    deadline: float) -> httpx.Response:
        sent = False

        async def trace(event: str, info: dict[str, Any]) -> None:
            nonlocal sent
            if event.endswith(_SENDING):
                sent = True

        try:
            credentials = await self.auth.headers(self.client)
        except ConnectorDownError:
            self.breaker.failure()  # the token endpoint is part of the vendor
            raise
        started = time.monotonic()
        try:
            request_headers = {**(headers or {}), **credentials}
            if content is not None:
                request_headers.setdefault("Content-Type", "application/json")
            async with asyncio.timeout(max(0.001, deadline - started)):
                response = await self.client.request(method, path, content=content,
                                                     headers=request_headers,
                                                     extensions={"trace": trace})
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as error:
            self.breaker.failure()
            raise ConnectorDownError(f"{self.name}: the clearinghouse could not be reached "
                                     f"({type(error).__name__})") from None
        except (httpx.HTTPError, TimeoutError) as error:
            self.breaker.failure()
            kind = "timed out" if isinstance(error, TimeoutError | httpx.TimeoutException) \
                else f"failed ({type(error).__name__})"
            # Without a trace from the transport we cannot tell whether it went out.
            maybe_sent = sent or not self._traced
            if unsafe and maybe_sent:
                raise DeliveryUnknownError(f"{self.name}: the request {kind} after it was "
                                           "sent; it may have been delivered") from None
            raise ConnectorDownError(f"{self.name}: the request {kind}") from None
        log.info("%s %s %s -> %d in %.0f ms", self.name, method, path, response.status_code,
                 (time.monotonic() - started) * 1000)
        return response

    def _verdict(self, response: httpx.Response, unsafe: bool,
                 answers: Collection[int]) -> httpx.Response:
        status = response.status_code
        retry_after = retry_after_seconds(response.headers.get("Retry-After"))
        if status >= 500 or status == 408:
            self.breaker.failure()
            if status == 503 and retry_after:
                self.bucket.pause(retry_after)
            if unsafe and status in (500, 502, 504):
                raise DeliveryUnknownError(f"{self.name}: the clearinghouse failed ({status}) "
                                           "while taking the request", retry_after=retry_after)
            raise ConnectorDownError(f"{self.name}: the clearinghouse is unavailable "
                                     f"({status})", retry_after=retry_after)
        self.breaker.success()
        if status < 300 or status in answers:
            return response
        if status == 409:
            if unsafe:
                raise DeliveryUnknownError(f"{self.name}: the same request is still being "
                                           "processed (409)", retry_after=retry_after)
            raise ConnectorDownError(f"{self.name}: conflict (409)", retry_after=retry_after)
        words = _vendor_message(response)
        raise ConnectorRejectedError(f"{self.name}: the clearinghouse refused the request "
                                     f"({status}{': ' + words if words else ''})")

