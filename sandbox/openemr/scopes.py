"""The scopes the stand-in offers and how a grant is narrowed, after OpenEMR's
``ServerScopeListEntity`` and ``ScopeRepository::finalizeScopes`` (OPENEMR.md section 6,
"Scope family").

- Base: ``openid fhirUser online_access offline_access launch launch/patient api:oemr api:fhir
  api:port`` plus the OIDC profile claims. ``launch/encounter`` is **not** offered, so asking
  for it is ``invalid_scope``.
- SMART v1 ``patient|user|system/<Type>.read`` for the readable types, ``user/{Patient,
  Practitioner,Organization}.write``; SMART v2 ``.rs`` only (7.0.4+), with granular
  ``?category=`` suffixes accepted on Condition and Observation.
- ``system/`` scopes only while the global ``rest_system_scopes_api`` is on.
- A grant is the requested scopes the client registered; unregistered ones are dropped.
"""

from __future__ import annotations

from collections.abc import Iterable

__all__ = [
    "BASE_SCOPES",
    "READ_TYPES",
    "finalize_scopes",
    "is_offered",
    "is_patient_only",
    "split_scopes",
]

BASE_SCOPES = frozenset(
    {
        "openid",
        "fhirUser",
        "online_access",
        "offline_access",
        "launch",
        "launch/patient",
        "api:oemr",
        "api:fhir",
        "api:port",
        "profile",
        "email",
        "address",
        "phone",
        "name",
        "given_name",
        "family_name",
        "nickname",
    }
)

#: Resource types with FHIR read scopes (OPENEMR.md section 2).
READ_TYPES = frozenset(
    """Patient Practitioner Organization Coverage Encounter Condition Procedure AllergyIntolerance
    Appointment CarePlan CareTeam Device DiagnosticReport Goal Immunization Location Media
    Medication MedicationDispense MedicationRequest Observation Person PractitionerRole
    Provenance RelatedPerson ServiceRequest Specimen ValueSet QuestionnaireResponse Questionnaire
    DocumentReference Group Binary OperationDefinition""".split()
)
_WRITE_TYPES = frozenset({"Patient", "Practitioner", "Organization"})
_GRANULAR_TYPES = frozenset({"Condition", "Observation"})
_LEVELS = ("patient", "user", "system")


def split_scopes(text: str | None) -> list[str]:
    """The space-separated scope parameter as a list without duplicates, order kept."""
    seen: list[str] = []
    for item in (text or "").split():
        if item not in seen:
            seen.append(item)
    return seen


def is_offered(scope: str, *, system_scopes_api: bool = True) -> bool:
    """True when the server's scope list holds ``scope``."""
    if scope in BASE_SCOPES:
        return True
    level, slash, rest = scope.partition("/")
    if not slash or level not in _LEVELS or "." not in rest:
        return False
    if level == "system" and not system_scopes_api:
        return False
    rtype, _, perm = rest.partition(".")
    if rtype == "*" and level == "system":
        return perm in ("read", "rs")
    if rtype not in READ_TYPES:
        return False
    if perm in ("read", "rs"):
        return True
    if perm.startswith("rs?"):
        return rtype in _GRANULAR_TYPES and perm[3:].startswith("category=")
    if perm == "write":
        return level == "user" and rtype in _WRITE_TYPES
    if perm == "$docref":
        return rtype == "DocumentReference"
    return False


def finalize_scopes(requested: Iterable[str], registered: Iterable[str]) -> list[str]:
    """The requested scopes the client registered (``ScopeRepository::finalizeScopes``)."""
    allowed = set(registered)
    return [scope for scope in requested if scope in allowed]


def is_patient_only(scopes: Iterable[str]) -> bool:
    """True when no scope is ``user/`` or ``system/`` (such apps need no admin approval)."""
    return not any(s.startswith(("user/", "system/")) for s in scopes)
