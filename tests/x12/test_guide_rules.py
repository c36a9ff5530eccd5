"""Guide rules that depend on a neighbouring value, on the guide examples (skip without them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from mappers.x12 import validate

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "conformance" / "x12"
pytestmark = [
    pytest.mark.conformance,
    pytest.mark.skipif(not SAMPLES.is_dir(), reason="../shared/conformance is absent"),
]


def test_claim_status_code_from_another_source_when_requalified() -> None:
    """C043-04 (RX: NCPDP) takes STC01-2 out of code source 508 (X12 C043 semantic note)."""
    text = (SAMPLES / "tr3" / "277-X212-claim-response.edi").read_text()
    assert validate(text).valid
    ncpdp = text.replace("STC*F2:88:QC*", "STC*F2:80:QC:RX*", 1)
    assert validate(ncpdp).valid
    unqualified = text.replace("STC*F2:88:QC*", "STC*F2:80:QC*", 1)
    report = validate(unqualified)
    assert not report.valid
    assert any("STC01-2: IK4 7 Invalid code value value '80'" in e for e in report.errors)
