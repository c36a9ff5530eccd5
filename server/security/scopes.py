"""SMART scopes, v1 and v2 (SMART App Launch 2.x, scopes-and-launch-context.html).

Resource scopes are ``<level>/<type>.<permissions>[?<query>]``: level ``patient``, ``user`` or
``system``; type a resource type or ``*``; permissions either the v1 words ``read`` (= ``rs``),
``write`` (= ``cud``) and ``*`` (= ``cruds``), or the v2 letters ``c r u d s`` in that order;
the optional query (v2 "granular" scopes, e.g. ``patient/Condition.rs?category=...``) restricts
the grant to resources matching those search parameters. Everything else (``openid``,
``fhirUser``, ``launch``, ``launch/patient``, ``offline_access``, ...) is a context scope.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import parse_qsl

__all__ = [
    "CONTEXT_SCOPES",
    "LEVELS",
    "PERMISSIONS",
    "ResourceScope",
    "ScopeError",
    "ScopeSet",
    "covers",
    "parse_resource_scope",
    "parse_scopes",
]

#: Scope levels (scopes-and-launch-context.html#scopes-for-requesting-fhir-resources).
LEVELS = ("patient", "user", "system")
#: v2 permission letters in their required order.
PERMISSIONS = "cruds"
_V1 = {"read": "rs", "write": "cud", "*": "cruds"}

#: Non-resource scopes the facade understands (scopes-and-launch-context.html: context data,
#: identity data and refresh-token scopes).
CONTEXT_SCOPES = frozenset(
    {
        "openid",
        "fhirUser",
        "profile",
        "launch",
        "launch/patient",
        "launch/encounter",
        "offline_access",
        "online_access",
        # This server's own: the administration API under /admin/ (DESIGN.md).
        "system/facade.admin",
    }
)

_RESOURCE = re.compile(
    r"^(?P<level>patient|user|system)/(?P<type>\*|[A-Z][A-Za-z]{1,63})\."
    r"(?P<perm>read|write|\*|c?r?u?d?s?)(?:\?(?P<query>.+))?$"
)


class ScopeError(ValueError):
    """A scope string that is neither a resource scope nor a known context scope."""


@dataclass(frozen=True, slots=True)
class ResourceScope:
    """One resource scope, normalised to v2 permission letters."""

    level: str
    resource_type: str
    permissions: frozenset[str]
    query: tuple[tuple[str, str], ...] = ()
    raw: str = ""

    def applies_to(self, resource_type: str, permission: str) -> bool:
        """Whether this scope grants ``permission`` (one of ``cruds``) on ``resource_type``."""
        return permission in self.permissions and self.resource_type in ("*", resource_type)


def parse_resource_scope(text: str) -> ResourceScope | None:
    """The resource scope in ``text``; None when ``text`` is not shaped like one.

    Raises :class:`ScopeError` for a resource-shaped scope with an empty permission set or a
    query that is not ``name=value`` pairs.
    """
    m = _RESOURCE.match(text)
    if m is None:
        return None
    perm = m["perm"]
    letters = _V1.get(perm, perm)
    if not letters:
        raise ScopeError(f"Scope '{text}' grants no permission")
    query: tuple[tuple[str, str], ...] = ()
    if m["query"] is not None:
        try:
            pairs = parse_qsl(m["query"], keep_blank_values=False, strict_parsing=True)
        except ValueError as exc:
            raise ScopeError(f"Scope '{text}' has a malformed query") from exc
        if not pairs:
            raise ScopeError(f"Scope '{text}' has an empty query")
        query = tuple(sorted(pairs))
    return ResourceScope(m["level"], m["type"], frozenset(letters), query, text)


@dataclass(frozen=True, slots=True)
class ScopeSet:
    """The scopes of one grant or token: resource scopes plus context scopes, in request order."""

    raw: tuple[str, ...]
    resources: tuple[ResourceScope, ...]
    context: frozenset[str]

    def __contains__(self, scope: object) -> bool:
        return scope in self.raw

    @property
    def text(self) -> str:
        """The space-separated form (RFC 6749 section 3.3)."""
        return " ".join(self.raw)

    def grants(self, resource_type: str, permission: str) -> tuple[ResourceScope, ...]:
        """The resource scopes that grant ``permission`` on ``resource_type``."""
        return tuple(s for s in self.resources if s.applies_to(resource_type, permission))

    def levels(self) -> frozenset[str]:
        return frozenset(s.level for s in self.resources)


def parse_scopes(text: str | Iterable[str], *, strict: bool = False) -> ScopeSet:
    """Parse a space-separated scope string (or the scopes themselves).

    Unknown scopes are kept in ``raw`` but grant nothing; with ``strict`` they raise
    :class:`ScopeError` (what an authorization request should answer with ``invalid_scope``).
    Malformed resource scopes always raise.
    """
    items = text.split() if isinstance(text, str) else [t for t in text if t]
    raw: list[str] = []
    resources: list[ResourceScope] = []
    context: set[str] = set()
    for item in items:
        if item in raw:
            continue
        raw.append(item)
        resource = parse_resource_scope(item)
        if resource is not None:
            resources.append(resource)
        elif item in CONTEXT_SCOPES:
            context.add(item)
        elif strict:
            raise ScopeError(f"Unknown scope '{item}'")
    return ScopeSet(tuple(raw), tuple(resources), frozenset(context))


def covers(granted: ScopeSet, requested: str) -> bool:
    """Whether ``requested`` asks for nothing beyond ``granted`` (refresh narrowing,
    registered-scope caps; RFC 6749 section 6: the new scope must not exceed the original).

    A resource scope is covered by a granted one of the same level whose type is the same or
    ``*``, whose permissions include the requested ones, and whose query is absent or a subset
    of the requested query (the request is at least as narrow). A context scope must have
    been granted itself.
    """
    wanted = parse_resource_scope(requested)
    if wanted is None:
        return requested in granted.raw
    for have in granted.resources:
        if (
            have.level == wanted.level
            and have.resource_type in ("*", wanted.resource_type)
            and wanted.permissions <= have.permissions
            and set(have.query) <= set(wanted.query)
        ):
            return True
    return False
