"""835 balancing (005010X221A1 section 1.10.2.1): the amounts of a remittance must add up.

- Service line (2110): SVC02 - sum of its CAS amounts = SVC03.
- Claim (2100): CLP03 - sum of CAS amounts (claim level and all its lines) = CLP04.
- Transaction: BPR02 = sum of CLP04 - sum of PLB amounts (PLB04, 06, 08, ...).

A positive adjustment reduces the payment, a negative one increases it. Reversals (CLP02 22)
carry negated amounts and balance by the same rules. Amounts are decimals, never floats.
Findings are warnings: a 999 reports syntax, and the importer decides what an unbalanced
remittance means.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

from mappers.x12.errors import ElementError, SegmentError
from mappers.x12.tree import Loop, Segment, TransactionSet

__all__ = ["check_835", "claim_imbalances"]


_ZERO = Decimal(0)


def _amount(seg: Segment, position: int) -> Decimal:
    elements = seg.elements
    value = elements[position] if position < len(elements) else ""
    if not value:
        return _ZERO
    try:
        amount = Decimal(value)
    except InvalidOperation:
        return _ZERO
    return amount if amount.is_finite() else _ZERO  # "NaN" is a bad R value, reported as such


def _cas_total(segments: list[Segment]) -> Decimal:
    """CAS03, 06, 09, 12, 15, 18: the amounts of up to six adjustments per CAS."""
    total = Decimal(0)
    for cas in segments:
        elements = cas.elements
        for position in range(3, min(len(elements), 19), 3):
            if elements[position]:
                total += _amount(cas, position)
    return total


def _warning(seg: Segment, position: int, loop: str, element: int, message: str
             ) -> SegmentError:
    ref = f"{seg.tag}{element:02d}"
    return SegmentError(seg.tag, position, loop, "8",
                        [ElementError(element, "I12", ref, value=seg.get(element),
                                      message=message)], warning=True)


def _claim_findings(claim: Loop, clp: Segment) -> list[tuple[Segment, str, int, str]]:
    """(segment, loop, element, message) of each line and claim amount that does not add up."""
    found = []
    claim_cas = list(claim.segments("CAS"))
    line_cas: list[Segment] = []
    for line in claim.loops("2110"):
        svc = next(line.segments("SVC"), None)
        if svc is None:
            continue
        cas = list(line.segments("CAS"))
        line_cas.extend(cas)
        expected = _amount(svc, 2) - _cas_total(cas)
        if expected != _amount(svc, 3):
            found.append((svc, "2110", 3, f"SVC03 should be {expected} (SVC02 - line CAS)"))
    expected = _amount(clp, 3) - _cas_total(claim_cas) - _cas_total(line_cas)
    if expected != _amount(clp, 4):
        found.append((clp, "2100", 4, f"CLP04 should be {expected} (CLP03 - claim and line CAS)"))
    return found


def claim_imbalances(claim: Loop) -> list[str]:
    """What does not add up in one 2100 claim loop, in words (empty when it balances)."""
    clp = next(claim.segments("CLP"), None)
    if clp is None:
        return []
    return [f"{seg.tag}: {message}" for seg, _, _, message in _claim_findings(claim, clp)]


def check_835(ts: TransactionSet) -> list[SegmentError]:
    """The balancing findings of one 835 transaction set (empty when it balances)."""
    positions: dict[int, int] = {}

    def where(seg: Segment) -> int:
        """Its position from ST = 1 (counted only when something does not balance)."""
        if not positions:
            positions.update((id(s), n) for n, s in enumerate(ts.root.walk(), 1))
        return positions[id(seg)]

    found: list[SegmentError] = []
    paid = Decimal(0)
    for claim in ts.root.find("2100"):
        clp = next(claim.segments("CLP"), None)
        if clp is None:
            continue
        for seg, loop, element, message in _claim_findings(claim, clp):
            found.append(_warning(seg, where(seg), loop, element, message))
        paid += _amount(clp, 4)
    header = next(ts.root.loops("HEADER"), ts.root)
    bpr = next(header.segments("BPR"), None)
    if bpr is not None:
        provider_adjustments = Decimal(0)
        footer = next(ts.root.loops("FOOTER"), None)
        for plb in footer.segments("PLB") if footer is not None else ():
            for position in range(4, len(plb.elements), 2):
                provider_adjustments += _amount(plb, position)
        expected = paid - provider_adjustments
        if expected != _amount(bpr, 2):
            found.append(_warning(bpr, where(bpr), "HEADER", 2,
                                  f"BPR02 should be {expected} (sum of CLP04 - PLB amounts)"))
    return found

