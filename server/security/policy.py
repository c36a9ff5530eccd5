"""Scopes -> decisions and query guards (DESIGN.md law 5: deny by default; narrow, don't filter).

A :class:`Policy` answers two questions for one access token:

- may this interaction happen at all? (:meth:`Policy.require`: the token holds a scope granting
  the permission on the type, SMART App Launch 2, scopes-and-launch-context.html; else 403);
- which resources may it touch? (:meth:`Policy.guard`: a storage :class:`Guard` the adapter
  applies inside every query, so a `patient/` token only ever reaches its patient's compartment
  and a granular `?param=value` scope only the resources matching it).

Permissions are the SMART v2 letters: ``c`` create, ``r`` read (read, vread, instance history,
and resources added by `_include`/`_revinclude`), ``u`` update and patch, ``d`` delete, ``s``
search (type and system search, type and system history).
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field

from capability.resource_types import RESOURCE_TYPES
from server.errors import FacadeError, ForbiddenError
from server.fhir.search.parser import parse_search
from server.security.access import Access
from server.security.scopes import ResourceScope
from server.settings import LimitsSettings
from server.storage.query import Clause, Guard, Reach

__all__ = [
    "AUDIT_TYPE",
    "COMPARTMENT",
    "Policy",
    "SHARED_TYPES",
    "policy_for",
]

#: The patient compartment as the facade enforces it: the reference parameters through which
#: a resource belongs to a patient (R4 compartmentdefinition-patient, narrowed to the links
#: that make the resource *about* the patient: a Claim whose payee is a patient is not that
#: patient's claim). The Patient resource itself belongs through its own id.
COMPARTMENT: Mapping[str, tuple[str, ...]] = {
    "Patient": (),
    "Claim": ("patient",),
    "ClaimResponse": ("patient",),
    "ExplanationOfBenefit": ("patient",),
    "Coverage": ("beneficiary", "subscriber", "policy-holder"),
    "CoverageEligibilityRequest": ("patient",),
    "CoverageEligibilityResponse": ("patient",),
    "Encounter": ("patient",),
    "Condition": ("patient",),
    "Procedure": ("patient",),
    "RelatedPerson": ("patient",),
    "AuditEvent": ("entity", "agent"),  # R4 AuditEvent-patient: agent.who | entity.what
}

#: Reference data about no particular patient, readable with a `patient/` scope that names it.
#: Every other type outside :data:`COMPARTMENT` (PaymentReconciliation, PaymentNotice, Group:
#: many patients' data) is out of reach of `patient/` scopes.
SHARED_TYPES = frozenset({"Organization", "Practitioner", "PractitionerRole", "Location"})

#: The audit trail: only a scope naming it reaches it (``*`` does not), and no token writes it.
AUDIT_TYPE = "AuditEvent"

#: Permissions that reach (read) resources: what searches, reads and includes may return.
_READING = "rs"
_UNRESTRICTED = (Reach(),)


@dataclass(slots=True)
class Policy:
    """The decisions for one token (immutable in effect; guards are computed once, lazily)."""

    access: Access
    fhir_base: str
    limits: LimitsSettings
    _guards: dict[str, Guard | None] = field(default_factory=dict)
    _allowed: dict[str, bool] = field(default_factory=dict)

    @property
    def unrestricted(self) -> bool:
        return self.access.unrestricted

    def _grants(self, resource_type: str, permission: str) -> tuple[ResourceScope, ...]:
        if self.access.unrestricted:
            # Authorization off (development): everything, the audit trail included.
            return self.access.scopes.grants(resource_type, permission)
        grants = self.access.scopes.grants(resource_type, permission)
        if resource_type == AUDIT_TYPE:
            if permission not in _READING:
                return ()
            grants = tuple(g for g in grants if g.resource_type == AUDIT_TYPE)
        if self.access.patient is None:
            grants = tuple(g for g in grants if g.level != "patient")
        else:
            grants = tuple(
                g
                for g in grants
                if g.level != "patient"
                or resource_type in COMPARTMENT
                or resource_type in SHARED_TYPES
            )
        return grants

    def allows(self, resource_type: str, permission: str) -> bool:
        """Whether some scope grants ``permission`` on ``resource_type``."""
        key = resource_type + "." + permission
        allowed = self._allowed.get(key)
        if allowed is None:
            allowed = self._allowed[key] = bool(self._grants(resource_type, permission))
        return allowed

    def require(self, resource_type: str, permission: str) -> None:
        """Raise 403 (``insufficient_scope``) unless some scope grants the permission."""
        if not self.allows(resource_type, permission):
            raise ForbiddenError(
                f"The access token grants no '{permission}' permission on {resource_type}",
                scope=f"user/{resource_type}.{permission}",
            )

    def readable_types(self, permission: str = "s") -> tuple[str, ...]:
        """Served types the token may search (or otherwise use with ``permission``)."""
        return tuple(t for t in sorted(RESOURCE_TYPES) if self.allows(t, permission))

    def guard(self, permissions: str = _READING) -> Guard | None:
        """The storage guard for resources touched with any of ``permissions``; None when the
        token reaches every resource of every type that way (no narrowing to apply)."""
        if permissions not in self._guards:
            self._guards[permissions] = self._build(permissions)
        return self._guards[permissions]

    def _build(self, permissions: str) -> Guard | None:
        reach: list[tuple[str, tuple[Reach, ...]]] = []
        everything = True
        for resource_type in sorted(RESOURCE_TYPES):
            alternatives = self._alternatives(resource_type, permissions)
            everything = everything and alternatives == _UNRESTRICTED
            if alternatives:
                reach.append((resource_type, alternatives))
        if everything:
            return None
        return Guard(tuple(reach), patient_id=self.access.patient)

    def _alternatives(self, resource_type: str, permissions: str) -> tuple[Reach, ...]:
        seen: dict[ResourceScope, None] = {}
        for permission in permissions:
            seen.update(dict.fromkeys(self._grants(resource_type, permission)))
        out: list[Reach] = []
        for grant in seen:
            where = self._granular(resource_type, grant)
            if where is None:
                continue
            compartment = None
            if grant.level == "patient" and resource_type not in SHARED_TYPES:
                compartment = COMPARTMENT[resource_type]
            if compartment is None and not where:
                return _UNRESTRICTED
            out.append(Reach(where, compartment))
        return tuple(dict.fromkeys(out))

    def _granular(self, resource_type: str, grant: ResourceScope) -> tuple[Clause, ...] | None:
        """The clauses of a granular scope's query for ``resource_type``; None when the query
        does not apply to the type (an unknown parameter grants nothing)."""
        if not grant.query:
            return ()
        try:
            parsed = parse_search(
                (resource_type,),
                list(grant.query),
                strict=True,
                limits=self.limits,
                fhir_base=self.fhir_base,
            )
        except FacadeError:
            return None
        return parsed.query.where


_CACHE: OrderedDict[tuple[object, ...], Policy] = OrderedDict()
_CACHE_SIZE = 4096


def policy_for(access: Access, fhir_base: str, limits: LimitsSettings) -> Policy:
    """The policy of ``access``, shared by every request with the same scopes and context."""
    key = (access.scopes.raw, access.patient, access.unrestricted, fhir_base, id(limits))
    policy = _CACHE.get(key)
    if policy is None:
        policy = Policy(access, fhir_base, limits)
        _CACHE[key] = policy
        if len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    else:
        _CACHE.move_to_end(key)
        if policy.access is not access:
            # Same decisions, this request's identity (audit reads it).
            policy = Policy(access, fhir_base, limits, policy._guards, policy._allowed)
    return policy
