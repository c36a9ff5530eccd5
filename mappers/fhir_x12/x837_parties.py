"""The parties of an 837 claim as FHIR (837P 005010X222A1, 837I 005010X223A2): billing provider
(2010AA, with its taxonomy as a PractitionerRole), pay-to address (2010AB), patient (2010BA when
the subscriber, else 2010CA), subscriber (RelatedPerson when not the patient), payers (2010BB,
2330B) and Coverages (SBR, 2320). The inverse of ``claim_to_837.py``'s party loops; the claim
itself is assembled in ``x837_to_fhir.py``.
"""

from __future__ import annotations

import uuid
from typing import Any

from mappers.fhir_x12 import systems
from mappers.fhir_x12.claim_view import X12_TO_RELATIONSHIP
from mappers.fhir_x12.fhir_build import concept
from mappers.fhir_x12.fhir_values import NPI_SYSTEM, SSN_SYSTEM, TIN_SYSTEMS
from mappers.x12.dates import iso_date
from mappers.x12.tree import Loop, Segment, TransactionSet

__all__ = [
    "ClaimSource", "date_or_period", "first_segment", "icd10", "ndc_5_4_2", "ref",
    "sequence_of",
]

Resource = dict[str, Any]

_NAMESPACE = uuid.UUID("3c0a7a52-0f0e-5b7e-a1d2-837837837837")
_GENDERS = {"F": "female", "M": "male", "U": "unknown"}






def ref(resource: Resource) -> dict[str, str]:
    return {"reference": f"urn:uuid:{resource['id']}"}


def ndc_5_4_2(digits: str) -> str:
    """An 11-digit NDC in its 5-4-2 HIPAA form (``00003-0293-05``)."""
    return f"{digits[:5]}-{digits[5:9]}-{digits[9:]}" if len(digits) == 11 else digits


def icd10(code: str) -> str:
    """ICD-10-CM as written in FHIR: the dot after the category (X12 HI codes have none)."""
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def date_or_period(dtp: Segment) -> dict[str, Any]:
    value = dtp.get(3)
    if dtp.get(2) == "RD8" and "-" in value:
        start, end = value.split("-", 1)
        return {"servicedPeriod": {"start": iso_date(start), "end": iso_date(end)}}
    return {"servicedDate": iso_date(value[:8])}


def first_segment(loop: Loop, tag: str, qualifier: str | None = None) -> Segment | None:
    for seg in loop.segments(tag):
        if qualifier is None or seg.get(1) == qualifier:
            return seg
    return None


class ClaimSource:
    """The resources of one 2300 claim loop."""

    def __init__(self, ts: TransactionSet, billing: Loop, subscriber: Loop,
                 patient: Loop | None, claim: Loop) -> None:
        self.institutional = ts.st.get(3) == "005010X223A2"
        self.billing, self.subscriber, self.patient_loop, self.loop = (
            billing, subscriber, patient, claim)
        self.clm = next(claim.segments("CLM"))
        self.pcn = self.clm.get(1)
        self.created = iso_date(next(s for s in ts.root.walk() if s.tag == "BHT").get(4))
        self.resources: list[Resource] = []

    def uid(self, *parts: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, "|".join(("837", self.pcn, *parts))))

    def add(self, resource: Resource) -> Resource:
        self.resources.append(resource)
        return resource

    # --- parties ----------------------------------------------------------------------------

    def party(self, loop: Loop, kind: str, role: str) -> Resource:
        nm1 = next(loop.segments("NM1"))
        person = nm1.get(2) == "1" and kind != "Organization"
        out: Resource = {"resourceType": kind if person or kind == "Organization"
                         else "Organization", "id": self.uid(role)}
        if nm1.get(8) == "XX":
            out["identifier"] = [{"system": NPI_SYSTEM, "value": nm1.get(9)}]
        if person:
            name: dict[str, Any] = {"family": nm1.get(3)}
            given = [g for g in (nm1.get(4), *nm1.get(5).split(" ")) if g]
            if given:
                name["given"] = given
            if nm1.get(7):
                name["suffix"] = [nm1.get(7)]
            out["name"] = [name]
        elif nm1.get(3):
            out["name"] = nm1.get(3)
        address = self._address(loop)
        if address:
            out["address"] = [address]
        return out

    @staticmethod
    def _address(loop: Loop) -> dict[str, Any] | None:
        n3, n4 = first_segment(loop, "N3"), first_segment(loop, "N4")
        if n3 is None or n4 is None:
            return None
        out: dict[str, Any] = {"line": [v for v in n3.elements[1:3] if v], "city": n4.get(1)}
        if n4.get(2):
            out["state"] = n4.get(2)
        postal = n4.get(3)
        if postal:
            out["postalCode"] = f"{postal[:5]}-{postal[5:]}" if len(postal) == 9 else postal
        if n4.get(4):
            out["country"] = n4.get(4)
        return out

    def _demographics(self, loop: Loop, resource: Resource) -> None:
        dmg = first_segment(loop, "DMG")
        if dmg is not None:
            resource["birthDate"] = iso_date(dmg.get(2))
            resource["gender"] = _GENDERS.get(dmg.get(3), "unknown")

    def billing_provider(self) -> Resource:
        loop = next(self.billing.loops("2010AA"))
        org = self.party(loop, "Organization" if next(loop.segments("NM1")).get(2) == "2"
                          else "Practitioner", "billing")
        for tax_id in loop.segments("REF"):
            system = TIN_SYSTEMS[0] if tax_id.get(1) == "EI" else SSN_SYSTEM
            org.setdefault("identifier", []).append({"system": system, "value": tax_id.get(2)})
        self.add(org)
        prv = first_segment(self.billing, "PRV", "BI")
        if prv is None:
            return org
        holder = "organization" if org["resourceType"] == "Organization" else "practitioner"
        role = {"resourceType": "PractitionerRole", "id": self.uid("billing-role"),
                holder: ref(org), "specialty": [concept(systems.TAXONOMY, prv.get(3))]}
        return self.add(role)

    def payee(self, billing: Resource) -> dict[str, Any] | None:
        loop = next(self.billing.loops("2010AB"), None)
        if loop is None:
            return None
        party = self.party(loop, "Organization", "payee")
        party.pop("identifier", None)
        name = billing.get("name")
        if isinstance(name, list):  # a person bills: the pay-to office carries their name
            name = " ".join([*name[0].get("given", []), name[0].get("family", "")]).strip()
        party["name"] = name or "Pay-to address"
        party["partOf"] = ref(billing) if billing["resourceType"] == "Organization" else None
        if party["partOf"] is None:
            del party["partOf"]
        self.add(party)
        return {"type": concept("http://terminology.hl7.org/CodeSystem/payeetype", "provider"),
                "party": ref(party)}

    def patient(self) -> Resource:
        if self.patient_loop is not None:
            loop = next(self.patient_loop.loops("2010CA"))
            patient = self.party(loop, "Patient", "patient")
        else:
            loop = next(self.subscriber.loops("2010BA"))
            patient = self.party(loop, "Patient", "patient")
        patient.pop("identifier", None)
        self._demographics(loop, patient)
        return self.add(patient)

    def payer(self, loop: Loop, role: str) -> Resource:
        nm1 = next(loop.segments("NM1"))
        return self.add({"resourceType": "Organization", "id": self.uid(role),
                         "identifier": [{"system": systems.payer_id(), "value": nm1.get(9)}],
                         "name": nm1.get(3)})

    def coverage(self, role: str, sbr: Segment, relationship: str, member: str,
                  payer: Resource, patient: Resource, subscriber: Resource) -> Resource:
        coverage: Resource = {
            "resourceType": "Coverage", "id": self.uid(role), "status": "active",
            "type": concept(systems.x12_element_system("1032"), sbr.get(9)),
            "subscriber": ref(subscriber), "subscriberId": member,
            "beneficiary": ref(patient),
            "relationship": concept(systems.SUBSCRIBER_RELATIONSHIP, relationship),
            "payor": [ref(payer)],
        }
        if sbr.get(3) or sbr.get(4):
            group: dict[str, Any] = {"type": concept(
                "http://terminology.hl7.org/CodeSystem/coverage-class", "group"),
                "value": sbr.get(3) or sbr.get(4)}
            if sbr.get(4):
                group["name"] = sbr.get(4)
            coverage["class"] = [group]
        return self.add(coverage)

    def subscriber_party(self, loop: Loop, relationship: str, patient: Resource,
                          role: str) -> Resource:
        if relationship == "self":
            return patient
        nm1 = next(loop.segments("NM1"))
        party = self.party(loop, "RelatedPerson" if nm1.get(2) == "1" else "Organization",
                            role)
        party.pop("identifier", None)
        if party["resourceType"] == "RelatedPerson":
            party["patient"] = ref(patient)
            self._demographics(loop, party)
        return self.add(party)

    def focal_insurance(self, patient: Resource) -> tuple[dict[str, Any], Resource]:
        sbr = next(self.subscriber.segments("SBR"))
        pat = first_segment(self.patient_loop, "PAT") if self.patient_loop is not None else None
        relationship = "self" if pat is None else X12_TO_RELATIONSHIP.get(pat.get(1), "other")
        sub_loop = next(self.subscriber.loops("2010BA"))
        member = next(sub_loop.segments("NM1")).get(9)
        payer = self.payer(next(self.subscriber.loops("2010BB")), "payer")
        subscriber = self.subscriber_party(sub_loop, relationship, patient, "subscriber")
        coverage = self.coverage("coverage", sbr, relationship, member, payer, patient,
                                  subscriber)
        insurance: dict[str, Any] = {"sequence": sequence_of(sbr), "focal": True,
                                     "coverage": ref(coverage)}
        g1 = first_segment(self.loop, "REF", "G1")
        if g1 is not None:
            insurance["preAuthRef"] = [g1.get(2)]
        return insurance, payer


def sequence_of(sbr: Segment) -> int:
    return "PSTABCDEFGH".find(sbr.get(1)) + 1 or 1
