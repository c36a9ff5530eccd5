"""FHIR Claim Bundle -> CHC professional claims v3 JSON (``/professionalclaims/v3/submission``,
served by Optum and, verbatim, by Stedi; CLEARINGHOUSES.md sections 2-3).

The Claim is read exactly as for an 837P: ``ClaimView`` and the 837 loop builders of
``mappers/fhir_x12/claim_to_837.py`` make the segments of its one-claim 837P (so the same FHIR
gaps are reported, FAC-4001, with the same FHIRPaths), and each segment becomes the JSON field
CHC documents for that loop and element (section 3 table):

- 1000A/1000B: ``submitter`` (organizationName, contactInformation) and ``receiver``;
  ``usageIndicator`` = ISA15; ``controlNumber`` = the 9-digit number ISA13 would carry.
- 2000A/2010AA: ``billing`` (NM1*85, PRV*BI taxonomy, N3/N4, REF*EI ``employerId`` or REF*SY
  ``ssn``); 2010AB ``payToAddress``.
- 2000B/2010BA/2010BB: ``subscriber`` (SBR01 ``paymentResponsibilityLevelCode``, SBR03
  ``groupNumber``, NM1*IL ``memberId``, N3/N4, DMG ``dateOfBirth``/``gender``),
  ``tradingPartnerServiceId`` = payer id (NM109), ``tradingPartnerName``; SBR09 goes to
  ``claimInformation.claimFilingCode``.
- 2000C/2010CA: ``dependent`` (PAT01 ``relationshipToSubscriberCode``, NM1*QC, N3/N4, DMG).
- 2300 CLM: ``patientControlNumber``, ``claimChargeAmount``, CLM05 ``placeOfServiceCode`` and
  ``claimFrequencyCode``, CLM06-09 indicators, CLM11 ``relatedCausesCode`` and
  ``autoAccidentStateCode``; DTP*439 ``claimDateInformation.accidentDate``; REF*G1/9F/F8 in
  ``claimSupplementalInformation``; HI ``healthCareCodeInformation``.
- 2310x: ``rendering`` (NM1*82, PRV*PE), ``referring`` (NM1*DN), ``supervising`` (NM1*DQ),
  ``claimInformation.serviceFacilityLocation`` (NM1*77, N3/N4).
- 2320/2330A/2330B: ``otherSubscriberInformation[]`` (SBR, CAS ``claimLevelAdjustments``,
  AMT*D ``payerPaidAmount``, OI, ``otherSubscriberName``, ``otherPayerName``).
- 2400: ``serviceLines[]`` (SV1 ``professionalService``, DTP*472 ``serviceDate``/
  ``serviceDateEnd``, REF*6R ``providerControlNumber``, LIN/CTP ``drugIdentification``,
  2430 SVD/CAS/DTP*573 ``lineAdjudicationInformation``).

Only professional claims: CHC takes institutional claims at another API (institutional claims
v1), which this mapping does not write; an institutional Claim is a gap.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from mappers.fhir_x12.claim_to_837 import build_837, claim_views
from mappers.fhir_x12.gaps import Gaps
from mappers.fhir_x12.interchange import TradingPartners
from mappers.vendor.chc_fields import (
    JsonObject,
    Segment,
    address,
    components,
    element,
    party_name,
    put,
)

__all__ = ["MAX_SERVICE_LINES", "professional_claim"]

#: Professional claims v3 takes at most 50 service lines a claim (section 2).
MAX_SERVICE_LINES = 50

#: NM101 of the 2310 providers -> (top-level key, providerType).
_PROVIDERS = {"82": ("rendering", "RenderingProvider"), "DN": ("referring", "ReferringProvider"),
              "DQ": ("supervising", "SupervisingProvider")}


def _adjustments(cas: Segment) -> JsonObject:
    """CAS group with up to six (reason, amount, quantity) triples (X12 segment CAS)."""
    details = []
    for start in range(2, 19, 3):
        reason = element(cas, start)
        if reason:
            detail: JsonObject = {"adjustmentReasonCode": reason,
                                  "adjustmentAmount": element(cas, start + 1)}
            put(detail, "adjustmentQuantity", element(cas, start + 2))
            details.append(detail)
    return {"adjustmentGroupCode": element(cas, 1), "adjustmentDetails": details}


class _Reader:
    """Walks the one-claim 837P segments and fills the CHC body."""

    def __init__(self, body: JsonObject) -> None:
        self.body = body
        self.claim: JsonObject = body["claimInformation"]
        self.party: JsonObject | None = None
        """The object of the last NM1 (DMG goes there)."""
        self.address_to: tuple[JsonObject, str] | None = None
        """Where N3/N4 go: (object, key); key "" merges the address fields into the object."""
        self.n3: Segment | None = None
        self.other: JsonObject | None = None
        self.line: JsonObject | None = None
        self.line_adjudication: JsonObject | None = None
        self.in_claim = False

    def read(self, segments: list[list[str]]) -> None:
        for seg in segments:
            handler = getattr(self, f"_{seg[0].lower()}", None)
            if handler is not None:
                handler(seg)

    # --- parties ---------------------------------------------------------------------------

    def _nm1(self, seg: Segment) -> None:
        entity = element(seg, 1)
        ident = element(seg, 9)
        self.party = None
        self.address_to = None
        if entity == "85":
            billing = self.body["billing"]
            billing.update(party_name(seg))
            put(billing, "npi", ident)
            self.address_to = (billing, "address")
        elif entity == "87":
            self.address_to = (self.body, "payToAddress")
        elif entity == "IL" and self.other is not None:
            name: JsonObject = {"otherInsuredQualifier": element(seg, 2)}
            put(name, "otherInsuredLastName", element(seg, 3))
            put(name, "otherInsuredFirstName", element(seg, 4))
            put(name, "otherInsuredIdentifierTypeCode", element(seg, 8))
            put(name, "otherInsuredIdentifier", ident)
            self.other["otherSubscriberName"] = name
            self.address_to = (name, "otherInsuredAddress")
        elif entity == "IL":
            subscriber = self.body["subscriber"]
            subscriber.update(party_name(seg))
            put(subscriber, "memberId", ident)
            self.party = subscriber
            self.address_to = (subscriber, "address")
        elif entity == "PR" and self.other is not None:
            self.other["otherPayerName"] = {"otherPayerOrganizationName": element(seg, 3),
                                            "otherPayerIdentifierTypeCode": element(seg, 8),
                                            "otherPayerIdentifier": ident}
        elif entity == "PR":
            self.body["tradingPartnerServiceId"] = ident
            put(self.body, "tradingPartnerName", element(seg, 3))
        elif entity == "QC":
            dependent = self.body.setdefault("dependent", {})
            dependent.update(party_name(seg))
            self.party = dependent
            self.address_to = (dependent, "address")
        elif entity in _PROVIDERS:
            key, kind = _PROVIDERS[entity]
            provider: JsonObject = {"providerType": kind, **party_name(seg)}
            put(provider, "npi", ident)
            self.body[key] = provider
        elif entity == "77":
            facility = party_name(seg)
            put(facility, "npi", ident)
            self.claim["serviceFacilityLocation"] = facility
            self.address_to = (facility, "address")

    def _n3(self, seg: Segment) -> None:
        self.n3 = seg

    def _n4(self, seg: Segment) -> None:
        if self.address_to is not None:
            holder, key = self.address_to
            put(holder, key, address(self.n3, seg))
        self.n3 = None

    def _dmg(self, seg: Segment) -> None:
        if self.party is not None:
            put(self.party, "dateOfBirth", element(seg, 2))
            put(self.party, "gender", element(seg, 3))

    def _prv(self, seg: Segment) -> None:
        if element(seg, 1) == "BI":
            self.body["billing"]["taxonomyCode"] = element(seg, 3)
        elif element(seg, 1) == "PE" and "rendering" in self.body:
            self.body["rendering"]["taxonomyCode"] = element(seg, 3)

    def _pat(self, seg: Segment) -> None:
        self.body.setdefault("dependent", {})["relationshipToSubscriberCode"] = element(seg, 1)

    # --- subscriber and other payers -------------------------------------------------------

    def _sbr(self, seg: Segment) -> None:
        if not self.in_claim:
            subscriber = self.body["subscriber"]
            put(subscriber, "paymentResponsibilityLevelCode", element(seg, 1))
            put(subscriber, "groupNumber", element(seg, 3))
            put(self.claim, "claimFilingCode", element(seg, 9))
            return
        other: JsonObject = {"paymentResponsibilityLevelCode": element(seg, 1)}
        put(other, "individualRelationshipCode", element(seg, 2))
        put(other, "insuranceGroupOrPolicyNumber", element(seg, 3))
        put(other, "claimFilingIndicatorCode", element(seg, 9))
        self.claim.setdefault("otherSubscriberInformation", []).append(other)
        self.other = other

    def _cas(self, seg: Segment) -> None:
        if self.line_adjudication is not None:
            self.line_adjudication.setdefault("claimAdjustmentInformation", []).append(
                _adjustments(seg))
        elif self.other is not None:
            self.other.setdefault("claimLevelAdjustments", []).append(_adjustments(seg))

    def _amt(self, seg: Segment) -> None:
        if self.other is not None and element(seg, 1) == "D":
            self.other["payerPaidAmount"] = element(seg, 2)

    def _oi(self, seg: Segment) -> None:
        if self.other is not None:
            put(self.other, "benefitsAssignmentCertificationIndicator", element(seg, 3))
            put(self.other, "releaseOfInformationCode", element(seg, 6))

    # --- the claim -------------------------------------------------------------------------

    def _clm(self, seg: Segment) -> None:
        self.in_claim = True
        claim = self.claim
        claim["patientControlNumber"] = element(seg, 1)
        claim["claimChargeAmount"] = element(seg, 2)
        place = components(element(seg, 5)) + ["", "", ""]
        put(claim, "placeOfServiceCode", place[0])
        put(claim, "claimFrequencyCode", place[2])
        for position, key in ((6, "signatureIndicator"), (7, "planParticipationCode"),
                              (8, "benefitsAssignmentCertificationIndicator"),
                              (9, "releaseInformationCode")):
            put(claim, key, element(seg, position))
        causes = components(element(seg, 11)) + ["", "", "", ""]
        if causes[0]:
            claim["relatedCausesCode"] = [c for c in causes[:3] if c]
            put(claim, "autoAccidentStateCode", causes[3])

    def _dtp(self, seg: Segment) -> None:
        qualifier, value = element(seg, 1), element(seg, 3)
        if qualifier == "439":
            self.claim.setdefault("claimDateInformation", {})["accidentDate"] = value
        elif qualifier == "472" and self.line is not None:
            start, _, end = value.partition("-")
            self.line["serviceDate"] = start
            put(self.line, "serviceDateEnd", end if end != start else "")
        elif qualifier == "573" and self.line_adjudication is not None:
            self.line_adjudication["adjudicationOrPaymentDate"] = value

    def _ref(self, seg: Segment) -> None:
        qualifier, value = element(seg, 1), element(seg, 2)
        if qualifier == "EI":
            self.body["billing"]["employerId"] = value
        elif qualifier == "SY":
            self.body["billing"]["ssn"] = value
        elif qualifier == "6R" and self.line is not None:
            self.line["providerControlNumber"] = value
        elif qualifier in ("G1", "9F", "F8"):
            key = {"G1": "priorAuthorizationNumber", "9F": "referralNumber",
                   "F8": "claimControlNumber"}[qualifier]
            self.claim.setdefault("claimSupplementalInformation", {})[key] = value

    def _hi(self, seg: Segment) -> None:
        codes = self.claim.setdefault("healthCareCodeInformation", [])
        for value in seg[1:]:
            parts = components(value)
            if len(parts) >= 2:
                codes.append({"diagnosisTypeCode": parts[0], "diagnosisCode": parts[1]})

    # --- service lines ---------------------------------------------------------------------

    def _lx(self, seg: Segment) -> None:
        self.line = {}
        self.line_adjudication = None
        self.other = None
        self.party = None
        self.address_to = None
        self.claim.setdefault("serviceLines", []).append(self.line)

    def _sv1(self, seg: Segment) -> None:
        assert self.line is not None
        procedure = components(element(seg, 1))
        service: JsonObject = {"procedureIdentifier": procedure[0] if procedure else "",
                               "procedureCode": procedure[1] if len(procedure) > 1 else ""}
        put(service, "procedureModifiers", [m for m in procedure[2:6] if m])
        service["lineItemChargeAmount"] = element(seg, 2)
        service["measurementUnit"] = element(seg, 3)
        service["serviceUnitCount"] = element(seg, 4)
        put(service, "placeOfServiceCode", element(seg, 5))
        pointers = components(element(seg, 7))
        service["compositeDiagnosisCodePointers"] = {"diagnosisCodePointers": pointers}
        self.line["professionalService"] = service

    def _lin(self, seg: Segment) -> None:
        if self.line is not None:
            self.line["drugIdentification"] = {"serviceIdQualifier": element(seg, 2),
                                               "nationalDrugCode": element(seg, 3)}

    def _ctp(self, seg: Segment) -> None:
        if self.line is not None and "drugIdentification" in self.line:
            drug = self.line["drugIdentification"]
            drug["nationalDrugUnitCount"] = element(seg, 4)
            drug["measurementUnitCode"] = components(element(seg, 5))[0] if element(
                seg, 5) else ""

    def _svd(self, seg: Segment) -> None:
        if self.line is None:
            return
        procedure = components(element(seg, 3))
        adjudication: JsonObject = {"otherPayerPrimaryIdentifier": element(seg, 1),
                                    "serviceLinePaidAmount": element(seg, 2)}
        if len(procedure) > 1:
            adjudication["serviceIdQualifier"] = procedure[0]
            adjudication["procedureCode"] = procedure[1]
            put(adjudication, "procedureModifier", [m for m in procedure[2:6] if m])
        put(adjudication, "paidServiceUnitCount", element(seg, 5))
        self.line.setdefault("lineAdjudicationInformation", []).append(adjudication)
        self.line_adjudication = adjudication


def professional_claim(bundle: Mapping[str, Any], partners: TradingPartners,
                       control_number: str, when: datetime | None = None) -> JsonObject:
    """The CHC professional claims v3 body for the one Claim of ``bundle`` (a Claim Bundle:
    the Claim first, then what it references). Raises ``MappingGapError`` listing every gap,
    as ``claims_to_837`` would for the same Claim, plus what CHC alone refuses (an
    institutional claim, more than 50 service lines)."""
    views = claim_views(bundle)
    if len(views) != 1:
        gaps = Gaps()
        gaps.add("Bundle.entry", "The Bundle must hold exactly one Claim "
                 f"(it holds {len(views)})")
        gaps.check("The claim JSON cannot be built")
    view = views[0]
    if view.institutional:
        view.gaps.add("Claim.type", "This connection sends professional claims only "
                      "(CHC professional claims v3); this one is institutional", "not-supported")
    if len(view.claim.get("item") or []) > MAX_SERVICE_LINES:
        view.gaps.add("Claim.item", f"CHC professional claims take at most "
                      f"{MAX_SERVICE_LINES} service lines", "too-long")
    segments = build_837([view], partners, control_number, when or datetime.now())
    view.gaps.check("The claim JSON cannot be built")
    body: JsonObject = {
        "controlNumber": control_number,
        "tradingPartnerServiceId": "",
        "usageIndicator": partners.usage,
        "submitter": {"organizationName": partners.sender_name,
                      "contactInformation": {"name": partners.contact_name,
                                             "phoneNumber": partners.contact_phone}},
        "receiver": {"organizationName": partners.receiver_name},
        "subscriber": {},
        "billing": {"providerType": "BillingProvider"},
        "claimInformation": {},
    }
    _Reader(body).read(segments)
    return body
