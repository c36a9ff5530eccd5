"""835 balancing: service lines, claims and the payment add up (X221A1 1.10.2.1)."""

from __future__ import annotations

from mappers.x12 import parse, validate
from mappers.x12.balancing import check_835


def _warnings(text: str) -> list[str]:
    sets, report = parse(text)
    assert report.valid, report.errors
    return [f"{w.tag} {w.elements[0].message}" for ts in sets for w in check_835(ts)]


def test_fixture_balances_with_a_reversal_and_a_provider_adjustment(remit_835: str) -> None:
    # Σ CLP04 = 98 + 65.50 - 30 (reversal) = 133.50; PLB -80 adds to the payment: 213.50.
    assert "BPR*I*213.50*" in remit_835 and "PLB*1234567893*20261231*WO:PAYERCTRL0000*-80~" \
        in remit_835
    assert _warnings(remit_835) == []


def test_line_claim_and_payment_rules(remit_835: str) -> None:
    line = remit_835.replace("SVC*HC:87880*40*8**1~", "SVC*HC:87880*40*9**1~")
    assert _warnings(line) == ["SVC SVC03 should be 8 (SVC02 - line CAS)"]
    claim = remit_835.replace("CLP*PCN-1002*1*85.50*65.50*", "CLP*PCN-1002*1*85.50*66.50*")
    assert _warnings(claim) == [
        "CLP CLP04 should be 65.50 (CLP03 - claim and line CAS)",
        "BPR BPR02 should be 214.50 (sum of CLP04 - PLB amounts)",
    ]
    plb = remit_835.replace("WO:PAYERCTRL0000*-80~", "WO:PAYERCTRL0000*80~")
    assert _warnings(plb) == ["BPR BPR02 should be 53.50 (sum of CLP04 - PLB amounts)"]


def test_balancing_is_a_warning_in_reports(remit_835: str) -> None:
    broken = remit_835.replace("SVC*HC:87880*40*8**1~", "SVC*HC:87880*40*9**1~")
    plain = validate(broken)
    assert plain.valid and not plain.interchanges[0].groups[0].sets[0].warnings
    checked = validate(broken, balancing=True)
    assert checked.valid  # the 999 verdict is about syntax; the importer decides
    warning = checked.interchanges[0].groups[0].sets[0].warnings[0]
    assert (warning.tag, warning.loop, warning.elements[0].ref) == ("SVC", "2110", "SVC03")
    assert warning.as_dict()["severity"] == "warning"


def test_non_finite_amounts_do_not_break_balancing(remit_835: str) -> None:
    bad = remit_835.replace("CLP*PCN-1002*1*85.50*65.50*", "CLP*PCN-1002*1*85.50*sNaN*")
    report = validate(bad, balancing=True)
    assert not report.valid  # the amount itself is an element error
    parse(bad)
