"""CoverageEligibilityRequest -> 270 eligibility inquiry (005010X279A1).

One 270 transaction set per request, built from the request and what it references in its
Bundle (R4 coverageeligibilityrequest.html):

- BHT (Table 1): ``BHT*0022*13*<trace>*<date>*<time>``, the trace also in BHT03.
- 2000A/2100A information source: the payer, ``CoverageEligibilityRequest.insurer`` (else the
  Coverage's first ``payor``) as ``NM1*PR*2*name*****PI*<payer id>``.
- 2000B/2100B information receiver: ``CoverageEligibilityRequest.provider`` (Practitioner,
  Organization or PractitionerRole) as ``NM1*1P`` with its NPI (``XX``), which is required.
- 2000C/2100C subscriber: the Coverage of ``insurance.coverage`` (the focal one, else the first),
  ``NM1*IL*1`` with the member id (``MI``), REF*6P group number, DMG of the subscriber.
- 2000D/2100D dependent when ``Coverage.relationship`` is not ``self``: ``Coverage.beneficiary``
  is the dependent (``NM1*03``, DMG, INS*N relationship), the subscriber comes from
  ``Coverage.subscriber``.
- At the patient's level (2000C, or 2000D for a dependent): ``TRN*1*<trace>*<originator>``,
  ``DTP*291`` from ``servicedDate``/``servicedPeriod`` and one 2110 ``EQ`` per ``item``
  (service type from ``item.category`` in X12 1365, procedure from ``item.productOrService``),
  or ``EQ*30`` when the request has no item.

Identifiers accepted:

- payer id (2100A NM109): an Organization identifier in ``systems.payer_id()``, else one whose
  type is ``NIIP`` (v2-0203 payer identifier), else one in the NAIC system.
- NPI (2100B NM109): an identifier in ``http://hl7.org/fhir/sid/us-npi`` of the provider; for a
  PractitionerRole its own, else its practitioner's, else its organization's.
- member id (2100C NM109): ``Coverage.subscriberId``, else a Coverage identifier in
  ``systems.member_id(<payer id>)``, else one of type ``MB`` or ``SN``, else the first one.
- trace (TRN02, BHT03): a request identifier in ``systems.trace_number(<originator>)`` (whose
  originator then becomes TRN03), else the request's first identifier, else its id. The 271
  echoes it in ``TRN*2``; ``x271_to_fhir`` links its responses back by that identifier.
- originator (TRN03, 10 characters): the trace system's originator, else ``1`` + the provider's
  EIN, else ``9`` + the first nine digits of its NPI (a user-assigned number, TR3 TRN03 note).

Every missing element the guide needs is recorded as a gap and reported together
(``gaps.py``): nothing is written for a request that lacks any of them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from mappers.fhir_x12 import systems
from mappers.fhir_x12.fhir_values import (
    NPI_SYSTEM,
    TIN_SYSTEMS,
    code,
    identifier,
    identifier_of_type,
    text,
    x12_date,
)
from mappers.fhir_x12.gaps import Gaps, MappingGapError
from mappers.fhir_x12.interchange import TradingPartners, interchange
from mappers.fhir_x12.parties import GENDER_CODES, organization_nm1, person_nm1
from mappers.fhir_x12.references import BundleIndex, Resource
from mappers.x12.schema import code_set
from mappers.x12.writer import ControlNumbers

__all__ = [
    "NAIC_SYSTEM",
    "SERVICE_TYPE_SYSTEM",
    "VERSION",
    "build_270",
    "requests_to_270",
]

VERSION = "005010X279A1"
SERVICE_TYPE_SYSTEM = systems.x12_element_system("1365")
"""X12 service type codes (EQ01, EB03), as PAS names them."""
NAIC_SYSTEM = "urn:oid:2.16.840.1.113883.6.300"
"""NAIC company codes (US Core, PDex), often the payer id of an eligibility trading partner."""
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"

Segment = list[str]

_REQUEST = "CoverageEligibilityRequest"
_NPI = re.compile(r"^\d{10}$")
_EIN = re.compile(r"^\d{9}$")
_TRACE_PREFIX = systems.trace_number("")
#: Coverage.relationship (subscriber-relationship) -> 2100D INS02 (1069): 01 spouse, 19 child,
#: 34 other adult.
_DEPENDENT_RELATIONSHIP = {"spouse": "01", "child": "19", "parent": "34", "common": "34",
                           "other": "34", "injured": "34"}


def _payer_id(org: Mapping[str, Any] | None) -> str:
    return (identifier(org, systems.payer_id()) or identifier_of_type(org, "NIIP")
            or identifier(org, NAIC_SYSTEM))


def _member_id(coverage: Mapping[str, Any] | None, payer: str) -> str:
    if not coverage:
        return ""
    idents = coverage.get("identifier") or []
    return str(coverage.get("subscriberId") or identifier(coverage, systems.member_id(payer))
               or identifier_of_type(coverage, "MB", "SN")
               or next((i["value"] for i in idents if i.get("value")), ""))


def _coverage_of(request: Resource) -> tuple[Mapping[str, Any] | None, str]:
    """The insurance entry to ask about (focal first) and its FHIRPath."""
    insurance = request.get("insurance") or []
    for n, entry in enumerate(insurance):
        if entry.get("focal"):
            return entry, f"{_REQUEST}.insurance[{n}]"
    return (insurance[0], f"{_REQUEST}.insurance[0]") if insurance else (None, "")


def _is_self(coverage: Mapping[str, Any], subscriber: Resource | None,
             beneficiary: Resource | None) -> bool:
    """``Coverage.relationship`` ``self``; without one, the beneficiary being the subscriber."""
    relation = code(coverage.get("relationship"), systems.SUBSCRIBER_RELATIONSHIP) \
        or code(coverage.get("relationship"))
    if relation:
        return relation == "self"
    return subscriber is None or subscriber is beneficiary


def _provider(index: BundleIndex, request: Resource,
              gaps: Gaps) -> tuple[Resource | None, str, str]:
    """The information receiver (resource for the name), its NPI and its EIN (2100B)."""
    path = f"{_REQUEST}.provider"
    found = index.resolve(request.get("provider"), source=request)
    if found is None:
        gaps.add(path, "The provider asking (information receiver, 2100B) is required")
        return None, "", ""
    candidates = [found]
    named: Resource | None = found
    if found["resourceType"] == "PractitionerRole":
        practitioner = index.resolve(found.get("practitioner"), source=found,
                                     kind="Practitioner")
        organization = index.resolve(found.get("organization"), source=found,
                                     kind="Organization")
        candidates += [r for r in (practitioner, organization) if r is not None]
        named = practitioner or organization
    npi = next((identifier(r, NPI_SYSTEM) for r in candidates if identifier(r, NPI_SYSTEM)), "")
    if not _NPI.match(npi):
        gaps.add(f"{path}.resolve().identifier",
                 "The provider's 10-digit NPI is required (2100B NM109, qualifier XX)")
    ein = next((re.sub(r"\D", "", identifier(r, *TIN_SYSTEMS)) for r in candidates
                if identifier(r, *TIN_SYSTEMS)), "")
    if named is None:
        gaps.add(f"{path}.resolve().practitioner",
                 "A PractitionerRole needs its practitioner or organization (2100B NM103)")
    return named, npi, ein


def _trace(request: Resource, npi: str, ein: str, gaps: Gaps) -> tuple[str, str]:
    """TRN02 and TRN03 (see the module docstring)."""
    trace, originator = "", ""
    for ident in request.get("identifier") or []:
        system = ident.get("system") or ""
        if system.startswith(_TRACE_PREFIX) and ident.get("value"):
            trace, originator = str(ident["value"]), system[len(_TRACE_PREFIX):]
            break
    if not trace:
        first = next((i for i in request.get("identifier") or [] if i.get("value")), None)
        trace = str(first["value"]) if first else str(request.get("id") or "")
    trace = text(trace, 50)
    gaps.need(trace, f"{_REQUEST}.identifier",
              "A request identifier is required as the trace number (TRN02)")
    if len(originator) != 10:
        if _EIN.match(ein):
            originator = "1" + ein
        elif _NPI.match(npi):
            originator = "9" + npi[:9]
        else:
            originator = ""
    return trace, originator


def _dmg(person: Mapping[str, Any] | None, path: str, gaps: Gaps, required: bool) -> Segment:
    """DMG*D8*birth date*gender; the birth date of the patient is required, gender is not."""
    born = x12_date((person or {}).get("birthDate"))
    if required:
        gaps.need(born, f"{path}.birthDate", "The patient's birth date is required (DMG02)")
    if not born:
        return []
    return ["DMG", "D8", born, GENDER_CODES.get((person or {}).get("gender", ""), "")]


def _dtp(request: Resource) -> Segment:
    """DTP*291 (2100C/2100D): the date or period the inquiry is about."""
    single = x12_date(request.get("servicedDate"))
    if single:
        return ["DTP", "291", "D8", single]
    period = request.get("servicedPeriod") or {}
    start, end = x12_date(period.get("start")), x12_date(period.get("end"))
    if start and end:
        return ["DTP", "291", "RD8", f"{start}-{end}"]
    if start or end:
        return ["DTP", "291", "D8", start or end]
    return []


def _inquiries(request: Resource, gaps: Gaps) -> list[Segment]:
    """2110C/2110D EQ: per ``item`` its service type (EQ01) or procedure (EQ02); EQ*30
    (health benefit plan coverage) when no item is given."""
    items = request.get("item") or []
    if not items:
        return [["EQ", "30"]]
    out: list[Segment] = []
    for n, item in enumerate(items):
        service = code(item.get("category"), SERVICE_TYPE_SYSTEM)
        if service and service not in (code_set("service_type") or ()):
            gaps.add(f"{_REQUEST}.item[{n}].category", "Not an X12 service type code (EQ01)",
                     "invalid")
        product = item.get("productOrService")
        procedure = ""
        for coding in (product or {}).get("coding") or []:
            qualifier = systems.product_qualifier(coding.get("system") or "")
            if qualifier in ("AD", "CJ", "HC", "ID", "IV", "N4", "ZZ") and coding.get("code"):
                modifiers = [gaps.valid(code(m), f"{_REQUEST}.item[{n}].modifier",
                                        r"[0-9A-Z]{2}", "Not a procedure modifier (EQ02-3)")
                             for m in item.get("modifier") or [] if code(m)][:4]
                procedure = ":".join([qualifier, text(coding["code"], 48), *modifiers])
                break
        if not service and not procedure:
            gaps.add(f"{_REQUEST}.item[{n}].category",
                     "An item needs an X12 service type (system "
                     f"{SERVICE_TYPE_SYSTEM}) or a procedure code (EQ01/EQ02)")
            continue
        out.append(["EQ", service, procedure] if procedure else ["EQ", service])
    return out


def _bht_time(request: Resource, when: datetime | None, gaps: Gaps) -> tuple[str, str]:
    if when is not None:
        return when.strftime("%Y%m%d"), when.strftime("%H%M")
    created = str(request.get("created") or "")
    date = x12_date(created)
    gaps.need(date, f"{_REQUEST}.created", "A creation date is required (BHT04)")
    clock = created[11:13] + created[14:16] if len(created) >= 16 else "0000"
    clock = clock if re.fullmatch(r"[01]\d[0-5]\d|2[0-3][0-5]\d", clock) else "0000"
    return date, clock


def build_270(index: BundleIndex, request: Resource, *,
              when: datetime | None = None) -> list[list[str]]:
    """The segments of one 270 (ST through the last EQ; the writer appends SE).

    ``when`` is BHT04/BHT05 (defaults to ``CoverageEligibilityRequest.created``). Raises
    :class:`~mappers.fhir_x12.gaps.MappingGapError` listing every gap.
    """
    gaps = Gaps()
    if request.get("resourceType") != _REQUEST:
        gaps.add(_REQUEST, "A CoverageEligibilityRequest is required")
        gaps.check("Building the 270")
    insurance, ins_path = _coverage_of(request)
    cov_path = f"{ins_path}.coverage.resolve()" if ins_path else f"{_REQUEST}.insurance"
    coverage = index.resolve((insurance or {}).get("coverage"), source=request, kind="Coverage")
    if coverage is None:
        gaps.add(f"{ins_path}.coverage" if ins_path else f"{_REQUEST}.insurance",
                 "The Coverage to ask about is required (insurance.coverage)")

    # 2100A information source.
    payer_path = f"{_REQUEST}.insurer.resolve()"
    payer = index.resolve(request.get("insurer"), source=request, kind="Organization")
    if payer is None and coverage is not None:
        payer = next((p for p in (index.resolve(ref, source=coverage, kind="Organization")
                                  for ref in coverage.get("payor") or []) if p is not None), None)
        payer_path = f"{cov_path}.payor[0].resolve()"
    payer_id = ""
    if payer is None:
        gaps.add(f"{_REQUEST}.insurer", "The payer (information source, 2100A) is required")
        payer_nm1: Segment = []
    else:
        payer_id = _payer_id(payer)
        gaps.need(payer_id, f"{payer_path}.identifier",
                  f"The payer id is required (2100A NM109): an identifier in "
                  f"{systems.payer_id()} or of type NIIP")
        payer_nm1 = organization_nm1("PR", payer, payer_path, gaps, "PI", payer_id)

    # 2100B information receiver.
    provider, npi, ein = _provider(index, request, gaps)
    provider_nm1: Segment = []
    if provider is not None:
        path = f"{_REQUEST}.provider.resolve()"
        if provider["resourceType"] == "Organization":
            provider_nm1 = organization_nm1("1P", provider, path, gaps, "XX", npi)
        else:
            provider_nm1 = person_nm1("1P", provider, path, gaps, "XX", npi)
    trace, originator = _trace(request, npi, ein, gaps)

    # 2100C subscriber and 2100D dependent.
    subscriber_path = f"{cov_path}.subscriber.resolve()"
    beneficiary_path = f"{cov_path}.beneficiary.resolve()"
    subscriber: Resource | None = None
    beneficiary: Resource | None = None
    dependent = False
    member = ""
    group = ""
    if coverage is not None:
        subscriber = index.resolve(coverage.get("subscriber"), source=coverage)
        beneficiary = index.resolve(coverage.get("beneficiary"), source=coverage, kind="Patient")
        if beneficiary is None:
            beneficiary = index.resolve(request.get("patient"), source=request, kind="Patient")
            beneficiary_path = f"{_REQUEST}.patient.resolve()"
        dependent = not _is_self(coverage, subscriber, beneficiary)
        if not dependent and subscriber is None:
            subscriber, subscriber_path = beneficiary, beneficiary_path
        member = _member_id(coverage, payer_id)
        gaps.need(member, f"{cov_path}.subscriberId",
                  "The subscriber's member id is required (2100C NM109, qualifier MI)")
        group = next((str(c["value"]) for c in coverage.get("class") or []
                      if code(c.get("type"), COVERAGE_CLASS) == "group" and c.get("value")), "")
        if subscriber is None:
            gaps.add(f"{cov_path}.subscriber", "The subscriber is required (2100C NM1*IL)")
        if beneficiary is None:
            gaps.add(f"{cov_path}.beneficiary", "The patient is required (Coverage.beneficiary)")
    # A missing subscriber is one gap, not one per element it would have given.
    person_gaps = gaps if subscriber is not None else Gaps()
    subscriber_nm1 = person_nm1("IL", subscriber, subscriber_path, person_gaps, "MI", member)
    subscriber_dmg = _dmg(subscriber, subscriber_path, person_gaps, required=not dependent)
    relationship = ""
    dependent_segments: list[Segment] = []
    if dependent:
        person_gaps = gaps if beneficiary is not None else Gaps()
        dependent_nm1 = person_nm1("03", beneficiary, beneficiary_path, person_gaps)[:8]
        dependent_segments = [dependent_nm1,
                              _dmg(beneficiary, beneficiary_path, person_gaps, True)]
        relation = code((coverage or {}).get("relationship"))
        relationship = _DEPENDENT_RELATIONSHIP.get(relation, "")
        if relationship:
            dependent_segments.append(["INS", "N", relationship])

    inquiries = _inquiries(request, gaps)
    bht_date, bht_time = _bht_time(request, when, gaps)
    gaps.check("Building the 270")

    trn = ["TRN", "1", trace, originator]
    dtp = _dtp(request)
    segments: list[Segment] = [
        ["ST", "270", "", VERSION],
        ["BHT", "0022", "13", trace, bht_date, bht_time],
        ["HL", "1", "", "20", "1"], payer_nm1,
        ["HL", "2", "1", "21", "1"], provider_nm1,
        ["HL", "3", "2", "22", "1" if dependent else "0"],
    ]
    if not dependent:
        segments.append(trn)
    segments.append(subscriber_nm1)
    if group:
        segments.append(["REF", "6P", text(group, 50)])
    if subscriber_dmg:
        segments.append(subscriber_dmg)
    if not dependent:
        segments += [s for s in (dtp, *inquiries) if s]
        return segments
    segments += [["HL", "4", "3", "23", "0"], trn]
    segments += [s for s in (*dependent_segments, dtp, *inquiries) if s]
    return segments


def requests_to_270(
    bundles: Sequence[Mapping[str, Any]],
    partners: TradingPartners,
    numbers: ControlNumbers,
    when: datetime | None = None,
) -> str:
    """One interchange holding a 270 per CoverageEligibilityRequest of ``bundles`` (a Bundle
    with the request and what it references, or a lone request). All gaps of all requests are
    reported together."""
    sets: list[tuple[str, list[list[str]]]] = []
    gaps = Gaps()
    for number, bundle in enumerate(bundles, 1):
        label = f"Request {number}: " if len(bundles) > 1 else ""
        index = BundleIndex(bundle)
        requests = index.of_type(_REQUEST)
        if not requests:
            gaps.add(_REQUEST, f"{label}the Bundle holds no CoverageEligibilityRequest")
        for request in requests:
            try:
                sets.append((VERSION, build_270(index, request, when=when)))
            except MappingGapError as error:
                for issue in error.issues:
                    gaps.add(issue.expression[0] if issue.expression else _REQUEST,
                             label + issue.message)
    gaps.check("Building the 270s")
    return interchange(sets, partners, numbers, when)
