"""The guide worked examples (../shared/conformance/x12): each gets the verdict X12.md section 9
gives it, each invalid one for the reason listed there, each valid one writes back byte-equal,
and the acknowledgment we send for any of them is itself a valid X12 interchange.

The folder sits beside the repository and is not part of it: these tests skip without it.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import pytest

from mappers.x12 import (
    CountingControlNumbers,
    Report,
    SetReport,
    acknowledgments,
    parse,
    validate,
    write_file,
)

CONFORMANCE = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "x12"

pytestmark = [
    pytest.mark.conformance,
    pytest.mark.skipif(not CONFORMANCE.is_dir(), reason=f"{CONFORMANCE} is absent"),
]

WHEN = datetime(2026, 1, 2, 3, 4)

# A finding, flattened: ("TA1", note code), ("AK9", code), ("IK5", code), or
# ("IK3", loop, segment tag, IK304 code, ((element ref, IK403 code, bad value), ...)).
Finding = tuple[object, ...]


def _zip(loop: str, value: str) -> Finding:
    """N403 without the +4 where 5010 requires ZIP+4 (billing provider, service facility)."""
    return ("IK3", loop, "N4", "8", (("N403", "I12", value),))


# X12.md section 9: every invalid sample and exactly what makes it invalid.
INVALID: dict[str, set[Finding]] = {
    "acks/x12_277CA_accepted.txt": {("IK3", "2200D", "DTP", "8", (("DTP03", "8", "10010101"),))},
    # GS05 102497 (97 seconds) makes the group unreadable (TA1 024, invalid GS); IEA02 <> ISA13.
    "acks/x12_999_accepted.txt": {("TA1", "024"), ("TA1", "001")},
    "tr3/271-X279-response-to-clinic-subscriber.edi": {("IK5", "I6")},
    "tr3/271-X279A1-error-response-not-eligible.edi": {
        ("IK3", "2000B", "HL", "8", (("HL04", "I12", "1"),)),
    },
    "tr3/278-X217-admission-request-for-review.edi": {("IK5", "4")},
    "tr3/278-X217-request-for-home-health-care.edi": {("IK5", "4")},
    "tr3/837I-X223A2-837-institutional-claim.edi": {
        _zip("2010AA", "17111"),
        ("IK3", "2300", "DTP", "8", (("DTP03", "8", "19960911"),)),
    },
    "tr3/837I-X223A2-automobile-accident.edi": {_zip("2010AA", "99998")},
    "tr3/837I-X223A2-two-claims-for-the-same-provider.edi": {_zip("2010AA", "17111")},
    "tr3/837P-X222A1-COB-claim-from-billing-provider-to-payer-a.edi": {
        _zip("2010AA", "33111"), _zip("2310C", "33111"),
    },
    "tr3/837P-X222A1-anesthesia.edi": {_zip("2010AA", "37232"), _zip("2310C", "37232")},
    "tr3/837P-X222A1-chiropractic.edi": {_zip("2010AA", "21236")},
    "tr3/837P-X222A1-commercial-health-insurance.edi": {_zip("2010AA", "33111")},
    "tr3/837P-X222A1-drug-administered-in-the-physician-office.edi": {_zip("2010AA", "89109")},
    "tr3/837P-X222A1-encounter.edi": {_zip("2010AA", "33111"), _zip("2310C", "33111")},
}

# Findings that may come along with the listed ones, from the same cause.
ALSO: dict[str, set[Finding]] = {
    # 005010X279 is no version we support: the group (AK9 2) as well as the set (IK5 I6).
    "tr3/271-X279-response-to-clinic-subscriber.edi": {("AK9", "2")},
}

VALID = [
    "acks/x12_277CA_rejected.txt",
    "acks/x12_999_rejected.txt",
    "tr3/270-X279A1-request-by-clinic-subscriber.edi",
    "tr3/276-X212-claim-request.edi",
    "tr3/276-X212-provider-request.edi",
    "tr3/277-X212-claim-response.edi",
    "tr3/277-X212-provider-response.edi",
    "tr3/278-X217-admission-response-to-request-for-review.edi",
    "tr3/278-X217-referral-request-for-review.edi",
    "tr3/278-X217-referral-response-to-request-for-review.edi",
    "tr3/278-X217-request-for-medical-services-reservation.edi",
    "tr3/278-X217-response-to-medical-services-reservation.edi",
    "tr3/835-X221A1-dollars-and-data-sent-together.edi",
    "tr3/835-X221A1-era-sample.edi",
    "tr3/835-X221A1-multiple-claims-single-check.edi",
    "tr3/835-X221A1-secondary-payments.edi",
    "tr3/837P-X222A1-ambulance.edi",
    "tr3/837P-X222A1-ppo-repriced-claim.edi",
    "tr3/999-X231A1-response-to-group-of-3-837s.edi",
]

ALL = sorted([*VALID, *INVALID])


def _read(name: str) -> bytes:
    return (CONFORMANCE / name).read_bytes()


def _text(data: bytes) -> str:
    return data.decode("utf-8").removeprefix("\ufeff")


def _line_break(text: str) -> str:
    """What follows each segment terminator: the one after the fixed-width ISA tells."""
    after = text[106:108]
    return "\r\n" if after == "\r\n" else ("\n" if after[:1] == "\n" else "")


def _sets(report: Report) -> list[SetReport]:
    return [s for ic in report.interchanges for g in ic.groups for s in g.sets]


def _findings(report: Report) -> set[Finding]:
    out: set[Finding] = set()
    for ic in report.interchanges:
        out.update(("TA1", c) for c in ic.note_codes)
        for g in ic.groups:
            out.update(("AK9", c) for c in g.codes)
            for s in g.sets:
                out.update(("IK5", c) for c in s.codes)
                for e in s.errors:
                    elements = tuple((el.ref, el.code, el.value) for el in e.elements)
                    out.add(("IK3", e.loop, e.tag, e.code, elements))
    return out


def test_every_sample_has_a_verdict() -> None:
    on_disk = {
        f"{p.parent.name}/{p.name}"
        for p in CONFORMANCE.glob("*/*")
        if p.is_file() and not p.name.startswith("LICENSE")
    }
    assert on_disk == set(ALL)


@pytest.mark.parametrize("name", VALID)
def test_valid_sample_is_accepted(name: str) -> None:
    report = validate(_read(name))
    assert report.valid, report.errors
    assert report.errors == [] and report.problems == []
    sets = _sets(report)
    assert sets and all(s.accepted and s.guide for s in sets)


@pytest.mark.parametrize("name", sorted(INVALID))
def test_invalid_sample_fails_for_the_listed_reason(name: str) -> None:
    report = validate(_read(name))
    assert report.valid is False
    found = _findings(report)
    assert INVALID[name] <= found, report.errors
    assert found <= INVALID[name] | ALSO.get(name, set()), report.errors


def test_999_with_a_bad_gs05_names_it() -> None:
    report = validate(_read("acks/x12_999_accepted.txt"))
    assert any("GS05" in p and "102497" in p for p in report.problems), report.problems
    [ic] = report.interchanges
    assert ic.control_number == "000000286" and not ic.accepted


def test_pre_errata_271_is_reported_as_unsupported_guide() -> None:
    report = validate(_read("tr3/271-X279-response-to-clinic-subscriber.edi"))
    [s] = _sets(report)
    assert (s.st01, s.st03, s.guide) == ("271", "005010X279", None)
    assert any("IK5 I6" in line for line in report.errors)


def test_anesthesia_nine_digit_npi_is_reported() -> None:
    """X12.md lists the 2310C NPI 432198765 (nine digits); we report NPIs as warnings."""
    [s] = _sets(validate(_read("tr3/837P-X222A1-anesthesia.edi")))
    npis = [(w.loop, el.value) for w in s.warnings for el in w.elements if el.ref == "NM109"]
    assert ("2310C", "432198765") in npis


@pytest.mark.parametrize("name", ALL)
def test_parse_agrees_with_validate(name: str) -> None:
    data = _read(name)
    sets, report = parse(data)
    assert report.valid == validate(data).valid
    assert report.errors == validate(data).errors
    assert len(sets) == len([s for s in _sets(report) if s.guide])


@pytest.mark.parametrize("name", VALID)
def test_valid_sample_round_trips_byte_equal(name: str) -> None:
    text = _text(_read(name))
    line_break = _line_break(text)
    if not line_break:
        # Segments run on one line; a line break after the last one ends the file, not a segment.
        text = text.removesuffix("\n").removesuffix("\r")
    sets, report = parse(_read(name))
    assert report.valid
    assert write_file(sets, line_break=line_break) == text


def _segments_of(ack: str) -> list[list[str]]:
    return [s.split("*") for s in ack.split("~\n") if s]


def _999s(segs: list[list[str]]) -> dict[str, list[list[str]]]:
    """Each 999 in an acknowledgment file (ST..SE), by the GS06 it acknowledges (AK102)."""
    out: dict[str, list[list[str]]] = {}
    current: list[list[str]] = []
    for seg in segs:
        if seg[0] == "ST":
            current = []
        current.append(seg)
        if seg[0] == "SE":
            ak1 = next(s for s in current if s[0] == "AK1")
            out[ak1[2]] = current
    return out


@pytest.mark.parametrize("name", ALL)
def test_our_acknowledgment_is_a_valid_interchange(name: str) -> None:
    report = validate(_read(name))
    ack = acknowledgments(report, CountingControlNumbers(), when=WHEN)
    segs = _segments_of(ack)
    groups = [g for ic in report.interchanges if ic.accepted for g in ic.groups]
    # Every non-acknowledgment group of an accepted interchange is answered by a 999 (a 999
    # itself, functional group FA, need not be: AK101 and AK201 of X231A1 have no FA / 999).
    answered = {g.control_number for g in groups if g.functional_id != "FA"}
    assert ack or not answered
    if not ack:
        return
    assert ack.endswith("~\n")
    ack_report = validate(ack.encode())
    assert ack_report.valid, ack_report.errors
    if any(not ic.accepted for ic in report.interchanges):
        ta1s = [s for s in segs if s[0] == "TA1"]
        codes = {c for ic in report.interchanges for c in ic.note_codes}
        assert ta1s and all(t[4] == "R" and t[5] in codes for t in ta1s)
        return
    by_gs06 = _999s(segs)
    assert answered <= set(by_gs06)
    for g in groups:
        if g.control_number not in by_gs06:
            continue
        body = by_gs06[g.control_number]
        assert [s[1:3] for s in body if s[0] == "AK2"] == [[s.st01, s.st02] for s in g.sets]
        ik5 = [s[1:] for s in body if s[0] == "IK5"]
        for verdict, s in zip(ik5, g.sets, strict=True):
            expected = list(s.codes) + (["5"] if s.errors and "5" not in s.codes else [])
            assert verdict == [s.ack_code, *expected]
        [ak9] = [s for s in body if s[0] == "AK9"]
        assert ak9[1:5] == [g.ack_code, str(len(g.sets)), str(len(g.sets)),
                            str(g.accepted_count)]


@pytest.mark.parametrize("name", ["tr3/278-X217-admission-request-for-review.edi",
                                  "tr3/837P-X222A1-chiropractic.edi"])
def test_999_for_a_rejected_set_names_its_error(name: str) -> None:
    report = validate(_read(name))
    segs = _segments_of(acknowledgments(report, CountingControlNumbers(), when=WHEN))
    [ik5] = [s for s in segs if s[0] == "IK5"]
    assert ik5[1] == "R"
    [ak9] = [s for s in segs if s[0] == "AK9"]
    assert ak9[1:] == ["R", "1", "1", "0"]
    if name.startswith("tr3/278"):
        assert ik5[2:] == ["4"] and not [s for s in segs if s[0] == "IK3"]
    else:
        [ik3] = [s for s in segs if s[0] == "IK3"]
        [ik4] = [s for s in segs if s[0] == "IK4"]
        assert ik3[1] == "N4" and ik3[4] == "8" and ik5[2:] == ["5"]
        assert ik4[1] == "3" and ik4[3] == "I12" and ik4[4] == "21236"
