"""Validation findings, each with its position and its 999 / TA1 code."""

from __future__ import annotations

from mappers.x12.engine import validate
from mappers.x12.errors import SegmentError, SetReport
from tests.x12.conftest import edit_segments, recount


def _only_set(text: str) -> SetReport:
    report = validate(text)
    sets = [s for ic in report.interchanges for g in ic.groups for s in g.sets]
    assert len(sets) == 1
    return sets[0]


def _find(segs: list[list[str]], tag: str, first: str | None = None, nth: int = 0) -> int:
    hits = [i for i, s in enumerate(segs) if s[0] == tag and (first is None or s[1] == first)]
    return hits[nth]


def _error(s: SetReport, tag: str) -> SegmentError:
    return next(e for e in s.errors if e.tag == tag)


def test_fixtures_are_valid(claim_837p: str, remit_835: str) -> None:
    for text in (claim_837p, remit_835):
        report = validate(text)
        assert report.valid, report.errors


def test_wrong_se_count(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        segs[_find(segs, "SE")][1] = "99"

    s = _only_set(edit_segments(claim_837p, edit))
    assert s.codes == ["4"] and not s.errors and not s.accepted


def test_se_control_number_must_match_st(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        segs[_find(segs, "SE")][2] = "9999"

    assert _only_set(edit_segments(claim_837p, edit)).codes == ["3"]


def test_missing_required_segment_names_the_loop(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        del segs[_find(segs, "HI")]
        recount(segs)

    s = _only_set(edit_segments(claim_837p, edit))
    e = _error(s, "HI")
    assert (e.code, e.loop) == ("3", "2300")
    assert e.position == 21  # where HI was due: the next segment's position


def test_bad_code_value_is_an_element_error(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        segs[_find(segs, "SBR")][1] = "Q"

    e = _error(_only_set(edit_segments(claim_837p, edit)), "SBR")
    assert e.code == "8"
    assert [(el.position, el.code, el.ref, el.data_element, el.value) for el in e.elements] == [
        (1, "7", "SBR01", "1138", "Q")]


def test_element_types_lengths_dates(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        segs[_find(segs, "CLM")][2] = "12A"  # R
        segs[_find(segs, "DMG")][2] = "19800230"  # no 30 February
        segs[_find(segs, "NM1", "IL")][3] = "X" * 61  # AN 1-60

    s = _only_set(edit_segments(claim_837p, edit))
    found = {(e.tag, el.ref, el.code) for e in s.errors for el in e.elements}
    assert {("CLM", "CLM02", "6"), ("DMG", "DMG02", "8"), ("NM1", "NM103", "5")} <= found


def test_syntax_notes(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        nm1 = segs[_find(segs, "NM1", "82")]
        del nm1[9]  # NM108 without NM109 breaks P0809

    e = _error(_only_set(edit_segments(claim_837p, edit)), "NM1")
    assert [(el.position, el.code) for el in e.elements] == [(9, "2")]


def test_bad_hl_parent(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        segs[_find(segs, "HL", nth=1)][2] = "7"

    e = _error(_only_set(edit_segments(claim_837p, edit)), "HL")
    assert [(el.ref, el.value) for el in e.elements] == [("HL02", "7")]


def test_hl04_must_announce_children(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        segs[_find(segs, "HL", nth=1)][4] = "1"

    e = _error(_only_set(edit_segments(claim_837p, edit)), "HL")
    assert e.elements[0].ref == "HL04"


def test_zip_plus_4_for_billing_provider_and_facility(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        for i in (i for i, s in enumerate(segs) if s[0] == "N4" and s[3] == "972051234"):
            segs[i][3] = "97205"

    s = _only_set(edit_segments(claim_837p, edit))
    assert sorted((e.loop, e.elements[0].ref) for e in s.errors) == [
        ("2010AA", "N403"), ("2310C", "N403")]
    # The subscriber's address may have five digits.
    assert "97214" in claim_837p


def test_pwk_ct_dme_indicator_is_valid(claim_837p: str) -> None:
    assert "PWK*CT*AD" in claim_837p
    assert validate(claim_837p).valid


def test_segment_out_of_order_and_unknown(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        at = _find(segs, "BHT")
        segs.insert(at + 1, segs.pop(_find(segs, "REF", "EI")))
        segs.insert(at + 1, ["ZZZ", "1"])
        recount(segs)

    s = _only_set(edit_segments(claim_837p, edit))
    codes = {(e.tag, e.code) for e in s.errors}
    assert ("ZZZ", "1") in codes
    assert ("REF", "7") in codes or ("REF", "2") in codes


def test_repeat_limits(remit_835: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        at = _find(segs, "TRN")
        segs.insert(at, list(segs[at]))
        recount(segs)

    e = _error(_only_set(edit_segments(remit_835, edit)), "TRN")
    assert e.code == "5"


def test_unsupported_guide_and_transaction(claim_837p: str) -> None:
    old = claim_837p.replace("005010X222A1", "005010X222A2")
    assert _only_set(old).codes == ["I6"]
    assert not validate(old).valid
    unknown = claim_837p.replace("ST*837*", "ST*850*")
    assert _only_set(unknown).codes == ["1"]


def test_group_and_interchange_trailers(claim_837p: str) -> None:
    def ge(segs: list[list[str]]) -> None:
        segs[_find(segs, "GE")][1:] = ["2", "999"]

    g = validate(edit_segments(claim_837p, ge)).interchanges[0].groups[0]
    assert g.codes == ["5", "4"] and g.ack_code == "R"

    def iea(segs: list[list[str]]) -> None:
        segs[_find(segs, "IEA")][2] = "000000999"

    assert validate(edit_segments(claim_837p, iea)).interchanges[0].note_codes == ["001"]

    def no_ge(segs: list[list[str]]) -> None:
        del segs[_find(segs, "GE")]

    assert validate(edit_segments(claim_837p, no_ge)).interchanges[0].groups[0].codes == ["3"]


def test_isa_field_errors_are_ta1_codes(claim_837p: str) -> None:
    bad = claim_837p.replace("*00501*000000101*1*T*", "*00501*000000101*1*X*")
    assert validate(bad).interchanges[0].note_codes == ["020"]
    assert not validate(bad).valid


def test_duplicate_control_numbers(claim_837p: str) -> None:
    twice = validate(claim_837p + claim_837p)
    assert twice.interchanges[1].note_codes == ["025"]

    def two_sets(segs: list[list[str]]) -> None:
        st, se = _find(segs, "ST"), _find(segs, "SE")
        segs[se + 1 : se + 1] = [list(s) for s in segs[st : se + 1]]
        segs[_find(segs, "GE")][1] = "2"

    g = validate(edit_segments(claim_837p, two_sets)).interchanges[0].groups[0]
    assert g.sets[1].codes == ["23"]


def test_missing_se_ends_the_set(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        del segs[_find(segs, "SE")]

    s = _only_set(edit_segments(claim_837p, edit))
    assert s.codes == ["2"]


def test_npi_check_digit_is_a_warning(claim_837p: str) -> None:
    bad = claim_837p.replace("XX*1245319599", "XX*1245319598")
    report = validate(bad)
    assert report.valid
    s = report.interchanges[0].groups[0].sets[0]
    assert [(w.tag, w.elements[0].ref) for w in s.warnings] == [("NM1", "NM109")]


def test_report_json_names_everything(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        segs[_find(segs, "SBR")][1] = "Q"

    doc = validate(edit_segments(claim_837p, edit)).as_dict()
    error = doc["interchanges"][0]["groups"][0]["transaction_sets"][0]["errors"][0]
    assert error["segment"] == "SBR" and error["loop"] == "2000B"
    assert error["elements"][0]["element"] == "SBR01"
    assert error["elements"][0]["message"] == "Invalid code value"


def test_counts_are_numbers(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        _se = segs[_find(segs, "SE")]
        _se[1] = "0" + _se[1]
        segs[_find(segs, "GE")][1] = "01"
        segs[_find(segs, "IEA")][1] = "00001"

    assert validate(edit_segments(claim_837p, edit)).valid


def test_group_control_numbers_are_unique(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        gs, ge = _find(segs, "GS"), _find(segs, "GE")
        segs[ge + 1 : ge + 1] = [list(s) for s in segs[gs : ge + 1]]
        segs[_find(segs, "IEA")][1] = "2"

    groups = validate(edit_segments(claim_837p, edit)).interchanges[0].groups
    assert [g.codes for g in groups] == [[], ["19"]]


def test_a_separator_inside_an_isa_field(claim_837p: str) -> None:
    bad = claim_837p.replace("*ZZ*FACADECLINIC   *", "*ZZ*FACADE*CLINIC  *", 1)
    ic = validate(bad).interchanges[0]
    assert ic.control_number == "000000101"
    assert ic.note_codes == ["006"]


def test_trailing_spaces_in_text_elements(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        segs[_find(segs, "NM1", "IL")][9] = "W1000200301 "  # AN 2-80: padding not needed

    e = _error(_only_set(edit_segments(claim_837p, edit)), "NM1")
    assert [(el.ref, el.code) for el in e.elements] == [("NM109", "6")]


def test_segments_sharing_a_position_come_in_any_order(claim_837p: str) -> None:
    def edit(segs: list[list[str]]) -> None:
        clm = _find(segs, "CLM")
        segs.insert(clm + 1, ["REF", "D9", "TRACE123"])  # 2300 REF*D9 before REF*G1
        at = _find(segs, "NM1", "82")
        block = segs[at : at + 2]  # 2310B NM1*82 + PRV
        del segs[at : at + 2]
        facility = _find(segs, "NM1", "77")
        segs[facility + 3 : facility + 3] = block  # 2310B after 2310C
        recount(segs)

    report = validate(edit_segments(claim_837p, edit))
    assert report.valid, report.errors


def test_two_provider_adjustments(remit_835: str) -> None:
    two = remit_835.replace("PLB*1234567893*20261231*WO:PAYERCTRL0000*-80~",
                            "PLB*1234567893*20261231*WO:PAYERCTRL0000*-40~\n"
                            "PLB*1234567893*20261231*WO:PAYERCTRL0000*-40~")
    two = two.replace("SE*43*0001", "SE*44*0001")
    report = validate(two, balancing=True)
    assert report.valid, report.errors
    assert not report.interchanges[0].groups[0].sets[0].warnings  # both PLBs counted
