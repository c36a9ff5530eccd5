"""Large, valid X12 files built by replicating the claims of the project's own fixtures.

Recipe: keep ISA/GS, copy each transaction set's header loops, replicate the claim blocks with a
unique patient control number (CLP01 / CLM01), renumber HL (837) and recompute BPR02 (835), SE01,
GE01 and IEA01. Segments are separated by ``~\\n``.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "x12" / "fixtures"


def _segments(name: str) -> list[list[str]]:
    text = (FIXTURES / name).read_text()
    return [s.strip().split("*") for s in text.split("~") if s.strip()]


def _join(segs: list[list[str]]) -> str:
    return "".join("*".join(s) + "~\n" for s in segs)


def _envelope(isa: list[str], gs: list[str], sets: list[list[list[str]]]) -> bytes:
    out = [isa, gs]
    for body in sets:
        out.extend(body)
    out.append(["GE", str(len(sets)), gs[6]])
    out.append(["IEA", "1", isa[13]])
    return _join(out).encode()


def build_835(claims: int, per_set: int = 100) -> bytes:
    """An 835 with ``claims`` CLP loops, ``per_set`` per transaction set (1 ISA, 1 GS)."""
    segs = _segments("835_three_claims.x12")
    isa, gs = segs[0], segs[1]
    st_at = next(i for i, s in enumerate(segs) if s[0] == "ST")
    lx_at = next(i for i, s in enumerate(segs) if s[0] == "LX")
    end_at = next(i for i, s in enumerate(segs) if s[0] in ("PLB", "SE"))
    header = segs[st_at + 1 : lx_at]
    blocks: list[list[list[str]]] = []
    for s in segs[lx_at + 1 : end_at]:
        if s[0] == "CLP":
            blocks.append([])
        blocks[-1].append(s)
    blocks = [b for b in blocks if b[0][2] != "22"]  # reversals need their original claim
    sets = []
    n = 0
    for set_no in range((claims + per_set - 1) // per_set):
        count = min(per_set, claims - n)
        body: list[list[str]] = [["ST", "835", f"{set_no + 1:04d}"]]
        head = [list(s) for s in header]
        total = Decimal(0)
        claim_segs: list[list[str]] = [["LX", "1"]]
        for k in range(count):
            block = [list(s) for s in blocks[(n + k) % len(blocks)]]
            block[0][1] = f"PCN{n + k + 1:07d}"
            total += Decimal(block[0][4])
            claim_segs.extend(block)
        n += count
        for s in head:
            if s[0] == "BPR":
                s[2] = str(total)
            elif s[0] == "TRN":
                s[2] = f"EFT{set_no + 1:09d}"
        body.extend(head)
        body.extend(claim_segs)
        body.append(["SE", str(len(body) + 1), body[0][2]])
        sets.append(body)
    return _envelope(isa, gs, sets)


def build_837p(claims: int, per_set: int = 1000) -> bytes:
    """An 837P with ``claims`` claims, each under its own subscriber HL.

    The fixture's ``PWK*CT*AD`` (valid, but rejected by pyx12) is left out so that every
    validator in the bench judges the same valid file.
    """
    segs = [s for s in _segments("837p_two_claims.x12") if s[:2] != ["PWK", "CT"]]
    isa, gs = segs[0], segs[1]
    st_at = next(i for i, s in enumerate(segs) if s[0] == "ST")
    sub_at = next(i for i, s in enumerate(segs) if s[0] == "HL" and s[3] == "22")
    clm_at = next(i for i, s in enumerate(segs) if s[0] == "CLM")
    se_at = next(i for i, s in enumerate(segs) if s[0] == "SE")
    header = segs[st_at + 1 : sub_at]
    subscriber = segs[sub_at + 1 : clm_at]
    blocks: list[list[list[str]]] = []
    for s in segs[clm_at:se_at]:
        if s[0] == "CLM":
            blocks.append([])
        blocks[-1].append(s)
    sets = []
    n = 0
    for set_no in range((claims + per_set - 1) // per_set):
        count = min(per_set, claims - n)
        body: list[list[str]] = [["ST", "837", f"{set_no + 1:04d}", "005010X222A1"]]
        body.extend(list(s) for s in header)
        for k in range(count):
            body.append(["HL", str(k + 2), "1", "22", "0"])
            body.extend(list(s) for s in subscriber)
            block = [list(s) for s in blocks[(n + k) % len(blocks)]]
            block[0][1] = f"PCN{n + k + 1:07d}"
            body.extend(block)
        n += count
        body.append(["SE", str(len(body) + 1), body[0][2]])
        sets.append(body)
    return _envelope(isa, gs, sets)
