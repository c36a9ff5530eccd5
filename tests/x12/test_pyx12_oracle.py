"""pyx12 4.0.0 as an independent oracle: on the 837P, 837I, 835, 277CA and 999 fixtures and on
deliberately broken variants of each, our valid / invalid verdict agrees with pyx12's.

Each variant breaks one thing (SE01 is recounted unless the count is the defect), and each case
asserts the verdict the guide calls for from both validators, so a variant that stopped being
broken, or a base that stopped being clean, fails instead of "agreeing" by accident.

The 999 cases validate what our ``acknowledgments`` writes for the 837P fixture (all accepted) and
for a broken 837P (IK3 with and without IK4), then break that 999. The 835 and the 999 have no HL
segments, so they have no HL-parent case.

Where pyx12 departs from the guides (X12.md 6.1, 2.2), the verdicts differ; every such place is
listed in ``DISAGREEMENTS`` with the verdict each side gives and why, plus one behaviour that is no
verdict: pyx12 writes no complete 999 for an 835 (``test_pyx12_writes_no_999_for_an_835``).

pyx12 loads its map on every call (~0.15 s for an 837, ~0.04 s for the others): the module runs in
about 10 s.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import cache

import pytest

from mappers.x12 import CountingControlNumbers, acknowledgments, validate
from tests.x12.conftest import fixture_text, recount

pyx12_params = pytest.importorskip("pyx12.params")
pyx12_document = pytest.importorskip("pyx12.x12n_document")

ACK_TIME = datetime(2026, 11, 20, 10, 0)

Edit = tuple[str, str]
"""(old, new): the one run of segments whose text is exactly ``old`` (segments joined by ``~``,
no final terminator) becomes ``new`` (same form), or is dropped when ``new`` is empty."""


# --- the two validators -----------------------------------------------------------------------


def pyx12_accepts(text: str) -> bool:
    """pyx12's verdict through its API (X12.md 6.1), 999 and error JSON kept in memory."""
    ok = pyx12_document.x12n_document(
        param=pyx12_params.params(),
        src_file=io.StringIO(text.lstrip("\ufeff")),
        fd_997=io.StringIO(),
        fd_html=None,
        fd_json=io.StringIO(),
    )
    return bool(ok)


def pyx12_ack(text: str) -> str:
    """The acknowledgment pyx12 writes for ``text``."""
    ack = io.StringIO()
    pyx12_document.x12n_document(
        param=pyx12_params.params(), src_file=io.StringIO(text), fd_997=ack, fd_html=None
    )
    return ack.getvalue()


def ours_accepts(text: str) -> bool:
    return validate(text.encode()).valid


def ours_ack(text: str) -> str:
    return acknowledgments(validate(text.encode()), CountingControlNumbers(), when=ACK_TIME)


# --- building the variants --------------------------------------------------------------------


def mutate(text: str, *edits: Edit, recount_se: bool = True) -> str:
    """``text`` with ``edits`` applied; SE01 recounted unless ``recount_se`` is False."""
    segs = [s.strip("\r\n") for s in text.split("~") if s.strip()]
    for old, new in edits:
        run = old.split("~")
        hits = [i for i in range(len(segs)) if segs[i : i + len(run)] == run]
        assert len(hits) == 1, f"{old!r} occurs {len(hits)} times"
        segs[hits[0] : hits[0] + len(run)] = new.split("~") if new else []
    if recount_se:
        parts = [s.split("*") for s in segs]
        recount(parts)
        segs = ["*".join(p) for p in parts]
    return "".join(s + "~\n" for s in segs)


def segment(text: str, tag: str) -> str:
    """The only segment of ``text`` with this tag."""
    hits = [s.strip("\r\n") for s in text.split("~") if s.strip("\r\n").startswith(tag + "*")]
    assert len(hits) == 1, f"{tag} occurs {len(hits)} times"
    return hits[0]


FIXTURE_837P = fixture_text("837p_two_claims.x12")
# The 837P fixture carries PWK*CT*AD in 2400, valid per X222A1 but rejected by pyx12 (see
# DISAGREEMENTS); the agreeing cases start from the fixture without it.
BASE_837P = mutate(FIXTURE_837P, ("PWK*CT*AD", ""))
BASE_837I = fixture_text("837i_inpatient.x12")
BASE_835 = fixture_text("835_three_claims.x12")
BASE_277CA = fixture_text("277ca_mixed.x12")
# An 837P with two defects: 2010AA REF*EI missing (IK3 only) and DMG03 "X" (IK3 + IK4).
BROKEN_837P = mutate(
    FIXTURE_837P, ("REF*EI*930000001", ""), ("DMG*D8*19800214*F", "DMG*D8*19800214*X")
)


@cache
def base(name: str) -> str:
    if name == "999-accepted":
        return ours_ack(FIXTURE_837P)
    if name == "999-rejected":
        return ours_ack(BROKEN_837P)
    return {"837P": BASE_837P, "837I": BASE_837I, "835": BASE_835, "277CA": BASE_277CA}[name]


@dataclass(frozen=True)
class Case:
    id: str
    base: str
    edits: tuple[Edit, ...]
    recount_se: bool = True

    def text(self) -> str:
        return mutate(base(self.base), *self.edits, recount_se=self.recount_se)


def case(base_name: str, case_id: str, *edits: Edit, recount_se: bool = True) -> Case:
    return Case(f"{base_name}:{case_id}", base_name, edits, recount_se)


# --- the clean bases --------------------------------------------------------------------------

BASES = ["837P", "837I", "835", "277CA", "999-accepted", "999-rejected"]


@pytest.mark.parametrize("name", BASES)
def test_base_is_valid_for_both(name: str) -> None:
    text = base(name)
    report = validate(text.encode())
    assert report.valid, report.errors
    assert pyx12_accepts(text)


def test_999_bases_report_what_they_acknowledge() -> None:
    """The 999 bases are what they claim: one acceptance, one rejection with IK3 and IK4."""
    accepted, rejected = base("999-accepted"), base("999-rejected")
    assert "AK1*HC*101*005010X222A1~" in accepted
    assert "IK5*A~" in accepted and "AK9*A*1*1*1~" in accepted and "IK3*" not in accepted
    assert "IK3*REF*" in rejected and "IK3*DMG*" in rejected and "IK4*3*1068*7*X~" in rejected
    assert "IK5*R*5~" in rejected and "AK9*R*1*1*0~" in rejected


def test_277ca_fixture_acknowledges_the_837p_fixture() -> None:
    """2200B TRN02 echoes the 837P BHT03; 2200D TRN02 echoes each CLM01; the accepted claim's
    REF*1K is the payer claim number the 835 fixture returns in CLP07 (X12.md 2.3)."""
    bht03 = segment(FIXTURE_837P, "BHT").split("*")[3]
    assert f"TRN*2*{bht03}~" in BASE_277CA
    claims = ("PCN-1001", "PCN-1002")
    for clm01 in claims:
        assert f"CLM*{clm01}*" in FIXTURE_837P
    trn = [s for s in BASE_277CA.split("~\n") if s.startswith("TRN*2*PCN-")]
    assert trn == [f"TRN*2*{c}" for c in claims]
    assert "STC*A1:20*" in BASE_277CA and "STC*A7:" in BASE_277CA
    assert "REF*1K*PAYERCTRL0001~" in BASE_277CA
    assert "CLP*PCN-1001*1*160*98*20*12*PAYERCTRL0001*" in BASE_835


# --- broken variants: both reject -------------------------------------------------------------

BPR_835 = "BPR*I*213.50*C*ACH*CCP*01*123000248*DA*55550001*1600054321**01*121000358*DA*99990002*"
BROKEN: list[Case] = [
    # 837P (the fixture without PWK*CT*AD)
    case("837P", "SE01-wrong", ("SE*40*0001", "SE*41*0001"), recount_se=False),
    case("837P", "SE02-not-ST02", ("SE*40*0001", "SE*40*0002"), recount_se=False),
    case("837P", "missing-2010AA-REF-EI", ("REF*EI*930000001", "")),
    case("837P", "missing-2010BB-loop", ("NM1*PR*2*CASCADE HEALTH PLAN*****PI*60054", "")),
    case("837P", "bad-code-DMG03", ("DMG*D8*19800214*F", "DMG*D8*19800214*X")),
    case("837P", "bad-code-SV103", ("SV1*HC:87880*40*UN*1***1", "SV1*HC:87880*40*XX*1***1")),
    case("837P", "bad-state-2010BA", ("N4*PORTLAND*OR*97214", "N4*PORTLAND*NP*97214")),
    case("837P", "HL02-names-later-HL", ("HL*2*1*22*0", "HL*2*3*22*0")),
    case("837P", "HL04-0-but-child-follows", ("HL*1**20*1", "HL*1**20*0")),
    case("837P", "bad-date-DMG02", ("DMG*D8*19800214*F", "DMG*D8*19800231*F")),
    case("837P", "bad-time-BHT05", ("BHT*0019*00*BATCH0001*20261120*0930*CH",
                                    "BHT*0019*00*BATCH0001*20261120*2575*CH")),
    case("837P", "REF02-too-long", ("REF*G1*AUTH55501", "REF*G1*" + "A" * 51)),
    case("837P", "missing-GE", ("GE*1*101", "")),
    case("837P", "GE01-wrong", ("GE*1*101", "GE*2*101")),
    case("837P", "IEA02-not-ISA13", ("IEA*1*000000101", "IEA*1*000000102")),
    # 837I
    case("837I", "SE01-wrong", ("SE*36*0001", "SE*35*0001"), recount_se=False),
    case("837I", "missing-CL1", ("CL1*1*7*01", "")),
    case("837I", "missing-DTP-434", ("DTP*434*RD8*20261114-20261117", "")),
    case("837I", "bad-code-CLM05-2", ("CLM*PCN-2001*4700***11:A:1**A*Y*Y",
                                      "CLM*PCN-2001*4700***11:B:1**A*Y*Y")),
    case("837I", "not-used-CLM06", ("CLM*PCN-2001*4700***11:A:1**A*Y*Y",
                                    "CLM*PCN-2001*4700***11:A:1*Y*A*Y*Y")),
    case("837I", "bad-code-SV204", ("SV2*0120**4500*DA*3", "SV2*0120**4500*XX*3")),
    case("837I", "HL02-names-itself", ("HL*2*1*22*0", "HL*2*2*22*0")),
    case("837I", "HL02-missing", ("HL*2*1*22*0", "HL*2**22*0")),
    case("837I", "RD8-single-date", ("DTP*434*RD8*20261114-20261117", "DTP*434*RD8*20261114")),
    case("837I", "RD8-bad-day", ("DTP*434*RD8*20261114-20261117",
                                 "DTP*434*RD8*20261114-20261131")),
    case("837I", "DT-bad-time", ("DTP*435*DT*202611142215", "DTP*435*DT*202611142575")),
    case("837I", "2010AA-ZIP-5-digits", ("N4*EUGENE*OR*974011234", "N4*EUGENE*OR*97401")),
    case("837I", "HI-ABK-twice", ("HI*ABJ:R0602", "HI*ABK:R0602")),
    case("837I", "missing-GE", ("GE*1*303", "")),
    # 835
    case("835", "SE01-wrong", ("SE*43*0001", "SE*44*0001"), recount_se=False),
    case("835", "missing-TRN", ("TRN*1*EFT20261121001*1600054321", "")),
    case("835", "missing-PER-BL", ("PER*BL*PROVIDER SERVICES*TE*8005550199", "")),
    case("835", "not-used-ST03", ("ST*835*0001", "ST*835*0001*005010X221A1")),
    case("835", "bad-code-CLP02", ("CLP*PCN-1001*1*160*98*20*12*PAYERCTRL0001*11*1",
                                   "CLP*PCN-1001*9*160*98*20*12*PAYERCTRL0001*11*1")),
    case("835", "bad-state-1000A", ("N4*SALEM*OR*97301", "N4*SALEM*NP*97301")),
    case("835", "REF-EV-after-DTM-405", ("REF*EV*FACADECLINIC", ""),
         ("DTM*405*20261120", "DTM*405*20261120~REF*EV*FACADECLINIC")),
    case("835", "bad-date-DTM-405", ("DTM*405*20261120", "DTM*405*20261340")),
    case("835", "bad-date-BPR16", (BPR_835 + "20261121", BPR_835 + "20261131")),
    case("835", "missing-GE", ("GE*1*202", "")),
    # 277CA
    case("277CA", "SE01-wrong", ("SE*37*0001", "SE*36*0001"), recount_se=False),
    case("277CA", "missing-DTP-009", ("DTP*009*D8*20261121", "")),
    case("277CA", "missing-2200D-DTP-472", ("DTP*472*D8*20261110", "")),
    case("277CA", "bad-code-BHT02", ("BHT*0085*08*CA20261121001*20261121*0800*TH",
                                     "BHT*0085*06*CA20261121001*20261121*0800*TH")),
    case("277CA", "bad-code-STC03", ("STC*A1:20*20261121*WQ*160", "STC*A1:20*20261121*ZZ*160")),
    case("277CA", "bad-category-STC01-1", ("STC*A1:20*20261121*WQ*160",
                                           "STC*Q9:20*20261121*WQ*160")),
    case("277CA", "bad-status-STC01-2", ("STC*A1:20*20261121*WQ*160",
                                         "STC*A1:99999*20261121*WQ*160")),
    case("277CA", "not-used-2200C-STC02", ("STC*A1:19:85**WQ*245.50",
                                           "STC*A1:19:85*20261121*WQ*245.50")),
    case("277CA", "HL02-patient-under-receiver", ("HL*4*3*PT", "HL*4*2*PT")),
    case("277CA", "HL02-unknown-parent", ("HL*4*3*PT", "HL*4*9*PT")),
    case("277CA", "not-used-PT-HL04", ("HL*4*3*PT", "HL*4*3*PT*0")),
    case("277CA", "bad-date-DTP-050", ("DTP*050*D8*20261120", "DTP*050*D8*20261131")),
    case("277CA", "bad-date-STC02", ("STC*A1:20*20261121*WQ*160", "STC*A1:20*20261321*WQ*160")),
    case("277CA", "REF-1K-twice", ("REF*1K*PAYERCTRL0001", "REF*1K*PAYERCTRL0001~REF*1K*X")),
    case("277CA", "missing-GE", ("GE*1*404", "")),
    # 999 (ours, for the broken 837P)
    case("999-rejected", "SE01-wrong", ("SE*9*0001", "SE*10*0001"), recount_se=False),
    case("999-rejected", "missing-AK9", ("AK9*R*1*1*0", "")),
    case("999-rejected", "missing-AK2", ("AK2*837*0001*005010X222A1", "")),
    case("999-rejected", "bad-code-IK501", ("IK5*R*5", "IK5*Z*5")),
    case("999-rejected", "bad-code-IK304", ("IK3*REF*11**3", "IK3*REF*11**99")),
    case("999-rejected", "bad-code-IK403", ("IK4*3*1068*7*X", "IK4*3*1068*99*X")),
    case("999-rejected", "missing-IK403", ("IK4*3*1068*7*X", "IK4*3*1068")),
    case("999-rejected", "bad-code-AK901", ("AK9*R*1*1*0", "AK9*Q*1*1*0")),
    case("999-rejected", "bad-date-GS04",
         ("GS*FA*CLEARHOUSE*FACADECLINIC*20261120*1000*1*X*005010X231A1",
          "GS*FA*CLEARHOUSE*FACADECLINIC*20261131*1000*1*X*005010X231A1")),
    case("999-rejected", "missing-GE", ("GE*1*1", "")),
    case("999-rejected", "TA1-interchange-IEA01-1", ("IEA*0*000000001", "IEA*1*000000001")),
    # 999 (ours, for the 837P fixture)
    case("999-accepted", "SE01-wrong", ("SE*6*0001", "SE*7*0001"), recount_se=False),
    case("999-accepted", "missing-AK1", ("AK1*HC*101*005010X222A1", "")),
    case("999-accepted", "bad-code-IK501", ("IK5*A", "IK5*Q")),
]


@pytest.mark.parametrize("c", BROKEN, ids=[c.id for c in BROKEN])
def test_broken_variant_is_invalid_for_both(c: Case) -> None:
    text = c.text()
    report = validate(text.encode())
    assert not report.valid, "our validator accepts it"
    assert report.errors
    assert not pyx12_accepts(text), "pyx12 accepts it"


def test_enough_broken_variants_per_transaction() -> None:
    per_base: dict[str, int] = {}
    for c in BROKEN:
        key = "999" if c.base.startswith("999") else c.base
        per_base[key] = per_base.get(key, 0) + 1
    assert set(per_base) == {"837P", "837I", "835", "277CA", "999"}
    assert min(per_base.values()) >= 5


# --- where pyx12 and the guides part ways -----------------------------------------------------


@dataclass(frozen=True)
class Disagreement:
    id: str
    source: Callable[[], str]
    ours_valid: bool
    pyx12_valid: bool
    reason: str


FACILITY_2310E = ("NM1*77*2*MERCY VALLEY HOSPITAL EAST WING*****XX*1234567893~"
                  "N3*2210 VALLEY VIEW DRIVE~N4*EUGENE*OR*{zip}")
DISAGREEMENTS: list[Disagreement] = [
    Disagreement(
        "837P:PWK-CT-AD-in-2400", lambda: FIXTURE_837P, True, False,
        "PWK*CT*AD is the 2400 DME CMN indicator (AB/AD/AF/AG/NS); pyx12 applies 2300's list",
    ),
    Disagreement(
        "837P:2010AA-ZIP-5-digits",
        lambda: mutate(BASE_837P, ("N4*PORTLAND*OR*972051234~REF*EI*930000001",
                                   "N4*PORTLAND*OR*97205~REF*EI*930000001")),
        False, True,
        "X222A1 requires ZIP+4 for the billing provider; pyx12's 837P map does not check it",
    ),
    Disagreement(
        "837P:2310C-ZIP-5-digits",
        lambda: mutate(BASE_837P, ("N4*PORTLAND*OR*972051234~LX*1",
                                   "N4*PORTLAND*OR*97205~LX*1")),
        False, True,
        "X222A1 requires ZIP+4 for the service facility; pyx12's 837P map does not check it",
    ),
    Disagreement(
        "837I:2310E-ZIP-5-digits",
        lambda: mutate(BASE_837I, ("PRV*AT*PXC*207R00000X",
                                   "PRV*AT*PXC*207R00000X~" + FACILITY_2310E.format(zip="97401"))),
        False, True,
        "X223A2 requires ZIP+4 for the service facility; pyx12's 837I map checks only 2010AA",
    ),
    Disagreement(
        "837P:ST03-names-another-guide",
        lambda: mutate(BASE_837P, ("ST*837*0001*005010X222A1", "ST*837*0001*005010X222A2")),
        False, True,
        "ST03 must repeat GS08 (005010X222A1); pyx12 picks its map from GS08 and ignores ST03",
    ),
    Disagreement(
        "837P:ST03-missing",
        lambda: mutate(BASE_837P, ("ST*837*0001*005010X222A1", "ST*837*0001")),
        False, True,
        "X222A1 makes ST03 required; pyx12's 837P map has it situational",
    ),
    Disagreement(
        "277CA:no-2200C-STC",
        lambda: mutate(BASE_277CA, ("STC*A1:19:85**WQ*245.50", "")),
        True, False,
        "X214 makes the billing-provider-level STC situational; pyx12's map requires it",
    ),
    Disagreement(
        "277CA:2000C-HL02-skips-receiver",
        lambda: mutate(BASE_277CA, ("HL*3*2*19*1", "HL*3*1*19*1")),
        False, True,
        "a billing provider HL (19) must hang under the receiver HL (21); pyx12 takes any ancestor",
    ),
    Disagreement(
        "999:segment-and-business-unit-CTX",
        lambda: mutate(base("999-rejected"), ("IK3*DMG*16**8", "IK3*DMG*16**8~"
                       "CTX*SITUATIONAL TRIGGER*SBR*12**2~CTX*CLM01:PCN-1001")),
        True, False,
        "X231A1 allows a segment-context CTX and a business-unit CTX per IK3; pyx12 counts one",
    ),
]


def test_2310e_with_zip9_is_valid_for_both() -> None:
    """The 2310E loop the ZIP disagreement adds is otherwise clean."""
    text = mutate(BASE_837I, ("PRV*AT*PXC*207R00000X",
                              "PRV*AT*PXC*207R00000X~" + FACILITY_2310E.format(zip="974011235")))
    assert ours_accepts(text) and pyx12_accepts(text)


@pytest.mark.parametrize("d", DISAGREEMENTS, ids=[d.id for d in DISAGREEMENTS])
def test_expected_disagreement(d: Disagreement) -> None:
    text = d.source()
    assert (ours_accepts(text), pyx12_accepts(text)) == (d.ours_valid, d.pyx12_valid), d.reason


def test_pyx12_writes_no_999_for_an_835() -> None:
    """pyx12 stops its 999 after AK1 for an 835 ("err_st.vriic was not set", X12.md 6.1); ours
    acknowledges the set. The verdicts agree (test_base_is_valid_for_both)."""
    theirs = pyx12_ack(BASE_835)
    assert "AK1*HP*202*005010X221A1~" in theirs and "AK2*" not in theirs
    ours = ours_ack(BASE_835)
    assert "AK2*835*0001~" in ours and "IK5*A~" in ours and "AK9*A*1*1*1~" in ours
