"""835 CAS adjustments to adjudication categories (CARIN BB 2.0.0 ExplanationOfBenefit, as
summarised in STANDARDS section 4.1), as a table.

A positive CAS amount reduces the payment; amounts keep the 835's sign, so a reversal (CLP02
22) yields negative entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from mappers.fhir_x12.systems import ADJUDICATION, C4BB_ADJUDICATION, C4BB_DISCRIMINATOR

__all__ = ["cas_category", "CLAIM_STATUS", "NETWORK_STATUSES", "NOT_COVERED", "payment_status"]

Coding = tuple[str, str]

# (CAS01 group, CAS02 reason) -> category, where the reason decides.
_BY_REASON: dict[tuple[str, str], Coding] = {
    ("PR", "1"): (ADJUDICATION, "deductible"),
    ("PR", "2"): (C4BB_ADJUDICATION, "coinsurance"),
    ("PR", "3"): (ADJUDICATION, "copay"),
    ("OA", "23"): (C4BB_ADJUDICATION, "priorpayerpaid"),
}

# CARCs saying the service is not covered: a CO adjustment with one is `noncovered`.
NOT_COVERED = frozenset({"49", "50", "96", "204"})

# CAS01 group -> category otherwise.
_BY_GROUP: dict[str, Coding] = {
    "PR": (C4BB_ADJUDICATION, "memberliability"),
    "CO": (C4BB_ADJUDICATION, "discount"),
    "OA": (C4BB_DISCRIMINATOR, "adjustmentreason"),
    "PI": (C4BB_DISCRIMINATOR, "adjustmentreason"),
}

# CLP02 claim status code -> (ClaimResponse.outcome, disposition in our words).
CLAIM_STATUS: dict[str, tuple[str, str]] = {
    "1": ("complete", "Processed as primary"),
    "2": ("complete", "Processed as secondary"),
    "3": ("complete", "Processed as tertiary"),
    "4": ("complete", "Denied"),
    "19": ("complete", "Processed as primary and forwarded to another payer"),
    "20": ("complete", "Processed as secondary and forwarded to another payer"),
    "21": ("complete", "Processed as tertiary and forwarded to another payer"),
    "22": ("complete", "Reversal of a previous payment"),
    "23": ("complete", "Not this payer's claim; forwarded to another payer"),
    "25": ("complete", "Priced only; no payment"),
}


def cas_category(group: str, reason: str) -> Coding:
    """The adjudication category of one CAS adjustment."""
    found = _BY_REASON.get((group, reason))
    if found is not None:
        return found
    if group == "CO" and reason in NOT_COVERED:
        return (C4BB_ADJUDICATION, "noncovered")
    return _BY_GROUP.get(group, (C4BB_DISCRIMINATOR, "adjustmentreason"))


# C4BBPayerBenefitPaymentStatus: the payer's network status for the benefit; ``other`` when no
# network applies or none is known (an 835 carries none).
NETWORK_STATUSES = frozenset({"innetwork", "outofnetwork", "other"})


def payment_status(status_code: str, line_paid: Sequence[Decimal]) -> str:
    """C4BBPayerClaimPaymentStatusCode of a claim: ``denied`` for CLP02 4, ``partiallypaid``
    when some service lines (SVC03) were paid nothing while others were paid, else ``paid``."""
    if status_code == "4":
        return "denied"
    if any(p == 0 for p in line_paid) and any(p != 0 for p in line_paid):
        return "partiallypaid"
    return "paid"
