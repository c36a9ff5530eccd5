"""Who is calling and what the token lets them do: the input of every policy decision.

An :class:`Access` is built once per request from a verified access token (or, with
``FACADE_AUTH__ENABLED=false``, as :meth:`Access.unrestricted`) and handed to the FHIR layer
with the request. It carries only what the token says; the policy in
``server/security/policy.py`` turns it into decisions and query guards.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from server.security.scopes import ScopeSet, parse_scopes

__all__ = ["Access"]

_EVERYTHING = parse_scopes("system/*.cruds")


@dataclass(frozen=True, slots=True)
class Access:
    """The verified content of one access token.

    ``subject``: the user (local or OpenEMR user id) or, for backend services, the client id.
    ``fhir_user``: the user's FHIR resource (``Practitioner/123``) when known.
    ``patient`` / ``encounter``: the launch context ids bound to the token.
    ``token_id``: the token's ``jti`` (audit, revocation).
    """

    scopes: ScopeSet
    client_id: str | None = None
    subject: str | None = None
    fhir_user: str | None = None
    patient: str | None = None
    encounter: str | None = None
    token_id: str | None = None
    source_ip: str | None = None
    unrestricted: bool = field(default=False)

    @classmethod
    def everything(cls, source_ip: str | None = None) -> Access:
        """Authorization switched off (local development and tests only)."""
        return cls(scopes=_EVERYTHING, subject="anonymous", source_ip=source_ip, unrestricted=True)
