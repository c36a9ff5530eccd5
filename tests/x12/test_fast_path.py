"""The whole-set fast path says exactly what the segment walk says.

``validate`` matches a transaction set whole against its guide's compiled grammar and walks it
only when that fails; ``parse`` always walks. Over valid files, broken files and thousands of
mutations (with the size threshold lowered so every set takes the fast path first), the two
reports must be identical.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

import mappers.x12.engine as engine
from bench.x12_data import build_835, build_837p
from mappers.x12 import parse, validate
from tests.x12.test_fuzz import MUTATIONS, ORIGINALS, mutate

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "x12"


@pytest.fixture(autouse=True)
def every_set_goes_fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(engine, "FAST_MIN_SEGMENTS", 1)


def _same(data: bytes) -> None:
    fast = validate(data)
    _, walked = parse(data, balancing=False)
    assert fast.as_dict() == walked.as_dict()


def _corpus() -> Iterator[bytes]:
    yield from ORIGINALS
    yield build_835(250, per_set=100)
    yield build_837p(250, per_set=100)
    if SAMPLES.is_dir():
        for path in sorted(SAMPLES.glob("*/*")):
            if "LICENSE" not in path.name:
                yield path.read_bytes()


def test_valid_and_sample_files() -> None:
    count = 0
    for data in _corpus():
        _same(data)
        count += 1
    assert count >= 6


def test_the_fast_path_is_taken_and_accepts(monkeypatch: pytest.MonkeyPatch) -> None:
    taken: list[bool] = []
    real = engine.set_matcher

    def spy(guide, d):  # type: ignore[no-untyped-def]
        matcher = real(guide, d)
        assert matcher is not None

        class Spy:
            def accepts(self, text: str, st02: str, sep: str) -> bool:
                ok = matcher.accepts(text, st02, sep)
                taken.append(ok)
                return ok

        return Spy()

    monkeypatch.setattr(engine, "set_matcher", spy)
    assert validate(build_837p(300, per_set=100)).valid
    assert taken == [True, True, True]


def test_mutations_of_large_files() -> None:
    rng = random.Random(7)
    names = sorted(MUTATIONS)
    bases = [build_835(120, per_set=60), build_837p(120, per_set=60), *ORIGINALS]
    for _ in range(1500):
        data = bases[rng.randrange(len(bases))]
        ops = [
            (rng.choice(names), rng.randrange(1 << 20), rng.randrange(1 << 20),
             bytes(rng.randrange(256) for _ in range(rng.randrange(4))))
            for _ in range(rng.randint(1, 3))
        ]
        _same(mutate(data, ops))


def test_targeted_breaks_in_large_sets() -> None:
    big = build_837p(300, per_set=300).decode()
    cases = [
        big.replace("SBR*P*18*", "SBR*Q*18*", 1),  # bad code deep in the set
        big.replace("NM1*82*1*OKAFOR*ADA****XX*1245319599", "NM1*82*1*OKAFOR*ADA****XX", 1),
        big.replace("XX*1245319599", "XX*1245319598", 1),  # NPI warning only
        big.replace("HL*7*1*22*0", "HL*7*3*22*0", 1),  # HL parent
        big.replace("HL*7*1*22*0", "HL*7*1*22*1", 1),  # HL04 announces a child
        big.replace("DTP*472*D8*20261110", "DTP*472*RD8*20261110-20261101", 1),  # range order
        big.replace("N4*PORTLAND*OR*972051234", "N4*PORTLAND*OR*97205", 1),  # ZIP+4
        big.replace("LX*1~\n", "", 1),  # missing loop start
        big.replace("SE*", "SE*1", 1),  # count
    ]
    cases += [
        big.replace("NM1*82*1*OKAFOR*ADA****XX*1245319599", "NM1*82*1*OKAFOR*ADA*****1245319599",
                    1),  # P0809 the other way round: NM109 without NM108
        big.replace("PER*IC*BILLING OFFICE*TE*5035550100*EM*billing@riverside.example",
                    "PER*IC*BILLING OFFICE*TE*5035550100**billing@riverside.example", 1),
        big.replace("SE*", "SE*0", 1),  # a count with a leading zero is still the count
    ]
    remit = build_835(300, per_set=300).decode()
    cases += [
        remit.replace("CAS*CO*45*20~", "CAS*CO*45*20**97~", 1),  # L050607: CAS05 alone
        remit.replace("REF*6R*LINE-1001-1~", "REF~", 1),  # R0203 on a bare tag
        remit.replace("DTM*472*20261110", "DTM*472*20261310", 1),  # no 13th month
    ]
    for text in cases:
        assert text != big and text != remit
        _same(text.encode())
        assert not validate(text).valid or "1245319598" in text or "SE*0" in text


def test_a_loop_is_never_entered_without_its_first_segment() -> None:
    """999 loop 2110 starts with a situational IK4: CTX segments after an IK3 belong to 2100,
    never to a 2110 entered without its IK4."""
    blocks = "".join(
        f"AK2*837*{n:04d}*005010X222A1~IK3*REF*57**3~CTX*CLM01:98765{n:04d}~"
        "CTX*SITUATIONAL TRIGGER*CLM*43**5:3~IK5*R*5~"
        for n in range(1, 60)
    )
    body = f"ST*999*0001*005010X231A1~AK1*HC*17456*005010X222A1~{blocks}AK9*R*59*59*0~"
    count = body.count("~") + 1
    text = (
        "ISA*00*          *00*          *ZZ*CLEARHOUSE     *ZZ*FACADECLINIC   *261122*0930*^*"
        "00501*000000001*0*T*:~GS*FA*CLEARHOUSE*FACADECLINIC*20261122*0930*1*X*005010X231A1~"
        f"{body}SE*{count}*0001~GE*1*1~IEA*1*000000001~"
    )
    _same(text.encode())
    _same(text.replace("CTX*CLM01", "CTX*CLMXX").encode())
