"""The door of the FHIR API: who is calling (bearer token -> :class:`Access`) and the request
context that carries their policy and guarded store (SMART App Launch 2, RFC 6750).

With ``FACADE_AUTH__ENABLED=false`` every caller is :meth:`Access.everything` (local
development and tests only; the CLI refuses it on a non-loopback bind).
"""

from __future__ import annotations

from fastapi import Request

from server.fhir.handlers import FhirContext
from server.security.access import Access
from server.security.narrowing import GuardedRepository
from server.security.policy import policy_for

__all__ = ["access_for", "context_for"]


async def access_for(request: Request) -> Access:
    """Authenticate the request (401 with ``WWW-Authenticate`` when the token is unusable) and
    remember the caller on ``request.state.access`` for the audit trail."""
    client = request.client
    source_ip = client.host if client is not None else None
    settings = request.app.state.settings
    if not settings.auth.enabled:
        access = Access.everything(source_ip)
    else:
        access = await request.app.state.auth.authenticate(
            request.headers.get("authorization"), source_ip
        )
    request.state.access = access
    return access


async def context_for(request: Request) -> FhirContext:
    """The FHIR context of this request: its policy and the store seen through its guard."""
    base: FhirContext = request.app.state.fhir
    access = await access_for(request)
    policy = policy_for(access, base.fhir_base, base.settings.limits)
    guard = policy.guard()
    repo = base.repo if guard is None else GuardedRepository(base.repo, guard, base.fhir_base)
    return FhirContext(repo, base.settings, policy)
