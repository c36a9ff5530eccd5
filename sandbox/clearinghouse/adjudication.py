"""The sandbox payer's deterministic adjudication: a fee schedule, denials by procedure code and
modifier, coinsurance, and the vendors' magic payer ids (CLEARINGHOUSES.md section 4).

Per service line (835 2110, X221A1; CAS groups CO, OA, PI, PR only):

- ``DENIED_PROCEDURES``: the whole charge is adjusted with the listed group and CARC (e.g.
  99999 -> CO-96 non-covered charge, RARC N130) and nothing is paid.
- ``PATIENT_MODIFIERS``: a modifier that makes the whole charge the patient's (GY, statutorily
  excluded -> PR-204).
- Otherwise the allowed amount is ``FEE_SCHEDULE[code] * units`` (unknown codes: 80 % of the
  charge), never more than the charge; CO-45 takes the charge above the allowed amount,
  ``COINSURANCE`` (20 %) of the allowed amount is PR-2, the rest is paid.

Claims to a payer in ``INACTIVE_PAYERS`` (the CHC eligibility sandbox's inactive plan, 000041)
are denied as a whole: every line CO-27 (expenses incurred after coverage terminated).

CLP02 (X221A1): 4 (denied) when nothing is paid and no line left anything to the patient, else
1 (processed as primary). Amounts are decimal and rounded half up to the cent, so every line,
claim and payment balances (X12.md section 3).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from sandbox.clearinghouse.model import ClaimDecision, LineDecision, ReceivedClaim, ReceivedLine

__all__ = [
    "COINSURANCE",
    "DENIED_PROCEDURES",
    "FEE_SCHEDULE",
    "INACTIVE_PAYERS",
    "PATIENT_MODIFIERS",
    "adjudicate",
    "cents",
]

CENT = Decimal("0.01")

FEE_SCHEDULE: dict[str, Decimal] = {
    code: Decimal(amount) for code, amount in {
        "99202": "70.00", "99203": "105.00", "99204": "160.00", "99205": "200.00",
        "99211": "25.00", "99212": "45.00", "99213": "75.00", "99214": "110.00",
        "99215": "150.00", "90834": "90.00", "90837": "120.00", "97110": "30.00",
        "87880": "15.00", "36415": "8.00", "80053": "12.00", "85025": "9.00",
        "93000": "17.00", "J3301": "2.50", "G0438": "170.00",
    }.items()
}
"""Allowed amount per unit by procedure code (CPT/HCPCS)."""

UNKNOWN_CODE_RATE = Decimal("0.80")
"""Allowed share of the charge for a code not in the fee schedule."""

COINSURANCE = Decimal("0.20")
"""The patient's share of the allowed amount (PR-2)."""

DENIED_PROCEDURES: dict[str, tuple[str, str, str]] = {
    "99999": ("CO", "96", "N130"),
    "0000T": ("CO", "181", "M20"),
}
"""Procedure -> (group, CARC, RARC) denying the whole line."""

PATIENT_MODIFIERS: dict[str, tuple[str, str]] = {
    "GY": ("PR", "204"),
}
"""Modifier -> (group, CARC) making the whole line the patient's."""

INACTIVE_PAYERS: frozenset[str] = frozenset({"000041"})
"""Payer ids whose members' coverage is inactive (CHC eligibility sandbox, planStatus 6)."""


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


def _line(line: ReceivedLine, inactive: bool) -> LineDecision:
    charge = cents(line.charge)
    if inactive:
        return LineDecision(line, Decimal(0), Decimal(0), (("CO", "27", charge),))
    denied = DENIED_PROCEDURES.get(line.procedure)
    if denied is not None:
        group, carc, rarc = denied
        return LineDecision(line, Decimal(0), Decimal(0), ((group, carc, charge),), (rarc,))
    for modifier in line.modifiers:
        rule = PATIENT_MODIFIERS.get(modifier)
        if rule is not None:
            return LineDecision(line, Decimal(0), Decimal(0), ((rule[0], rule[1], charge),))
    fee = FEE_SCHEDULE.get(line.procedure)
    allowed = cents(fee * line.units) if fee is not None else cents(charge * UNKNOWN_CODE_RATE)
    allowed = min(allowed, charge)
    coinsurance = cents(allowed * COINSURANCE)
    adjustments: list[tuple[str, str, Decimal]] = []
    if charge > allowed:
        adjustments.append(("CO", "45", charge - allowed))
    if coinsurance:
        adjustments.append(("PR", "2", coinsurance))
    return LineDecision(line, allowed, allowed - coinsurance, tuple(adjustments))


def adjudicate(claim: ReceivedClaim, payer_claim_number: str) -> ClaimDecision:
    """The payer's decision on a claim that passed the front end."""
    inactive = claim.payer_id in INACTIVE_PAYERS
    lines = tuple(_line(line, inactive) for line in claim.lines)
    paid = sum((d.paid for d in lines), start=Decimal(0))
    patient = sum((amount for d in lines for group, _, amount in d.adjustments if group == "PR"),
                  start=Decimal(0))
    status = "4" if not paid and not patient else "1"
    return ClaimDecision(claim, status, paid, patient, payer_claim_number, lines)
