"""Inputs and oracles for the clearinghouse engine tests: 837Ps built by the facade's own writer
from claim Bundles (``tests/mappers/claim_bundles.py``) or written by hand, CHC JSON claim bodies,
pyx12 as an independent validator, and small readers of what the engine wrote."""

from __future__ import annotations

import copy
import io
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import pytest

from mappers.fhir_x12.interchange import TradingPartners
from mappers.fhir_x12.translations import inbound_resources, outbound
from mappers.x12 import parse
from mappers.x12.tree import Segment, TransactionSet
from mappers.x12.writer import ControlNumbers, CountingControlNumbers
from sandbox.clearinghouse.engine import Engine, EngineConfig
from sandbox.clearinghouse.ledger import Ledger
from sandbox.clearinghouse.model import ResponseFile, Submitter
from tests.mappers import claim_bundles as cb

SUBMITTER = Submitter("facade", "FACADE", "T")
CPT = cb.CPT
VALID_NPI = "1234567893"
BAD_NPI = "1234567890"


def new_engine() -> Engine:
    return Engine(EngineConfig(), Ledger(None))


def claim_bundle(pcn: str, lines: Sequence[tuple[str, str, str]] = (("99213", "100", ""),),
                 payer_id: str = "PHP01", payer_name: str = "Prairie Health Plan",
                 zip_code: str = "62701-1234") -> dict[str, Any]:
    """A professional claim Bundle; ``lines`` are (procedure, charge, modifier)."""
    bundle = cb.professional_bundle()
    claim = bundle["entry"][0]["resource"]
    claim["identifier"][0]["value"] = pcn
    items = []
    for n, (code, charge, modifier) in enumerate(lines, 1):
        item: dict[str, Any] = {
            "sequence": n, "diagnosisSequence": [1],
            "productOrService": {"coding": [{"system": CPT, "code": code}]},
            "servicedDate": "2026-10-05", "quantity": {"value": 1},
            "net": {"value": float(charge), "currency": "USD"},
            "locationCodeableConcept": {"coding": [{"system": cb.POS, "code": "11"}]},
        }
        if modifier:
            item["modifier"] = [{"coding": [{"system": CPT, "code": modifier}]}]
        items.append(item)
    claim["item"] = items
    claim["total"] = {"value": float(sum(Decimal(c) for _, c, _ in lines)), "currency": "USD"}
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Organization" and resource["id"].endswith("02"):
            resource["identifier"][0]["value"] = payer_id
            resource["name"] = payer_name
        if resource["resourceType"] == "Organization" and resource["id"].endswith("01"):
            resource["address"][0]["postalCode"] = zip_code
    return bundle


def facade_837(bundles: Sequence[dict[str, Any]], numbers: ControlNumbers | None = None,
               partners: TradingPartners | None = None) -> str:
    """The 837P the facade itself would send for ``bundles``."""
    return outbound("837P", [copy.deepcopy(b) for b in bundles], partners or TradingPartners(),
                    numbers or CountingControlNumbers())


HAND_837 = (
    "ISA*00*          *00*          *ZZ*FACADE         *ZZ*CLEARINGHOUSE  *261120*0930*^*00501"
    "*{isa13}*{ack}*{usage}*:~\n"
) + """GS*HC*FACADE*CLEARINGHOUSE*20261120*0930*{gs06}*X*005010X222A1~
ST*837*0001*005010X222A1~
BHT*0019*00*{bht03}*20261120*0930*CH~
NM1*41*2*RIVERSIDE FAMILY MEDICINE*****46*FACADE~
PER*IC*BILLING OFFICE*TE*5035550100~
NM1*40*2*SANDBOX CLEARINGHOUSE*****46*CLEARINGHOUSE~
HL*1**20*1~
NM1*85*2*RIVERSIDE FAMILY MEDICINE*****XX*{npi}~
N3*100 RIVER ROAD~
N4*PORTLAND*OR*{zip}~
REF*EI*930000001~
HL*2*1*22*0~
SBR*P*18*GRP7788******CI~
NM1*IL*1*HARTLEY*ROSE*M***MI*W1000200301~
DMG*D8*19800214*F~
NM1*PR*2*CASCADE HEALTH PLAN*****PI*60054~
CLM*{pcn}*{charge}***11:B:1*Y*A*Y*Y~
HI*ABK:J0300~
LX*1~
SV1*HC:99214:25*120*UN*1***1~
DTP*472*D8*20261110~
REF*6R*{pcn}-1~
LX*2~
SV1*HC:87880*40*UN*1***1~
DTP*472*D8*20261110~
REF*6R*{pcn}-2~
SE*26*0001~
GE*1*{gs06}~
IEA*1*{isa13}~
"""


def hand_837(pcn: str = "PCN-H1", *, isa13: str = "000000777", gs06: str = "777",
             bht03: str = "HANDBATCH1", npi: str = VALID_NPI, zip_code: str = "972051234",
             charge: str = "160", usage: str = "T", ack: str = "0") -> str:
    """A small hand-written 837P: one claim of two lines (120 + 40) to payer 60054."""
    return HAND_837.format(isa13=isa13, gs06=gs06, bht03=bht03, npi=npi, zip=zip_code,
                           pcn=pcn, charge=charge, usage=usage, ack=ack)


def json_claim(pcn: str = "PCN-J1", *, lines: Sequence[tuple[str, str]] = (("90837", "109.20"),),
               charge: str | None = None, zip_code: str = "123450000",
               npi: str = "1999999984", payer_id: str = "9496") -> dict[str, Any]:
    """A CHC professional claims v3 body (Stedi's published example, CLEARINGHOUSES.md 3)."""
    total = charge if charge is not None else str(sum(Decimal(c) for _, c in lines))
    return {
        "controlNumber": "555123", "tradingPartnerServiceId": payer_id, "usageIndicator": "T",
        "submitter": {"organizationName": "Test Data Health Services, Inc.",
                      "contactInformation": {"name": "Billing", "phoneNumber": "5552223333"}},
        "receiver": {"organizationName": "EXTRA HEALTHY INSURANCE"},
        "subscriber": {"memberId": "U7777788888", "paymentResponsibilityLevelCode": "P",
                       "firstName": "John", "lastName": "Anon", "gender": "M",
                       "dateOfBirth": "20000101", "groupNumber": "3335555"},
        "billing": {"providerType": "BillingProvider", "npi": npi, "employerId": "123456789",
                    "taxonomyCode": "2084P0800X", "organizationName": "Therapy Associates",
                    "address": {"address1": "123 Some St", "city": "A City", "state": "NY",
                                "postalCode": zip_code}},
        "claimInformation": {
            "claimFilingCode": "CI", "patientControlNumber": pcn, "claimChargeAmount": total,
            "placeOfServiceCode": "02", "claimFrequencyCode": "1", "signatureIndicator": "Y",
            "planParticipationCode": "A", "benefitsAssignmentCertificationIndicator": "Y",
            "releaseInformationCode": "Y",
            "healthCareCodeInformation": [{"diagnosisTypeCode": "ABK", "diagnosisCode": "F1111"}],
            "serviceLines": [
                {"serviceDate": "20240101", "providerControlNumber": f"{pcn}-{n}",
                 "professionalService": {
                     "procedureIdentifier": "HC", "procedureCode": code,
                     "procedureModifiers": [], "lineItemChargeAmount": amount,
                     "measurementUnit": "UN", "serviceUnitCount": "1",
                     "compositeDiagnosisCodePointers": {"diagnosisCodePointers": ["1"]}}}
                for n, (code, amount) in enumerate(lines, 1)],
        },
    }


def pyx12_verdict(text: str) -> tuple[bool, str]:
    """pyx12's verdict and error JSON (X12.md 6.1)."""
    params = pytest.importorskip("pyx12.params")
    document = pytest.importorskip("pyx12.x12n_document")
    errors = io.StringIO()
    ok = document.x12n_document(param=params.params(), src_file=io.StringIO(text),
                                fd_997=io.StringIO(), fd_html=None, fd_json=errors)
    return bool(ok), errors.getvalue()


def read_valid(text: str) -> list[TransactionSet]:
    """The sets of ``text``, which our own guide validator must find valid."""
    sets, report = parse(text)
    assert report.valid, report.errors
    return sets


def of_kind(files: Sequence[ResponseFile], kind: str) -> list[ResponseFile]:
    return [f for f in files if f.kind == kind]


def segments(ts: TransactionSet, tag: str) -> list[Segment]:
    return [s for s in ts.root.walk() if s.tag == tag]


def resources(text: str) -> list[dict[str, Any]]:
    """What the facade's inbound mappers make of ``text``."""
    out: list[dict[str, Any]] = []
    for ts in read_valid(text):
        found = inbound_resources(ts)
        assert found is not None
        out += found
    return out
