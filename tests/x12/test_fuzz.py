"""Fuzzing the X12 codec: whatever arrives, validation answers instead of crashing.

More than 10,000 inputs (counted below): arbitrary bytes, text made of X12 delimiters and tags,
and damaged copies of the project's own fixtures (segments deleted, duplicated or swapped,
characters flipped, truncation, other delimiters, binary junk, a split ISA, a 10 MB segment, a
lone BOM, empty input). For every one: ``validate`` and ``parse`` return, agree, and report a
bool verdict and text findings; the acknowledgment we would send back is X12 our own validator
reads; and an input found valid writes back unchanged.

Hypothesis runs derandomized with fixed example counts, the rest uses ``random.Random(seed)``,
so every run (and CI) tests the same inputs.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from mappers.x12 import (
    CountingControlNumbers,
    Report,
    TransactionSet,
    acknowledgments,
    parse,
    validate,
    write_file,
)

FIXTURES = sorted((Path(__file__).parent / "fixtures").glob("*.x12"))
ORIGINALS: list[bytes] = [p.read_bytes() for p in FIXTURES]
WHEN = datetime(2026, 1, 2, 3, 4)
BOM = b"\xef\xbb\xbf"
#: What the reader skips before an ISA (a byte order mark, NULs, blanks): not content.
LEADING = " \t\r\n\ufeff\x00"

#: Inputs checked, per test; the last test adds them up.
RUNS: dict[str, int] = {}
MINIMUM_CASES = 10_000


def fuzz_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        deadline=None,
        derandomize=True,
        database=None,
        # No shrinking: a failure is reported as found, and the suite stays fast even then.
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                               HealthCheck.large_base_example],
    )


# ---------------------------------------------------------------------------------------------
# The check every input goes through.


def _text_of(source: bytes | str) -> str:
    text = source.decode("utf-8", "replace") if isinstance(source, bytes) else source
    return text.lstrip(LEADING)


def _expected(text: str) -> tuple[str, str]:
    """The line break that follows each segment terminator (told by what follows the fixed-width
    ISA) and the text a writer using it gives back. Not content, so not given back: what the
    reader skips before an ISA (a BOM, blanks) or after the last segment."""
    term = text[105:106]
    after = text[106:108]
    if term in ("\r", "\n", ""):
        line_break = ""
    else:
        line_break = "\r\n" if after == "\r\n" else ("\n" if after[:1] == "\n" else "")
    end = term + line_break
    text = re.sub(f"{re.escape(end)}[{LEADING}]+(?=ISA)", lambda _: end, text)
    return line_break, text.rstrip(LEADING) + (term if term in ("\r", "\n") else line_break)


def _layout_free(text: str, term: str) -> str:
    if term in "\r\n":
        return re.sub("[\r\n]+", "\n", text).strip("\n")
    return re.sub(f"{re.escape(term)}[\r\n]+", lambda _: term, text).rstrip("\r\n")


def _elements(ts: TransactionSet) -> list[list[str]]:
    """The segments of a set, components and repetitions told apart whatever the delimiters."""
    d = ts.delimiters
    marks = str.maketrans({d.component: "\ue000", d.repetition: "\ue001"})
    return [[e.translate(marks) for e in seg.elements] for seg in ts.root.walk()]


def _check_report(report: Report) -> None:
    assert isinstance(report.valid, bool)
    lines = report.errors
    assert isinstance(lines, list)
    assert all(isinstance(line, str) for line in lines)
    assert not (report.valid and lines), lines


def check(name: str, source: bytes | str) -> Report:
    """Everything that must hold for any input; ``name`` counts it for the final test."""
    RUNS[name] = RUNS.get(name, 0) + 1
    report = validate(source)
    _check_report(report)
    sets, parsed = parse(source)
    _check_report(parsed)
    assert parsed.valid is report.valid
    assert parsed.errors == report.errors
    ack = acknowledgments(report, CountingControlNumbers(), when=WHEN)
    assert isinstance(ack, str)
    ack_report = validate(ack)
    _check_report(ack_report)
    if report.valid:
        assert sets
        line_break, text = _expected(_text_of(source))
        written = write_file(sets, line_break=line_break)
        if len({ts.delimiters for ts in sets}) == 1:
            # Line breaks after terminators (LF, CRLF, CR, blank lines) are layout: a file that
            # mixes them comes back with one kind.
            term = sets[0].delimiters.segment
            assert _layout_free(written, term) == _layout_free(text, term)
        else:
            # Interchanges with different delimiters: written with the first one's, the same
            # segments come back.
            again, again_report = parse(written)
            assert again_report.valid, again_report.errors
            assert [_elements(ts) for ts in again] == [_elements(ts) for ts in sets]
        assert ack_report.valid, ack_report.errors
    return report


# ---------------------------------------------------------------------------------------------
# Mutations of the fixtures, shared by Hypothesis and the seeded loop.

JUNK = [b"\x00", b"\xff\xfe", BOM, b"\x1c", b"\r\n", b"~", b"*", b":", b"^", b"ISA", b"IEA*1*",
        b"\xe2\x82", b"\xc3\xa9", b"\x7f", b"\t", b" ", b"SE*", b"GS*HC*"]
DELIMITER_CHOICES = b"*:^~|>`!\n\r\x1c\x1d\x1e\x1fA0 "

Op = tuple[str, int, int, bytes]


def _segments(data: bytes) -> list[bytes]:
    return data.split(b"~")


def _join(segs: list[bytes]) -> bytes:
    return b"~".join(segs)


def _delete(data: bytes, a: int, b: int, _: bytes) -> bytes:
    segs = _segments(data)
    del segs[a % len(segs)]
    return _join(segs)


def _duplicate(data: bytes, a: int, b: int, _: bytes) -> bytes:
    segs = _segments(data)
    i = a % len(segs)
    segs.insert(i, segs[i])
    return _join(segs)


def _swap(data: bytes, a: int, b: int, _: bytes) -> bytes:
    segs = _segments(data)
    i, j = a % len(segs), b % len(segs)
    segs[i], segs[j] = segs[j], segs[i]
    return _join(segs)


def _flip(data: bytes, a: int, b: int, junk: bytes) -> bytes:
    if not data:
        return data
    i = a % len(data)
    ch = (junk[:1] or bytes([DELIMITER_CHOICES[b % len(DELIMITER_CHOICES)]]))
    return data[:i] + ch + data[i + 1 :]


def _truncate(data: bytes, a: int, b: int, _: bytes) -> bytes:
    return data[: a % (len(data) + 1)]


def _replace_delimiter(data: bytes, a: int, b: int, _: bytes) -> bytes:
    old = b"*:^~"[a % 4 : a % 4 + 1]
    new = DELIMITER_CHOICES[b % len(DELIMITER_CHOICES) : b % len(DELIMITER_CHOICES) + 1]
    if a % 3 == 0:  # only one occurrence
        at = data.find(old, (b * 7) % (len(data) + 1))
        return data if at < 0 else data[:at] + new + data[at + 1 :]
    return data.replace(old, new)


def _insert_junk(data: bytes, a: int, b: int, junk: bytes) -> bytes:
    i = a % (len(data) + 1)
    return data[:i] + (junk or JUNK[b % len(JUNK)]) + data[i:]


def _split_isa(data: bytes, a: int, b: int, _: bytes) -> bytes:
    """A line break or terminator somewhere inside the fixed-width ISA."""
    i = 1 + a % 105
    return data[:i] + (b"\n", b"~", b"\r\n", b"~\n")[b % 4] + data[i:]


def _concatenate(data: bytes, a: int, b: int, _: bytes) -> bytes:
    other = ORIGINALS[a % len(ORIGINALS)]
    return other + data if b % 2 else data + other


def _bom(data: bytes, a: int, b: int, _: bytes) -> bytes:
    return (BOM * (1 + a % 2)) + data


def _segment_content(data: bytes, a: int, b: int, junk: bytes) -> bytes:
    """One segment's elements replaced: emptied, extended, or made of junk."""
    segs = _segments(data)
    i = a % len(segs)
    tag = segs[i].split(b"*", 1)[0]
    segs[i] = (tag, tag + b"*", tag + b"*" * (1 + b % 40), tag + b"*" + junk)[b % 4]
    return _join(segs)


MUTATIONS: dict[str, Callable[[bytes, int, int, bytes], bytes]] = {
    "delete": _delete,
    "duplicate": _duplicate,
    "swap": _swap,
    "flip": _flip,
    "truncate": _truncate,
    "replace_delimiter": _replace_delimiter,
    "insert_junk": _insert_junk,
    "split_isa": _split_isa,
    "concatenate": _concatenate,
    "bom": _bom,
    "segment_content": _segment_content,
}


def mutate(data: bytes, ops: list[Op]) -> bytes:
    for name, a, b, junk in ops:
        data = MUTATIONS[name](data, a, b, junk)
    return data


ops_strategy = st.lists(
    st.tuples(st.sampled_from(sorted(MUTATIONS)), st.integers(0, 1 << 16),
              st.integers(0, 1 << 16), st.binary(max_size=6)),
    min_size=1, max_size=4,
)


# ---------------------------------------------------------------------------------------------
# Hypothesis: random input of three kinds.

ISA_HEAD = ORIGINALS[0][:106]
X12_ALPHABET = "ISAGETNMHLCVPRB0123456789 *~:^>|`\n\r\t.-\x00\ufeffé"
TAGS = ["ISA", "GS", "ST", "SE", "GE", "IEA", "TA1", "BHT", "HL", "NM1", "N3", "N4", "REF", "CLM",
        "SV1", "LX", "DTP", "HI", "SBR", "BPR", "TRN", "CLP", "CAS", "SVC", "PLB", "AK1", "AK2",
        "IK3", "IK4", "IK5", "AK9", "STC", "EB", "UM", "HCR", "XX", ""]


def test_fixtures_are_valid_to_start_with() -> None:
    assert len(ORIGINALS) >= 2
    for data in ORIGINALS:
        assert check("fixtures", data).valid


@fuzz_settings(1500)
@given(st.binary(max_size=1200))
def test_arbitrary_bytes(data: bytes) -> None:
    check("bytes", data)


@fuzz_settings(1000)
@given(st.binary(max_size=800))
def test_arbitrary_bytes_after_a_good_isa(data: bytes) -> None:
    check("isa+bytes", ISA_HEAD + data)


@fuzz_settings(1200)
@given(st.text(alphabet=X12_ALPHABET, max_size=600))
def test_text_with_x12_delimiters(text: str) -> None:
    check("text", text)
    check("text", "ISA" + text)


segment_strategy = st.tuples(
    st.sampled_from(TAGS),
    st.lists(st.text(alphabet="0123456789AZXPI:^ ", max_size=6), max_size=8),
)


@fuzz_settings(1200)
@given(st.lists(segment_strategy, max_size=40), st.booleans())
def test_segment_soup_inside_envelopes(
    segments: list[tuple[str, list[str]]], with_set: bool
) -> None:
    """Known tags with arbitrary elements, inside a real ISA/GS (and ST) so the loop walker and
    the element checks see them, not just the envelope reader."""
    head = ORIGINALS[0].split(b"~")
    body = [("*".join([tag, *elements])).encode() for tag, elements in segments]
    if with_set:
        body = [head[2].strip(), *body, b"SE*" + str(len(body) + 2).encode() + b"*0001"]
    data = b"~\n".join([head[0].strip(), head[1].strip(), *body, b"GE*1*101", b"IEA*1*000000101"])
    check("soup", data + b"~\n")


@fuzz_settings(2500)
@given(st.integers(0, len(ORIGINALS) - 1), ops_strategy)
def test_mutated_fixtures(index: int, ops: list[Op]) -> None:
    check("mutations", mutate(ORIGINALS[index], ops))


@fuzz_settings(400)
@given(st.integers(0, len(ORIGINALS) - 1), st.lists(st.integers(1, 400), min_size=1, max_size=12))
def test_chunk_boundaries_do_not_change_the_verdict(index: int, cuts: list[int]) -> None:
    """Read as a stream whose pieces split the ISA, segments and multi-byte characters."""
    data = BOM + ORIGINALS[index].replace(b"RIVER ROAD", b"RIV\xc3\xa9R ROAD")
    whole = check("chunks", data)
    points = sorted({c % len(data) for c in cuts} | {0, len(data)})

    def pieces() -> Iterator[bytes]:
        for start, end in zip(points, points[1:], strict=False):
            yield data[start:end]

    chunked = validate(pieces())
    assert chunked.valid is whole.valid
    assert chunked.errors == whole.errors
    sets, _ = parse(pieces())
    assert [_elements(ts) for ts in sets] == [_elements(ts) for ts in parse(data)[0]]


# ---------------------------------------------------------------------------------------------
# Fixed edge cases and the seeded mutation loop.


def _big_segment(data: bytes) -> bytes:
    """One 10 MB segment: an NM1 whose name is ten million characters long."""
    segs = data.split(b"~")
    i = next(k for k, s in enumerate(segs) if s.strip().startswith(b"NM1*"))
    parts = segs[i].split(b"*")
    parts[3] = b"A" * 10_000_000
    segs[i] = b"*".join(parts)
    return b"~".join(segs)


EDGE_CASES: dict[str, Callable[[], bytes | str]] = {
    "empty bytes": lambda: b"",
    "empty text": lambda: "",
    "lone BOM": lambda: BOM,
    "lone BOM as text": lambda: "\ufeff",
    "BOM and whitespace": lambda: BOM + b" \r\n\t",
    "ISA alone": lambda: ISA_HEAD,
    "ISA without terminator": lambda: ISA_HEAD[:-1],
    "half an ISA": lambda: ISA_HEAD[:50],
    "ISA split by a line break": lambda: ISA_HEAD[:40] + b"\n" + ORIGINALS[0][40:],
    "ISA split by a terminator": lambda: ISA_HEAD[:60] + b"~" + ORIGINALS[0][60:],
    "ISA tag only": lambda: b"ISA",
    "IEA alone": lambda: b"IEA*1*000000101~",
    "terminators only": lambda: b"~" * 500,
    "separators only": lambda: b"*" * 500,
    "10 MB of junk before an interchange": lambda: b"X" * 10_000_000 + ORIGINALS[0],
    "10 MB of NULs before an interchange": lambda: b"\x00" * 10_000_000 + ORIGINALS[0],
    "NUL bytes": lambda: b"\x00" * 1000,
    "UTF-16": lambda: ORIGINALS[0].decode().encode("utf-16"),
    "no line breaks": lambda: ORIGINALS[0].replace(b"~\n", b"~"),
    "CRLF line breaks": lambda: ORIGINALS[0].replace(b"~\n", b"~\r\n"),
    "newline terminator": lambda: ORIGINALS[0].replace(b"~\n", b"\n"),
    "every fixture twice": lambda: b"".join(ORIGINALS * 2),
}


@pytest.mark.parametrize("name", sorted(EDGE_CASES))
def test_edge_case(name: str) -> None:
    check("edges", EDGE_CASES[name]())


def test_one_10_mb_segment() -> None:
    report = check("edges", _big_segment(ORIGINALS[0]))
    assert report.valid is False
    assert any("NM103: IK4 5" in line for line in report.errors), report.errors


def test_seeded_mutation_loop() -> None:
    rng = random.Random(20260102)
    names = sorted(MUTATIONS)
    for _ in range(4000):
        data = ORIGINALS[rng.randrange(len(ORIGINALS))]
        ops: list[Op] = [
            (rng.choice(names), rng.randrange(1 << 16), rng.randrange(1 << 16),
             bytes(rng.randrange(256) for _ in range(rng.randrange(4))))
            for _ in range(rng.randint(1, 5))
        ]
        check("seeded", mutate(data, ops))


# ---------------------------------------------------------------------------------------------
# What the fuzzing found in the engine (since fixed), pinned as plain tests.


@pytest.mark.parametrize("source", [b"", "", BOM, "\ufeff", b" \r\n", b"\x00"],
                         ids=["empty bytes", "empty text", "BOM", "BOM text", "blanks", "NUL"])
def test_an_empty_file_says_why_it_is_invalid(source: bytes | str) -> None:
    """``Report.errors`` is what the CLI prints: an invalid verdict needs at least one line."""
    report = validate(source)
    assert report.valid is False
    assert report.errors, "invalid, but no finding says why"


def _with_gs08(data: bytes, gs08: bytes) -> bytes:
    segs = data.split(b"~")
    gs = next(i for i, seg in enumerate(segs) if seg.strip().startswith(b"GS*"))
    parts = segs[gs].split(b"*")
    parts[8] = gs08
    segs[gs] = b"*".join(parts)
    return b"~".join(segs)


@pytest.mark.parametrize("gs08", [b"005010X223A2", b"005010X222A2", b"garbage", b"",
                                  b"005010X222\x10A1", b"00501:X222A1"])
def test_gs08_must_name_the_guide_of_its_sets(gs08: bytes) -> None:
    """X12.md section 2: ST03 = GS08 (every guide but the 835). A GS08 naming no guide or another
    one must not pass (the 999 would copy it into AK103, where it is invalid)."""
    claim = next(d for d in ORIGINALS if b"*005010X222A1~" in d)
    report = validate(_with_gs08(claim, gs08))
    assert report.valid is False


def test_undecodable_bytes_are_refused() -> None:
    """The reader replaces bytes that are not UTF-8 with U+FFFD, which no element may hold (the
    fast segment pattern once let it through)."""
    claim = next(d for d in ORIGINALS if b"*005010X222A1~" in d)
    segs = claim.split(b"~")
    i = next(k for k, seg in enumerate(segs) if seg.strip().startswith(b"NM1*41*"))
    segs[i] = segs[i].replace(b"*2*", b"*2*\xb6", 1)
    report = validate(b"~".join(segs))
    assert report.valid is False
    assert any("IK4 6" in line for line in report.errors), report.errors


@pytest.mark.parametrize("iea", [True, False], ids=["with IEA", "without IEA"])
def test_a_line_break_inside_a_segment_is_data_not_a_trailer(iea: bool) -> None:
    """Only the ``~`` terminator ends a segment (X12.5): ``NM1*QC*1*HARTLEY*R<LF>SE*M...`` is one
    NM1 whose NM104 holds an invalid character (IK4 6), not an SE ending the set early. The fast
    path, which reads a set as its segments joined by line breaks, took it for the trailer and
    left ``validate`` reporting the rest of the set outside one (IK5 2, TA1 024) while ``parse``
    said what is below. Without its IEA the interchange ends prematurely: TA1 023."""
    status = next(d for d in ORIGINALS if b"*005010X214~" in d)
    broken = status.replace(b"NM1*QC*1*HARTLEY*ROSE*M", b"NM1*QC*1*HARTLEY*R\nSE*M", 1)
    if not iea:
        broken = broken[: broken.index(b"IEA*")]
    report = check("edges", broken)
    assert report.errors == [
        *([] if iea else ["ISA13=000000404: TA1 023 Improper (premature) end-of-file "
                          "(transmission)"]),
        "ST02=0001 segment 26 NM1 (loop 2100D): IK3 8 Segment has data element errors; "
        "NM104: IK4 6 Invalid character in data element value 'R\\nSE'",
    ]


def test_total_number_of_cases() -> None:
    """Runs last (file order): the tests above checked at least 10,000 inputs."""
    expected = {"fixtures", "bytes", "isa+bytes", "text", "soup", "mutations", "chunks", "edges",
                "seeded"}
    if set(RUNS) != expected:
        pytest.skip(f"only part of the fuzz suite ran: {sorted(RUNS)}")
    assert sum(RUNS.values()) >= MINIMUM_CASES, RUNS
