"""835 + the submitted Claim -> a CARIN BB 2.0.0 ExplanationOfBenefit; the compact C4BB rule
checker against the guide's own examples and against broken copies."""

from __future__ import annotations

import copy
import json
import tarfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from mappers.fhir_x12.x835_to_fhir import remittance_resources
from mappers.x12 import parse
from profiles import carin_bb
from profiles.carin_bb_check import check_c4bb_eob
from server.fhir.json_codec import dumps, loads
from server.fhir.validation import validate_resource
from tests.api.fhir_client import strict_model
from tests.conftest import CONFORMANCE

HERE = Path(__file__).resolve().parent
FIXTURES = HERE / "fixtures"
THREE_CLAIMS = HERE.parent / "x12" / "fixtures" / "835_three_claims.x12"
INSTITUTIONAL = FIXTURES / "c4bb_835_institutional.x12"
IG = CONFORMANCE / "ig" / "hl7.fhir.us.carin-bb-2.0.0.tgz"
SD = "http://hl7.org/fhir/us/carin-bb/StructureDefinition/C4BB-ExplanationOfBenefit-"
DISCRIMINATOR = "http://hl7.org/fhir/us/carin-bb/CodeSystem/C4BBAdjudicationDiscriminator"

Resource = dict[str, Any]


def _claim(name: str) -> Resource:
    data: Resource = json.loads((FIXTURES / f"c4bb_{name}_claim.json").read_text())
    return data


def _eobs(path: Path, claims: dict[str, Any] | None = None,
          network: dict[str, str] | None = None) -> dict[str, Resource]:
    sets, report = parse(path.read_text())
    assert report.valid
    return {r["claim"]["identifier"]["value"]: r
            for r in remittance_resources(sets[0], claims, network)
            if r["resourceType"] == "ExplanationOfBenefit"}


def _professional() -> dict[str, Resource]:
    return _eobs(THREE_CLAIMS, {"PCN-1001": _claim("professional")})


def _institutional() -> dict[str, Resource]:
    return _eobs(INSTITUTIONAL, {"IPC-2001": _claim("inpatient"),
                                 "OPC-2002": _claim("outpatient")})


def _amounts(entries: list[Resource]) -> list[tuple[str, Decimal]]:
    return [(e["category"]["coding"][0]["code"], e["amount"]["value"])
            for e in entries if "amount" in e]


def _codes(entries: list[Resource], code: str) -> list[Resource]:
    return [e for e in entries if e["category"]["coding"][0]["code"] == code]


# -- mapped EOBs ---------------------------------------------------------------------------

@pytest.mark.parametrize(("pcn", "profile"), [
    ("PCN-1001", "Professional-NonClinician"),
    ("IPC-2001", "Inpatient-Institutional"),
    ("OPC-2002", "Outpatient-Institutional"),
])
def test_known_claim_gives_a_conforming_valid_eob(pcn: str, profile: str) -> None:
    eob = {**_professional(), **_institutional()}[pcn]
    assert eob["meta"]["profile"] == [f"{SD}{profile}|2.0.0"]
    assert check_c4bb_eob(eob) == []
    validate_resource(loads(dumps(eob)), model_check=True)
    strict_model(json.loads(dumps(eob)))


def test_without_the_claim_no_profile_is_claimed() -> None:
    alone = _eobs(THREE_CLAIMS)
    combined = _professional()
    assert all("meta" not in eob for eob in alone.values())
    assert "meta" not in combined["PCN-1002"] and "meta" not in combined["PCN-0999"]
    assert combined["PCN-1002"] == alone["PCN-1002"]
    assert check_c4bb_eob(alone["PCN-1001"])[0].startswith("ExplanationOfBenefit.meta.profile")
    assert all("meta" not in eob for eob in _eobs(INSTITUTIONAL).values())


def test_amounts_are_the_835s() -> None:
    alone, eob = _eobs(THREE_CLAIMS)["PCN-1001"], _professional()["PCN-1001"]
    assert _amounts(eob["total"]) == _amounts(alone["total"]) == [
        ("submitted", Decimal("160")), ("paidtoprovider", Decimal("98")),
        ("memberliability", Decimal("20"))]
    assert eob["payment"]["amount"] == alone["payment"]["amount"]
    for mine, theirs in zip(eob["item"], alone["item"], strict=True):
        assert _amounts(mine["adjudication"]) == _amounts(theirs["adjudication"])
        adj = mine["adjudication"]
        charged = sum(a["amount"]["value"] for a in _codes(adj, "submitted"))
        paid = sum(a["amount"]["value"] for a in _codes(adj, "paidtoprovider"))
        adjusted = sum(a["amount"]["value"] for a in adj if "amount" in a and "reason" in a)
        assert charged - adjusted == paid
    line2 = eob["item"][1]["adjudication"]
    assert [a["reason"]["coding"][0]["code"] for a in _codes(line2, "coinsurance")] == ["2"]


def test_professional_combines_the_claim() -> None:
    eob = _professional()["PCN-1001"]
    assert eob["patient"] == {"reference": "Patient/pat-hartley"}
    assert eob["insurance"] == [{"focal": True, "coverage": {"reference": "Coverage/cov-hartley"}}]
    assert eob["insurer"]["reference"] == "Organization/org-cascade"
    assert eob["provider"]["reference"] == "Organization/org-riverside"
    uc = [i for i in eob["identifier"] if "type" in i]
    assert [(i["type"]["coding"][0]["code"], i["value"]) for i in uc] == [("uc", "PAYERCTRL0001")]
    assert [(d["diagnosisCodeableConcept"]["coding"][0]["code"], d["type"][0]["coding"][0]["code"])
            for d in eob["diagnosis"]] == [("J02.9", "principal"), ("R50.9", "secondary")]
    # the Claim's assistant has no C4BB role and is left out
    assert [(m["provider"]["reference"], m["role"]["coding"][0]["code"])
            for m in eob["careTeam"]] == [("Practitioner/prac-okafor", "rendering"),
                                          ("Practitioner/prac-lindqvist", "referring")]
    item = eob["item"][0]
    assert item["locationCodeableConcept"]["coding"][0]["code"] == "11"
    assert item["diagnosisSequence"] == [1, 2] and item["careTeamSequence"] == [1, 2]
    status = _codes(item["adjudication"], "benefitpaymentstatus")
    assert [s["reason"]["coding"][0]["code"] for s in status] == ["other"]
    info = {i["category"]["coding"][0]["code"]: i for i in eob["supportingInfo"]}
    assert info["clmrecvddate"]["timingDate"] == "2026-11-12"
    assert info["patientaccountnumber"]["valueString"] == "PCN-1001"
    assert eob["payment"]["type"]["coding"][0]["code"] == "paid"


def test_network_status_when_the_payer_gives_one() -> None:
    eob = _eobs(THREE_CLAIMS, {"PCN-1001": _claim("professional")},
                {"PCN-1001": "innetwork"})["PCN-1001"]
    assert check_c4bb_eob(eob) == []
    assert {s["reason"]["coding"][0]["code"] for item in eob["item"]
            for s in _codes(item["adjudication"], "benefitpaymentstatus")} == {"innetwork"}
    assert _codes(eob["adjudication"], "billingnetworkstatus")[0]["reason"]["coding"][0][
        "code"] == "innetwork"


def test_institutional_eobs() -> None:
    eobs = _institutional()
    inpatient, outpatient = eobs["IPC-2001"], eobs["OPC-2002"]
    assert inpatient["subType"]["coding"][0]["code"] == "inpatient"  # bill type 0111
    assert outpatient["subType"]["coding"][0]["code"] == "outpatient"  # CLP08 13
    info = {i["category"]["coding"][0]["code"]: i for i in inpatient["supportingInfo"]}
    assert info["admissionperiod"]["timingPeriod"] == {"start": "2026-11-20", "end": "2026-11-23"}
    assert info["discharge-status"]["code"]["coding"][0]["code"] == "01"
    assert [d["type"][0]["coding"][0]["code"] for d in inpatient["diagnosis"]] == [
        "principal", "admitting", "other"]
    assert inpatient["procedure"][0]["procedureCodeableConcept"]["coding"][0]["code"] == "0DTJ4ZZ"
    # no service lines in the 835: the Claim's items, the amounts at the header
    assert [i["revenue"]["coding"][0]["code"] for i in inpatient["item"]] == ["0120", "0360"]
    assert ("paidtoprovider", Decimal("3800")) in _amounts(inpatient["adjudication"])
    assert ("deductible", Decimal("200")) in _amounts(inpatient["adjudication"])
    # service lines: amounts per item, the header holds the benefit payment status only
    assert [i["revenue"]["coding"][0]["code"] for i in outpatient["item"]] == ["0320", "0300"]
    assert outpatient["item"][1]["productOrService"]["coding"][0]["code"] == "not-applicable"
    assert [a["category"]["coding"][0]["code"] for a in outpatient["adjudication"]] == [
        "benefitpaymentstatus"]
    assert _amounts(outpatient["total"])[:2] == [("submitted", Decimal("400")),
                                                 ("paidtoprovider", Decimal("280"))]


def test_a_claim_without_a_fitting_profile_keeps_the_835_mapping() -> None:
    oral = _claim("professional")
    oral["entry"][0]["resource"]["type"]["coding"][0]["code"] = "oral"
    assert "meta" not in _eobs(THREE_CLAIMS, {"PCN-1001": oral})["PCN-1001"]
    no_diagnosis = _claim("professional")
    del no_diagnosis["entry"][0]["resource"]["diagnosis"]
    assert "meta" not in _eobs(THREE_CLAIMS, {"PCN-1001": no_diagnosis})["PCN-1001"]


# -- the checker on broken copies --------------------------------------------------------------

def _broken(eob: Resource, change: Any) -> list[str]:
    copied = copy.deepcopy(eob)
    change(copied)
    return check_c4bb_eob(copied)


def test_checker_names_each_violation() -> None:
    eob = _professional()["PCN-1001"]
    item = "ExplanationOfBenefit.item[0]"
    assert _broken(eob, lambda e: e["item"][0].pop("locationCodeableConcept")) == [
        f"{item}.locationCodeableConcept: required (1..1), found 0"]
    assert _broken(eob, lambda e: e["item"][0]["adjudication"].pop(0)) == [
        f"{item}.adjudication: slice benefitpaymentstatus (category {DISCRIMINATOR}"
        "#benefitpaymentstatus) needs 1..1, found 0"]
    assert _broken(eob, lambda e: e["identifier"][1].pop("type")) == [
        "ExplanationOfBenefit.identifier: slice uniqueclaimid (type http://hl7.org/fhir/us/"
        "carin-bb/CodeSystem/C4BBIdentifierType#uc) needs 1..1, found 0"]

    def admitting(e: Resource) -> None:
        e["diagnosis"][1]["type"][0]["coding"][0]["code"] = "admitting"
    assert _broken(eob, admitting) == [
        "ExplanationOfBenefit.diagnosis[1].type[0]: http://hl7.org/fhir/us/carin-bb/CodeSystem/"
        "C4BBClaimDiagnosisType#admitting is not in the required value set "
        "C4BBClaimProfessionalAndNonClinicianDiagnosisType"]

    def old_version(e: Resource) -> None:
        e["meta"]["profile"] = [f"{SD}Professional-NonClinician|1.1.0"]
    assert _broken(eob, old_version) == [
        "ExplanationOfBenefit: invariant EOB-professional-nonclinician-meta-profile-version "
        "fails: Professional and Nonclinician EOB: meta.profile with canonical and "
        "major.minor. version required."]
    assert _broken(eob, lambda e: e.pop("diagnosis")) == [
        "ExplanationOfBenefit.diagnosis: required (1..*), found 0"]

    def no_reason(e: Resource) -> None:
        e["item"][0]["adjudication"][0].pop("reason")
    assert _broken(eob, no_reason) == [
        f"{item}.adjudication[0].reason: required (1..1), found 0 (slice benefitpaymentstatus)"]


def test_checker_on_institutional_rules() -> None:
    eobs = _institutional()
    inpatient, outpatient = eobs["IPC-2001"], eobs["OPC-2002"]

    def no_admission(e: Resource) -> None:
        e["supportingInfo"] = [i for i in e["supportingInfo"]
                               if i["category"]["coding"][0]["code"] != "admissionperiod"]
    found = _broken(inpatient, no_admission)
    assert len(found) == 1 and "slice admissionperiod" in found[0] and "needs 1..1" in found[0]

    def both_levels(e: Resource) -> None:
        e["adjudication"].append(e["item"][0]["adjudication"][0])
    assert _broken(outpatient, both_levels) == [
        "ExplanationOfBenefit: invariant EOB-institutional-item-or-header-adjudication fails: "
        "Institutional EOB: Should have adjudication with adjudicationamounttype slice at the "
        "item or header level, but not both"]

    def professional_type(e: Resource) -> None:
        e["type"]["coding"][0]["code"] = "professional"
    assert _broken(inpatient, professional_type) == [
        "ExplanationOfBenefit.type: must be http://terminology.hl7.org/CodeSystem/claim-type"
        "#institutional, found http://terminology.hl7.org/CodeSystem/claim-type#professional"]
    assert _broken(outpatient, lambda e: e["item"][0].pop("revenue")) == []  # 0..1 outpatient
    assert _broken(inpatient, lambda e: e["item"][0].pop("revenue")) == [
        "ExplanationOfBenefit.item[0].revenue: required (1..1), found 0"]


def test_every_invariant_of_the_rules_is_known() -> None:
    from profiles.carin_bb_check import _INVARIANTS

    skipped = {"EOB-prof-careTeam-practitioner", "EOB-inst-careTeam-practitioner",
               "EOB-inst-careTeam-organization"}
    for profile in carin_bb.PROFILES.values():
        for p in (profile, carin_bb.BASE):
            for key, _ in p.invariants:
                assert key in _INVARIANTS or key in skipped or \
                    key.endswith("-meta-profile-version"), key


# -- the guide's own examples and the generated rules ----------------------------------------

def _ig_examples() -> dict[str, Resource]:
    with tarfile.open(IG) as tar:
        return {Path(m.name).stem: json.load(tar.extractfile(m))  # type: ignore[arg-type]
                for m in tar.getmembers()
                if m.name.startswith("package/example/ExplanationOfBenefit-")}


@pytest.mark.conformance
@pytest.mark.skipif(not IG.is_file(), reason="no ../shared/conformance")
def test_the_guides_examples_conform_and_break_when_changed() -> None:
    examples = _ig_examples()
    covered = [e for e in examples.values()
               if any(p.split("|")[0] in carin_bb.PROFILES for p in e["meta"]["profile"])]
    assert len(covered) == 7
    for example in covered:
        assert check_c4bb_eob(example) == [], example["id"]
    professional = examples["ExplanationOfBenefit-EOBProfessional1"]
    assert _broken(professional, lambda e: e["item"][0].pop("servicedDate")) == [
        "ExplanationOfBenefit.item[0].serviced[x]: required (1..1), found 0"]
    inpatient = examples["ExplanationOfBenefit-EOBInpatient1"]
    assert _broken(inpatient, lambda e: e.pop("subType")) == [
        "ExplanationOfBenefit.subType: required (1..1), found 0"]
    oral = examples["ExplanationOfBenefit-EOBOral1"]
    assert check_c4bb_eob(oral)[0].startswith("ExplanationOfBenefit.meta.profile: names no")


@pytest.mark.conformance
@pytest.mark.skipif(not IG.is_file(), reason="no ../shared/conformance")
def test_the_rules_regenerate_from_the_package() -> None:
    import importlib.util

    script = HERE.parents[1] / "scripts" / "c4bb_rules_from_ig.py"
    spec = importlib.util.spec_from_file_location("c4bb_rules_from_ig", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.generate(IG) == Path(carin_bb.__file__).read_text()
