"""Deterministic adjudication and the front-end edits, on the neutral claim model."""

from __future__ import annotations

import random
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from sandbox.clearinghouse.adjudication import FEE_SCHEDULE, adjudicate
from sandbox.clearinghouse.front_end import edit_claim, failed_edits
from sandbox.clearinghouse.model import ReceivedClaim, ReceivedLine


def line(code: str, charge: str, *modifiers: str, units: str = "1", n: int = 1
         ) -> ReceivedLine:
    return ReceivedLine(n, code, modifiers, Decimal(charge), Decimal(units), "20261005", f"L{n}")


def claim(*lines: ReceivedLine, payer: str = "PHP01", **changes: object) -> ReceivedClaim:
    base = ReceivedClaim(
        pcn="PCN-1", charge=sum((ln.charge for ln in lines), start=Decimal(0)), payer_id=payer,
        payer_name="PLAN", member_id="M1", subscriber_last="DOE", subscriber_first="JANE",
        patient_last="DOE", patient_first="JANE", billing_npi="1234567893",
        billing_name="CLINIC", billing_tin="123456789", billing_zip="627011234",
        place_of_service="11", frequency="1", lines=lines, diagnoses=("E119",))
    return replace(base, **changes)  # type: ignore[arg-type]


def test_fee_schedule_contractual_and_coinsurance() -> None:
    d = adjudicate(claim(line("99213", "100")), "PCC1")
    (ld,) = d.lines
    assert FEE_SCHEDULE["99213"] == Decimal("75.00")
    assert (ld.allowed, ld.paid) == (Decimal("75.00"), Decimal("60.00"))
    assert ld.adjustments == (("CO", "45", Decimal("25.00")), ("PR", "2", Decimal("15.00")))
    assert (d.status, d.paid, d.patient_responsibility) == ("1", Decimal("60.00"),
                                                             Decimal("15.00"))


def test_unknown_code_allows_80_percent_and_units_multiply_the_fee() -> None:
    d = adjudicate(claim(line("11111", "50"), line("97110", "100", units="3", n=2)), "PCC1")
    unknown, therapy = d.lines
    assert unknown.allowed == Decimal("40.00") and unknown.paid == Decimal("32.00")
    assert therapy.allowed == Decimal("90.00") and therapy.paid == Decimal("72.00")


def test_charge_below_the_fee_is_allowed_as_charged() -> None:
    (ld,) = adjudicate(claim(line("99215", "120")), "PCC1").lines
    assert ld.allowed == Decimal("120.00")
    assert ld.adjustments == (("PR", "2", Decimal("24.00")),)


def test_denied_code_and_patient_modifier() -> None:
    denied = adjudicate(claim(line("99999", "80")), "PCC1")
    assert denied.status == "4" and denied.paid == 0
    assert denied.lines[0].adjustments == (("CO", "96", Decimal("80.00")),)
    assert denied.lines[0].remarks == ("N130",)
    patient = adjudicate(claim(line("97110", "90", "GY")), "PCC2")
    assert patient.status == "1" and patient.paid == 0
    assert patient.patient_responsibility == Decimal("90.00")
    assert patient.lines[0].adjustments == (("PR", "204", Decimal("90.00")),)


def test_inactive_payer_denies_every_line() -> None:
    d = adjudicate(claim(line("99213", "100"), line("87880", "40", n=2), payer="000041"), "P")
    assert d.status == "4"
    assert [ld.adjustments for ld in d.lines] == [(("CO", "27", Decimal("100.00")),),
                                                   (("CO", "27", Decimal("40.00")),)]


@pytest.mark.parametrize("seed", range(5))
def test_every_line_and_claim_balances(seed: int) -> None:
    rng = random.Random(seed)
    codes = [*FEE_SCHEDULE, "99999", "12345", "0000T"]
    lines = tuple(
        line(rng.choice(codes), f"{rng.randint(1, 90000) / 100:.2f}",
             *(["GY"] if rng.random() < 0.1 else []), units=str(rng.randint(1, 4)), n=n)
        for n in range(1, 30))
    d = adjudicate(claim(*lines), "PCC1")
    for ld in d.lines:
        assert ld.line.charge - sum(a for _, _, a in ld.adjustments) == ld.paid
        assert ld.paid >= 0 and ld.paid == ld.paid.quantize(Decimal("0.01"))
    assert d.paid == sum(ld.paid for ld in d.lines)
    assert d.patient_responsibility == sum(a for ld in d.lines for g, _, a in ld.adjustments
                                           if g == "PR")


def test_front_end_edits() -> None:
    today = date(2026, 11, 1)
    good = claim(line("99213", "100"))
    assert edit_claim(good, "T1", today=today).accepted
    cases = {
        "A7:500:85": replace(good, billing_zip="62701"),
        "A6:562:85": replace(good, billing_npi=""),
        "A7:562:85": replace(good, billing_npi="1234567890"),
        "A6:164:IL": replace(good, member_id=""),
        "A6:21:PR": replace(good, payer_id=""),
        "A6:254:": replace(good, diagnoses=()),
        "A7:178:": replace(good, charge=Decimal("99")),
        "A7:187:": replace(good, lines=(replace(good.lines[0], service_date="20261231"),)),
    }
    for expected, bad in cases.items():
        result = edit_claim(bad, "T2", today=today)
        assert not result.accepted
        assert f"{result.category}:{result.status_code}:{result.entity}" == expected
        assert result.trace == "T2" and result.message
    many = claim(*(line("99213", "1", n=n) for n in range(1, 52)))
    assert not failed_edits(many, today=today)
    assert [e.status_code for e in failed_edits(many, today=today, json_limits=True)] == ["481"]
