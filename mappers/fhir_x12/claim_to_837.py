"""FHIR Claim -> 837P (005010X222A1) or 837I (005010X223A2), by ``Claim.type``.

One transaction set holds many claims: a 2000A billing provider HL per provider, under it a 2000B
subscriber HL per claim, and a 2000C patient HL when the patient is not the subscriber (X12.md
2.1: HL 20 -> 22 -> 23, HL04 = 1 only when a child follows). The 2300 claim carries the patient
control number (``Claim.identifier``, CLM01), the charge, place of service or bill type and
frequency (CLM05), the diagnoses (HI), prior authorization and referral numbers (REF*G1, REF*9F),
the providers (2310x) and, for a secondary claim, the other payers with their adjudication
(2320/2330, line-level 2430). Lines are built in ``claim_837_lines.py``.

Every element the guide requires and the Claim's Bundle does not hold is a gap; all gaps of all
claims are reported together (FAC-4001) and nothing is written.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from mappers.fhir_x12 import systems
from mappers.fhir_x12.claim_837_lines import cob_claim_level, service_lines
from mappers.fhir_x12.claim_view import (
    RELATIONSHIP_TO_X12,
    ClaimView,
    CoverageView,
    party_ids,
    taxonomy,
)
from mappers.fhir_x12.fhir_values import code, text, x12_amount, x12_date
from mappers.fhir_x12.gaps import Gaps, MappingGapError
from mappers.fhir_x12.interchange import TradingPartners, interchange
from mappers.fhir_x12.parties import (
    address_segments,
    dmg,
    nm1,
    organization_nm1,
    party_nm1,
    person_nm1,
)
from mappers.fhir_x12.references import BundleIndex
from mappers.x12.schema import code_set
from mappers.x12.writer import ControlNumbers
from server.errors import Issue

__all__ = [
    "INSTITUTIONAL", "MAX_CLAIMS_PER_SET", "MAX_CLAIMS_PER_SUBSCRIBER", "PROFESSIONAL",
    "build_837", "claim_views", "claims_to_837",
]

PROFESSIONAL = "005010X222A1"
INSTITUTIONAL = "005010X223A2"
#: The 2300 loop repeats at most 100 times under one subscriber or patient HL (837P/837I).
MAX_CLAIMS_PER_SUBSCRIBER = 100
#: The guides' recommended limit of CLM segments per transaction set (837P/837I 1.4.1).
MAX_CLAIMS_PER_SET = 5000
Segment = list[str]

#: Claim.accident.type (v3-ActCode) -> CLM11-1 related causes (1362): AA auto, EM employment.
_ACCIDENT = {"MVA": "AA", "WPA": "EM", "AUTOPOL": "AA"}


def _billing_key(view: ClaimView) -> tuple[str, ...]:
    npi, tin, _ = party_ids(view.provider)
    if npi:
        return (npi, tin, str((view.provider or {}).get("name") or ""))
    return ("", "", str((view.provider or {}).get("id") or id(view.provider)))


def _billing_provider(view: ClaimView, hl: int) -> list[Segment]:
    """2000A/2010AA billing provider and 2010AB pay-to address."""
    provider, gaps = view.provider, view.gaps
    npi, tin, ssn = party_ids(provider)
    out: list[Segment] = [["HL", str(hl), "", "20", "1"]]
    taxon = taxonomy(view.provider_role, provider)
    if taxon:
        out.append(["PRV", "BI", "PXC", taxon])
    gaps.need(npi, "Claim.provider.identifier", "The billing provider needs an NPI (2010AA NM109)")
    out.append(party_nm1("85", provider, "Claim.provider", gaps, "XX", npi))
    out += address_segments(provider, "Claim.provider", gaps, zip9=True)
    if tin:
        out.append(["REF", "EI", tin.replace("-", "")])
    elif ssn and not view.institutional:
        out.append(["REF", "SY", ssn.replace("-", "")])
    else:
        gaps.add("Claim.provider.identifier",
                 "The billing provider needs a tax id (2010AA REF*EI" +
                 ("" if view.institutional else " or REF*SY") + ")")
    payee = view.payee()
    if payee is not None:
        address = address_segments(payee, "Claim.payee.party", gaps, required=False)
        if address:
            kind = "2" if payee["resourceType"] in ("Organization", "Location") else "1"
            out.append(["NM1", "87", kind])
            out += address
    return out


def _subscriber(view: ClaimView, cov: CoverageView, hl: int, parent: int) -> list[Segment]:
    """2000B SBR, 2010BA subscriber, 2010BB payer."""
    gaps = view.gaps
    is_patient = cov.relationship == "self"
    group, group_name = cov.group()
    filing = cov.filing_indicator()
    gaps.need(filing, f"{cov.path}.coverage.type",
              "Coverage.type needs the X12 claim filing indicator (1032, SBR09)")
    out: list[Segment] = [
        ["HL", str(hl), str(parent), "22", "0" if is_patient else "1"],
        ["SBR", cov.responsibility, "18" if is_patient else "", text(group, 50),
         "" if group else text(group_name, 60), "", "", "", "", filing],
    ]
    gaps.need(cov.member_id, f"{cov.path}.coverage.subscriberId",
              "The subscriber's member id is required (2010BA NM109)")
    subscriber = cov.subscriber if cov.subscriber is not None else (
        view.patient if is_patient else None)
    if subscriber is None:
        gaps.add(f"{cov.path}.coverage.subscriber", "The subscriber must be in the Bundle")
    out.append(party_nm1("IL", subscriber, f"{cov.path}.coverage.subscriber", gaps, "MI",
                         cov.member_id))
    if subscriber is not None and subscriber["resourceType"] != "Organization":
        path = "Claim.patient" if is_patient else f"{cov.path}.coverage.subscriber"
        out += address_segments(subscriber, path, gaps, required=is_patient)
        if is_patient or subscriber.get("birthDate"):
            out.append(dmg(subscriber, path, gaps))
    out += _payer(view, cov, "2010BB")
    return out


def _payer(view: ClaimView, cov: CoverageView, loop: str) -> list[Segment]:
    gaps = view.gaps
    gaps.need(cov.payer, f"{cov.path}.coverage.payor", "The payer must be in the Bundle")
    gaps.need(cov.payer_id, f"{cov.path}.coverage.payor.identifier",
              f"The payer needs a payer id ({loop} NM109)")
    return [organization_nm1("PR", cov.payer, f"{cov.path}.coverage.payor", gaps, "PI",
                             cov.payer_id)]


def _patient(view: ClaimView, cov: CoverageView, hl: int, parent: int) -> list[Segment]:
    """2000C patient HL, PAT relationship and 2010CA patient."""
    gaps = view.gaps
    relationship = RELATIONSHIP_TO_X12.get(cov.relationship, "G8")
    out: list[Segment] = [["HL", str(hl), str(parent), "23", "0"], ["PAT", relationship]]
    out.append(person_nm1("QC", view.patient, "Claim.patient", gaps))
    out += address_segments(view.patient, "Claim.patient", gaps)
    out.append(dmg(view.patient, "Claim.patient", gaps))
    return out


def _clm(view: ClaimView, pcn: str, total: Decimal | None) -> Segment:
    frequency, _ = view.frequency()
    if view.institutional:
        bill = view.supporting("typeofbill")
        bill_type = code((bill or {}).get("code")).lstrip("0")
        if not bill_type.isdigit() or len(bill_type) != 3:
            view.gaps.add("Claim.supportingInfo", "An institutional claim needs its type of bill "
                          "(supportingInfo typeofbill, CLM05)")
        place = f"{bill_type[:2]}:A:{frequency}"
        clm = ["CLM", pcn, x12_amount(total or Decimal(0)), "", "", place, "", "A", "Y", "Y"]
    else:
        place = f"{view.place_of_service()}:B:{frequency}"
        clm = ["CLM", pcn, x12_amount(total or Decimal(0)), "", "", place, "Y", "A", "Y", "Y"]
    accident = view.claim.get("accident")
    if accident:
        cause = _ACCIDENT.get(code(accident.get("type")), "OA")
        state = text(((accident.get("locationAddress") or {}).get("state"))).upper()
        if cause == "AA" and state not in (code_set("states") or ()):
            view.gaps.add("Claim.accident.locationAddress.state",
                          "An auto accident needs the state it happened in (CLM11-4)")
        clm += ["", f"{cause}:::{state}" if cause == "AA" else cause]
    return clm


def _claim_dates(view: ClaimView) -> list[Segment]:
    out: list[Segment] = []
    accident = view.claim.get("accident")
    if accident and not view.institutional:
        when = x12_date(accident.get("date"))
        view.gaps.need(when, "Claim.accident.date", "The accident date is required (DTP*439)")
        out.append(["DTP", "439", "D8", when])
    if view.institutional:
        period = view.claim.get("billablePeriod") or {}
        start, end = x12_date(period.get("start")), x12_date(period.get("end"))
        view.gaps.need(start, "Claim.billablePeriod.start",
                       "Statement dates are required (DTP*434)")
        out.append(["DTP", "434", "RD8", f"{start}-{end or start}"])
        admission = view.supporting("admissionperiod")
        admitted = x12_date(((admission or {}).get("timingPeriod") or {}).get("start"))
        if admitted:
            out.append(["DTP", "435", "D8", admitted])
        out.append(_cl1(view))
    return out


def _cl1(view: ClaimView) -> Segment:
    """837I CL1 institutional claim code: admission type, source, patient status (CL103)."""
    status = code((view.supporting("discharge-status") or {}).get("code"))
    view.gaps.need(status, "Claim.supportingInfo",
                   "An institutional claim needs the patient status (supportingInfo "
                   "discharge-status, CL103)")
    status = view.gaps.valid(status, "Claim.supportingInfo", r"[0-9A-Z]{1,2}",
                             "Not a patient status code (CL103)")
    kinds = [view.gaps.valid(code((view.supporting(c) or {}).get("code")), "Claim.supportingInfo",
                             r"[0-9A-Z]", f"Not a one-character {c} code (CL10{n})")
             for n, c in ((1, "admtype"), (2, "pointoforigin"))]
    return ["CL1", *kinds, status]


def _references(view: ClaimView) -> list[Segment]:
    """REF*9F referral number, REF*G1 prior authorization, REF*F8 original claim (guide order)."""
    out: list[Segment] = []
    referral = view.claim.get("referral") or {}
    referral_number = text((referral.get("identifier") or {}).get("value"), 50)
    if referral_number:
        out.append(["REF", "9F", referral_number])
    auth = text(view.focal.pre_auth[0], 50) if view.focal and view.focal.pre_auth else ""
    if auth:
        out.append(["REF", "G1", auth])
    original = text(view.frequency()[1], 50)
    if original:
        out.append(["REF", "F8", original])
    return out


def _diagnoses(view: ClaimView) -> tuple[list[Segment], dict[int, int]]:
    """HI segments and the pointer (1-12) of each diagnosis sequence."""
    found = view.diagnoses()
    pointers = {seq: i + 1 for i, (seq, _, _) in enumerate(found)}
    principal, *rest = found if found else [(0, "", "")]
    if not principal[1]:
        return [], pointers
    first = ["ABK", principal[1]]
    admitting = [d for d in rest if d[2] == "admitting"] if view.institutional else []
    others = [d for d in rest if d not in admitting]
    out: list[Segment] = [["HI", ":".join(first)]]
    if view.institutional:
        if admitting:
            out.append(["HI", f"ABJ:{admitting[0][1]}"])
        for start in range(0, min(len(others), 24), 12):
            out.append(["HI", *(f"ABF:{d[1]}" for d in others[start:start + 12])])
        out += _procedures(view)
    else:
        out[0] += [f"ABF:{d[1]}" for d in others[:11]]
        if len(others) > 11:
            view.gaps.add("Claim.diagnosis", "An 837P claim carries at most 12 diagnoses (HI)",
                          "too-long")
    return out, pointers


def _procedures(view: ClaimView) -> list[Segment]:
    """837I HI*BBR principal and HI*BBQ other ICD-10-PCS procedures."""
    out: list[str] = []
    for position, proc in enumerate(view.claim.get("procedure") or []):
        value = view.gaps.valid(code(proc.get("procedureCodeableConcept"), systems.ICD10_PCS),
                                f"Claim.procedure[{position}]", r"[0-9A-Z]{7}",
                                "Not a 7-character ICD-10-PCS code (HI BBR/BBQ)")
        when = x12_date(proc.get("date"))
        if not value or not when:
            view.gaps.add(f"Claim.procedure[{position}]",
                          "A procedure needs an ICD-10-PCS code and a date (HI BBR/BBQ)")
            continue
        out.append(f"{'BBR' if not out else 'BBQ'}:{value}:D8:{when}")
    if not out:
        return []
    segments = [["HI", out[0]]]
    if len(out) > 1:
        segments.append(["HI", *out[1:13]])
    return segments


def _provider_nm1(view: ClaimView, entity: str, roles: tuple[str, ...], path: str,
                  prv: str | None = None) -> list[Segment]:
    who, role = view.care_team(*roles)
    if who is None or who is view.provider:
        return []
    npi, _, _ = party_ids(who)
    out = [party_nm1(entity, who, path, view.gaps, "XX", npi)]
    taxon = taxonomy(role, who)
    if prv and taxon:
        out.append(["PRV", prv, "PXC", taxon])
    return out


def _providers(view: ClaimView) -> list[Segment]:
    """2310x: referring, rendering (837P) / attending, operating, rendering, referring (837I),
    and the service facility location."""
    path = "Claim.careTeam.provider"
    out: list[Segment] = []
    if view.institutional:
        out += _provider_nm1(view, "71", ("attending",), path, "AT")
        out += _provider_nm1(view, "72", ("operating",), path)
        out += _provider_nm1(view, "82", ("rendering", "performing"), path)
    else:
        out += _provider_nm1(view, "DN", ("referring",), path)
        out += _provider_nm1(view, "82", ("rendering", "primary", "performing"), path, "PE")
    facility = view.facility()
    if facility is not None:
        npi, _, _ = party_ids(facility)
        out.append(organization_nm1("77", facility, "Claim.facility", view.gaps,
                                    "XX", npi))
        out += address_segments(facility, "Claim.facility", view.gaps, zip9=True)
    if view.institutional:
        out += _provider_nm1(view, "DN", ("referring",), path)
    return out


def _other_payers(view: ClaimView) -> list[Segment]:
    """2320 other subscriber information with 2330A/2330B, per non-focal insurance."""
    out: list[Segment] = []
    for cov in view.others:
        group, group_name = cov.group()
        filing = cov.filing_indicator()
        view.gaps.need(filing, f"{cov.path}.coverage.type",
                       "Coverage.type needs the X12 claim filing indicator (1032, SBR09)")
        relationship = RELATIONSHIP_TO_X12.get(cov.relationship, "G8")
        out.append(["SBR", cov.responsibility, relationship, text(group, 50),
                    "" if group else text(group_name, 60), "", "", "", "", filing])
        out += cob_claim_level(view, cov)
        out.append(["OI", "", "", "Y", "" if view.institutional else "P", "", "Y"])
        view.gaps.need(cov.member_id, f"{cov.path}.coverage.subscriberId",
                       "The other subscriber's member id is required (2330A NM109)")
        subscriber = cov.subscriber or (view.patient if cov.relationship == "self" else None)
        out.append(party_nm1("IL", subscriber, f"{cov.path}.coverage.subscriber", view.gaps,
                             "MI", cov.member_id))
        out += address_segments(subscriber, f"{cov.path}.coverage.subscriber", view.gaps,
                                required=False)
        out += _payer(view, cov, "2330B")
    return out


def _claim(view: ClaimView) -> list[Segment]:
    """The 2300 loop and its lines."""
    pcn = view.patient_control_number()
    total = view.total()
    out = [_clm(view, pcn, total), *_claim_dates(view), *_references(view)]
    his, pointers = _diagnoses(view)
    out += his
    out += _providers(view)
    out += _other_payers(view)
    out += service_lines(view, pointers)
    return out


def claim_views(source: Mapping[str, Any]) -> list[ClaimView]:
    """A view per Claim in a Bundle (or of a lone Claim)."""
    index = BundleIndex(source)
    return [ClaimView(index, claim) for claim in index.of_type("Claim")]


def build_837(views: Sequence[ClaimView], partners: TradingPartners, reference: str,
              when: datetime) -> list[Segment]:
    """One 837 set (ST..BHT..claims; SE is counted by the writer) for claims of one kind."""
    version = INSTITUTIONAL if views and views[0].institutional else PROFESSIONAL
    out: list[Segment] = [
        ["ST", "837", "", version],
        ["BHT", "0019", "00", text(reference, 50), when.strftime("%Y%m%d"),
         when.strftime("%H%M"), "CH"],
        nm1("41", "2", partners.sender_name, qualifier="46", ident=partners.sender_id),
        ["PER", "IC", text(partners.contact_name, 60), "TE", partners.contact_phone],
        nm1("40", "2", partners.receiver_name, qualifier="46", ident=partners.receiver_id),
    ]
    by_provider: dict[tuple[str, ...], list[ClaimView]] = {}
    for view in views:
        by_provider.setdefault(_billing_key(view), []).append(view)
    hl = 0
    for group in by_provider.values():
        hl += 1
        billing = hl
        out += _billing_provider(group[0], hl)
        by_subscriber: dict[tuple[str, ...], list[ClaimView]] = {}
        for view in group:
            if view.focal is not None:
                by_subscriber.setdefault(_subscriber_key(view), []).append(view)
        chunks = [claims[i:i + MAX_CLAIMS_PER_SUBSCRIBER] for claims in by_subscriber.values()
                  for i in range(0, len(claims), MAX_CLAIMS_PER_SUBSCRIBER)]
        for claims in chunks:
            first = claims[0]
            assert first.focal is not None
            hl += 1
            subscriber = hl
            out += _subscriber(first, first.focal, hl, billing)
            if first.focal.relationship != "self":
                hl += 1
                out += _patient(first, first.focal, hl, subscriber)
            for view in claims:
                out += _claim(view)
    return out


def _subscriber_key(view: ClaimView) -> tuple[str, ...]:
    """Claims of the same patient under the same coverage share one 2000B (and 2000C)."""
    cov = view.focal
    assert cov is not None
    patient = view.patient or {}
    return (cov.payer_id, cov.member_id, cov.relationship, cov.responsibility,
            str(patient.get("name")), str(patient.get("birthDate")))


def _batch_reference(views: Sequence[ClaimView]) -> str:
    digest = hashlib.sha1("|".join(str(v.claim.get("id", "")) for v in views).encode())
    return digest.hexdigest()[:12].upper()


def _raise_all(views: Sequence[ClaimView]) -> None:
    failing = [v for v in views if v.gaps]
    if not failing:
        return
    if len(views) == 1:
        failing[0].gaps.check("The 837 cannot be built")
    issues = []
    for view in failing:
        label = view.claim.get("id") or "(no id)"
        issues += [Issue(message=f"Claim {label}: {i.message}", code=i.code,
                         expression=i.expression) for i in view.gaps.issues]
    raise MappingGapError(f"The 837 cannot be built: {len(issues)} gaps in "
                          f"{len(failing)} claims", issues=issues)


def claims_to_837(
    sources: Sequence[Mapping[str, Any]],
    partners: TradingPartners,
    numbers: ControlNumbers,
    when: datetime | None = None,
    reference: str | None = None,
) -> str:
    """An interchange with the Claims of ``sources`` (Bundles or lone Claims): one 837P and/or
    one 837I functional group. Raises :class:`MappingGapError` listing every gap of every claim."""
    when = when or datetime.now()
    views = [v for source in sources for v in claim_views(source)]
    if not views:
        gaps = Gaps()
        gaps.add("Bundle.entry", "No Claim to translate")
        gaps.check("The 837 cannot be built")
    sets: list[tuple[str, list[Segment]]] = []
    for institutional in (False, True):
        members = [v for v in views if v.institutional is institutional]
        for start in range(0, len(members), MAX_CLAIMS_PER_SET):
            batch = members[start:start + MAX_CLAIMS_PER_SET]
            segments = build_837(batch, partners, reference or _batch_reference(batch), when)
            sets.append((INSTITUTIONAL if institutional else PROFESSIONAL, segments))
    _raise_all(views)
    return interchange(sets, partners, numbers, when)
