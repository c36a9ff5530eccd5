"""Claim -> 276 claim status request (005010X212): one transaction set per submitted Claim.

Layout (X212 276, loops as ``guides/x212_276.json`` names them):

- BHT*0010*13*{reference}*{date}*{time}.
- 2000A HL 20 information source, 2100A NM1*PR*2 the payer with its payer id (NM108 PI): the
  Organization ``Claim.insurer`` names, else the ``payor`` of the focal insurance's Coverage.
- 2000B HL 21 information receiver, 2100B NM1*41*2 with its ETIN (NM108 46, the only qualifier
  X212 allows there): the organization behind ``Claim.enterer`` (a PractitionerRole's
  organization) or ``Claim.provider``, identified by an ETIN identifier; without one, the
  submitter the clearinghouse knows (``TradingPartners`` name and sender id, as in 837 1000A).
- 2000C HL 19 service provider, 2100C NM1*1P*1|2 with its NPI (NM108 XX): ``Claim.provider``.
- 2000D HL 22 subscriber, 2100D NM1*IL*1 with the member id (NM108 MI) of the focal Coverage,
  DMG when the subscriber is the patient and the birth date is known; 2000E HL 23 dependent
  (NM1*QC, DMG required) when ``Coverage.relationship`` is not ``self``.
- 2200D/2200E claim status tracking: TRN*1*{trace}, REF*1K payer claim number (when the Claim
  carries one), REF*BLT bill type (institutional), REF*EJ patient control number (required),
  AMT*T3 total charge, DTP*472 service dates (``billablePeriod``, else the items' dates).
- 2210D/2210E service lines when asked: SVC, REF*FJ (the item's sequence), DTP*472.

The trace number (TRN02) defaults to the patient control number, so a 277 that does not echo
REF*EJ still leads back to the Claim. Whatever the guide requires and the Bundle lacks is
reported at once (``gaps.py``, FAC-4001), each with its FHIRPath.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from mappers.fhir_x12 import systems
from mappers.fhir_x12.fhir_values import (
    NPI_SYSTEM,
    amount,
    code,
    human_name,
    identifier,
    identifier_of_type,
    quantity,
    text,
    x12_amount,
    x12_date,
)
from mappers.fhir_x12.gaps import Gaps, MappingGapError
from mappers.fhir_x12.interchange import TradingPartners, interchange
from mappers.fhir_x12.parties import nm1, organization_nm1, person_nm1
from mappers.fhir_x12.references import BundleIndex, Resource
from mappers.x12.writer import ControlNumbers
from server.errors import Issue

__all__ = ["ETIN_SYSTEM", "VERSION", "build_276", "claims_to_276"]

VERSION = "005010X212"

#: An electronic transmitter identification number (2100B NM109, qualifier 46), as a payer or
#: clearinghouse assigned it to the organization asking.
ETIN_SYSTEM = "urn:fhir-facade:x12:etin"

Segment = list[str]

#: Identifier type codes naming a payer id: PI (v2-0203 payor id), NIIP (national insurance
#: payor identifier).
_PAYER_ID_TYPES = ("PI", "NIIP")
#: DMG03 in X212 takes F and M only.
_GENDER = {"female": "F", "male": "M"}


def _payer_id(org: Mapping[str, Any] | None, reference: Mapping[str, Any] | None) -> str:
    """The payer id of an Organization (``systems.payer_id()`` or type PI/NIIP), else of the
    reference's own logical identifier."""
    found = identifier(org, systems.payer_id()) or identifier_of_type(org, *_PAYER_ID_TYPES)
    if not found and reference and isinstance(reference.get("identifier"), dict):
        ident = reference["identifier"]
        if ident.get("system") == systems.payer_id() and ident.get("value"):
            found = str(ident["value"])
    return found


def _period(start: str, end: str) -> Segment:
    """DTP*472 as D8 for one day, RD8 for a range (X212 2200D/2210D DTP02)."""
    if not end or end == start:
        return ["DTP", "472", "D8", start]
    return ["DTP", "472", "RD8", f"{start}-{end}"]


def _item_dates(item: Mapping[str, Any]) -> tuple[str, str]:
    if item.get("servicedDate"):
        day = x12_date(item["servicedDate"])
        return day, day
    period = item.get("servicedPeriod") or {}
    start = x12_date(period.get("start"))
    return start, x12_date(period.get("end")) or start


def _dmg(person: Mapping[str, Any] | None) -> Segment:
    """DMG*D8*birth date[*F|M] (X212 2000D/2000E); another gender leaves DMG03 out."""
    born = x12_date((person or {}).get("birthDate"))
    return ["DMG", "D8", born, _GENDER.get((person or {}).get("gender", ""), "")]


class _Builder:
    """One 276 for one Claim; gaps are collected, never raised here."""

    def __init__(self, index: BundleIndex, claim: Resource, partners: TradingPartners,
                 gaps: Gaps) -> None:
        self.index = index
        self.claim = claim
        self.partners = partners
        self.gaps = gaps
        self.coverage, self.coverage_path = self._coverage()
        self.payer, self.payer_path = self._payer()
        self.payer_id = _payer_id(self.payer, self._payer_reference())

    # --- who ------------------------------------------------------------------------------

    def _coverage(self) -> tuple[Resource | None, str]:
        """The focal insurance's Coverage (R4 Claim.insurance.focal), else the first."""
        insurances = self.claim.get("insurance") or []
        if not insurances:
            self.gaps.add("Claim.insurance", "The claim names no insurance (2000D subscriber)")
            return None, "Claim.insurance"
        position = next((i for i, ins in enumerate(insurances) if ins.get("focal")), 0)
        path = f"Claim.insurance[{position}].coverage"
        coverage = self.index.resolve(insurances[position].get("coverage"), self.claim,
                                      "Coverage")
        if coverage is None:
            self.gaps.add(path, "The focal Coverage is not in the Bundle (2000D subscriber)")
        return coverage, f"{path}.resolve()"

    def _payer_reference(self) -> Mapping[str, Any] | None:
        if self.claim.get("insurer"):
            insurer: Mapping[str, Any] = self.claim["insurer"]
            return insurer
        payors = (self.coverage or {}).get("payor") or []
        return payors[0] if payors else None

    def _payer(self) -> tuple[Resource | None, str]:
        if self.claim.get("insurer"):
            found = self.index.resolve(self.claim["insurer"], self.claim, "Organization")
            if found is not None:
                return found, "Claim.insurer.resolve()"
        payors = (self.coverage or {}).get("payor") or []
        if payors:
            found = self.index.resolve(payors[0], self.coverage, "Organization")
            if found is not None:
                return found, f"{self.coverage_path}.payor[0].resolve()"
        return None, "Claim.insurer"

    def payer_nm1(self) -> Segment:
        """2100A NM1*PR*2*name*****PI*payer id."""
        reference = self._payer_reference()
        if self.payer is None and not (reference or {}).get("display"):
            # Neither the Organization nor a named logical reference: one gap, not one per field.
            self.gaps.add("Claim.insurer",
                          "The payer Organization is required in the Bundle (2100A NM1*PR)")
            return nm1("PR", "2", "")
        name = (self.payer or {}).get("name") or (reference or {}).get("display") or ""
        self.gaps.need(name, f"{self.payer_path}.name", "The payer's name is required (NM103)")
        self.gaps.need(self.payer_id, f"{self.payer_path}.identifier",
                       "The payer id is required (2100A NM109, qualifier PI)")
        return nm1("PR", "2", name, qualifier="PI", ident=self.payer_id)

    def _receiver_org(self) -> tuple[Resource | None, str]:
        """The organization asking: the enterer's (R4 Claim.enterer), else the provider."""
        enterer = self.index.resolve(self.claim.get("enterer"), self.claim)
        if enterer is not None and enterer["resourceType"] == "PractitionerRole":
            org = self.index.resolve(enterer.get("organization"), enterer, "Organization")
            if org is not None:
                return org, "Claim.enterer.resolve().organization.resolve()"
        if enterer is not None and enterer["resourceType"] == "Organization":
            return enterer, "Claim.enterer.resolve()"
        provider = self.index.resolve(self.claim.get("provider"), self.claim)
        if provider is not None and provider["resourceType"] == "PractitionerRole":
            org = self.index.resolve(provider.get("organization"), provider, "Organization")
            if org is not None:
                return org, "Claim.provider.resolve().organization.resolve()"
        if provider is not None and provider["resourceType"] == "Organization":
            return provider, "Claim.provider.resolve()"
        return None, "Claim.provider"

    def receiver_nm1(self) -> Segment:
        """2100B NM1*41*2*name*****46*ETIN."""
        org, path = self._receiver_org()
        etin = identifier(org, ETIN_SYSTEM) or identifier_of_type(org, "ETIN")
        name = (org or {}).get("name") or ""
        if not etin:  # the submitter as the clearinghouse knows it (837 1000A)
            etin, name = self.partners.sender_id, self.partners.sender_name
        self.gaps.need(etin, f"{path}.identifier",
                       "The information receiver's ETIN is required (2100B NM109, qualifier 46)")
        return nm1("41", "2", name, qualifier="46", ident=etin)

    def provider_nm1(self) -> Segment:
        """2100C NM1*1P*1|2 with the service provider's NPI (NM108 XX)."""
        reference = self.claim.get("provider")
        provider = self.index.resolve(reference, self.claim)
        path = "Claim.provider.resolve()"
        npi = identifier(provider, NPI_SYSTEM)
        if provider is not None and provider["resourceType"] == "PractitionerRole":
            role = provider
            person = self.index.resolve(role.get("practitioner"), role, "Practitioner")
            org = self.index.resolve(role.get("organization"), role, "Organization")
            if person is not None:
                provider, path = person, f"{path}.practitioner.resolve()"
            elif org is not None:
                provider, path = org, f"{path}.organization.resolve()"
            npi = npi or identifier(provider, NPI_SYSTEM)
        if not npi and reference and isinstance(reference.get("identifier"), dict) \
                and reference["identifier"].get("system") == NPI_SYSTEM:
            npi = str(reference["identifier"].get("value") or "")
        if provider is None:
            self.gaps.add("Claim.provider", "The service provider is required (2100C NM1*1P)")
            return nm1("1P", "2", "")
        self.gaps.need(npi, f"{path}.identifier",
                       "The service provider's NPI is required (2100C NM109, qualifier XX)")
        if provider["resourceType"] in ("Organization", "Location"):
            return organization_nm1("1P", provider, path, self.gaps, "XX", npi)
        return person_nm1("1P", provider, path, self.gaps, "XX", npi)

    def member_id(self) -> str:
        coverage = self.coverage
        found = identifier(coverage, systems.member_id(self.payer_id)) if self.payer_id else ""
        found = found or (coverage or {}).get("subscriberId") or ""
        found = found or identifier_of_type(coverage, "MB", "MI")
        self.gaps.need(found, f"{self.coverage_path}.subscriberId",
                       "The subscriber's member id is required (2100D NM109, qualifier MI)")
        return str(found)

    def people(self) -> tuple[Resource | None, str, Resource | None, str, bool]:
        """(subscriber, its path, patient, its path, whether the patient is a dependent)."""
        patient = self.index.resolve(self.claim.get("patient"), self.claim, "Patient")
        patient_path = "Claim.patient.resolve()"
        if patient is None:
            self.gaps.add("Claim.patient", "The patient is not in the Bundle (NM1*IL / NM1*QC)")
        relationship = code((self.coverage or {}).get("relationship"),
                            systems.SUBSCRIBER_RELATIONSHIP) \
            or code((self.coverage or {}).get("relationship"))
        sub_ref = (self.coverage or {}).get("subscriber")
        subscriber = self.index.resolve(sub_ref, self.coverage) if sub_ref else None
        sub_path = f"{self.coverage_path}.subscriber.resolve()"
        same = subscriber is None or subscriber is patient
        dependent = relationship not in ("", "self") or (relationship == "" and not same)
        if not dependent:
            return patient, patient_path, patient, patient_path, False
        if subscriber is None:
            self.gaps.add(f"{self.coverage_path}.subscriber",
                          "The subscriber of a dependent's Coverage is required (2100D NM1*IL)")
        return subscriber, sub_path, patient, patient_path, True

    # --- the claim ------------------------------------------------------------------------

    def claim_segments(self, trace: str, pcn: str, lines: bool) -> list[Segment]:
        """2200D/2200E: TRN, REF*1K, REF*BLT, REF*EJ, AMT*T3, DTP*472 (X212 order)."""
        claim = self.claim
        out: list[Segment] = [["TRN", "1", text(trace, 50)]]
        payer_claim = identifier(claim, systems.payer_claim_number(self.payer_id)) \
            if self.payer_id else ""
        if payer_claim:
            out.append(["REF", "1K", text(payer_claim, 50)])
        bill_type = self._bill_type()
        if bill_type:
            out.append(["REF", "BLT", bill_type])
        out.append(["REF", "EJ", text(pcn, 50)])
        total = amount(claim.get("total"))
        if total is not None:
            out.append(["AMT", "T3", x12_amount(total)])
        start, end = self._claim_dates()
        if self.gaps.need(start, "Claim.billablePeriod",
                          "The service dates are required (2200D DTP*472)"):
            out.append(_period(start, end))
        if lines:
            for position, item in enumerate(claim.get("item") or []):
                out += self._line(item, f"Claim.item[{position}]", (start, end))
        return out

    def _bill_type(self) -> str:
        """REF*BLT for an institutional claim: facility type and frequency (NUBC type of bill)
        from ``Claim.subType`` or a ``typeofbill`` supportingInfo."""
        if code(self.claim.get("type"), systems.CLAIM_TYPE) != "institutional":
            return ""
        found = code(self.claim.get("subType"), systems.NUBC_BILL_TYPE)
        for info in self.claim.get("supportingInfo") or []:
            if found:
                break
            if "typeofbill" in [c.get("code") for c in
                                (info.get("category") or {}).get("coding") or []]:
                found = code(info.get("code"), systems.NUBC_BILL_TYPE)
        return text(found.lstrip("0"), 50)

    def _claim_dates(self) -> tuple[str, str]:
        period = self.claim.get("billablePeriod") or {}
        start = x12_date(period.get("start"))
        if start:
            return start, x12_date(period.get("end")) or start
        days = [d for item in self.claim.get("item") or [] for d in _item_dates(item) if d]
        return (min(days), max(days)) if days else ("", "")

    def _line(self, item: Mapping[str, Any], path: str,
              claim_dates: tuple[str, str]) -> list[Segment]:
        """2210D/2210E: SVC*qualifier:code:modifiers*charge**revenue***units, REF*FJ, DTP."""
        product = item.get("productOrService") or {}
        coding: Mapping[str, Any] = next(
            (c for c in product.get("coding") or [] if c.get("code")), {})
        qualifier = systems.product_qualifier(coding.get("system", "")) if coding else ""
        revenue = code(item.get("revenue"), systems.NUBC_REVENUE)
        procedure = coding.get("code", "")
        if not qualifier and revenue:
            qualifier, procedure, revenue = "NU", revenue, ""
        self.gaps.need(qualifier and procedure, f"{path}.productOrService",
                       "A procedure code with a known code system is required (SVC01)")
        modifiers = [text(c.get("code"), 2) for m in item.get("modifier") or []
                     for c in (m.get("coding") or [])[:1] if c.get("code")][:4]
        charge = amount(item.get("net"))
        if charge is None:
            price, units = amount(item.get("unitPrice")), quantity(item.get("quantity"))
            if price is not None:
                charge = price * (units if units is not None else 1)
        self.gaps.need(charge, f"{path}.net", "The line charge is required (SVC02)")
        units = quantity(item.get("quantity"))
        composite = ":".join([qualifier, text(procedure, 48), *modifiers])
        svc = ["SVC", composite, x12_amount(charge) if charge is not None else "", "",
               text(revenue, 48), "", "", x12_amount(units) if units is not None else ""]
        out = [svc]
        if item.get("sequence") is not None:
            out.append(["REF", "FJ", str(item["sequence"])])
        start, end = _item_dates(item)
        if not start:
            start, end = claim_dates
        if self.gaps.need(start, f"{path}.serviced",
                          "The line's service date is required (2210D DTP*472)"):
            out.append(_period(start, end))
        return out


def build_276(index: BundleIndex, claim: Resource, *, partners: TradingPartners | None = None,
              when: datetime | None = None, trace: str | None = None,
              reference: str | None = None, lines: bool = False) -> list[Segment]:
    """The 276 (ST..BHT..the claim loop; SE is the writer's) asking the status of ``claim``.

    ``trace`` is TRN02 (default: the patient control number); ``reference`` is BHT03 (default:
    the trace); ``lines`` adds the 2210 service lines. Raises :class:`MappingGapError` with
    every gap found.
    """
    gaps = Gaps()
    b = _Builder(index, claim, partners or TradingPartners(), gaps)
    pcn = identifier(claim, systems.patient_control_number())
    gaps.need(pcn, "Claim.identifier",
              "The patient control number is required (2200D REF*EJ, the 837's CLM01)")
    trace = trace or pcn
    moment = when or datetime.now()
    segments: list[Segment] = [
        ["ST", "276", "", VERSION],
        ["BHT", "0010", "13", text(reference or trace, 50), moment.strftime("%Y%m%d"),
         moment.strftime("%H%M")],
        ["HL", "1", "", "20", "1"], b.payer_nm1(),
        ["HL", "2", "1", "21", "1"], b.receiver_nm1(),
        ["HL", "3", "2", "19", "1"], b.provider_nm1(),
    ]
    subscriber, sub_path, patient, patient_path, dependent = b.people()
    member = b.member_id()
    segments.append(["HL", "4", "3", "22", "1" if dependent else "0"])
    if not dependent and x12_date((subscriber or {}).get("birthDate")):
        segments.append(_dmg(subscriber))  # X212 2000D DMG: only for a subscriber-patient
    segments.append(person_nm1("IL", subscriber, sub_path, gaps, "MI", member)
                    if subscriber is not None or not dependent
                    else nm1("IL", "1", "", qualifier="MI", ident=member))
    if dependent:
        segments.append(["HL", "5", "4", "23"])
        dmg = _dmg(patient)
        gaps.need(dmg[2], f"{patient_path}.birthDate",
                  "The dependent's birth date is required (2000E DMG02)")
        segments.append(dmg)
        name = human_name(patient)
        last = text(name.get("family"), 60) or text(name.get("text"), 60)
        gaps.need(last, f"{patient_path}.name.family",
                  "The dependent's last name is required (2100E NM103)")
        segments.append(nm1("QC", "1", last,
                            name.get("given", ""), name.get("middle", ""), name.get("suffix", "")))
    segments += b.claim_segments(trace, pcn, lines)
    gaps.check("Building the 276")
    return segments


def _claims_of(bundle: Mapping[str, Any]) -> Iterable[tuple[BundleIndex, Resource]]:
    index = BundleIndex(bundle)
    for claim in index.of_type("Claim"):
        yield index, claim


def claims_to_276(bundles: Iterable[Mapping[str, Any]], partners: TradingPartners,
                  numbers: ControlNumbers, when: datetime | None = None, *,
                  lines: bool = False) -> str:
    """One interchange with a 276 per Claim of each Bundle (a Claim alone counts as one).

    Every gap of every claim is reported together, each message naming the Bundle it is from.
    """
    sets: list[tuple[str, list[Segment]]] = []
    issues: list[Issue] = []
    for number, bundle in enumerate(bundles, 1):
        for index, claim in _claims_of(bundle):
            try:
                sets.append((VERSION, build_276(index, claim, partners=partners, when=when,
                                                lines=lines)))
            except MappingGapError as error:
                label = f"Bundle {number}, Claim {claim.get('id') or ''}".rstrip()
                issues += [Issue(message=f"{label}: {issue.message}", code=issue.code,
                                 severity=issue.severity, expression=issue.expression)
                           for issue in error.issues]
    if issues:
        raise MappingGapError(f"Building the 276: {len(issues)} required element"
                              f"{'s' if len(issues) > 1 else ''} missing or unusable",
                              issues=issues)
    if not sets:
        raise MappingGapError("Building the 276: no Claim given",
                              issues=[Issue(message="No Claim to ask the status of",
                                            code="required", expression=("Claim",))])
    return interchange(sets, partners, numbers, when)
