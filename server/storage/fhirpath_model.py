"""The compact R4 element model the search-parameter FHIRPath compiler navigates, and the
helpers that read literal references (R4 references.html).

``"<owner>.<element>"`` maps to a FHIR type, or to the types of a choice element; a backbone
element's type is its own path. ``tests/storage/test_fhirpath.py`` checks the table against the
R4 model of fhirpathpy.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

__all__ = [
    "DATATYPES",
    "ELEMENTS",
    "RESOURCE_ELEMENTS",
    "RESOURCE_TYPE_RE",
    "SUPERTYPE",
    "Root",
    "is_subtype",
    "parse_literal_reference",
    "reference_target_type",
]

Root = Mapping[str, Any]

# ---------------------------------------------------------------------------------------------
# The element model: "<owner>.<element>" -> FHIR type, or the types of a choice element (tuple).
# A backbone element's type is its own path (it owns the elements below it).
# Generated from the R4 definitions for the paths the registry uses; keep it sorted.
# ---------------------------------------------------------------------------------------------

# fmt: off
ELEMENTS: dict[str, str | tuple[str, ...]] = {
    "Address.city": "string",
    "Address.country": "string",
    "Address.postalCode": "string",
    "Address.state": "string",
    "Address.use": "code",
    "AuditEvent.action": "code",
    "AuditEvent.agent": "AuditEvent.agent",
    "AuditEvent.agent.altId": "string",
    "AuditEvent.agent.name": "string",
    "AuditEvent.agent.network": "AuditEvent.agent.network",
    "AuditEvent.agent.network.address": "string",
    "AuditEvent.agent.policy": "uri",
    "AuditEvent.agent.role": "CodeableConcept",
    "AuditEvent.agent.who": "Reference",
    "AuditEvent.entity": "AuditEvent.entity",
    "AuditEvent.entity.name": "string",
    "AuditEvent.entity.role": "Coding",
    "AuditEvent.entity.type": "Coding",
    "AuditEvent.entity.what": "Reference",
    "AuditEvent.outcome": "code",
    "AuditEvent.recorded": "instant",
    "AuditEvent.source": "AuditEvent.source",
    "AuditEvent.source.observer": "Reference",
    "AuditEvent.source.site": "string",
    "AuditEvent.subtype": "Coding",
    "AuditEvent.type": "Coding",
    "Claim.careTeam": "Claim.careTeam",
    "Claim.careTeam.provider": "Reference",
    "Claim.created": "dateTime",
    "Claim.enterer": "Reference",
    "Claim.facility": "Reference",
    "Claim.identifier": "Identifier",
    "Claim.insurer": "Reference",
    "Claim.item": "Claim.item",
    "Claim.item.detail": "Claim.item.detail",
    "Claim.item.detail.subDetail": "Claim.item.detail.subDetail",
    "Claim.item.detail.subDetail.udi": "Reference",
    "Claim.item.detail.udi": "Reference",
    "Claim.item.encounter": "Reference",
    "Claim.item.udi": "Reference",
    "Claim.patient": "Reference",
    "Claim.payee": "Claim.payee",
    "Claim.payee.party": "Reference",
    "Claim.priority": "CodeableConcept",
    "Claim.procedure": "Claim.procedure",
    "Claim.procedure.udi": "Reference",
    "Claim.provider": "Reference",
    "Claim.status": "code",
    "Claim.use": "code",
    "ClaimResponse.created": "dateTime",
    "ClaimResponse.disposition": "string",
    "ClaimResponse.identifier": "Identifier",
    "ClaimResponse.insurer": "Reference",
    "ClaimResponse.outcome": "code",
    "ClaimResponse.patient": "Reference",
    "ClaimResponse.payment": "ClaimResponse.payment",
    "ClaimResponse.payment.date": "date",
    "ClaimResponse.request": "Reference",
    "ClaimResponse.requestor": "Reference",
    "ClaimResponse.status": "code",
    "ClaimResponse.use": "code",
    "Condition.abatement": ("dateTime", "Age", "Period", "Range", "string"),
    "Condition.asserter": "Reference",
    "Condition.bodySite": "CodeableConcept",
    "Condition.category": "CodeableConcept",
    "Condition.clinicalStatus": "CodeableConcept",
    "Condition.code": "CodeableConcept",
    "Condition.encounter": "Reference",
    "Condition.evidence": "Condition.evidence",
    "Condition.evidence.code": "CodeableConcept",
    "Condition.evidence.detail": "Reference",
    "Condition.identifier": "Identifier",
    "Condition.onset": ("dateTime", "Age", "Period", "Range", "string"),
    "Condition.recordedDate": "dateTime",
    "Condition.severity": "CodeableConcept",
    "Condition.stage": "Condition.stage",
    "Condition.stage.summary": "CodeableConcept",
    "Condition.subject": "Reference",
    "Condition.verificationStatus": "CodeableConcept",
    "ContactPoint.system": "code",
    "Coverage.beneficiary": "Reference",
    "Coverage.class": "Coverage.class",
    "Coverage.class.type": "CodeableConcept",
    "Coverage.class.value": "string",
    "Coverage.dependent": "string",
    "Coverage.identifier": "Identifier",
    "Coverage.payor": "Reference",
    "Coverage.policyHolder": "Reference",
    "Coverage.status": "code",
    "Coverage.subscriber": "Reference",
    "Coverage.type": "CodeableConcept",
    "CoverageEligibilityRequest.created": "dateTime",
    "CoverageEligibilityRequest.enterer": "Reference",
    "CoverageEligibilityRequest.facility": "Reference",
    "CoverageEligibilityRequest.identifier": "Identifier",
    "CoverageEligibilityRequest.patient": "Reference",
    "CoverageEligibilityRequest.provider": "Reference",
    "CoverageEligibilityRequest.status": "code",
    "CoverageEligibilityResponse.created": "dateTime",
    "CoverageEligibilityResponse.disposition": "string",
    "CoverageEligibilityResponse.identifier": "Identifier",
    "CoverageEligibilityResponse.insurer": "Reference",
    "CoverageEligibilityResponse.outcome": "code",
    "CoverageEligibilityResponse.patient": "Reference",
    "CoverageEligibilityResponse.request": "Reference",
    "CoverageEligibilityResponse.requestor": "Reference",
    "CoverageEligibilityResponse.status": "code",
    "Encounter.account": "Reference",
    "Encounter.appointment": "Reference",
    "Encounter.basedOn": "Reference",
    "Encounter.class": "Coding",
    "Encounter.diagnosis": "Encounter.diagnosis",
    "Encounter.diagnosis.condition": "Reference",
    "Encounter.episodeOfCare": "Reference",
    "Encounter.hospitalization": "Encounter.hospitalization",
    "Encounter.hospitalization.specialArrangement": "CodeableConcept",
    "Encounter.identifier": "Identifier",
    "Encounter.length": "Duration",
    "Encounter.location": "Encounter.location",
    "Encounter.location.location": "Reference",
    "Encounter.location.period": "Period",
    "Encounter.partOf": "Reference",
    "Encounter.participant": "Encounter.participant",
    "Encounter.participant.individual": "Reference",
    "Encounter.participant.type": "CodeableConcept",
    "Encounter.period": "Period",
    "Encounter.reasonCode": "CodeableConcept",
    "Encounter.reasonReference": "Reference",
    "Encounter.serviceProvider": "Reference",
    "Encounter.status": "code",
    "Encounter.subject": "Reference",
    "Encounter.type": "CodeableConcept",
    "ExplanationOfBenefit.billablePeriod": "Period",
    "ExplanationOfBenefit.careTeam": "ExplanationOfBenefit.careTeam",
    "ExplanationOfBenefit.careTeam.provider": "Reference",
    "ExplanationOfBenefit.claim": "Reference",
    "ExplanationOfBenefit.created": "dateTime",
    "ExplanationOfBenefit.disposition": "string",
    "ExplanationOfBenefit.enterer": "Reference",
    "ExplanationOfBenefit.facility": "Reference",
    "ExplanationOfBenefit.identifier": "Identifier",
    "ExplanationOfBenefit.insurance": "ExplanationOfBenefit.insurance",
    "ExplanationOfBenefit.insurance.coverage": "Reference",
    "ExplanationOfBenefit.insurer": "Reference",
    "ExplanationOfBenefit.item": "ExplanationOfBenefit.item",
    "ExplanationOfBenefit.item.detail": "ExplanationOfBenefit.item.detail",
    "ExplanationOfBenefit.item.detail.subDetail": "ExplanationOfBenefit.item.detail.subDetail",
    "ExplanationOfBenefit.item.detail.subDetail.udi": "Reference",
    "ExplanationOfBenefit.item.detail.udi": "Reference",
    "ExplanationOfBenefit.item.encounter": "Reference",
    "ExplanationOfBenefit.item.serviced": ("date", "Period"),
    "ExplanationOfBenefit.item.udi": "Reference",
    "ExplanationOfBenefit.patient": "Reference",
    "ExplanationOfBenefit.payee": "ExplanationOfBenefit.payee",
    "ExplanationOfBenefit.payee.party": "Reference",
    "ExplanationOfBenefit.procedure": "ExplanationOfBenefit.procedure",
    "ExplanationOfBenefit.procedure.udi": "Reference",
    "ExplanationOfBenefit.provider": "Reference",
    "ExplanationOfBenefit.status": "code",
    "ExplanationOfBenefit.type": "CodeableConcept",
    "Group.actual": "boolean",
    "Group.characteristic": "Group.characteristic",
    "Group.characteristic.code": "CodeableConcept",
    "Group.characteristic.exclude": "boolean",
    "Group.characteristic.value": ("CodeableConcept", "boolean", "Quantity", "Range", "Reference"),
    "Group.code": "CodeableConcept",
    "Group.identifier": "Identifier",
    "Group.managingEntity": "Reference",
    "Group.member": "Group.member",
    "Group.member.entity": "Reference",
    "Group.type": "code",
    "HumanName.family": "string",
    "HumanName.given": "string",
    "Location.address": "Address",
    "Location.alias": "string",
    "Location.endpoint": "Reference",
    "Location.identifier": "Identifier",
    "Location.managingOrganization": "Reference",
    "Location.name": "string",
    "Location.operationalStatus": "Coding",
    "Location.partOf": "Reference",
    "Location.position": "Location.position",
    "Location.status": "code",
    "Location.type": "CodeableConcept",
    "Meta.lastUpdated": "instant",
    "Meta.profile": "canonical",
    "Meta.security": "Coding",
    "Meta.source": "uri",
    "Meta.tag": "Coding",
    "Organization.active": "boolean",
    "Organization.address": "Address",
    "Organization.alias": "string",
    "Organization.endpoint": "Reference",
    "Organization.identifier": "Identifier",
    "Organization.name": "string",
    "Organization.partOf": "Reference",
    "Organization.type": "CodeableConcept",
    "Patient.active": "boolean",
    "Patient.address": "Address",
    "Patient.birthDate": "date",
    "Patient.communication": "Patient.communication",
    "Patient.communication.language": "CodeableConcept",
    "Patient.deceased": ("boolean", "dateTime"),
    "Patient.gender": "code",
    "Patient.generalPractitioner": "Reference",
    "Patient.identifier": "Identifier",
    "Patient.link": "Patient.link",
    "Patient.link.other": "Reference",
    "Patient.managingOrganization": "Reference",
    "Patient.name": "HumanName",
    "Patient.telecom": "ContactPoint",
    "PaymentNotice.created": "dateTime",
    "PaymentNotice.identifier": "Identifier",
    "PaymentNotice.paymentStatus": "CodeableConcept",
    "PaymentNotice.provider": "Reference",
    "PaymentNotice.request": "Reference",
    "PaymentNotice.response": "Reference",
    "PaymentNotice.status": "code",
    "PaymentReconciliation.created": "dateTime",
    "PaymentReconciliation.disposition": "string",
    "PaymentReconciliation.identifier": "Identifier",
    "PaymentReconciliation.outcome": "code",
    "PaymentReconciliation.paymentIssuer": "Reference",
    "PaymentReconciliation.request": "Reference",
    "PaymentReconciliation.requestor": "Reference",
    "PaymentReconciliation.status": "code",
    "Period.start": "dateTime",
    "Practitioner.active": "boolean",
    "Practitioner.address": "Address",
    "Practitioner.communication": "CodeableConcept",
    "Practitioner.gender": "code",
    "Practitioner.identifier": "Identifier",
    "Practitioner.name": "HumanName",
    "Practitioner.telecom": "ContactPoint",
    "PractitionerRole.active": "boolean",
    "PractitionerRole.code": "CodeableConcept",
    "PractitionerRole.endpoint": "Reference",
    "PractitionerRole.healthcareService": "Reference",
    "PractitionerRole.identifier": "Identifier",
    "PractitionerRole.location": "Reference",
    "PractitionerRole.organization": "Reference",
    "PractitionerRole.period": "Period",
    "PractitionerRole.practitioner": "Reference",
    "PractitionerRole.specialty": "CodeableConcept",
    "PractitionerRole.telecom": "ContactPoint",
    "Procedure.basedOn": "Reference",
    "Procedure.category": "CodeableConcept",
    "Procedure.code": "CodeableConcept",
    "Procedure.encounter": "Reference",
    "Procedure.identifier": "Identifier",
    "Procedure.instantiatesCanonical": "canonical",
    "Procedure.instantiatesUri": "uri",
    "Procedure.location": "Reference",
    "Procedure.partOf": "Reference",
    "Procedure.performed": ("dateTime", "Period", "string", "Age", "Range"),
    "Procedure.performer": "Procedure.performer",
    "Procedure.performer.actor": "Reference",
    "Procedure.reasonCode": "CodeableConcept",
    "Procedure.reasonReference": "Reference",
    "Procedure.status": "code",
    "Procedure.subject": "Reference",
    "RelatedPerson.active": "boolean",
    "RelatedPerson.address": "Address",
    "RelatedPerson.birthDate": "date",
    "RelatedPerson.gender": "code",
    "RelatedPerson.identifier": "Identifier",
    "RelatedPerson.name": "HumanName",
    "RelatedPerson.patient": "Reference",
    "RelatedPerson.relationship": "CodeableConcept",
    "RelatedPerson.telecom": "ContactPoint",
}
# fmt: on

#: Elements every resource has (Resource.*).
RESOURCE_ELEMENTS: dict[str, str] = {
    "id": "id",
    "meta": "Meta",
    "implicitRules": "uri",
    "language": "code",
}

#: FHIR R4 data types (datatypes.html, metadatatypes.html) that casts and ``is`` may name.
DATATYPES: frozenset[str] = frozenset(
    (
        "base64Binary boolean canonical code date dateTime decimal id instant integer markdown "
        "oid positiveInt string time unsignedInt uri url uuid xhtml "
        "Address Age Annotation Attachment BackboneElement CodeableConcept Coding ContactDetail "
        "ContactPoint Contributor Count DataRequirement Distance Dosage Duration Element "
        "ElementDefinition Expression Extension HumanName Identifier MarketingStatus Meta Money "
        "MoneyQuantity Narrative ParameterDefinition Period Population ProdCharacteristic "
        "ProductShelfLife Quantity Range Ratio Reference RelatedArtifact SampledData Signature "
        "SimpleQuantity SubstanceAmount Timing TriggerDefinition UsageContext"
    ).split()
)

#: Direct supertypes (a cast to the supertype keeps the subtype).
SUPERTYPE: dict[str, str] = {
    "Age": "Quantity",
    "Count": "Quantity",
    "Distance": "Quantity",
    "Duration": "Quantity",
    "MoneyQuantity": "Quantity",
    "SimpleQuantity": "Quantity",
    "canonical": "uri",
    "code": "string",
    "id": "string",
    "markdown": "string",
    "oid": "uri",
    "positiveInt": "integer",
    "unsignedInt": "integer",
    "url": "uri",
    "uuid": "uri",
}

RESOURCE_TYPE_RE = re.compile(r"[A-Z][A-Za-z]{1,63}")
_ID_RE = re.compile(r"[A-Za-z0-9\-.]{1,64}")


def is_subtype(type_: str | None, of: str) -> bool:
    """Whether FHIR type ``type_`` is ``of`` or derives from it (``Age`` is a ``Quantity``)."""
    while type_ is not None:
        if type_ == of:
            return True
        type_ = SUPERTYPE.get(type_)
    return False


def reference_target_type(reference: Any, root: Root | None = None) -> str | None:
    """The resource type a Reference points to, as far as it can be told without reading it:
    from the literal reference (``X/id``, ``http://.../X/id``, ``.../_history/v``), from the
    contained resource ``#id`` names (looked up in ``root``), else from ``Reference.type``."""
    if not isinstance(reference, dict):
        return None
    literal = reference.get("reference")
    if isinstance(literal, str):
        if literal.startswith("#"):
            if root is not None:
                for contained in root.get("contained") or ():
                    if isinstance(contained, dict) and contained.get("id") == literal[1:]:
                        found = contained.get("resourceType")
                        return found if isinstance(found, str) else None
            return None
        parsed = parse_literal_reference(literal)
        if parsed is not None:
            return parsed[0]
    declared = reference.get("type")
    return declared if isinstance(declared, str) else None


@lru_cache(maxsize=8192)
def parse_literal_reference(literal: str) -> tuple[str, str, str] | None:
    """``(type, id, url without version)`` of a relative (``Patient/1``) or absolute
    (``http://x/fhir/Patient/1``) literal reference, versioned or not; ``None`` for anything else
    (``#contained``, ``urn:uuid:...``, canonicals)."""
    parts = literal.split("/")
    if len(parts) >= 4 and parts[-2] == "_history":
        parts = parts[:-2]
    n = len(parts)
    if n < 2:
        return None
    type_, id_ = parts[-2], parts[-1]
    if RESOURCE_TYPE_RE.fullmatch(type_) is None or _ID_RE.fullmatch(id_) is None:
        return None
    if n == 2:
        return type_, id_, f"{type_}/{id_}"
    if n >= 5 and parts[0] in ("http:", "https:") and parts[1] == "" and parts[2]:
        return type_, id_, "/".join(parts)
    return None
