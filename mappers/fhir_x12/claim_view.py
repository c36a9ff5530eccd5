"""A FHIR Claim read in 837 terms: who bills, who is covered, what was done, for how much.

The 837 builders (``claim_to_837.py``, ``claim_837_lines.py``) read a claim only through this
view, so the FHIR paths each 837 element comes from are written once, here, and every gap is
recorded with the FHIRPath of the element that should have held the value (``gaps.py``).

FHIR sources (R4 claim.html): ``Claim.provider`` (billing provider, 2010AA), ``Claim.payee.party``
(pay-to, 2010AB), the focal ``Claim.insurance`` and its Coverage (2000B/2010BA/2010BB, 2000C when
the beneficiary is not the subscriber), other insurances with the earlier payer's
ExplanationOfBenefit or ClaimResponse (COB, 2320/2330/2430), ``Claim.careTeam`` by role (2310x),
``Claim.facility`` (service facility), ``Claim.diagnosis`` (HI), ``Claim.procedure`` (837I HI BBR),
``Claim.supportingInfo`` (837I bill type, admission, discharge status), ``Claim.item`` (2400).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from decimal import Decimal

from mappers.fhir_x12 import systems
from mappers.fhir_x12.fhir_values import (
    NPI_SYSTEM,
    SSN_SYSTEM,
    TIN_SYSTEMS,
    amount,
    code,
    codes,
    identifier,
    identifier_of_type,
)
from mappers.fhir_x12.gaps import Gaps
from mappers.fhir_x12.references import BundleIndex, Resource
from mappers.x12.schema import code_set

__all__ = [
    "C4BB_SUPPORTING_INFO",
    "CARE_TEAM_ROLE_SYSTEMS",
    "ClaimView",
    "CoverageView",
    "FILING_CODES",
    "ICD10_SHAPE",
    "RELATIONSHIP_TO_X12",
    "X12_TO_RELATIONSHIP",
    "payer_identifier",
    "place_code",
    "taxonomy",
]

#: FHIR subscriber-relationship -> X12 individual relationship code (1069, PAT01 / SBR02).
RELATIONSHIP_TO_X12 = {
    "self": "18", "spouse": "01", "child": "19", "common": "53", "parent": "G8",
    "other": "G8", "injured": "G8",
}
#: X12 1069 -> FHIR subscriber-relationship (the reverse, for codes FHIR can name).
X12_TO_RELATIONSHIP = {"18": "self", "01": "spouse", "19": "child", "53": "common", "G8": "other",
                       "20": "other", "21": "other", "39": "other", "40": "other"}
#: Claim.careTeam.role systems: HL7 claimcareteamrole and CARIN BB's.
CARE_TEAM_ROLE_SYSTEMS = (
    "http://terminology.hl7.org/CodeSystem/claimcareteamrole",
    "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBClaimCareTeamRole",
)
C4BB_SUPPORTING_INFO = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBSupportingInfoType"
_ICD10 = (systems.ICD10_CM, "http://hl7.org/fhir/sid/icd-10")
#: NUCC taxonomy codes: ten characters ending in X (837 PRV03).
_TAXONOMY = re.compile(r"[0-9A-Z]{9}X")
#: ICD-10-CM without its dot (837 HI01-2): a letter, then 2 to 6 letters or digits.
ICD10_SHAPE = r"[A-Z][0-9A-Z]{2,6}"
#: SBR09 claim filing indicator codes (X12 element 1032, as the 837 guides list them).
FILING_CODES = frozenset({"11", "12", "13", "14", "15", "16", "17", "AM", "BL", "CH", "CI", "DS",
                          "FI", "HM", "LM", "MA", "MB", "MC", "OF", "TV", "VA", "WC", "ZZ"})


def place_code(concept: Resource | None) -> str:
    """A CMS place of service code (CLM05-1, SV105) listed in the code set, else ""."""
    found = code(concept, systems.CMS_POS)
    return found if found in (code_set("pos") or ()) else ""


def payer_identifier(payer: Resource | None) -> str:
    """A payer's id: our payer-id system, else an identifier typed PI/NIIP, else the only one."""
    if not payer:
        return ""
    found = identifier(payer, systems.payer_id()) or identifier_of_type(payer, "PI", "NIIP")
    if found:
        return found
    idents = [i for i in payer.get("identifier") or [] if i.get("value")
              and i.get("system") not in (NPI_SYSTEM, *TIN_SYSTEMS)]
    return str(idents[0]["value"]) if len(idents) == 1 else ""


def taxonomy(*holders: Resource | None) -> str:
    """A NUCC provider taxonomy code from PractitionerRole.specialty/code or a qualification."""
    for holder in holders:
        if not holder:
            continue
        for concept in (*(holder.get("specialty") or []), *(holder.get("code") or [])):
            found = code(concept, systems.TAXONOMY)
            if _TAXONOMY.fullmatch(found):
                return found
        for qualification in holder.get("qualification") or []:
            found = code(qualification.get("code"), systems.TAXONOMY)
            if _TAXONOMY.fullmatch(found):
                return found
    return ""


@dataclass
class CoverageView:
    """One ``Claim.insurance`` entry and what it leads to."""

    sequence: int
    path: str
    coverage: Resource | None
    payer: Resource | None
    subscriber: Resource | None
    relationship: str
    member_id: str
    payer_id: str
    pre_auth: list[str]
    prior: Resource | None = None
    """The earlier payer's ExplanationOfBenefit or ClaimResponse (COB)."""

    @property
    def responsibility(self) -> str:
        """SBR01 payer responsibility sequence: P, S, T, then A-H (X12 1138)."""
        order = "PSTABCDEFGH"
        return order[self.sequence - 1] if 0 < self.sequence <= len(order) else "U"

    def group(self) -> tuple[str, str]:
        """SBR03 group number and SBR04 group name (Coverage.class of type group)."""
        for cls in (self.coverage or {}).get("class") or []:
            if code(cls.get("type")) == "group":
                return str(cls.get("value") or ""), str(cls.get("name") or "")
        return "", ""

    def filing_indicator(self) -> str:
        """SBR09 claim filing indicator (1032) from Coverage.type; "" when not a 1032 code."""
        found = code((self.coverage or {}).get("type"), systems.x12_element_system("1032"))
        return found if found in FILING_CODES else ""


@dataclass
class ClaimView:
    """The parts of one Claim an 837 needs, resolved through its Bundle."""

    index: BundleIndex
    claim: Resource
    gaps: Gaps = field(default_factory=Gaps)
    path: str = "Claim"

    def __post_init__(self) -> None:
        c = self.claim
        self.institutional = code(c.get("type")) == "institutional"
        self.provider = self.index.resolve(c.get("provider"), c)
        self.provider_role: Resource | None = None
        if self.provider is not None and self.provider["resourceType"] == "PractitionerRole":
            self.provider_role = self.provider
            role = self.provider
            self.provider = (self.index.resolve(role.get("organization"), role)
                             or self.index.resolve(role.get("practitioner"), role))
        self.patient = self.index.resolve(c.get("patient"), c, "Patient")
        self.gaps.need(self.patient, "Claim.patient", "The patient must be in the Bundle")
        self.gaps.need(self.provider, "Claim.provider",
                       "The billing provider must be in the Bundle (2010AA)")
        insurances = sorted(enumerate(c.get("insurance") or []),
                            key=lambda p: (p[1].get("sequence") or 0, p[0]))
        self.coverages = [self._coverage(i, ins) for i, ins in insurances]
        focal = [cv for cv, (_, ins) in zip(self.coverages, insurances, strict=True)
                 if ins.get("focal")]
        self.focal: CoverageView | None = focal[0] if focal else None
        if self.focal is None:
            self.gaps.add("Claim.insurance", "One insurance must be focal (the payer billed)")
        self.others = [cv for cv in self.coverages if cv is not self.focal]

    # --- parties ----------------------------------------------------------------------------

    def _coverage(self, position: int, ins: Resource) -> CoverageView:
        path = f"Claim.insurance[{position}]"
        coverage = self.index.resolve(ins.get("coverage"), self.claim, "Coverage")
        if coverage is None:
            self.gaps.add(f"{path}.coverage", "The Coverage must be in the Bundle (2000B)")
        payer = None
        if coverage is not None:
            payors = coverage.get("payor") or []
            payer = self.index.resolve(payors[0], coverage) if payors else None
        if payer is None and ins.get("focal"):
            payer = self.index.resolve(self.claim.get("insurer"), self.claim)
        subscriber = self.index.resolve((coverage or {}).get("subscriber"), coverage)
        relationship = code((coverage or {}).get("relationship"))
        if subscriber is None and (relationship in ("", "self")):
            subscriber = self.index.resolve((coverage or {}).get("beneficiary"), coverage)
        if not relationship and subscriber is not None and subscriber is self.patient:
            relationship = "self"
        member = (str((coverage or {}).get("subscriberId") or "")
                  or identifier_of_type(coverage, "MB", "SN"))
        prior = self.index.resolve(ins.get("claimResponse"), self.claim)
        if prior is None and coverage is not None:
            prior = self._prior_eob(coverage)
        return CoverageView(
            sequence=int(ins.get("sequence") or position + 1), path=path, coverage=coverage,
            payer=payer, subscriber=subscriber, relationship=relationship or "self",
            member_id=member, payer_id=payer_identifier(payer),
            pre_auth=[str(p) for p in ins.get("preAuthRef") or []], prior=prior,
        )

    def _prior_eob(self, coverage: Resource) -> Resource | None:
        for eob in self.index.of_type("ExplanationOfBenefit"):
            for ins in eob.get("insurance") or []:
                if self.index.resolve(ins.get("coverage"), eob, "Coverage") is coverage:
                    return eob
        return None

    def care_team(self, *roles: str) -> tuple[Resource | None, Resource | None]:
        """The first care team member with one of ``roles`` (and its PractitionerRole)."""
        for member in self.claim.get("careTeam") or []:
            member_roles = set(codes(member.get("role")))
            if member_roles & set(roles):
                found = self.index.resolve(member.get("provider"), self.claim)
                if found is not None and found["resourceType"] == "PractitionerRole":
                    return (self.index.resolve(found.get("practitioner"), found)
                            or self.index.resolve(found.get("organization"), found)), found
                return found, None
        return None, None

    def facility(self) -> Resource | None:
        return self.index.resolve(self.claim.get("facility"), self.claim, "Location")

    def payee(self) -> Resource | None:
        """The pay-to party when it is not the billing provider (2010AB)."""
        party = self.index.resolve((self.claim.get("payee") or {}).get("party"), self.claim)
        return None if party is None or party is self.provider else party

    # --- claim ------------------------------------------------------------------------------

    def patient_control_number(self) -> str:
        """CLM01: Claim.identifier in our patient-control-number system, else the first one."""
        pcn = identifier(self.claim, systems.patient_control_number())
        if not pcn:
            idents = [i for i in self.claim.get("identifier") or [] if i.get("value")]
            pcn = str(idents[0]["value"]) if idents else ""
        if not pcn:
            self.gaps.add("Claim.identifier", "A patient control number is required (CLM01)")
        elif len(pcn) > 20:
            self.gaps.add("Claim.identifier", "The patient control number is over 20 characters "
                          "(CLM01)")
        elif re.search(r"[*~:^|>\r\n]", pcn):
            self.gaps.add("Claim.identifier", "The patient control number holds an X12 "
                          "delimiter (CLM01)", "invalid")
        return pcn[:20]

    def total(self) -> Decimal | None:
        """CLM02: Claim.total, else the sum of the items' net amounts."""
        total = amount(self.claim.get("total"))
        if total is None:
            nets = [amount(i.get("net")) for i in self.claim.get("item") or []]
            if nets and all(n is not None for n in nets):
                total = sum((n for n in nets if n is not None), Decimal(0))
        if total is None:
            self.gaps.add("Claim.total", "The total charge is required (CLM02)")
        return total

    def frequency(self) -> tuple[str, str]:
        """CLM05-3 frequency and the original claim's payer number for REF*F8.

        A Claim relating to a ``prior`` claim replaces it (7); a cancelled one voids it (8).
        """
        for related in self.claim.get("related") or []:
            if code(related.get("relationship")) == "prior":
                original = str((related.get("reference") or {}).get("value") or "")
                if not original:
                    self.gaps.add("Claim.related.reference",
                                  "A replacement or void names the original claim (REF*F8)")
                return ("8" if self.claim.get("status") == "cancelled" else "7"), original
        return "1", ""

    def diagnoses(self) -> list[tuple[int, str, str]]:
        """(sequence, ICD-10-CM code without its dot, FHIR diagnosis type) in sequence order."""
        out = []
        entries = sorted(enumerate(self.claim.get("diagnosis") or []),
                         key=lambda p: (p[1].get("sequence") or 0, p[0]))
        for position, dx in entries:
            concept = dx.get("diagnosisCodeableConcept")
            if concept is None and dx.get("diagnosisReference"):
                condition = self.index.resolve(dx["diagnosisReference"], self.claim, "Condition")
                concept = (condition or {}).get("code")
            value = code(concept, *_ICD10)
            if not value:
                self.gaps.add(f"Claim.diagnosis[{position}]",
                              "Each diagnosis needs an ICD-10-CM code (HI)")
                continue
            kinds = [c for t in dx.get("type") or [] for c in codes(t)]
            value = self.gaps.valid(value.replace(".", ""), f"Claim.diagnosis[{position}]",
                                    ICD10_SHAPE, "Not an ICD-10-CM code (HI)")
            if not value:
                continue
            out.append((int(dx.get("sequence") or position + 1), value,
                        kinds[0] if kinds else ""))
        if not out:
            self.gaps.add("Claim.diagnosis", "At least one diagnosis is required (HI ABK)")
        return out

    def supporting(self, category: str) -> Resource | None:
        """The first supportingInfo of a CARIN BB category (typeofbill, admtype...)."""
        for info in self.claim.get("supportingInfo") or []:
            if category in codes(info.get("category")):
                found: Resource = info
                return found
        return None

    def place_of_service(self) -> str:
        """CLM05-1 for 837P: the first item's CMS place of service."""
        for item in self.claim.get("item") or []:
            found = place_code(item.get("locationCodeableConcept"))
            if found:
                return found
        self.gaps.add("Claim.item.locationCodeableConcept",
                      "A CMS place of service is required (CLM05-1)")
        return ""


def party_ids(party: Resource | None) -> tuple[str, str, str]:
    """(NPI, TIN, SSN) of a provider; a value not shaped as one (10-digit NPI, 9-digit tax id
    with or without its dashes) counts as absent."""
    npi = identifier(party, NPI_SYSTEM) or identifier_of_type(party, "NPI")
    tin = identifier(party, *TIN_SYSTEMS) or identifier_of_type(party, "TAX")
    ssn = identifier(party, SSN_SYSTEM)
    return (npi if re.fullmatch(r"\d{10}", npi) else "",
            tin if re.fullmatch(r"\d{2}-?\d{7}", tin) else "",
            ssn if re.fullmatch(r"\d{3}-?\d{2}-?\d{4}", ssn) else "")


__all__ += ["party_ids"]


