"""Writing X12 back out, and the 999 / TA1 an inbound file gets."""

from __future__ import annotations

from datetime import datetime

import pytest

from mappers.x12 import (
    CountingControlNumbers,
    Delimiters,
    Envelope,
    X12WriteError,
    acknowledgments,
    parse,
    validate,
    write_file,
    write_interchange,
)
from mappers.x12.delimiters import DEFAULT
from tests.x12.conftest import edit_segments

WHEN = datetime(2026, 11, 22, 9, 30)


def _segs(text: str, d: Delimiters = DEFAULT) -> list[list[str]]:
    return [s.strip().split(d.element) for s in text.split(d.segment) if s.strip()]


def test_round_trip_is_byte_equal(claim_837p: str, remit_835: str) -> None:
    for text in (claim_837p, remit_835):
        sets, report = parse(text)
        assert report.valid
        assert write_file(sets) == text
        assert write_file(sets, line_break="") == text.replace("~\n", "~")


def test_round_trip_with_other_delimiters(remit_835: str) -> None:
    sets, _ = parse(remit_835)
    other = Delimiters(element="|", component=">", repetition="!", segment="\n")
    text = write_file(sets, other, line_break="")
    again, report = parse(text)
    assert report.valid, report.errors
    back = str.maketrans({">": ":", "!": "^"})
    assert [[e.translate(back) for e in s.elements] for s in again[0].root.walk()] == [
        list(s.elements) for s in sets[0].root.walk()
    ]
    assert text.startswith("ISA|00|")
    assert text.split("\n")[0][-1] == ">"


def test_new_interchange_counts_and_numbers(claim_837p: str) -> None:
    sets, _ = parse(claim_837p)
    env = Envelope(sender_id="FACADECLINIC", receiver_id="CLEARHOUSE", functional_id="HC",
                   version="005010X222A1", when=WHEN)
    numbers = CountingControlNumbers(start=41)
    text = write_interchange([sets[0], sets[0]], env, numbers)
    report = validate(text)
    assert report.valid, report.errors
    segs = _segs(text)
    assert segs[0][13] == "000000041" and segs[-1] == ["IEA", "1", "000000041"]
    assert segs[1][6] == "41" and segs[-2] == ["GE", "2", "41"]
    sts = [s for s in segs if s[0] == "ST"]
    ses = [s for s in segs if s[0] == "SE"]
    assert [s[2] for s in sts] == ["0041", "0042"] and [s[2] for s in ses] == ["0041", "0042"]
    assert ses[0][1] == str(segs.index(ses[0]) - segs.index(sts[0]) + 1)
    # The next interchange from the same counters never reuses a number.
    again = _segs(write_interchange([sets[0]], env, numbers))
    assert again[0][13] == "000000042" and again[2][2] == "0043"


def test_values_holding_delimiters_are_refused(claim_837p: str) -> None:
    sets, _ = parse(claim_837p)
    nm1 = next(sets[0].root.walk())
    nm1.elements.append("A*B")
    with pytest.raises(X12WriteError):
        write_file(sets)


def test_999_for_a_valid_file(claim_837p: str) -> None:
    report = validate(claim_837p)
    text = acknowledgments(report, CountingControlNumbers(), when=WHEN)
    assert "TA1*000000101*261120*0930*A*000~" in text  # ISA14 = 1 asks for it
    body = [s for s in _segs(text) if s[0] in ("AK1", "AK2", "IK5", "AK9")]
    assert body == [["AK1", "HC", "101", "005010X222A1"], ["AK2", "837", "0001", "005010X222A1"],
                    ["IK5", "A"], ["AK9", "A", "1", "1", "1"]]
    assert validate(text).valid


def test_999_reports_segment_and_element_errors(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        next(s for s in segs if s[0] == "SBR")[1] = "Q"
        next(s for s in segs if s[0] == "SE")[1] = "40"

    report = validate(edit_segments(claim_837p, edit))
    text = acknowledgments(report, CountingControlNumbers(), when=WHEN)
    segs = _segs(text)
    assert ["IK3", "SBR", "13", "", "8"] in segs
    assert ["IK4", "1", "1138", "7", "Q"] in segs
    assert ["IK5", "R", "4", "5"] in segs
    assert ["AK9", "R", "1", "1", "0"] in segs
    # Our 999 is itself a valid 999: sender and receiver are swapped.
    assert validate(text).valid
    isa = next(s for s in segs if s[0] == "ISA" and s[13] == "000000002")
    assert isa[6].strip() == "CLEARHOUSE" and isa[8].strip() == "FACADECLINIC"


def test_partial_acceptance(claim_837p: str) -> None:
    def two_sets(segs: list[list[str]]) -> None:
        st = next(i for i, s in enumerate(segs) if s[0] == "ST")
        se = next(i for i, s in enumerate(segs) if s[0] == "SE")
        copy = [list(s) for s in segs[st : se + 1]]
        copy[0][2] = copy[-1][2] = "0002"
        next(s for s in copy if s[0] == "CLM")[2] = "abc"
        segs[se + 1 : se + 1] = copy
        next(s for s in segs if s[0] == "GE")[1] = "2"

    report = validate(edit_segments(claim_837p, two_sets))
    segs = _segs(acknowledgments(report, CountingControlNumbers(), when=WHEN))
    assert ["AK9", "P", "2", "2", "1"] in segs
    assert [s for s in segs if s[0] == "IK5"] == [["IK5", "A"], ["IK5", "R", "5"]]


def test_rejected_interchange_gets_a_ta1_only(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        segs[-1][2] = "000000999"

    report = validate(edit_segments(claim_837p, edit))
    text = acknowledgments(report, CountingControlNumbers(), when=WHEN)
    segs = _segs(text)
    assert ["TA1", "000000101", "261120", "0930", "R", "001"] in segs
    assert not any(s[0] == "ST" for s in segs)
    assert segs[-1] == ["IEA", "0", "000000001"]
    assert validate(text).interchanges[0].accepted


def test_ta1_segments_are_checked(claim_837p: str) -> None:
    report = validate(claim_837p)
    text = acknowledgments(report, CountingControlNumbers(), when=WHEN)
    ta1_only = text[: text.index("IEA*0*000000001~") + len("IEA*0*000000001~")]
    assert validate(ta1_only).valid
    bad = validate(ta1_only.replace("*A*000~", "*Q*000~").replace("*261120*", "*261320*"))
    assert not bad.valid
    assert any("TA104: Invalid code value value 'Q'" in p for p in bad.problems)
    assert any("TA102: Invalid date" in p for p in bad.problems)


def test_ta1_rejects_with_the_rejecting_code(claim_837p: str) -> None:
    bad = claim_837p.replace("ISA*00*", "ISA*05*", 1).replace("IEA*1*000000101", "IEA*1*000000109")
    report = validate(bad)
    assert report.interchanges[0].note_codes == ["010", "001"]
    ta1 = next(s for s in _segs(acknowledgments(report, CountingControlNumbers())) if s[0] == "TA1")
    assert ta1[4:] == ["R", "001"]


def test_composite_errors_have_no_data_element_number(claim_837p: str) -> None:
    bad = claim_837p.replace("SV1*HC:87880*40*UN*1***1~", "SV1*HC:87880*40*UN*1***1:2:3:4:1~")
    text = acknowledgments(validate(bad), CountingControlNumbers(), when=WHEN)
    assert ["IK4", "7", "", "13", "12341"] in _segs(text)
    assert validate(text).valid


def test_echoed_values_never_break_the_acknowledgment(claim_837p: str) -> None:
    odd = claim_837p.replace("*ZZ*FACADECLINIC   *", "*ZZ*FACADE*CLINIC  *", 1)
    odd = odd.replace("PRV*BI*", "P~V*BI*").replace("GS*HC*FACADECLINIC*", "GS*HC*FAC:ADE*")
    text = acknowledgments(validate(odd), CountingControlNumbers(), when=WHEN)
    for ic in validate(text).interchanges:
        assert ic.accepted


def test_newline_terminated_output(remit_835: str) -> None:
    sets, _ = parse(remit_835)
    text = write_file(sets, Delimiters(segment="\n"))
    assert "\n\n" not in text
    assert validate(text).valid
