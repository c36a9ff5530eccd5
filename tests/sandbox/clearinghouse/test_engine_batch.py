"""The engine on 837P batch files (SFTP path): TA1, 999, 277CA and 835 in order, correlated
with what was sent (CLEARINGHOUSES.md 5.1), valid for pyx12 and our validator, balanced, and
readable by the facade's own inbound mappers; every claim counted exactly once."""

from __future__ import annotations

from mappers.fhir_x12.interchange import TradingPartners
from mappers.fhir_x12.translations import outbound
from mappers.x12.balancing import check_835
from mappers.x12.writer import CountingControlNumbers
from sandbox.clearinghouse.model import Submitter
from tests.mappers import claim_bundles as cb
from tests.sandbox.clearinghouse.engine_inputs import (
    BAD_NPI,
    SUBMITTER,
    claim_bundle,
    facade_837,
    hand_837,
    new_engine,
    of_kind,
    pyx12_verdict,
    read_valid,
    resources,
    segments,
)


def test_facade_batch_is_acknowledged_in_order_and_correlated() -> None:
    engine = new_engine()
    sent = facade_837([claim_bundle("PCN-A1", [("99213", "100", ""), ("87880", "40", "")]),
                       claim_bundle("PCN-A2", [("99214", "150", "")])])
    sent_set = read_valid(sent)[0]
    files = engine.receive_x12(sent.encode(), SUBMITTER, "batch-1.x12")

    assert [f.kind for f in files] == ["999", "277CA", "835"]
    assert all(f.meta["in_reply_to"] == sent_set.isa[13] for f in files)
    ack = read_valid(files[0].content)[0]
    assert segments(ack, "AK1")[0].get(2) == sent_set.gs[6]
    assert segments(ack, "AK2")[0].get(2) == sent_set.st.get(2)
    assert segments(ack, "IK5")[0].get(1) == "A"

    ca = read_valid(files[1].content)[0]
    assert ca.guide == "005010X214"
    bht03 = segments(sent_set, "BHT")[0].get(3)
    trns = [t.get(2) for t in segments(ca, "TRN") if t.get(1) == "2"]
    assert trns == [bht03, "PCN-A1", "PCN-A2"]
    assert [s.get(1) for s in segments(ca, "STC")][-2:] == ["A2:20", "A2:20"]
    refs_1k = [r.get(2) for r in segments(ca, "REF") if r.get(1) == "1K"]
    assert len(refs_1k) == 2 and all(r.get(2).startswith("SBX")
                                     for r in segments(ca, "REF") if r.get(1) == "D9")

    remit = read_valid(files[2].content)[0]
    clps = segments(remit, "CLP")
    assert [c.get(1) for c in clps] == ["PCN-A1", "PCN-A2"]
    assert [c.get(7) for c in clps] == refs_1k
    assert [r.get(2) for r in segments(remit, "REF") if r.get(1) == "6R"] == ["1", "2", "1"]
    assert check_835(remit) == []
    assert engine.ledger.claim_counts() == {"FACADE|PCN-A1": 1, "FACADE|PCN-A2": 1}


def test_fee_schedule_and_coinsurance_reach_the_835() -> None:
    engine = new_engine()
    files = engine.receive_x12(
        facade_837([claim_bundle("PCN-F1", [("99213", "100", "")])]).encode(), SUBMITTER, "f")
    remit = read_valid(of_kind(files, "835")[0].content)[0]
    clp = segments(remit, "CLP")[0]
    # 99213 allows 75.00: CO-45 25.00, PR-2 15.00 (20 %), paid 60.00.
    assert (clp.get(2), clp.get(3), clp.get(4), clp.get(5)) == ("1", "100", "60", "15")
    assert [c.elements[1:] for c in segments(remit, "CAS")] == [["CO", "45", "25"],
                                                               ["PR", "2", "15"]]
    assert segments(remit, "BPR")[0].get(2) == "60"


def test_answers_pass_pyx12_and_the_facade_reads_them() -> None:
    engine = new_engine()
    bundles = [claim_bundle("PCN-P1", [("99213", "100", ""), ("99999", "80", "")]),
               claim_bundle("PCN-P2", [("97110", "90", "GY")], payer_id="LVA77",
                            payer_name="Lakeview Assurance")]
    files = engine.receive_x12(facade_837(bundles).encode(), SUBMITTER, "p.x12")
    assert [f.kind for f in files] == ["999", "277CA", "835", "835"]
    for f in files:
        ok, errors = pyx12_verdict(f.content)
        assert ok, (f.kind, errors)

    acks = resources(files[1].content)
    assert {r["request"]["identifier"]["value"]: r["outcome"] for r in acks} == {
        "PCN-P1": "queued", "PCN-P2": "queued"}
    assert all(any(i["value"].startswith("PCC") for i in r["identifier"]) for r in acks)
    remits = [r for f in files[2:] for r in resources(f.content)]
    eobs = {r["claim"]["identifier"]["value"]: r for r in remits
            if r["resourceType"] == "ExplanationOfBenefit"}
    assert set(eobs) == {"PCN-P1", "PCN-P2"}
    notes = [n["text"] for r in remits for n in r.get("processNote", [])]
    assert set(notes) == {"Remark N130"}  # the 99999 denial's remark; nothing unbalanced
    assert eobs["PCN-P2"]["payment"]["amount"]["value"] == 0


def test_two_payers_make_one_277ca_set_each() -> None:
    engine = new_engine()
    bundles = [claim_bundle("PCN-M1"), claim_bundle("PCN-M2", payer_id="LVA77",
                                                    payer_name="Lakeview Assurance")]
    files = engine.receive_x12(facade_837(bundles).encode(), SUBMITTER, "m")
    sets = read_valid(of_kind(files, "277CA")[0].content)
    assert [segments(ts, "NM1")[0].get(9) for ts in sets] == ["PHP01", "LVA77"]
    assert [[t.get(2) for t in segments(ts, "TRN")][-1] for ts in sets] == ["PCN-M1", "PCN-M2"]
    assert [segments(read_valid(f.content)[0], "REF")[1].get(2)
            for f in of_kind(files, "835")] == ["PHP01", "LVA77"]


def test_five_digit_billing_zip_is_a_277ca_a7_not_a_999_rejection() -> None:
    engine = new_engine()
    files = engine.receive_x12(hand_837("PCN-Z1", zip_code="97205").encode(), SUBMITTER, "z")
    assert [f.kind for f in files] == ["999", "277CA"]
    assert segments(read_valid(files[0].content)[0], "IK5")[0].get(1) == "A"
    ca = read_valid(files[1].content)[0]
    stc = segments(ca, "STC")[-1]
    assert stc.get(1) == "A7:500:85" and stc.get(3) == "U"
    assert "ZIP" in stc.get(12)
    assert not [r for r in segments(ca, "REF") if r.get(1) == "1K"]
    assert pyx12_verdict(files[1].content)[0]
    (ack,) = resources(files[1].content)
    assert ack["outcome"] == "error"
    assert ack["error"][0]["code"]["coding"][0]["code"] == "A7"
    assert engine.ledger.claim_counts() == {"FACADE|PCN-Z1": 1}


def test_service_facility_five_digit_zip_stays_a_999_error() -> None:
    engine = new_engine()
    text = hand_837("PCN-Z2").replace(
        "HI*ABK:J0300~", "HI*ABK:J0300~\nNM1*77*2*CLINIC*****XX*1234567893~\nN3*1 MAIN~\n"
        "N4*PORTLAND*OR*97205~").replace("SE*26*", "SE*29*")
    files = engine.receive_x12(text.encode(), SUBMITTER, "z2")
    assert [f.kind for f in files] == ["999"]
    assert segments(read_valid(files[0].content)[0], "IK5")[0].get(1) == "R"
    assert engine.ledger.claim_counts() == {}


def test_front_end_edits_reject_with_their_status_codes() -> None:
    engine = new_engine()
    cases = {"PCN-N1": hand_837("PCN-N1", isa13="000000801", npi=BAD_NPI),
             "PCN-C1": hand_837("PCN-C1", isa13="000000802", charge="150")}
    expected = {"PCN-N1": "A7:562:85", "PCN-C1": "A7:178"}
    for pcn, text in cases.items():
        files = engine.receive_x12(text.encode(), SUBMITTER, pcn)
        assert [f.kind for f in files] == ["999", "277CA"], pcn
        assert segments(read_valid(files[1].content)[0], "STC")[-1].get(1) == expected[pcn]
    assert engine.ledger.claim_counts() == {"FACADE|PCN-N1": 1, "FACADE|PCN-C1": 1}


def test_repeated_isa13_is_ta1_025_and_processes_nothing() -> None:
    engine = new_engine()
    first = engine.receive_x12(hand_837("PCN-D1").encode(), SUBMITTER, "d1")
    assert [f.kind for f in first] == ["999", "277CA", "835"]
    again = engine.receive_x12(hand_837("PCN-D2").encode(), SUBMITTER, "d2")
    assert [f.kind for f in again] == ["TA1"]
    ta1 = segments_of_text(again[0].content, "TA1")
    assert ta1[1:] == ["000000777", "261120", "0930", "R", "025"]
    assert engine.ledger.claim_counts() == {"FACADE|PCN-D1": 1}
    assert engine.ledger.interchange_seen("FACADE", "000000777")
    # Another sender may use the same ISA13.
    other = Submitter("clinic2", "CLINIC2", "T")
    text = hand_837("PCN-D3").replace("*ZZ*FACADE         *", "*ZZ*CLINIC2        *")
    assert [f.kind for f in engine.receive_x12(text.encode(), other, "d3")] == [
        "999", "277CA", "835"]


def segments_of_text(text: str, tag: str) -> list[str]:
    line = next(s for s in text.split("~") if s.strip().startswith(tag + "*"))
    return line.strip().split("*")


def test_envelope_not_for_this_account_is_rejected_by_ta1() -> None:
    engine = new_engine()
    cases = [
        (hand_837("PCN-E1", isa13="000000901").replace("CLEARINGHOUSE  *", "SOMEONEELSE    *"),
         SUBMITTER, "008"),
        (hand_837("PCN-E2", isa13="000000902", usage="P"), SUBMITTER, "020"),
        (hand_837("PCN-E3", isa13="000000903"), Submitter("x", "OTHERSENDER", "T"), "006"),
    ]
    for text, submitter, code in cases:
        files = engine.receive_x12(text.encode(), submitter, code)
        assert [f.kind for f in files] == ["TA1"], code
        assert segments_of_text(files[0].content, "TA1")[4:] == ["R", code]
        assert pyx12_verdict(files[0].content)[0]
    assert engine.ledger.claim_counts() == {}
    assert not engine.ledger.interchange_seen("FACADE", "000000901")


def test_requested_ta1_comes_first_and_accepts() -> None:
    engine = new_engine()
    files = engine.receive_x12(hand_837("PCN-T1", ack="1").encode(), SUBMITTER, "t")
    assert [f.kind for f in files] == ["TA1", "999", "277CA", "835"]
    assert segments_of_text(files[0].content, "TA1")[4:] == ["A", "000"]
    assert len({f.meta["isa13"] for f in files}) == 4


def test_rejected_set_is_not_processed() -> None:
    engine = new_engine()
    text = hand_837("PCN-R1").replace("CLM*PCN-R1*160***11:B:1", "CLM*PCN-R1*160***11:B")
    files = engine.receive_x12(text.encode(), SUBMITTER, "r")
    assert [f.kind for f in files] == ["999"]
    ack = read_valid(files[0].content)[0]
    assert segments(ack, "IK5")[0].get(1) == "R"
    assert segments(ack, "AK9")[0].get(1) == "R"
    assert engine.ledger.claim_counts() == {}


def test_every_claim_of_many_files_is_counted_once() -> None:
    engine = new_engine()
    numbers = CountingControlNumbers()
    expected = {}
    traces = []
    for f in range(3):
        bundles = [claim_bundle(f"PCN-{f}-{i}") for i in range(40)]
        files = engine.receive_x12(facade_837(bundles, numbers).encode(), SUBMITTER, f"{f}")
        assert [x.kind for x in files] == ["999", "277CA", "835"]
        remit = read_valid(files[-1].content)[0]
        assert len(segments(remit, "CLP")) == 40
        assert check_835(remit) == []
        traces.append(segments(remit, "TRN")[0].get(2))
        expected.update({f"FACADE|PCN-{f}-{i}": 1 for i in range(40)})
    assert engine.ledger.claim_counts() == expected
    assert len(set(traces)) == 3  # TRN02 unique per 835


def test_institutional_claims_are_adjudicated_too() -> None:
    engine = new_engine()
    sent = outbound("837I", [cb.institutional_bundle()], TradingPartners(),
                    CountingControlNumbers())
    files = engine.receive_x12(sent.encode(), SUBMITTER, "i")
    assert [f.kind for f in files] == ["999", "277CA", "835"]
    remit = read_valid(files[2].content)[0]
    assert [s.get(1) for s in segments(remit, "SVC")] == ["NU:0120", "HC:80053"]
    assert check_835(remit) == []
    assert pyx12_verdict(files[2].content)[0]
    assert engine.ledger.claim_counts() == {"FACADE|PCN-2026-1001": 1}


def test_other_delimiters_are_read_and_answered_with_ours() -> None:
    engine = new_engine()
    text = hand_837("PCN-O1").replace("*", "|").replace(":", ">").replace(
        "HARTLEY|ROSE", "O*BRIEN|ROSE")
    files = engine.receive_x12(text.encode(), SUBMITTER, "o")
    assert [f.kind for f in files] == ["999", "277CA", "835"]
    ca = read_valid(files[1].content)[0]
    assert [n.get(3) for n in segments(ca, "NM1") if n.get(1) == "QC"] == ["OBRIEN"]
    remit = read_valid(files[2].content)[0]
    assert segments(remit, "SVC")[0].get(1) == "HC:99214:25"
