"""The audit trail: an AuditEvent for every FHIR access and every authorization decision.

Each request to the FHIR API, the OAuth endpoints and the launch relay becomes one R4
AuditEvent (auditevent.html; the "RESTful Operation" and DICOM "User Authentication" event
types): who (the user, as their FHIR resource or subject id), which client (a second agent and
``agent.altId``), which patient (the token's patient context, or the Patient addressed), what
(the interaction as ``subtype``, the resource as ``entity.what``, a search's query in
``entity.query``), the outcome (0 success, 4 refused or invalid, 8 server failure) and the
source IP (``agent.network``). Failed logins and token errors are recorded too: the OAuth
endpoints say who was refused on ``request.state`` (``audit_client_id``, ``audit_subject``).

Events are buffered and written in batches, one unit of work per batch, by a background task,
so a read does not wait for a write; a stop flushes what is left. They are stored as ordinary
read-only resources, reachable only with a scope naming AuditEvent
(``server/security/policy.py``).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import time
import uuid
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.fhir import interactions
from server.security.access import Access
from server.settings import Settings
from server.storage.port import Repository, instant_from_us

__all__ = ["AuditMiddleware", "AuditTrail", "rest_interaction"]

_log = logging.getLogger("facade.audit")

_EVENT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-event-type"
_DCM = "http://dicom.nema.org/resources/ontology/DCM"
_REST = "http://hl7.org/fhir/restful-interaction"
_OBJECT_TYPE = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
_OBJECT_ROLE = "http://terminology.hl7.org/CodeSystem/object-role"
_SOURCE_TYPE = "http://terminology.hl7.org/CodeSystem/security-source-type"
_ROLE = "http://terminology.hl7.org/CodeSystem/extra-security-role-type"
_SUBJECT = "urn:fhir-facade:subject"
#: Events written per unit of work (~0.3 ms each): short enough not to stall requests.
_CHUNK = 64
_CLIENT = "urn:fhir-facade:client"

#: AuditEvent.action per RESTful interaction (R4 valueset-audit-event-action).
_ACTION = {
    "create": "C",
    "read": "R",
    "vread": "R",
    "history-instance": "R",
    "update": "U",
    "patch": "U",
    "delete": "D",
}


def rest_interaction(method: str, path: str) -> tuple[str, str | None, str | None]:
    """(interaction code, resource type, id) of a request under ``/fhir``
    (R4 valueset-type-restful-interaction, plus ``operation`` for ``$name``)."""
    parts = [p for p in path.removeprefix("/fhir").split("/") if p]
    if any(p.startswith("$") for p in parts):
        return "operation", parts[0] if parts and not parts[0].startswith("$") else None, None
    if not parts:
        return ("batch" if method == "POST" else "search-system"), None, None
    if parts[0] == "_search":
        return "search-system", None, None
    if parts[0] == "_history":
        return "history-system", None, None
    rtype = parts[0]
    if len(parts) == 1:
        code = {"GET": "search-type", "POST": "create", "PUT": "update", "PATCH": "patch"}
        return code.get(method, "delete"), rtype, None
    if parts[1] == "_search":
        return "search-type", rtype, None
    if parts[1] == "_history":
        return "history-type", rtype, None
    rid = parts[1]
    if len(parts) >= 4:
        return "vread", rtype, rid
    if len(parts) == 3:
        return "history-instance", rtype, rid
    code = {"GET": "read", "PUT": "update", "PATCH": "patch", "DELETE": "delete"}
    return code.get(method, "read"), rtype, rid


def _outcome(status: int) -> str:
    return "0" if status < 400 else ("4" if status < 500 else "8")


def _who(access: Access | None, subject: str | None) -> dict[str, Any]:
    if access is not None and access.fhir_user:
        return {"reference": access.fhir_user}
    value = (access.subject if access is not None else None) or subject or "anonymous"
    return {"identifier": {"system": _SUBJECT, "value": value}}


class AuditTrail:
    """Buffers AuditEvents and writes them in batches to the store."""

    def __init__(
        self,
        repo: Repository,
        settings: Settings,
        *,
        flush_seconds: float = 0.25,
        max_batch: int = 500,
    ) -> None:
        self.repo, self.settings = repo, settings
        self.flush_seconds, self.max_batch = flush_seconds, max_batch
        self._pending: list[dict[str, Any]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="audit-trail")

    async def stop(self) -> None:
        """Write everything recorded so far, then stop."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        await self.flush()

    def record(self, event: dict[str, Any]) -> None:
        self._pending.append(event)
        if len(self._pending) >= self.max_batch:
            self._wake.set()

    async def flush(self) -> int:
        """Write the buffered events now, in chunks of :data:`_CHUNK` with the event loop
        free between them (requests keep flowing); the number written."""
        written = 0
        while self._pending:
            chunk, self._pending = self._pending[:_CHUNK], self._pending[_CHUNK:]
            try:
                async with self.repo.unit_of_work() as uow:
                    for event in chunk:
                        await interactions.create(
                            uow,
                            "AuditEvent",
                            event,
                            limits=self.settings.limits,
                            fhir_base=self.settings.fhir_base,
                            id=event["id"],
                        )
            except Exception:  # noqa: BLE001 - the trail must not take the API down
                # Kept for the next flush; the store may be busy or briefly unavailable.
                self._pending[:0] = chunk
                _log.warning("audit events not written yet: %d pending", len(self._pending))
                return written
            written += len(chunk)
            await asyncio.sleep(0)
        return written

    async def _run(self) -> None:
        while not self._stopping:
            try:
                await asyncio.wait_for(self._wake.wait(), self.flush_seconds)
            except TimeoutError:
                pass
            self._wake.clear()
            await self.flush()

    # --- events ------------------------------------------------------------------------------

    def _base(self, status: int, source_ip: str | None) -> dict[str, Any]:
        return {
            "resourceType": "AuditEvent",
            "id": str(uuid.uuid4()),
            "recorded": instant_from_us(time.time_ns() // 1000),
            "outcome": _outcome(status),
            "outcomeDesc": f"HTTP {status}",
            "source": {
                "site": self.settings.base_url,
                "observer": {"display": "FHIR Financial Facade"},
                "type": [{"system": _SOURCE_TYPE, "code": "4"}],
            },
        }

    def _agents(
        self,
        access: Access | None,
        subject: str | None,
        client_id: str | None,
        source_ip: str | None,
    ) -> list[dict[str, Any]]:
        user: dict[str, Any] = {
            "type": {"coding": [{"system": _ROLE, "code": "humanuser"}]},
            "who": _who(access, subject),
            "requestor": True,
        }
        client = client_id or (access.client_id if access is not None else None)
        if client:
            user["altId"] = client
        if source_ip:
            user["network"] = {"address": source_ip, "type": "2"}
        agents = [user]
        if client:
            agents.append(
                {
                    "type": {"coding": [{"system": _ROLE, "code": "dataprocessor"}]},
                    "who": {"identifier": {"system": _CLIENT, "value": client}},
                    "requestor": False,
                }
            )
        return agents

    def rest_event(
        self,
        method: str,
        path: str,
        query: bytes,
        status: int,
        access: Access | None,
        source_ip: str | None,
    ) -> dict[str, Any]:
        """One FHIR interaction."""
        code, rtype, rid = rest_interaction(method, path)
        event = self._base(status, source_ip)
        event["type"] = {"system": _EVENT_TYPE, "code": "rest", "display": "RESTful Operation"}
        event["subtype"] = [{"system": _REST, "code": code}]
        event["action"] = _ACTION.get(code, "E")
        event["agent"] = self._agents(access, None, None, source_ip)
        entities: list[dict[str, Any]] = []
        if rtype and rid:
            entities.append(
                {
                    "what": {"reference": f"{rtype}/{rid}"},
                    "type": {"system": _OBJECT_TYPE, "code": "2"},
                }
            )
        elif query:
            entities.append(
                {
                    "type": {"system": _OBJECT_TYPE, "code": "2"},
                    "role": {"system": _OBJECT_ROLE, "code": "24"},
                    "name": f"{rtype or 'system'} query",
                    "query": base64.b64encode(query).decode(),
                }
            )
        patient = access.patient if access is not None else None
        if patient is None and rtype == "Patient" and rid:
            patient = rid
        if patient:
            entities.append(
                {
                    "what": {"reference": f"Patient/{patient}"},
                    "type": {"system": _OBJECT_TYPE, "code": "1"},
                    "role": {"system": _OBJECT_ROLE, "code": "1"},
                }
            )
        if entities:
            event["entity"] = entities
        return event

    def auth_event(
        self,
        path: str,
        status: int,
        access: Access | None,
        client_id: str | None,
        subject: str | None,
        source_ip: str | None,
    ) -> dict[str, Any]:
        """One authorization decision: a login, a token, a launch, an introspection."""
        event = self._base(status, source_ip)
        event["type"] = {"system": _DCM, "code": "110114", "display": "User Authentication"}
        event["subtype"] = [{"system": _DCM, "code": "110122", "display": "Login"}]
        event["action"] = "E"
        event["agent"] = self._agents(access, subject, client_id, source_ip)
        event["entity"] = [
            {
                "type": {"system": _OBJECT_TYPE, "code": "4"},
                "name": path,
            }
        ]
        return event


#: OAuth and launch paths whose every call is an authorization decision.
_AUTH_PATHS = ("/auth/", "/smart/")
#: Public documents, not decisions.
_UNAUDITED = ("/fhir/metadata", "/fhir/.well-known/", "/auth/jwks")


class AuditMiddleware:
    """Records an AuditEvent for each FHIR and authorization request once it is answered."""

    def __init__(self, app: ASGIApp, trail: AuditTrail) -> None:
        self.app, self.trail = app, trail

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path: str = scope.get("path", "")
        if scope["type"] != "http" or path.startswith(_UNAUDITED):
            await self.app(scope, receive, send)
            return
        is_fhir = path == "/fhir" or path.startswith("/fhir/")
        if not is_fhir and not path.startswith(_AUTH_PATHS):
            await self.app(scope, receive, send)
            return
        status = 500

        async def watch(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, watch)
        finally:
            state = scope.get("state") or {}
            access = state.get("access")
            client = scope.get("client")
            source_ip = client[0] if client else None
            if is_fhir:
                event = self.trail.rest_event(
                    scope["method"], path, scope.get("query_string", b""), status, access, source_ip
                )
            else:
                event = self.trail.auth_event(
                    path,
                    status,
                    access,
                    state.get("audit_client_id"),
                    state.get("audit_subject"),
                    source_ip,
                )
            self.trail.record(event)
