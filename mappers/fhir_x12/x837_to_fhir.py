"""837P (005010X222A1) / 837I (005010X223A2) -> FHIR: per claim (2300) a Bundle with the Claim
first, then what it references (parties from ``x837_parties.py``) and, for a secondary claim,
the earlier payer's ExplanationOfBenefit rebuilt from 2320 CAS/AMT*D and 2430 SVD/CAS/DTP*573.

The inverse of ``claim_to_837.py`` element for element: FHIR -> 837 -> FHIR keeps every mapped
element, 837 -> FHIR -> 837 gives the same segments back. Claim elements 5010 has no place for
(``created``, ``priority``, item ``unitPrice``...) get their R4-required defaults: ``created``
is the BHT04 date, ``priority`` normal. Ids are name-based UUIDs of the patient control number
and the part's role, so the same file maps to the same resources every time.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

from mappers.fhir_x12 import systems
from mappers.fhir_x12.adjudication import cas_category
from mappers.fhir_x12.claim_view import C4BB_SUPPORTING_INFO, X12_TO_RELATIONSHIP
from mappers.fhir_x12.fhir_build import concept, money
from mappers.fhir_x12.x837_parties import (
    ClaimSource,
    date_or_period,
    first_segment,
    icd10,
    ndc_5_4_2,
    ref,
    sequence_of,
)
from mappers.x12.dates import iso_date
from mappers.x12.tree import Loop, TransactionSet

__all__ = ["claim_bundles", "claim_resources"]

Resource = dict[str, Any]

_C4BB_ROLE = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimCareTeamRole"
_ACCIDENTS = {"AA": "MVA", "EM": "WPA"}
_ROLES_P = (("2310A", "referring"), ("2310B", "rendering"))
_ROLES_I = (("2310A", "attending"), ("2310B", "operating"), ("2310D", "rendering"),
            ("2310F", "referring"))
_NUBC = "https://www.nubc.org/CodeSystem"
_INFO = (("admtype", 1, f"{_NUBC}/PriorityTypeOfAdmitOrVisit"),
         ("pointoforigin", 2, f"{_NUBC}/PointOfOrigin"),
         ("discharge-status", 3, f"{_NUBC}/PatDischargeStatus"))
_NDC_UNITS = {"F2": "[iU]", "GR": "g", "ME": "mg", "ML": "mL", "UN": "1"}
_CLAIM_TYPE = "http://terminology.hl7.org/CodeSystem/claim-type"


def _product(composite: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """SV101 / SV202 / SVD03 ``HC:code:mod...`` -> productOrService and modifiers."""
    parts = composite.split(":")
    qualifier, value = parts[0], parts[1] if len(parts) > 1 else ""
    product = concept(systems.product_system(qualifier, value), value)
    modifiers = [concept(systems.product_system(qualifier, value), m) for m in parts[2:6] if m]
    return product, modifiers


def _not_applicable() -> dict[str, Any]:
    return concept("http://terminology.hl7.org/CodeSystem/data-absent-reason", "not-applicable")


class _ClaimBuilder:
    def __init__(self, src: ClaimSource) -> None:
        self.src = src
        self.loop = src.loop

    def build(self) -> list[Resource]:
        src = self.src
        provider = src.billing_provider()
        billing = src.resources[0]
        patient = src.patient()
        insurance, payer = src.focal_insurance(patient)
        claim: Resource = {
            "resourceType": "Claim", "id": src.uid("claim"),
            "identifier": [{"system": systems.patient_control_number(), "value": src.pcn}],
            "status": "active",
            "type": concept(_CLAIM_TYPE, "institutional" if src.institutional
                           else "professional"),
            "use": "claim", "patient": ref(patient), "created": src.created,
            "insurer": ref(payer), "provider": ref(provider),
            "priority": concept(systems.PROCESS_PRIORITY, "normal"),
        }
        payee = src.payee(billing)
        if payee is not None:
            claim["payee"] = payee
        self._frequency(claim)
        self._referral(claim)
        self._institutional(claim)
        claim["diagnosis"] = self._diagnoses()
        procedures = self._procedures()
        if procedures:
            claim["procedure"] = procedures
        care_team = self._care_team()
        if care_team:
            claim["careTeam"] = care_team
        self._facility(claim)
        self._accident(claim)
        claim["insurance"] = [insurance, *self._other_insurances(patient, billing)]
        claim["insurance"].sort(key=lambda i: i["sequence"])
        claim["item"] = self._items(claim)
        if not src.institutional:
            self._billable_period(claim)
        claim["total"] = money(src.clm.get(2))
        return [claim, *src.resources]

    # --- claim level ------------------------------------------------------------------------

    def _frequency(self, claim: Resource) -> None:
        frequency = self.src.clm.get(5, 3)
        original = first_segment(self.loop, "REF", "F8")
        if frequency in ("7", "8") and original is not None:
            claim["related"] = [{"relationship": concept(
                "http://terminology.hl7.org/CodeSystem/related-claim-relationship", "prior"),
                "reference": {"value": original.get(2)}}]
            if frequency == "8":
                claim["status"] = "cancelled"

    def _referral(self, claim: Resource) -> None:
        referral = first_segment(self.loop, "REF", "9F")
        if referral is not None:
            claim["referral"] = {"identifier": {"value": referral.get(2)}}

    def _accident(self, claim: Resource) -> None:
        cause = self.src.clm.get(11, 1)
        if not cause:
            return
        accident: dict[str, Any] = {}
        when = first_segment(self.loop, "DTP", "439")
        if when is not None:
            accident["date"] = iso_date(when.get(3))
        if cause in _ACCIDENTS:
            accident["type"] = concept("http://terminology.hl7.org/CodeSystem/v3-ActCode",
                                      _ACCIDENTS[cause])
        state = self.src.clm.get(11, 4)
        if state:
            accident["locationAddress"] = {"state": state}
        if "date" not in accident:
            accident["date"] = self.src.created
        claim["accident"] = accident

    def _institutional(self, claim: Resource) -> None:
        if not self.src.institutional:
            return
        info: list[dict[str, Any]] = []

        def add(category: str, **value: Any) -> None:
            info.append({"sequence": len(info) + 1,
                         "category": concept(C4BB_SUPPORTING_INFO, category), **value})

        bill = f"0{self.src.clm.get(5, 1)}{self.src.clm.get(5, 3)}"
        add("typeofbill", code=concept(f"{_NUBC}/TypeOfBill", bill))
        statement = first_segment(self.loop, "DTP", "434")
        if statement is not None:
            start, _, end = statement.get(3).partition("-")
            claim["billablePeriod"] = {"start": iso_date(start), "end": iso_date(end or start)}
        cl1 = first_segment(self.loop, "CL1")
        for category, position, system in _INFO:
            if cl1 is not None and cl1.get(position):
                add(category, code=concept(system, cl1.get(position)))
        admitted = first_segment(self.loop, "DTP", "435")
        if admitted is not None:
            add("admissionperiod", timingPeriod={"start": iso_date(admitted.get(3)[:8])})
        claim["supportingInfo"] = info

    def _diagnoses(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for hi in self.loop.segments("HI"):
            for element in hi.elements[1:]:
                qualifier, _, rest = element.partition(":")
                value = rest.split(":")[0]
                if qualifier not in ("ABK", "ABJ", "ABF", "BK", "BJ", "BF"):
                    continue
                entry: dict[str, Any] = {
                    "sequence": len(out) + 1,
                    "diagnosisCodeableConcept": concept(systems.ICD10_CM, icd10(value))}
                kind = {"ABK": "principal", "BK": "principal", "ABJ": "admitting",
                        "BJ": "admitting"}.get(qualifier)
                if kind:
                    entry["type"] = [concept(
                        "http://terminology.hl7.org/CodeSystem/ex-diagnosistype", kind)]
                out.append(entry)
        return out

    def _procedures(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for hi in self.loop.segments("HI"):
            for element in hi.elements[1:]:
                parts = element.split(":")
                if parts[0] in ("BBR", "BBQ") and len(parts) >= 4:
                    out.append({"sequence": len(out) + 1, "date": iso_date(parts[3]),
                                "procedureCodeableConcept": concept(systems.ICD10_PCS, parts[1])})
        return out

    def _care_team(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for loop_id, role in (_ROLES_I if self.src.institutional else _ROLES_P):
            loop = next(self.loop.loops(loop_id), None)
            if loop is None:
                continue
            nm1 = next(loop.segments("NM1"))
            party = self.src.party(loop, "Practitioner" if nm1.get(2) == "1"
                                    else "Organization", role)
            prv = first_segment(loop, "PRV")
            if prv is not None and party["resourceType"] == "Practitioner":
                party["qualification"] = [{"code": concept(systems.TAXONOMY, prv.get(3))}]
            self.src.add(party)
            out.append({"sequence": len(out) + 1, "provider": ref(party),
                        "role": concept(_C4BB_ROLE, role)})
        return out

    def _facility(self, claim: Resource) -> None:
        loop_id = "2310E" if self.src.institutional else "2310C"
        loop = next(self.loop.loops(loop_id), None)
        if loop is None:
            return
        location = self.src.party(loop, "Organization", "facility")
        location["resourceType"] = "Location"
        address = location.pop("address", None)
        if address:
            location["address"] = address[0]
        self.src.add(location)
        claim["facility"] = ref(location)

    # --- other payers (2320) ----------------------------------------------------------------

    def _other_insurances(self, patient: Resource, billing: Resource) -> list[dict[str, Any]]:
        out = []
        for n, loop in enumerate(self.loop.loops("2320")):
            sbr = next(loop.segments("SBR"))
            relationship = X12_TO_RELATIONSHIP.get(sbr.get(2), "other")
            sub_loop = next(loop.loops("2330A"))
            member = next(sub_loop.segments("NM1")).get(9)
            payer = self.src.payer(next(loop.loops("2330B")), f"other-payer-{n}")
            subscriber = self.src.subscriber_party(sub_loop, relationship, patient,
                                                    f"other-subscriber-{n}")
            coverage = self.src.coverage(f"other-coverage-{n}", sbr, relationship, member,
                                          payer, patient, subscriber)
            out.append({"sequence": sequence_of(sbr), "focal": False,
                        "coverage": ref(coverage)})
            self._prior_eob(n, loop, coverage, payer, patient, billing)
        return out

    def _prior_eob(self, n: int, loop: Loop, coverage: Resource, payer: Resource,
                   patient: Resource, billing: Resource) -> None:
        payer_id = payer["identifier"][0]["value"]
        lines = []
        adjudicated = ""
        for line in self.loop.loops("2400"):
            for svd_loop in line.loops("2430"):
                svd = next(svd_loop.segments("SVD"))
                if svd.get(1) != payer_id:
                    continue
                when = first_segment(svd_loop, "DTP", "573")
                adjudicated = adjudicated or (iso_date(when.get(3)) if when else "")
                product, modifiers = _product(svd.get(3))
                item: dict[str, Any] = {"sequence": _line_sequence(line),
                                        "productOrService": product}
                if modifiers:
                    item["modifier"] = modifiers
                item["adjudication"] = [*_cas(svd_loop), {
                    "category": concept(systems.C4BB_ADJUDICATION, "paidtoprovider"),
                    "amount": money(svd.get(2))}]
                lines.append(item)
        paid = first_segment(loop, "AMT", "D")
        claim_cas = _cas(loop)
        if paid is None and not claim_cas and not lines:
            return
        eob: Resource = {
            "resourceType": "ExplanationOfBenefit", "id": self.src.uid(f"prior-eob-{n}"),
            "status": "active",
            "type": concept(_CLAIM_TYPE, "institutional" if self.src.institutional
                           else "professional"),
            "use": "claim", "patient": ref(patient),
            "created": adjudicated or self.src.created, "insurer": ref(payer),
            "provider": ref(billing), "outcome": "complete",
            "insurance": [{"focal": True, "coverage": ref(coverage)}],
        }
        if lines:
            eob["item"] = lines
        if claim_cas:
            eob["adjudication"] = claim_cas
        if paid is not None:
            eob["payment"] = {"amount": money(paid.get(2))}
            if adjudicated:
                eob["payment"]["date"] = adjudicated
        self.src.add(eob)

    # --- lines (2400) -----------------------------------------------------------------------

    def _items(self, claim: Resource) -> list[dict[str, Any]]:
        place = self.src.clm.get(5, 1)
        out = []
        for line in self.loop.loops("2400"):
            item: dict[str, Any] = {"sequence": _line_sequence(line)}
            sv1 = first_segment(line, "SV1")
            if sv1 is not None:
                product, modifiers = _product(sv1.get(1))
                pointers = [int(p) for p in sv1.get(7).split(":") if p.isdigit()]
                if pointers:
                    item["diagnosisSequence"] = pointers
                item["productOrService"] = product
                if modifiers:
                    item["modifier"] = modifiers
                units, charge = sv1.get(4), sv1.get(2)
                item["locationCodeableConcept"] = concept(systems.CMS_POS, sv1.get(5) or place)
            else:
                sv2 = next(line.segments("SV2"))
                item["revenue"] = concept(systems.NUBC_REVENUE, sv2.get(1))
                if sv2.get(2):
                    product, modifiers = _product(sv2.get(2))
                    item["productOrService"] = product
                    if modifiers:
                        item["modifier"] = modifiers
                else:
                    item["productOrService"] = _not_applicable()
                units, charge = sv2.get(5), sv2.get(3)
            dtp = first_segment(line, "DTP", "472")
            if dtp is not None:
                item.update(date_or_period(dtp))
            if units:
                item["quantity"] = {"value": Decimal(units)}
            item["net"] = money(charge)
            detail = _drug(line)
            if detail is not None:
                item["detail"] = [detail]
            out.append(item)
        return out

    def _billable_period(self, claim: Resource) -> None:
        days = []
        for item in claim["item"]:
            if "servicedDate" in item:
                days.append(item["servicedDate"])
            elif "servicedPeriod" in item:
                days += [item["servicedPeriod"]["start"], item["servicedPeriod"]["end"]]
        if days:
            claim["billablePeriod"] = {"start": min(days), "end": max(days)}


def _line_sequence(line: Loop) -> int:
    control = first_segment(line, "REF", "6R")
    if control is not None and control.get(2).isdigit():
        return int(control.get(2))
    return int(next(line.segments("LX")).get(1))


def _drug(line: Loop) -> dict[str, Any] | None:
    lin_loop = next(line.loops("2410"), None)
    if lin_loop is None:
        return None
    lin, ctp = next(lin_loop.segments("LIN")), next(lin_loop.segments("CTP"))
    unit = _NDC_UNITS.get(ctp.get(5, 1), ctp.get(5, 1))
    return {"sequence": 1,
            "productOrService": concept("http://hl7.org/fhir/sid/ndc", ndc_5_4_2(lin.get(3))),
            "quantity": {"value": Decimal(ctp.get(4)), "unit": unit, "code": unit}}


def _cas(loop: Loop) -> list[dict[str, Any]]:
    out = []
    for cas in loop.segments("CAS"):
        group = cas.get(1)
        for position in (2, 5, 8, 11, 14, 17):
            reason, value = cas.get(position), cas.get(position + 1)
            if not reason or not value:
                continue
            system, category = cas_category(group, reason)
            out.append({"category": concept(system, category),
                        "reason": {**concept(systems.CARC, reason), "text": f"{group}-{reason}"},
                        "amount": money(value)})
    return out


def _claim_loops(ts: TransactionSet) -> Iterator[tuple[Loop, Loop, Loop | None, Loop]]:
    for billing in ts.root.find("2000A"):
        for subscriber in billing.loops("2000B"):
            for claim in subscriber.loops("2300"):
                yield billing, subscriber, None, claim
            for patient in subscriber.loops("2000C"):
                for claim in patient.loops("2300"):
                    yield billing, subscriber, patient, claim


def claim_resources(ts: TransactionSet) -> list[list[Resource]]:
    """Per claim of an 837 set, its resources, the Claim first."""
    return [_ClaimBuilder(ClaimSource(ts, billing, subscriber, patient, claim)).build()
            for billing, subscriber, patient, claim in _claim_loops(ts)]


def claim_bundles(ts: TransactionSet) -> list[Resource]:
    """Per claim, a collection Bundle with the Claim first and what it references."""
    return [{"resourceType": "Bundle", "type": "collection",
             "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources]}
            for resources in claim_resources(ts)]
