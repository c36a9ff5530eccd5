"""An ExplanationOfBenefit from an 835 claim (2100 CLP) combined with the Claim it answers,
conforming to the CARIN BB 2.0.0 profile that fits (STANDARDS 4.1;
https://hl7.org/fhir/us/carin-bb/STU2/).

The 835 gives the amounts, adjustment reasons, payer claim number (CLP07) and dates; the Claim
Bundle gives what an 835 does not carry: diagnoses, place of service, care team and the
Patient, Coverage, payer and provider resources. Professional claims claim
``C4BB-ExplanationOfBenefit-Professional-NonClinician``; institutional claims the Inpatient or
Outpatient Institutional profile, chosen by the Claim's ``subType``, else by the type of bill
(the Claim's ``typeofbill`` supporting information, else CLP08 facility code + CLP09; its
classification digit 1 or 2 is inpatient). Oral, pharmacy and vision claims are left as the
835 alone maps them. A result that still breaks its profile (``profiles/carin_bb_check.py``)
is not returned: the caller keeps the profile-less EOB.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from mappers.fhir_x12 import systems
from mappers.fhir_x12.adjudication import NETWORK_STATUSES, payment_status
from mappers.fhir_x12.fhir_build import coding, concept
from mappers.fhir_x12.fhir_values import code
from mappers.fhir_x12.references import BundleIndex
from mappers.x12.dates import iso_date
from mappers.x12.tree import Loop, Segment
from profiles.carin_bb import INPATIENT_INSTITUTIONAL, OUTPATIENT_INSTITUTIONAL, Profile
from profiles.carin_bb import PROFESSIONAL_NONCLINICIAN as PROFESSIONAL
from profiles.carin_bb_check import check_c4bb_eob

__all__ = ["combine", "profile_for"]

Resource = dict[str, Any]

_C4BB = "http://hl7.org/fhir/us/carin-bb/CodeSystem/"
IDENTIFIER_TYPE = _C4BB + "C4BBIdentifierType"
SUPPORTING_INFO = _C4BB + "C4BBSupportingInfoType"
CARE_TEAM_ROLE = _C4BB + "C4BBClaimCareTeamRole"
DIAGNOSIS_TYPE = _C4BB + "C4BBClaimDiagnosisType"
PROCEDURE_TYPE = _C4BB + "C4BBClaimProcedureType"
SUBTYPE = _C4BB + "C4BBInstitutionalClaimSubType"
ADJUDICATION_STATUS = _C4BB + "C4BBPayerAdjudicationStatus"
_THO = "http://terminology.hl7.org/CodeSystem/"
CORE_ROLE = _THO + "claimcareteamrole"
CORE_DIAGNOSIS_TYPE = _THO + "ex-diagnosistype"
ABSENT = _THO + "data-absent-reason"
NUCC = "http://nucc.org/provider-taxonomy"
POA = "https://www.nubc.org/CodeSystem/PresentOnAdmissionIndicator"
ICD10_PCS = "http://www.cms.gov/Medicare/Coding/ICD10"

# Care-team role codes each family allows (C4BB value sets), by code system.
_ROLES = {
    "professional": {"primary": CORE_ROLE, "supervisor": CORE_ROLE, "rendering": CARE_TEAM_ROLE,
                     "referring": CARE_TEAM_ROLE, "purchasedservice": CARE_TEAM_ROLE},
    "institutional": {"primary": CORE_ROLE, "attending": CARE_TEAM_ROLE,
                      "referring": CARE_TEAM_ROLE, "operating": CARE_TEAM_ROLE,
                      "otheroperating": CARE_TEAM_ROLE, "rendering": CARE_TEAM_ROLE},
}
# Claim supporting information the institutional profiles slice, copied when the Claim has it.
_INSTITUTIONAL_INFO = ("pointoforigin", "admtype", "discharge-status", "drg",
                       "medicalrecordnumber")


# Code systems of C4BBEOBInstitutionalProcedureCodes (CPT, HCPCS, HIPPS).
_INSTITUTIONAL_CODES = (
    "http://www.ama-assn.org/go/cpt", "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    "https://www.cms.gov/Medicare/Medicare-Fee-for-Service-Payment/ProspMedicareFeeSvcPmtGen/"
    "HIPPSCodes",
)




def _codes_of(concept: Any) -> set[str]:
    if not isinstance(concept, Mapping):
        return set()
    return {str(c.get("code")) for c in concept.get("coding") or [] if c.get("code")}


def _bill_type(claim: Mapping[str, Any], clp: Segment) -> str:
    for info in claim.get("supportingInfo") or []:
        if "typeofbill" in _codes_of(info.get("category")):
            found = code(info.get("code"))
            if found:
                return found.lstrip("0")
    facility, frequency = clp.get(8), clp.get(9)
    return f"{facility}{frequency}" if len(facility) == 2 else ""


def profile_for(claim: Mapping[str, Any], clp: Segment, institutional_lines: bool) -> \
        Profile | None:
    """The C4BB EOB profile that fits the Claim (None: oral, pharmacy, vision or unknown)."""
    kinds = _codes_of(claim.get("type"))
    if "professional" in kinds:
        return PROFESSIONAL
    if "institutional" not in kinds and not (not kinds and institutional_lines):
        return None
    sub = _codes_of(claim.get("subType"))
    if "inpatient" in sub:
        return INPATIENT_INSTITUTIONAL
    if "outpatient" in sub:
        return OUTPATIENT_INSTITUTIONAL
    bill = _bill_type(claim, clp)
    if len(bill) >= 2:
        return INPATIENT_INSTITUTIONAL if bill[1] in "12" and bill[0] not in "78" \
            else OUTPATIENT_INSTITUTIONAL
    return None


class _Source:
    """The Claim Bundle: references to its resources, written as the Claim wrote them unless
    the resource has an id (then ``Type/id``)."""

    def __init__(self, index: BundleIndex, claim: Resource) -> None:
        self.index, self.claim = index, claim

    def ref(self, reference: Any, kind: str | None = None) -> dict[str, Any] | None:
        if not isinstance(reference, Mapping):
            return None
        found = self.index.resolve(reference, source=self.claim, kind=kind)
        if found is None:
            return None
        out: dict[str, Any] = {}
        if found.get("id") and not str(reference.get("reference", "")).startswith("#"):
            out["reference"] = f"{found['resourceType']}/{found['id']}"
        elif reference.get("reference"):
            out["reference"] = reference["reference"]
        else:
            out["identifier"] = reference["identifier"]
            out["type"] = found["resourceType"]
        name = found.get("name")
        if isinstance(name, str):
            out["display"] = name
        return out

    def resolve(self, reference: Any, kind: str | None = None) -> Resource | None:
        return self.index.resolve(reference, source=self.claim, kind=kind) \
            if isinstance(reference, Mapping) else None


def _diagnoses(src: _Source, family: str, inpatient: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for n, dx in enumerate(sorted(src.claim.get("diagnosis") or [],
                                  key=lambda d: int(d.get("sequence", 0))), 1):
        written = dx.get("diagnosisCodeableConcept")
        if written is None:
            condition = src.resolve(dx.get("diagnosisReference"), "Condition")
            written = (condition or {}).get("code")
        icd = code(written, systems.ICD10_CM)
        if not icd:
            continue
        kinds = set().union(*(_codes_of(t) for t in dx.get("type") or [])) or set()
        if "principal" in kinds or (n == 1 and not out):
            kind = coding(CORE_DIAGNOSIS_TYPE, "principal")
        elif inpatient and "admitting" in kinds:
            kind = coding(CORE_DIAGNOSIS_TYPE, "admitting")
        elif family == "institutional" and kinds & {"externalcauseofinjury",
                                                    "patientreasonforvisit"}:
            reason = sorted(kinds & {"externalcauseofinjury", "patientreasonforvisit"})[0]
            if inpatient and reason == "patientreasonforvisit":
                reason = "other"
            kind = coding(DIAGNOSIS_TYPE, reason)
        else:
            kind = coding(DIAGNOSIS_TYPE, "secondary" if family == "professional" else "other")
        entry: dict[str, Any] = {"sequence": int(dx.get("sequence", n)),
                                 "diagnosisCodeableConcept": concept(systems.ICD10_CM, icd),
                                 "type": [{"coding": [kind]}]}
        poa = code(dx.get("onAdmission"))
        if inpatient and poa:
            entry["onAdmission"] = concept(POA, poa.upper())
        out.append(entry)
    return out


def _procedures(claim: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = []
    for n, proc in enumerate(claim.get("procedure") or [], 1):
        pcs = code(proc.get("procedureCodeableConcept"), ICD10_PCS, systems.ICD10_PCS)
        if not pcs:
            continue
        kind = "principal" if "principal" in set().union(
            *(_codes_of(t) for t in proc.get("type") or [])) or n == 1 else "other"
        entry: dict[str, Any] = {"sequence": int(proc.get("sequence", n)),
                                 "type": [concept(PROCEDURE_TYPE, kind)],
                                 "procedureCodeableConcept": concept(ICD10_PCS, pcs)}
        if proc.get("date"):
            entry["date"] = proc["date"]
        out.append(entry)
    return out


def _care_team(src: _Source, family: str, rendering_npi: str) -> list[dict[str, Any]]:
    allowed = _ROLES[family]
    out = []
    for member in src.claim.get("careTeam") or []:
        role = next((c for c in _codes_of(member.get("role")) if c in allowed), None)
        provider = src.ref(member.get("provider"))
        if role is None or provider is None:
            continue
        entry: dict[str, Any] = {"sequence": int(member["sequence"]), "provider": provider,
                                 "role": concept(allowed[role], role)}
        taxonomy = code(member.get("qualification"), NUCC)
        if taxonomy:
            entry["qualification"] = concept(NUCC, taxonomy)
        out.append(entry)
    if family == "professional" and rendering_npi and not any(
            "rendering" in _codes_of(m["role"]) for m in out):
        out.append({"sequence": max((m["sequence"] for m in out), default=0) + 1,
                    "provider": {"type": "Practitioner",
                                 "identifier": {"system": systems.NPI, "value": rendering_npi}},
                    "role": concept(CARE_TEAM_ROLE, "rendering")})
    return out


def _match_items(claim_items: list[Resource], lines: list[dict[str, Any]]) -> list[Resource | None]:
    """The Claim item each 835 line answers: same code and date first, else same position."""
    free = list(claim_items)
    out: list[Resource | None] = []
    for n, line in enumerate(lines):
        line_code = code(line.get("productOrService"))
        found = next((i for i in free if code(i.get("productOrService")) == line_code
                      and i.get("servicedDate", line.get("servicedDate"))
                      == line.get("servicedDate")), None)
        if found is None and n < len(claim_items) and claim_items[n] in free:
            found = claim_items[n]
        if found is not None:
            free.remove(found)
        out.append(found)
    return out


def _status_entry(status: str) -> dict[str, Any]:
    return {"category": concept(systems.C4BB_DISCRIMINATOR, "benefitpaymentstatus"),
            "reason": concept(ADJUDICATION_STATUS, status)}


def _item(line: dict[str, Any], source: Resource | None, svc: Segment | None, family: str,
          pos: str) -> dict[str, Any]:
    item = dict(line)
    source = source or {}
    for key in ("careTeamSequence", "diagnosisSequence", "informationSequence"):
        if source.get(key):
            item[key] = list(source[key])
    if not any(k.startswith("serviced") for k in item):
        for key in ("servicedDate", "servicedPeriod"):
            if key in source:
                item[key] = source[key]
    if family == "professional":
        location = code(source.get("locationCodeableConcept"), systems.CMS_POS) or pos
        if location:
            item["locationCodeableConcept"] = concept(systems.CMS_POS, location)
        return item
    qualifier, _, rest = (svc.get(1) if svc is not None else "").partition(":")
    revenue = rest.split(":")[0] if qualifier == "NU" else (svc.get(4) if svc else "")
    revenue = revenue or code(source.get("revenue"), systems.NUBC_REVENUE)
    if revenue:
        item["revenue"] = concept(systems.NUBC_REVENUE, revenue)
    if qualifier == "NU" or not code(item.get("productOrService"), *_INSTITUTIONAL_CODES):
        item["productOrService"] = {"coding": [{**coding(ABSENT, "not-applicable"),
                                                "display": "Not applicable"}]}
    return item


def _claim_item(source: Resource, family: str, pos: str) -> dict[str, Any]:
    """An EOB item from a Claim item the 835 did not answer line by line."""
    item: dict[str, Any] = {"sequence": int(source["sequence"]),
                            "productOrService": source.get("productOrService")
                            or concept(ABSENT, "not-applicable")}
    for key in ("servicedDate", "servicedPeriod", "quantity", "modifier"):
        if key in source:
            item[key] = source[key]
    item = _item(item, source, None, family, pos)
    net = source.get("net")
    if family == "professional" and isinstance(net, Mapping) and "value" in net:
        item["adjudication"] = [{"category": concept(systems.ADJUDICATION, "submitted"),
                                 "amount": {"value": Decimal(str(net["value"])),
                                            "currency": net.get("currency", "USD")}}]
    return item


def _supporting_info(src: _Source, profile: Profile, claim_loop: Loop, bill: str,
                     pcn: str) -> list[dict[str, Any]]:
    dates = {d.get(1): d.get(2) for d in claim_loop.segments("DTM")}
    received = str(src.claim.get("created", ""))[:10] or iso_date(dates.get("050", ""))
    info: list[dict[str, Any]] = []

    def add(category: str, **value: Any) -> None:
        info.append({"sequence": len(info) + 1,
                     "category": concept(SUPPORTING_INFO, category), **value})

    if received:
        add("clmrecvddate", timingDate=received)
    add("patientaccountnumber", valueString=pcn)
    if profile is PROFESSIONAL:
        return info
    if bill:
        add("typeofbill", code=concept("https://www.nubc.org/CodeSystem/TypeOfBill",
                                        bill.zfill(4)))
    if profile is INPATIENT_INSTITUTIONAL:
        period = next((i.get("timingPeriod") for i in src.claim.get("supportingInfo") or []
                       if _codes_of(i.get("category")) & {"admissionperiod", "hospitalized"}
                       and i.get("timingPeriod")), None) or src.claim.get("billablePeriod")
        if period:
            add("admissionperiod", timingPeriod=dict(period))
    for source in src.claim.get("supportingInfo") or []:
        kinds = _codes_of(source.get("category")) & set(_INSTITUTIONAL_INFO)
        if kinds:
            kept = {k: v for k, v in source.items() if k not in ("sequence", "category")}
            add(sorted(kinds)[0], **kept)
    return info


def combine(eob: Resource, claim_loop: Loop, source: BundleIndex | Mapping[str, Any],
            network: str = "", last_updated: str = "") -> Resource | None:
    """The EOB combined with its Claim and claiming its C4BB profile; None when the Claim is
    not usable or the result would not conform (the caller keeps ``eob``).

    ``network`` is the payer's participation for this claim (``innetwork``/``outofnetwork``);
    empty means no network data, so benefit payment status ``other`` (STANDARDS 4.1).
    """
    index = source if isinstance(source, BundleIndex) else BundleIndex(source)
    claim = index.first("Claim")
    clp = next(claim_loop.segments("CLP"))
    svcs = [next(line.segments("SVC")) for line in claim_loop.loops("2110")]
    if claim is None:
        return None
    profile = profile_for(claim, clp, any(s.get(1).startswith("NU") for s in svcs))
    payer_claim = next((i for i in eob.get("identifier") or []
                        if str(i.get("system", "")).startswith(
                            systems.payer_claim_number(""))), None)
    if profile is None or payer_claim is None:
        return None
    family = "professional" if profile is PROFESSIONAL else "institutional"
    src = _Source(index, claim)
    out = copy.deepcopy(eob)
    out["meta"] = {"lastUpdated": last_updated or f"{eob['created']}T00:00:00Z",
                   "profile": [f"{profile.url}|{profile.version}"]}
    out["identifier"] = [i if i is not payer_claim else
                         {"type": concept(IDENTIFIER_TYPE, "uc"), **payer_claim}
                         for i in eob["identifier"]]
    out["type"] = concept(systems.CLAIM_TYPE, family)
    if family == "institutional":
        sub = "inpatient" if profile is INPATIENT_INSTITUTIONAL else "outpatient"
        out["subType"] = concept(SUBTYPE, sub)
    for key, kind in (("patient", "Patient"), ("provider", None), ("insurer", "Organization")):
        ref = src.ref(claim.get(key), kind)
        if ref is not None:
            out[key] = ref
    coverage_ref = next((c.get("coverage") for c in claim.get("insurance") or []
                         if c.get("focal")), None)
    coverage = src.ref(coverage_ref, "Coverage")
    if coverage is not None:
        out["insurance"] = [{"focal": True, "coverage": coverage}]
        payor = (src.resolve(coverage_ref, "Coverage") or {}).get("payor") or []
        insurer = src.ref(payor[0], "Organization") if payor and "insurer" not in claim \
            else None
        if insurer is not None:
            out["insurer"] = insurer
    claim_ref = src.ref({"reference": f"Claim/{claim['id']}"} if claim.get("id") else None)
    if claim_ref is not None:
        out["claim"] = {**claim_ref, "identifier": eob["claim"]["identifier"]}
    dates = {d.get(1): iso_date(d.get(2)) for d in claim_loop.segments("DTM")}
    period = claim.get("billablePeriod") or ({"start": dates["232"]} | (
        {"end": dates["233"]} if "233" in dates else {}) if "232" in dates else None)
    if period:
        out["billablePeriod"] = dict(period)
    inpatient = profile is INPATIENT_INSTITUTIONAL
    care_team = _care_team(src, family, _rendering_npi(claim_loop))
    if care_team:
        out["careTeam"] = care_team
    diagnoses = _diagnoses(src, family, inpatient)
    if diagnoses:
        out["diagnosis"] = diagnoses
    procedures = _procedures(claim) if family == "institutional" else []
    if procedures:
        out["procedure"] = procedures
    bill = _bill_type(claim, clp) if family == "institutional" else ""
    out["supportingInfo"] = _supporting_info(src, profile, claim_loop, bill, clp.get(1))
    pos = clp.get(8) if family == "professional" else ""
    status = network if network in NETWORK_STATUSES else "other"
    claim_items = sorted(claim.get("item") or [], key=lambda i: int(i.get("sequence", 0)))
    if eob.get("item"):
        matched = _match_items(claim_items, eob["item"])
        items = [_item(line, found, svc, family, pos)
                 for line, found, svc in zip(eob["item"], matched, svcs, strict=False)]
    else:
        items = [_claim_item(i, family, pos) for i in claim_items]
    if profile is OUTPATIENT_INSTITUTIONAL:  # a date per line, not a period
        for item in items:
            if "servicedPeriod" in item and "servicedDate" not in item:
                item["servicedDate"] = item.pop("servicedPeriod")["start"]
    header = list(out.get("adjudication") or [])
    if family == "professional":
        for item in items:
            item["adjudication"] = [_status_entry(status), *(item.get("adjudication") or [])]
    else:
        if any(item.get("adjudication") for item in items):
            # amounts at the item level: the header keeps only reasons (one level, not both)
            header = [{**a, "category": concept(systems.C4BB_DISCRIMINATOR, "adjustmentreason")}
                      for a in header]
        else:
            header += [a for a in eob.get("total") or []]
        header.insert(0, _status_entry(status))
    if network in ("innetwork", "outofnetwork"):
        header.append({"category": concept(systems.C4BB_DISCRIMINATOR, "billingnetworkstatus"),
                       "reason": concept(ADJUDICATION_STATUS, network)})
    if header:
        out["adjudication"] = header
    if items:
        out["item"] = items
    line_paid = [a["amount"]["value"] for item in items for a in item.get("adjudication") or []
                 if "paidtoprovider" in _codes_of(a.get("category"))]
    out["payment"] = {**eob["payment"], "type": concept(
        ADJUDICATION_STATUS, payment_status(clp.get(2), line_paid))}
    return out if not check_c4bb_eob(out) else None


def _rendering_npi(claim_loop: Loop) -> str:
    nm1 = next((s for s in claim_loop.segments("NM1") if s.get(1) == "82"), None)
    return nm1.get(9) if nm1 is not None and nm1.get(8) == "XX" else ""
