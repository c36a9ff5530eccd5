"""The Optum / Change Healthcare Medical Network JSON API, and Stedi serving the same JSON
(CLEARINGHOUSES.md sections 1-3 and 6).

Kind ``chc``: OAuth2 client credentials (``token_url``, else ``{base_url}/apip/auth/v2/token``),
paths ``{base_url}/medicalnetwork/...``. Kind ``stedi``: ``Authorization: <api key>``, paths
``{base_url}/2024-04-01/change/medicalnetwork/...`` (``{base_url}/change/medicalnetwork/...``
when ``base_url`` already names the API version), ``Idempotency-Key`` on claim submissions.

- Claims: one professional claims v3 body per Claim (``mappers/vendor/chc_claims.py``), POSTed
  to ``/professionalclaims/v3/submission``. The synchronous answer (``SUCCESS`` / ``ERROR`` with
  ``errors[]``/``editResponses[]``) comes back as a ClaimResponse; Stedi's 277CA in ``x12`` as
  X12. The Stedi key is ``Prepared.reference`` (``-n`` per claim when a payload holds several),
  so a resend after an unknown outcome repeats the same key (section 6: "on 5xx/504 retry with
  the same key"). CHC has no such key: after an unknown outcome the pipeline reconciles through
  the 277CA or claim status before sending again.
- Reports: ``GET /reports/v2`` lists the mailbox (``reports``), ``GET /reports/v2/{file}`` gives
  a report's X12 (``report_content``), ``DELETE /reports/v2/{file}`` settles it.
- Eligibility v3 and claim status v2: the raw ``x12`` (271 / 277) when the answer has it, else
  FHIR mapped from the JSON (``mappers/vendor/chc_eligibility.py``, ``chc_status.py``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, urlsplit

import httpx
import orjson

from mappers.fhir_x12.gaps import MappingGapError
from mappers.vendor.chc_claim_response import submission_response
from mappers.vendor.chc_claims import professional_claim
from mappers.vendor.chc_eligibility import eligibility_request, eligibility_response
from mappers.vendor.chc_status import claim_status_request, claim_status_responses
from mappers.x12.writer import ControlNumbers
from server.connectors.breaker import CircuitBreaker
from server.connectors.port import Inbound, Prepared
from server.connectors.throttle import TokenBucket
from server.connectors.trading_partners import partners_of
from server.connectors.vendor_auth import ApiKeyAuth, TokenCache, VendorAuth
from server.connectors.vendor_http import VendorHttp
from server.errors import (
    ConnectorDownError,
    ConnectorError,
    ConnectorRejectedError,
    DeliveryUnknownError,
    Issue,
)
from server.settings import ConnectorSettings

__all__ = ["ChcConnector", "STEDI_VERSION"]

log = logging.getLogger(__name__)

#: The Stedi healthcare API version the CHC-compatible paths live under.
STEDI_VERSION = "/2024-04-01"
_NAMESPACE = uuid.UUID("1e5c6a0d-4f2b-5c3e-9d71-c4c4c4c4c4c4")
#: Mailbox reports fetched per poll (the rest wait for the next one).
MAX_REPORTS = 200
#: Synthetic inbound names (answers to a request, nothing to settle) start with these.
_SYNTHETIC = ("submission/", "eligibility/", "claim-status/")


def _json(response: httpx.Response) -> dict[str, Any]:
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class ChcConnector:
    """A ``chc`` or ``stedi`` connection (see the module docstring)."""

    def __init__(self, name: str, settings: ConnectorSettings, *,
                 transport: httpx.AsyncBaseTransport | None = None,
                 tokens: TokenCache | None = None) -> None:
        if settings.kind not in ("chc", "stedi"):
            raise ValueError(f"not a CHC-style connector: {settings.kind}")
        self.name = name
        self.kind = settings.kind
        self.settings = settings
        self.partners = partners_of(settings)
        base = settings.base_url
        auth: VendorAuth
        if self.kind == "stedi":
            self.prefix = ("/change" if urlsplit(base).path.strip("/")
                           else f"{STEDI_VERSION}/change")
            auth = ApiKeyAuth(settings.api_key)
        else:
            self.prefix = ""
            token_url = settings.token_url or f"{base}/apip/auth/v2/token"
            auth = (tokens or TokenCache()).grant(token_url, settings.client_id,
                                                  settings.client_secret,
                                                  settings.timeout_seconds)
        self.http = VendorHttp(
            name, base, auth, timeout=settings.timeout_seconds,
            bucket=TokenBucket(settings.rate_per_second, settings.burst),
            breaker=CircuitBreaker(name, settings.breaker_failures,
                                   settings.breaker_reset_seconds),
            transport=transport)

    def _path(self, tail: str) -> str:
        # CHC documents eligibility and claim status with a trailing slash; Stedi without.
        if self.kind == "chc" and tail in ("/eligibility/v3", "/claimstatus/v2"):
            tail += "/"
        return f"{self.prefix}/medicalnetwork{tail}"

    # --- claims ------------------------------------------------------------------------------

    def prepare(self, claims: Sequence[Mapping[str, Any]], numbers: ControlNumbers,
                when: datetime | None = None) -> Prepared:
        """One professional claims v3 body per Claim Bundle; every gap of every claim is
        reported together (``MappingGapError``)."""
        bodies: list[dict[str, Any]] = []
        issues: list[Issue] = []
        for n, bundle in enumerate(claims, 1):
            control = f"{numbers.next('ISA'):09d}"
            try:
                bodies.append(professional_claim(bundle, self.partners, control, when))
            except MappingGapError as error:
                label = f"Claim {n}: " if len(claims) > 1 else ""
                issues += [Issue(message=label + i.message, code=i.code, severity=i.severity,
                                 expression=i.expression) for i in error.issues]
        if issues or not bodies:
            if not issues:
                issues.append(Issue(message="No Claim to send", code="required",
                                    expression=("Bundle.entry",)))
            raise MappingGapError(f"The claim JSON cannot be built: {len(issues)} gaps",
                                  issues=issues)
        controls = "|".join(b["controlNumber"] for b in bodies)
        reference = str(uuid.uuid5(_NAMESPACE, f"{self.name}|{controls}"))
        return Prepared(
            connector=self.name, reference=reference, control_number="",
            documents=tuple(orjson.dumps(b) for b in bodies),
            pcns=tuple(b["claimInformation"]["patientControlNumber"] for b in bodies))

    def _key(self, prepared: Prepared, n: int) -> str:
        return prepared.reference if len(prepared.documents) == 1 else \
            f"{prepared.reference}-{n + 1}"

    async def send(self, prepared: Prepared) -> list[Inbound]:
        """POST each body; the answers as ClaimResponses (and Stedi's 277CA). A failure after
        some bodies were taken leaves the whole payload's delivery unknown."""
        out: list[Inbound] = []
        path = self._path("/professionalclaims/v3/submission")
        for n, document in enumerate(prepared.documents):
            headers = {"Idempotency-Key": self._key(prepared, n)} if self.kind == "stedi" else {}
            try:
                response = await self.http.call("POST", path, content=document, headers=headers,
                                                unsafe=True, answers=(400, 422))
            except ConnectorError as error:
                if n == 0:
                    raise
                raise DeliveryUnknownError(
                    f"{self.name}: {n} of {len(prepared.documents)} claims were taken before "
                    f"this failure: {error}", retry_after=error.retry_after) from None
            out += self._answers(prepared, n, document, response)
        log.info("%s: %d claims sent, %d answers", self.name, len(prepared.documents), len(out))
        return out

    def _answers(self, prepared: Prepared, n: int, document: bytes,
                 response: httpx.Response) -> list[Inbound]:
        answer = _json(response)
        if response.status_code >= 400 and not answer.get("status"):
            answer = {"status": "ERROR", **answer}
            if not answer.get("errors") and not answer.get("message"):
                answer["errors"] = [{"code": str(response.status_code),
                                     "description": response.reason_phrase}]
        if not answer:
            return []  # taken, but nothing to read: the 277CA will tell
        request = orjson.loads(document)
        correlation = str((answer.get("claimReference") or {}).get("correlationId") or "")
        name = f"submission/{correlation or self._key(prepared, n)}"
        now = datetime.now(UTC)
        out = [Inbound(connector=self.name, name=name, received=now,
                       resources=[submission_response(request, answer)])]
        if self.kind == "stedi" and isinstance(answer.get("x12"), str) and answer["x12"]:
            out.append(Inbound(connector=self.name, name=f"{name}/277CA", x12=answer["x12"],
                               received=now))
        return out

    async def delivered(self, prepared: Prepared) -> bool | None:
        """Neither API can be asked whether it holds a submission: the 277CA, the reports or
        claim status tell (for Stedi, resending the same prepared payload is safe: same keys)."""
        return None

    # --- reports mailbox ---------------------------------------------------------------------

    async def poll(self) -> list[Inbound]:
        """The X12 reports waiting in the mailbox (non-X12 summaries are left alone)."""
        base = self._path("/reports/v2")
        listing = _json(await self.http.call("GET", base))
        names = listing.get("reports") or listing.get("reportNames") or []
        out: list[Inbound] = []
        skipped = 0
        for name in [n for n in names if isinstance(n, str) and n][:MAX_REPORTS]:
            response = await self.http.call("GET", f"{base}/{quote(name, safe='')}",
                                            answers=(404,))
            if response.status_code == 404:
                continue  # settled meanwhile
            text = self._report_text(response)
            if not text.lstrip().startswith("ISA"):
                skipped += 1
                continue
            out.append(Inbound(connector=self.name, name=name, x12=text,
                               received=datetime.now(UTC)))
        log.info("%s: %d reports fetched, %d not X12 left in the mailbox", self.name, len(out),
                 skipped)
        return out

    @staticmethod
    def _report_text(response: httpx.Response) -> str:
        if "json" in response.headers.get("content-type", ""):
            data = _json(response)
            for key in ("report_content", "reportContent", "report", "x12"):
                if isinstance(data.get(key), str):
                    return str(data[key])
            return ""
        return response.text

    async def settle(self, document: Inbound) -> None:
        """Delete a stored report from the mailbox (answers to requests need nothing)."""
        if document.name.startswith(_SYNTHETIC):
            return
        path = f"{self._path('/reports/v2')}/{quote(document.name, safe='')}"
        await self.http.call("DELETE", path, answers=(404,))

    # --- real time ---------------------------------------------------------------------------

    async def eligibility(self, request: Mapping[str, Any], numbers: ControlNumbers) -> Inbound:
        body = eligibility_request(request, f"{numbers.next('ISA'):09d}")
        answer = await self._real_time("/eligibility/v3", body)
        name = f"eligibility/{body['controlNumber']}"
        if isinstance(answer.get("x12"), str) and answer["x12"].lstrip().startswith("ISA"):
            return Inbound(connector=self.name, name=name, x12=answer["x12"],
                           received=datetime.now(UTC))
        return Inbound(connector=self.name, name=name, received=datetime.now(UTC),
                       resources=[eligibility_response(body, answer)])

    async def claim_status(self, claim: Mapping[str, Any], numbers: ControlNumbers) -> Inbound:
        body = claim_status_request(claim, self.partners, f"{numbers.next('ISA'):09d}")
        answer = await self._real_time("/claimstatus/v2", body)
        name = f"claim-status/{body['controlNumber']}"
        if isinstance(answer.get("x12"), str) and answer["x12"].lstrip().startswith("ISA"):
            return Inbound(connector=self.name, name=name, x12=answer["x12"],
                           received=datetime.now(UTC))
        resources = claim_status_responses(body, answer)
        if not resources:
            raise ConnectorRejectedError(f"{self.name}: the claim status answer names no claim")
        return Inbound(connector=self.name, name=name, received=datetime.now(UTC),
                       resources=resources)

    async def _real_time(self, tail: str, body: dict[str, Any]) -> dict[str, Any]:
        """POST a real-time inquiry; a 400 with ``errors[]`` (an AAA rejection) is an answer."""
        response = await self.http.call("POST", self._path(tail), content=orjson.dumps(body),
                                        answers=(400,))
        answer = _json(response)
        if response.status_code == 400 and not answer.get("errors"):
            raise ConnectorRejectedError(f"{self.name}: the clearinghouse refused the inquiry "
                                         "(400)")
        if not answer:
            raise ConnectorDownError(f"{self.name}: the clearinghouse answered without JSON")
        return answer

    async def close(self) -> None:
        await self.http.close()
