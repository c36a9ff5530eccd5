"""Da Vinci PAS 2.2.1 request Bundle -> X12 278 request for review (005010X217).

The PAS Claim (``use = preauthorization``) and what it references become one 278 request
(X12.md section 4; STANDARDS section 3): BHT (BHT02 ``13``), 2000A UMO (NM1*X3, the
Claim.insurer), 2000B requester (NM1*1P/FA, the Claim.provider, with its NPI), 2000C subscriber
(NM1*IL with the member id, DMG), 2000D dependent when the patient is not the subscriber,
2000E patient event (TRN, UM, REF, DTP, HI, 2010EA providers from Claim.careTeam) and one
2000F service level per Claim.item (TRN, UM, REF, DTP*472, SV1 or SV2, HSD).

X12 codes come from the PAS extensions that carry them (``extension-serviceItemRequestType``
UM01, ``extension-certificationType`` UM02, ``extension-levelOfServiceCode`` UM06,
``extension-itemTraceNumber`` 2000F TRN02). What the guide requires and the Bundle lacks is
collected as gaps (``gaps.py``) and raised once; nothing half-built is returned.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from mappers.fhir_x12 import systems
from mappers.fhir_x12.fhir_values import (
    NPI_SYSTEM,
    amount,
    code,
    decimal,
    identifier,
    identifier_of_type,
    text,
    x12_amount,
    x12_date,
)
from mappers.fhir_x12.gaps import Gaps, MappingGapError
from mappers.fhir_x12.interchange import TradingPartners, interchange
from mappers.fhir_x12.parties import address_segments, nm1, per_segment, person_nm1
from mappers.fhir_x12.references import BundleIndex, Resource
from mappers.x12.schema import code_set
from mappers.x12.writer import ControlNumbers

__all__ = ["PAS", "VERSION", "build_278", "pas_to_278_interchange"]

VERSION = "005010X217"

PAS = "http://hl7.org/fhir/us/davinci-pas/StructureDefinition/"
"""Base of the PAS 2.2.1 profile and extension URLs."""
EXT_REQUEST_TYPE = PAS + "extension-serviceItemRequestType"
EXT_CERTIFICATION_TYPE = PAS + "extension-certificationType"
EXT_LEVEL_OF_SERVICE = PAS + "extension-levelOfServiceCode"
EXT_ITEM_TRACE = PAS + "extension-itemTraceNumber"
EXT_AUTHORIZATION_NUMBER = PAS + "extension-authorizationNumber"
EXT_ADMIN_REFERENCE = PAS + "extension-administrationReferenceNumber"
EXT_DIAGNOSIS_DATE = PAS + "extension-diagnosisRecordedDate"
PAS_TEMP_CODES = "http://hl7.org/fhir/us/davinci-pas/CodeSystem/PASTempCodes"

_SERVICE_TYPE = systems.x12_element_system("1365")
_ENTITY = systems.x12_element_system("98")
#: NUCC taxonomy codes are ten characters ending in X (PRV03).
_TAXONOMY = re.compile(r"[0-9A-Z]{9}X")
_ICD9 = ("http://hl7.org/fhir/sid/icd-9-cm", "http://terminology.hl7.org/CodeSystem/icd9cm")
_CPT_HCPCS = ("http://www.ama-assn.org/go/cpt",
              "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
              "https://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets")
_SV_QUALIFIERS = ("HC", "ER", "HP", "IV", "N4", "WK")  # SV101-01 / SV202-01 (2000F)
_EVENT_CATEGORIES = ("AR", "HS", "IN", "SC")  # 2000E UM01 (1525)
_LEVELS_OF_SERVICE = ("03", "E", "U")  # UM06 (1338)
_CERTIFICATION_TYPES = ("1", "2", "3", "4", "I", "R", "S")  # UM02 (1322)
# 2010EA NM101 (98) a care team member may take; the default is SJ (service provider).
_EVENT_PROVIDER_ROLES = ("71", "72", "AAJ", "DD", "DK", "DN", "FA", "G3", "P3", "QB", "SJ")
_ROLE_WORDS = {"referring": "DN", "attending": "71", "operating": "72", "primary": "P3"}
# Coverage.relationship (subscriber-relationship) -> 2000D INS02 (1069).
_DEPENDENT_RELATIONSHIP = {"spouse": "01", "child": "19", "parent": "G8", "common": "G8",
                           "other": "G8", "injured": "G8"}
# UCUM / plain unit words of a quantity -> HSD01 (673); anything else is counted as units.
_HSD_UNITS = {"d": "DY", "day": "DY", "days": "DY", "h": "HS", "hour": "HS", "hours": "HS",
              "mo": "MN", "month": "MN", "months": "MN", "visit": "VS", "visits": "VS"}

Segment = list[str]


def _extension(holder: Mapping[str, Any] | None, url: str) -> Mapping[str, Any] | None:
    for ext in (holder or {}).get("extension") or []:
        if ext.get("url") == url:
            found: Mapping[str, Any] = ext
            return found
    return None


def _extension_code(holder: Mapping[str, Any] | None, url: str) -> str:
    ext = _extension(holder, url)
    return code(ext.get("valueCodeableConcept")) if ext else ""


def item_trace(item: Mapping[str, Any]) -> str:
    """2000F TRN02 of a Claim.item: its ``extension-itemTraceNumber``, else its sequence."""
    ext = _extension(item, EXT_ITEM_TRACE)
    value = ((ext or {}).get("valueIdentifier") or {}).get("value")
    return text(value or item.get("sequence") or "", 50)


def _dtp(qualifier: str, start: str | None, end: str | None = None) -> Segment | None:
    """DTP with D8 (one day) or RD8 (a range)."""
    first, last = x12_date(start), x12_date(end)
    if not first:
        return None
    if last and last != first:
        return ["DTP", qualifier, "RD8", f"{first}-{last}"]
    return ["DTP", qualifier, "D8", first]


def _period_dtp(qualifier: str, holder: Mapping[str, Any], prefix: str) -> Segment | None:
    """DTP from ``{prefix}Date`` or ``{prefix}Period`` (item.serviced[x], timing[x])."""
    if holder.get(f"{prefix}Date"):
        return _dtp(qualifier, holder[f"{prefix}Date"])
    period = holder.get(f"{prefix}Period") or {}
    return _dtp(qualifier, period.get("start"), period.get("end"))


def _procedure(concept: Mapping[str, Any] | None) -> tuple[str, str]:
    """(qualifier, code) of a procedure code SV101/SV202 can carry; ("", "") otherwise."""
    for coding in (concept or {}).get("coding") or []:
        system, value = coding.get("system") or "", coding.get("code") or ""
        if not value:
            continue
        if system in _CPT_HCPCS:
            return "HC", value
        qualifier = systems.product_qualifier(system)
        if qualifier in _SV_QUALIFIERS:
            return qualifier, value
    return "", ""


def _taxonomy(*holders: Mapping[str, Any] | None) -> str:
    """A NUCC taxonomy code from PractitionerRole.specialty or Practitioner.qualification."""
    for holder in holders:
        for concept in (holder or {}).get("specialty") or []:
            found = code(concept, systems.TAXONOMY)
            if _TAXONOMY.fullmatch(found):
                return found
        for qualification in (holder or {}).get("qualification") or []:
            found = code(qualification.get("code"), systems.TAXONOMY)
            if _TAXONOMY.fullmatch(found):
                return found
    return ""


class _Builder:
    """Collects the segments and gaps of one 278 request."""

    def __init__(self, index: BundleIndex, claim: Resource,
                 bundle: Mapping[str, Any] | None) -> None:
        self.index = index
        self.claim = claim
        self.bundle = bundle or {}
        self.gaps = Gaps()
        self.segments: list[Segment] = []
        self.hl = 0
        self.items: list[Mapping[str, Any]] = sorted(
            claim.get("item") or [], key=lambda i: int(i.get("sequence") or 0))
        first = self.items[0] if self.items else {}
        category = _extension_code(first, EXT_REQUEST_TYPE)
        self.category = category if category in _EVENT_CATEGORIES else "HS"
        certification = (_extension_code(claim, EXT_CERTIFICATION_TYPE)
                         or _extension_code(first, EXT_CERTIFICATION_TYPE) or "I")
        if certification not in _CERTIFICATION_TYPES:
            self.gaps.add("Claim.extension('extension-certificationType')",
                          f"Certification type {certification!r} is not an X12 1322 code (UM02)")
        self.certification = certification
        self.dx_positions: dict[int, int] = {}

    # -- parties -------------------------------------------------------------------------

    def _provider(self, reference: Mapping[str, Any] | None,
                  source: Resource) -> tuple[Resource | None, Resource | None]:
        """(the named Practitioner/Organization/Location, the PractitionerRole if any)."""
        found = self.index.resolve(reference, source=source)
        if found is not None and found["resourceType"] == "PractitionerRole":
            named = (self.index.resolve(found.get("practitioner"), source=found,
                                        kind="Practitioner")
                     or self.index.resolve(found.get("organization"), source=found,
                                           kind="Organization"))
            return named, found
        return found, None

    def _provider_nm1(self, entity: str, named: Resource | None, role: Resource | None,
                      path: str, *, need_npi: bool) -> Segment:
        """NM1 of a provider: NPI (XX) from the practitioner, organization or role."""
        npi = identifier(named, NPI_SYSTEM) or identifier(role, NPI_SYSTEM)
        if need_npi:
            self.gaps.need(npi, f"{path}.identifier",
                           "The provider's NPI is required (NM108 XX, NM109)")
        kind = named["resourceType"] if named is not None else ""
        if kind in ("Organization", "Location"):
            name = named.get("name", "") if named is not None else ""
            if not name and not npi:
                self.gaps.add(f"{path}.name", "The provider needs a name or an NPI (NM103)")
            return nm1(entity, "2", name, qualifier="XX", ident=npi)
        if named is None and npi:
            return nm1(entity, "1", "", qualifier="XX", ident=npi)
        return person_nm1(entity, named, path, self.gaps, "XX", npi)

    def _umo(self) -> None:
        """2000A/2010A: NM1*X3 with the payer id (NM108 PI, or XX for an NPI)."""
        path = "Claim.insurer.resolve()"
        payer = self.index.resolve(self.claim.get("insurer"), source=self.claim)
        if payer is None:
            self.gaps.add("Claim.insurer", "The insurer (UMO) is not in the Bundle (2010A)")
        qualifier, payer_id = _payer_id(payer)
        self.gaps.need(payer_id, f"{path}.identifier",
                       "The payer identifier is required (2010A NM109)")
        self._hl("", "20", True)
        self.segments.append(nm1("X3", "2", (payer or {}).get("name", ""),
                                 qualifier=qualifier, ident=payer_id))

    def _requester(self) -> str:
        """2000B/2010B: NM1*1P (or FA), N3/N4, PER, PRV; returns the requester's NPI."""
        path = "Claim.provider.resolve()"
        named, role = self._provider(self.claim.get("provider"), self.claim)
        if named is None and role is None:
            self.gaps.add("Claim.provider", "The requester is not in the Bundle (2010B)")
        facility = (named or {}).get("resourceType") == "Location" or any(
            code(t, _ENTITY) == "FA" for t in (named or {}).get("type") or [])
        self._hl("1", "21", True)
        self.segments.append(self._provider_nm1("FA" if facility else "1P", named, role, path,
                                                need_npi=True))
        self._address(named, role)
        per = per_segment("IC", "", role) or per_segment("IC", "", named)
        if per is not None:
            self.segments.append(per)
        taxonomy = _taxonomy(role, named)
        if taxonomy:
            self.segments.append(["PRV", "RF" if self.category == "SC" else "AT", "PXC",
                                  taxonomy])
        return identifier(named, NPI_SYSTEM) or identifier(role, NPI_SYSTEM)

    def _address(self, named: Resource | None, role: Resource | None) -> None:
        """N3/N4 when a complete address is known (optional in 2010B and 2010EA)."""
        holder: Mapping[str, Any] | None = named
        if role is not None and not (named or {}).get("address"):
            holder = self.index.resolve((role.get("location") or [None])[0], source=role)
        scratch = Gaps()
        lines = address_segments(holder, "", scratch, required=False)
        if lines and not scratch:
            self.segments += lines

    def _members(self) -> None:
        """2000C subscriber (and 2000D dependent): NM1, DMG, INS."""
        patient = self.index.resolve(self.claim.get("patient"), source=self.claim,
                                     kind="Patient")
        if patient is None:
            self.gaps.add("Claim.patient", "The patient is not in the Bundle (2010C/2010D)")
        focal = sorted(self.claim.get("insurance") or [],
                       key=lambda i: (not i.get("focal"), int(i.get("sequence") or 0)))
        cover_path = "Claim.insurance.coverage.resolve()"
        coverage = (self.index.resolve(focal[0].get("coverage"), source=self.claim,
                                       kind="Coverage") if focal else None)
        if coverage is None:
            self.gaps.add("Claim.insurance.coverage",
                          "The patient's Coverage is not in the Bundle (2010C)")
        relation = code((coverage or {}).get("relationship"),
                        systems.SUBSCRIBER_RELATIONSHIP) or "self"
        subscriber: Resource | None = patient
        if relation != "self":
            subscriber = self.index.resolve((coverage or {}).get("subscriber"), source=coverage)
            if subscriber is None:
                self.gaps.add(f"{cover_path}.subscriber",
                              "The subscriber is not in the Bundle (2010C)")
        member = ((coverage or {}).get("subscriberId")
                  or identifier_of_type(coverage, "MB", "SN")
                  or identifier_of_type(subscriber, "MB", "SN"))
        self.gaps.need(member, f"{cover_path}.subscriberId",
                       "The subscriber's member id is required (2010C NM109 MI)")
        dependent = relation != "self"
        self._hl("2", "22", True)
        sub_path = ("Claim.patient.resolve()" if not dependent
                    else f"{cover_path}.subscriber.resolve()")
        self.segments.append(person_nm1("IL", subscriber, sub_path, self.gaps, "MI",
                                        text(member, 80)))
        self._dmg(subscriber)
        if dependent:
            self._hl("3", "23", True)
            self.segments.append(person_nm1("QC", patient, "Claim.patient.resolve()", self.gaps))
            self._dmg(patient)
            self.segments.append(["INS", "N", _DEPENDENT_RELATIONSHIP.get(relation, "G8")])

    def _dmg(self, person: Mapping[str, Any] | None) -> None:
        born = x12_date((person or {}).get("birthDate"))
        if born:
            gender = {"female": "F", "male": "M"}.get((person or {}).get("gender", ""), "U")
            self.segments.append(["DMG", "D8", born, gender])

    # -- patient event (2000E) -----------------------------------------------------------

    def _event(self, originator: str) -> None:
        trace = text(next((i.get("value") for i in self.claim.get("identifier") or []
                           if i.get("value")), ""), 50)
        self.gaps.need(trace, "Claim.identifier",
                       "A trace number is required (2000E TRN02): give the Claim an identifier")
        parent = str(self.hl)
        self._hl(parent, "EV", bool(self.items))
        if trace and originator:
            self.segments.append(["TRN", "1", trace, originator])
        first = self.items[0] if self.items else {}
        level = _extension_code(self.claim, EXT_LEVEL_OF_SERVICE)
        self.segments.append(self._um(self.category, self.certification, first,
                                      level if level in _LEVELS_OF_SERVICE else ""))
        billable = self.claim.get("billablePeriod") or {}
        dates = [_dtp("AAH", billable.get("start"), billable.get("end"))]
        for info in self.claim.get("supportingInfo") or []:
            category = code(info.get("category"), PAS_TEMP_CODES)
            if category == "admissionDates":
                dates.append(_period_dtp("435", info, "timing"))
            elif category == "dischargeDates":
                when = info.get("timingDate") or (info.get("timingPeriod") or {}).get("start")
                dates.append(_dtp("096", when))
        self.segments += [d for d in dates if d is not None]
        hi = self._diagnoses()
        if hi is not None:
            self.segments.append(hi)
        self._care_team()

    def _um(self, category: str, certification: str, item: Mapping[str, Any],
            level: str = "") -> Segment:
        """UM: request category, certification type, service type, facility (POS:B), level.
        A service type (UM03, 1365) or place of service (UM04-1) outside its code list is a gap."""
        service_type = (code(item.get("category"), _SERVICE_TYPE)
                        or code(item.get("productOrService"), _SERVICE_TYPE))
        place = code(item.get("locationCodeableConcept"), systems.CMS_POS)
        path = f"Claim.item.where(sequence = {item.get('sequence')})"
        if service_type and service_type not in (code_set("service_type") or ()):
            self.gaps.add(f"{path}.category", "Not an X12 service type code (UM03)", "invalid")
        if place and place not in (code_set("pos") or ()):
            self.gaps.add(f"{path}.locationCodeableConcept",
                          "Not a CMS place of service code (UM04-1)", "invalid")
        return ["UM", category, certification, service_type, f"{place}:B" if place else "",
                "", level]

    def _diagnoses(self) -> Segment | None:
        """HI: ABK principal, ABF others (ICD-10-CM; BK/BF for ICD-9-CM), recorded date D8."""
        entries = sorted(self.claim.get("diagnosis") or [],
                         key=lambda d: int(d.get("sequence") or 0))
        principal = next((d for d in entries if any(
            c.get("code") == "principal" for t in d.get("type") or []
            for c in t.get("coding") or [])), entries[0] if entries else None)
        ordered = ([principal] if principal else []) + [d for d in entries if d is not principal]
        composites: list[str] = []
        for n, dx in enumerate(ordered):
            path = f"Claim.diagnosis.where(sequence = {dx.get('sequence')})"
            concept = dx.get("diagnosisCodeableConcept")
            if concept is None and dx.get("diagnosisReference"):
                condition = self.index.resolve(dx["diagnosisReference"], source=self.claim,
                                               kind="Condition")
                concept = (condition or {}).get("code")
            icd10, icd9 = code(concept, systems.ICD10_CM), code(concept, *_ICD9)
            if not icd10 and not icd9:
                self.gaps.add(path, "A diagnosis needs an ICD-10-CM code (2000E HI)")
                continue
            if len(composites) == 12:
                self.gaps.add(path, "At most 12 diagnoses fit the 278 (HI01-HI12)")
                break
            qualifier = ("ABK" if icd10 else "BK") if n == 0 else ("ABF" if icd10 else "BF")
            value = self.gaps.valid((icd10 or icd9).replace(".", ""), path, r"[0-9A-Z]{3,7}",
                                    "Not an ICD-10-CM or ICD-9-CM code (2000E HI)")
            parts = [qualifier, value]
            recorded = _extension(dx, EXT_DIAGNOSIS_DATE)
            if recorded and x12_date(recorded.get("valueDate")):
                parts += ["D8", x12_date(recorded["valueDate"])]
            composites.append(":".join(parts))
            self.dx_positions[int(dx.get("sequence") or 0)] = len(composites)
        return ["HI", *composites] if composites else None

    def _care_team(self) -> None:
        """2010EA: a provider loop per Claim.careTeam member (NM101 from its role, else SJ)."""
        for member in (self.claim.get("careTeam") or [])[:12]:
            path = f"Claim.careTeam.where(sequence = {member.get('sequence')}).provider"
            named, role = self._provider(member.get("provider"), self.claim)
            if named is None and role is None:
                self.gaps.add(path, "This care team member is not in the Bundle (2010EA)")
                continue
            role_code = next((c.get("code", "") for c in (member.get("role") or {}).get(
                "coding") or [] if c.get("code") in _EVENT_PROVIDER_ROLES
                or c.get("code") in _ROLE_WORDS), "")
            entity = _ROLE_WORDS.get(role_code, role_code) or "SJ"
            self.segments.append(self._provider_nm1(entity, named, role, f"{path}.resolve()",
                                                    need_npi=False))
            self._address(named, role)
            per = per_segment("IC", "", role) or per_segment("IC", "", named)
            if per is not None:
                self.segments.append(per)
            taxonomy = _taxonomy(role, named)
            if taxonomy:
                self.segments.append(["PRV", "PE", "PXC", taxonomy])

    # -- services (2000F) ----------------------------------------------------------------

    def _services(self, originator: str) -> None:
        event_hl = str(self.hl)
        institutional = code(self.claim.get("type"), systems.CLAIM_TYPE) == "institutional"
        for item in self.items:
            path = f"Claim.item.where(sequence = {item.get('sequence')})"
            self._hl(event_hl, "SS", False)
            trace = item_trace(item)
            if trace and originator:
                self.segments.append(["TRN", "1", trace, originator])
            category = _extension_code(item, EXT_REQUEST_TYPE)
            if category not in ("HS", "SC"):
                category = "SC" if self.category == "SC" else "HS"
            certification = _extension_code(item, EXT_CERTIFICATION_TYPE) or self.certification
            if certification not in _CERTIFICATION_TYPES:
                self.gaps.add(f"{path}.extension('extension-certificationType')",
                              f"Certification type {certification!r} is not an X12 1322 code")
            self.segments.append(self._um(category, certification, item))
            if certification != "I":
                for url, qualifier in ((EXT_AUTHORIZATION_NUMBER, "BB"),
                                       (EXT_ADMIN_REFERENCE, "NT")):
                    ref = _extension(item, url)
                    if ref and ref.get("valueString"):
                        self.segments.append(["REF", qualifier, text(ref["valueString"], 50)])
            served = _period_dtp("472", item, "serviced")
            if served is not None:
                self.segments.append(served)
            line = self._service_line(item, institutional)
            if line is not None:
                self.segments.append(line)
            hsd = _hsd(item, line is None)
            if hsd is not None:
                self.segments.append(hsd)

    def _service_line(self, item: Mapping[str, Any], institutional: bool) -> Segment | None:
        """SV1 (professional) or SV2 (institutional, with the revenue code)."""
        qualifier, procedure = _procedure(item.get("productOrService"))
        modifiers = [self.gaps.valid(code(m), f"Claim.item.where(sequence = "
                                     f"{item.get('sequence')}).modifier", r"[0-9A-Z]{2}",
                                     "Not a procedure modifier (SV101-3 to -6)")
                     for m in item.get("modifier") or [] if code(m)][:4]
        product = ":".join([qualifier, text(procedure, 48), *modifiers]) if qualifier else ""
        charge = _charge(item)
        quantity = decimal((item.get("quantity") or {}).get("value"))
        units = quantity is not None and _hsd_unit(item) == ""
        unit_fields = ["UN", x12_amount(quantity)] if units and quantity is not None else ["", ""]
        money = x12_amount(charge) if charge is not None else ""
        if institutional:
            revenue = code(item.get("revenue"), systems.NUBC_REVENUE) or code(item.get("revenue"))
            if not revenue and not product:
                return None
            return ["SV2", text(revenue, 48), product, money, *unit_fields]
        if not product:
            return None
        pointers = [str(self.dx_positions[s]) for s in item.get("diagnosisSequence") or []
                    if s in self.dx_positions][:4]
        return ["SV1", product, money, *unit_fields, "", "", ":".join(pointers)]

    # -- assembly ------------------------------------------------------------------------

    def _hl(self, parent: str, level: str, children: bool) -> None:
        self.hl += 1
        self.segments.append(["HL", str(self.hl), parent, level, "1" if children else "0"])

    def build(self) -> list[Segment]:
        if self.claim.get("use") != "preauthorization":
            self.gaps.add("Claim.use", "A 278 is built from a Claim with use = preauthorization")
        reference = text((self.bundle.get("identifier") or {}).get("value") or next(
            (i.get("value") for i in self.claim.get("identifier") or [] if i.get("value")),
            ""), 50)
        self.gaps.need(reference, "Bundle.identifier",
                       "A submitter transaction identifier is required (BHT03)")
        stamp = str(self.bundle.get("timestamp") or self.claim.get("created") or "")
        self.gaps.need(x12_date(stamp), "Claim.created", "A creation date is required (BHT04)")
        time = stamp[11:13] + stamp[14:16] if len(stamp) >= 16 else "0000"
        time = time if re.fullmatch(r"[01]\d[0-5]\d|2[0-3][0-5]\d", time) else "0000"
        self.segments = [["ST", "278", "", VERSION],
                         ["BHT", "0007", "13", reference, x12_date(stamp), time,
                          "RU" if self.category == "IN" else ""]]
        self._umo()
        npi = self._requester()
        self._members()
        originator = _originator(self.claim, npi)
        if not originator:
            self.gaps.add("Claim.identifier.assigner",
                          "The trace number's assigner needs a 10-character id (TRN03)")
        self._event(originator)
        self._services(originator)
        self.gaps.check("Building the 278")
        return self.segments


def _payer_id(payer: Mapping[str, Any] | None) -> tuple[str, str]:
    """(NM108, NM109) of the UMO: payer id system, PI/NIIP type, else a lone identifier."""
    found = identifier(payer, systems.payer_id()) or identifier_of_type(payer, "PI", "NIIP")
    if found:
        return "PI", text(found, 80)
    idents = [i for i in (payer or {}).get("identifier") or [] if i.get("value")]
    if len(idents) == 1:
        return ("XX" if idents[0].get("system") == NPI_SYSTEM else "PI"), text(
            idents[0]["value"], 80)
    return "", ""


def _originator(claim: Mapping[str, Any], npi: str) -> str:
    """TRN03: the trace number's assigner (10 characters; an EIN gets the prefix ``1``),
    from Claim.identifier.assigner or a ``urn:trnorg:`` system, else the requester's NPI."""
    for ident in claim.get("identifier") or []:
        assigner = ((ident.get("assigner") or {}).get("identifier") or {}).get("value") or ""
        system = ident.get("system") or ""
        if not assigner and system.startswith("urn:trnorg:"):
            assigner = system[len("urn:trnorg:"):]
        assigner = text(assigner)
        if len(assigner) == 9 and assigner.isdigit():
            assigner = "1" + assigner
        if len(assigner) == 10:
            return assigner
    return npi if len(npi) == 10 else ""


def _charge(item: Mapping[str, Any]) -> Decimal | None:
    net = amount(item.get("net"))
    if net is not None:
        return net
    price = amount(item.get("unitPrice"))
    quantity = decimal((item.get("quantity") or {}).get("value"))
    if price is None:
        return None
    return price * (quantity if quantity is not None else 1)


def _hsd_unit(item: Mapping[str, Any]) -> str:
    quantity = item.get("quantity") or {}
    for key in ("code", "unit"):
        found = _HSD_UNITS.get(str(quantity.get(key) or "").strip().lower())
        if found:
            return found
    return ""


def _hsd(item: Mapping[str, Any], no_line: bool) -> Segment | None:
    """HSD: quantity in days, hours, months or visits; plain units only when no SV1/SV2
    carries them (HSD01 FL)."""
    quantity = decimal((item.get("quantity") or {}).get("value"))
    if quantity is None:
        return None
    unit = _hsd_unit(item)
    if not unit and not no_line:
        return None
    return ["HSD", unit or "FL", x12_amount(quantity)]


def build_278(index: BundleIndex, claim: Resource,
              bundle: Mapping[str, Any] | None = None) -> list[list[str]]:
    """One 278 request set (ST..last 2000F; the writer appends SE) from a PAS Claim.

    ``bundle`` (the PAS request Bundle) gives BHT03 (Bundle.identifier) and BHT04/05
    (Bundle.timestamp); without it the Claim's identifier and ``created`` serve. Raises
    :class:`MappingGapError` listing every gap.
    """
    return _Builder(index, claim, bundle).build()


def pas_to_278_interchange(
    bundles: Sequence[Mapping[str, Any]],
    partners: TradingPartners,
    numbers: ControlNumbers,
    when: datetime | None = None,
) -> str:
    """One interchange (one HI group) with a 278 per PAS request Bundle (its first Claim).

    The gaps of every Bundle are collected and raised together, each expression prefixed
    with ``Bundle[n].`` when more than one Bundle is given.
    """
    sets: list[tuple[str, list[list[str]]]] = []
    issues = []
    for n, bundle in enumerate(bundles):
        index = BundleIndex(bundle)
        claim = index.first("Claim")
        try:
            if claim is None:
                raise MappingGapError("No Claim", expression="Bundle.entry[0].resource")
            sets.append((VERSION, build_278(index, claim, bundle)))
        except MappingGapError as error:
            for issue in error.issues:
                if len(bundles) > 1:
                    issue = type(issue)(message=issue.message, code=issue.code,
                                        severity=issue.severity, expression=tuple(
                                            f"Bundle[{n}].{e}" for e in issue.expression))
                issues.append(issue)
    if issues:
        raise MappingGapError(f"Building the 278s: {len(issues)} gaps", issues=issues)
    return interchange(sets, partners, numbers, when)
