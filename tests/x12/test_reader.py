"""The streaming reader: delimiters from each ISA, tolerated layout, chunk independence."""

from __future__ import annotations

import io

from mappers.x12.delimiters import Delimiters
from mappers.x12.engine import parse, validate
from mappers.x12.reader import Batch, Problem, read_batches
from tests.x12.conftest import fixture_text


def _segments(source: bytes | str, size: int = 1 << 20) -> list[str]:
    return [s for b in read_batches(source, size) if isinstance(b, Batch) for s in b.segments]


def _swap_delimiters(text: str, element: str, component: str, term: str) -> str:
    """The same interchange written with other delimiters (ISA16 swapped in its fixed slot)."""
    out = text.replace("~\n", "\x01").replace("*", element).replace(":", component)
    isa_end = out.index("\x01")
    out = out[: isa_end - 1] + component + out[isa_end:]
    return out.replace("\x01", term)


def test_delimiters_come_from_the_isa() -> None:
    isa = fixture_text("835_three_claims.x12").split("~")[0] + "~"
    assert Delimiters.from_isa(isa) == Delimiters("*", ":", "^", "~")
    assert Delimiters.from_isa(isa[:50]) is None
    assert Delimiters.from_isa("ISA" + "*" * 103) is None


def test_other_delimiters_read_the_same(remit_835: str) -> None:
    plain = _segments(remit_835)
    other = _swap_delimiters(remit_835, "|", ">", "\n")
    assert [s.replace("|", "*").replace(">", ":") for s in _segments(other)] == plain
    assert validate(other.encode()).valid


def test_bom_and_line_breaks_are_skipped(claim_837p: str) -> None:
    expected = _segments(claim_837p)
    assert _segments(claim_837p.replace("~\n", "~")) == expected
    assert _segments(claim_837p.replace("~\n", "~\r\n")) == expected
    assert _segments(b"\xef\xbb\xbf" + claim_837p.encode()) == expected
    assert validate(b"\xef\xbb\xbf" + claim_837p.replace("~\n", "~\r\n").encode()).valid


def test_chunk_boundaries_do_not_matter(claim_837p: str) -> None:
    expected = _segments(claim_837p)
    for size in (1, 7, 105, 106, 107, 4096):
        assert _segments(claim_837p.encode(), size) == expected


def test_streams_and_paths(tmp_path, claim_837p: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "claims.x12"
    path.write_text(claim_837p)
    assert validate(path).valid
    assert validate(io.BytesIO(claim_837p.encode())).valid
    assert validate(claim_837p).valid


def test_several_interchanges_with_their_own_delimiters(claim_837p: str, remit_835: str) -> None:
    other = _swap_delimiters(remit_835, "|", ">", "\n")
    sets, report = parse(claim_837p + other + claim_837p.replace("000000101", "000000102"))
    assert report.valid, report.errors
    assert [ts.st.get(1) for ts in sets] == ["837", "835", "837"]
    assert [ic.control_number for ic in report.interchanges] == [
        "000000101", "000000202", "000000102"]
    assert sets[1].delimiters.element == "|"


def test_junk_outside_interchanges_is_reported(claim_837p: str) -> None:
    items = list(read_batches("hello" + claim_837p))
    assert isinstance(items[0], Problem)
    report = validate("hello" + claim_837p)
    assert not report.valid
    assert report.problems and "outside any interchange" in report.problems[0]


def test_truncated_files(claim_837p: str) -> None:
    assert validate(claim_837p[:50]).problems[0].startswith("Truncated ISA")
    cut = validate(claim_837p[: len(claim_837p) // 2])
    assert not cut.valid
    ic = cut.interchanges[0]
    assert "023" in ic.note_codes
    assert cut.interchanges[0].groups[0].sets[0].codes == ["2"]


def test_empty_input_is_invalid() -> None:
    for data in (b"", b"   \n", b"\xef\xbb\xbf"):
        report = validate(data)
        assert not report.valid
        assert report.interchanges == []


def test_line_break_layouts_and_padding(claim_837p: str) -> None:
    plain = claim_837p.replace("~\n", "~")
    for text in (
        plain.replace("~", "~\r"),  # CR after each terminator
        plain.replace("~", "~\n\n"),  # blank lines
        plain.replace("~", "\r\n"),  # CR as the terminator (ISA 106th), LF as layout
        plain + "\x1a",  # Ctrl-Z at the end of the file
        plain + "\x00" * 64,  # NUL padding
    ):
        report = validate(text)
        assert report.valid, report.errors


def test_an_isa_without_the_previous_iea_starts_a_new_interchange(claim_837p: str) -> None:
    cut = claim_837p.replace("IEA*1*000000101~\n", "")
    second = claim_837p.replace("000000101", "000000102")
    report = validate(cut + second)
    assert [(ic.control_number, ic.note_codes) for ic in report.interchanges] == [
        ("000000101", ["023"]), ("000000102", [])]
    assert [len(ic.groups) for ic in report.interchanges] == [1, 1]
