"""Streaming segment reader: bytes, text or a file in, batches of segments out.

Delimiters come from each interchange's ISA (X12.5 §3.3; a file may hold several interchanges
with different delimiters). Line breaks after segment terminators and a UTF-8 byte order mark
are skipped. Input is read in chunks, so memory stays flat however large the file; a batch never
spans two interchanges.
"""

from __future__ import annotations

import codecs
import io
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import BinaryIO

from mappers.x12.delimiters import ISA_LENGTH, Delimiters

__all__ = ["Batch", "Problem", "Source", "read_batches", "chunks_of"]

CHUNK = 1 << 20

Source = bytes | str | os.PathLike[str] | BinaryIO | Iterable[bytes]


@dataclass(slots=True)
class Batch:
    """Consecutive segments of one interchange (the terminator removed)."""

    delimiters: Delimiters
    segments: list[str]
    starts_interchange: bool


@dataclass(slots=True)
class Problem:
    """Bytes that are not part of any interchange, or an interchange that cannot be read."""

    code: str
    """TA105 note code when the problem concerns an interchange header (e.g. 023 premature end)."""
    message: str


def chunks_of(source: Source, size: int = CHUNK) -> Iterator[str]:
    """Decoded text chunks; UTF-8 with undecodable bytes replaced (then refused as characters)."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    if isinstance(source, str):
        yield source
        return
    if isinstance(source, bytes | bytearray | memoryview):
        data = bytes(source)
        for i in range(0, len(data), size):
            yield decoder.decode(data[i : i + size])
        yield decoder.decode(b"", final=True)
        return
    if isinstance(source, os.PathLike):
        with open(source, "rb") as fh:
            yield from chunks_of(fh, size)
        return
    if isinstance(source, io.IOBase) or hasattr(source, "read"):
        while True:
            block = source.read(size)
            if not block:
                break
            yield decoder.decode(block) if isinstance(block, bytes) else block
        yield decoder.decode(b"", final=True)
        return
    for block in source:
        yield decoder.decode(block)
    yield decoder.decode(b"", final=True)


_WHITESPACE = " \t\r\n\ufeff"
_PADDING = "\x00\x1a"  # NUL blocks and Ctrl-Z some systems append at the end of a file


def read_batches(source: Source, size: int = CHUNK) -> Iterator[Batch | Problem]:
    """Segments in batches, interchange by interchange, with the problems met between them."""
    buf = ""
    delims: Delimiters | None = None
    starting = False
    chunks = chunks_of(source, size)
    exhausted = False
    while True:
        if not exhausted:
            try:
                buf += next(chunks)
            except StopIteration:
                exhausted = True
        while True:
            if delims is None:
                stripped = buf.lstrip(_WHITESPACE)
                buf = stripped
                if not buf:
                    break
                if exhausted and not buf.strip(_WHITESPACE + _PADDING):
                    break  # end-of-file padding after the last interchange
                if len(buf) < ISA_LENGTH and not exhausted:
                    break
                if not buf.startswith("ISA"):
                    at = buf.find("ISA", 1)
                    skipped = buf if at < 0 else buf[:at]
                    yield Problem("", f"{len(skipped)} characters outside any interchange: "
                                      f"{skipped[:40]!r}")
                    buf = "" if at < 0 else buf[at:]
                    continue
                if len(buf) < ISA_LENGTH:
                    yield Problem("023", f"Truncated ISA: {len(buf)} of 106 characters")
                    buf = ""
                    break
                found = Delimiters.from_isa(buf[:ISA_LENGTH])
                if found is None:
                    yield Problem("022", "Invalid ISA: delimiters cannot be read from the fixed "
                                         f"positions: {buf[:ISA_LENGTH]!r}")
                    at = buf.find("ISA", 1)
                    buf = "" if at < 0 else buf[at:]
                    continue
                delims = found
                starting = True
            term = delims.segment
            buf = buf.lstrip("\r\n".replace(term, ""))
            cut = buf.rfind(term)
            if cut < 0:
                if exhausted and buf.strip(_WHITESPACE):
                    # A last segment without its terminator: hand it over, flagged by the caller.
                    yield Batch(delims, [buf.rstrip(_WHITESPACE)], starting)
                    yield Problem("023", "The file ends inside a segment (no terminator)")
                    buf = ""
                break
            complete, buf = buf[:cut], buf[cut + 1 :]
            complete, segments = _split(complete, term)
            end = _interchange_end(complete, segments, delims, starting)
            if end is not None:
                rest = segments[end + 1 :]
                segments = segments[: end + 1]
                if rest:
                    buf = term.join(rest) + term + buf
                yield Batch(delims, segments, starting)
                delims = None
                starting = False
                continue
            yield Batch(delims, segments, starting)
            starting = False
        if exhausted:
            return


def _split(complete: str, term: str) -> tuple[str, list[str]]:
    """Segments of a run of complete ones; line breaks after terminators (LF, CRLF, CR, blank
    lines) are layout, not data. The common ``~`` + LF costs one replace."""
    if term not in "\r\n":
        if "\n" in complete:
            complete = complete.replace(term + "\n", term)
        if "\r" in complete or "\n" in complete:
            complete = re.sub(re.escape(term) + "[\r\n]+", lambda _: term, complete)
        return complete, complete.split(term)
    other = "\r\n".replace(term, "")
    if other in complete:
        complete = complete.replace(other, "")
    segments = complete.split(term)
    if "" in segments:
        segments = [s for s in segments if s]  # blank lines
    return complete, segments


def _interchange_end(complete: str, segments: list[str], d: Delimiters, starting: bool
                     ) -> int | None:
    """Index of the last segment of this interchange in the batch: its IEA, or the segment
    before an ISA that follows without one (the interchange then ends prematurely)."""
    iea = "IEA" + d.element
    has_iea = complete.startswith(iea) or (d.segment + iea) in complete or "IEA" in segments
    has_isa = (d.segment + "ISA") in complete or (not starting and complete.startswith("ISA"))
    if not (has_iea or has_isa):
        return None
    for i, seg in enumerate(segments):
        if seg.startswith(iea) or seg == "IEA":
            return i
        if seg.startswith("ISA") and (i or not starting) \
                and Delimiters.from_isa(seg + d.segment) is not None:
            return i - 1  # a whole, readable ISA: the next interchange begins
    return None
