"""837 service lines (2400) and the other payers' adjudication (2320 CAS/AMT, 2430).

837P lines are SV1 (procedure with up to four modifiers, charge, units, place of service when
it differs from the claim's, diagnosis pointers into the claim's HI), 837I lines SV2 (revenue
code, optional procedure, charge, units). Both carry the service date (DTP*472), the line item
control number (REF*6R = ``item.sequence``, echoed by 835 REF*6R and 277CA REF*FJ) and, for a
drug, the NDC (2410 LIN*N4 / CTP) from ``item.detail``.

A secondary claim repeats what the earlier payer decided (X12.md 2.3; STANDARDS 4.1): claim-level
adjustments as CAS by group (CO/CR/OA/PI/PR, at most six reasons a segment) and the amount paid
(AMT*D) in 2320, line-level ones as 2430 SVD/CAS/DTP*573, read from that payer's
ExplanationOfBenefit or ClaimResponse. The group of an adjustment is taken from its reason text
(``CO-45``, as the 835 mapping writes it) or, failing that, from its CARIN BB category.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

from mappers.fhir_x12 import systems
from mappers.fhir_x12.claim_view import ClaimView, CoverageView, place_code
from mappers.fhir_x12.fhir_values import amount, code, decimal, text, x12_amount, x12_date
from mappers.fhir_x12.gaps import Gaps

__all__ = ["adjustment_group", "cob_claim_level", "service_lines"]

Segment = list[str]
Resource = dict[str, Any]

_GROUP_TEXT = re.compile(r"^(CO|CR|OA|PI|PR)-")
#: CARIN BB / HL7 adjudication categories -> CAS group when the reason text names none.
_GROUP_OF_CATEGORY = {
    "deductible": "PR", "coinsurance": "PR", "copay": "PR", "memberliability": "PR",
    "discount": "CO", "noncovered": "CO", "priorpayerpaid": "OA",
}
_PAID = ("paidtoprovider", "benefit", "paidbypatient")
#: NDC quantity units (CTP05-1, 355): FHIR UCUM-ish unit or code -> X12.
_NDC_UNITS = {"F2": "F2", "[iU]": "F2", "IU": "F2", "g": "GR", "GR": "GR", "mg": "ME",
              "ME": "ME", "mL": "ML", "ml": "ML", "ML": "ML", "UN": "UN", "1": "UN"}


def adjustment_group(adjudication: Mapping[str, Any]) -> str | None:
    """The CAS group of an adjudication entry, or None when it is not an adjustment."""
    reason = adjudication.get("reason") or {}
    if not code(reason, systems.CARC):
        return None
    match = _GROUP_TEXT.match(reason.get("text") or "")
    if match:
        return match.group(1)
    return _GROUP_OF_CATEGORY.get(code(adjudication.get("category")), "OA")


def _cas(adjudications: list[Mapping[str, Any]], gaps: Gaps, path: str) -> list[Segment]:
    """CAS segments, one per group (repeated after six reasons), in first-seen group order;
    a reason that is no CARC (CAS02, 1 to 5 letters or digits) is a gap."""
    by_group: dict[str, list[tuple[str, Decimal]]] = {}
    for n, adj in enumerate(adjudications):
        group = adjustment_group(adj)
        value = amount(adj.get("amount"))
        if group is None or value is None:
            continue
        reason = gaps.valid(code(adj.get("reason"), systems.CARC), f"{path}[{n}].reason",
                            r"[0-9A-Z]{1,5}", "Not a claim adjustment reason code (CAS02)")
        gaps.need(reason, f"{path}[{n}].reason", "An adjustment needs its reason code (CAS02)")
        by_group.setdefault(group, []).append((reason, value))
    out: list[Segment] = []
    for group, reasons in by_group.items():
        for start in range(0, len(reasons), 6):
            seg = ["CAS", group]
            for reason, value in reasons[start:start + 6]:
                seg += [reason, x12_amount(value), ""]
            out.append(seg)
    return out


def _paid(adjudications: list[Mapping[str, Any]]) -> Decimal | None:
    for adj in adjudications:
        if code(adj.get("category")) in _PAID:
            return amount(adj.get("amount"))
    return None


def _prior_paid(prior: Resource) -> Decimal:
    paid = amount((prior.get("payment") or {}).get("amount"))
    if paid is None:
        for total in prior.get("total") or []:
            if code(total.get("category")) in _PAID:
                paid = amount(total.get("amount"))
                break
    return paid if paid is not None else Decimal(0)


def _adjudicated_on(prior: Resource) -> str:
    return x12_date((prior.get("payment") or {}).get("date") or prior.get("created"))


def cob_claim_level(view: ClaimView, cov: CoverageView) -> list[Segment]:
    """2320 CAS (claim-level adjustments) and AMT*D (paid) from the earlier payer's decision."""
    if cov.prior is None:
        return []
    out = _cas(cov.prior.get("adjudication") or [], view.gaps, f"{cov.path}.claimResponse"
               ".adjudication")
    out.append(["AMT", "D", x12_amount(_prior_paid(cov.prior))])
    return out


def _prior_items(prior: Resource) -> dict[int, Resource]:
    out: dict[int, Resource] = {}
    for item in prior.get("item") or []:
        key = item.get("itemSequence", item.get("sequence"))
        if isinstance(key, int):
            out[key] = item
    return out


def _procedure(view: ClaimView, item: Mapping[str, Any], path: str,
               required: bool) -> str:
    """SV101 / SV202 composite: qualifier:code:modifiers."""
    concept = item.get("productOrService") or {}
    for coding in concept.get("coding") or []:
        qualifier = systems.product_qualifier(coding.get("system", ""))
        if qualifier in ("HC", "ER", "IV", "WK") and coding.get("code"):
            modifiers = [view.gaps.valid(code(m), f"{path}.modifier[{n}]", r"[0-9A-Z]{2}",
                                         "Not a procedure modifier (SV101-3 to -6)")
                         for n, m in enumerate(item.get("modifier") or [])][:4]
            return ":".join([qualifier, text(coding["code"], 48), *modifiers]).rstrip(":")
    if required:
        view.gaps.add(f"{path}.productOrService",
                      "A line needs a CPT/HCPCS procedure code (SV101)")
    return ""


def _line_dates(view: ClaimView, item: Mapping[str, Any], path: str,
                required: bool) -> list[Segment]:
    day = x12_date(item.get("servicedDate"))
    period = item.get("servicedPeriod") or (
        {} if day else view.claim.get("billablePeriod") or {})
    start, end = x12_date(period.get("start")), x12_date(period.get("end"))
    if day:
        return [["DTP", "472", "D8", day]]
    if start:
        if end and end != start:
            return [["DTP", "472", "RD8", f"{start}-{end}"]]
        return [["DTP", "472", "D8", start]]
    if required:
        view.gaps.add(f"{path}.servicedDate", "A line needs its service date (DTP*472)")
    return []


def _drug(view: ClaimView, item: Mapping[str, Any], path: str) -> list[Segment]:
    """2410 LIN*N4 and CTP from the first NDC in ``item.detail``; LIN03 is the 11-digit
    NDC (5-4-2), anything else is a gap."""
    for n, detail in enumerate(item.get("detail") or []):
        ndc = code(detail.get("productOrService"), "http://hl7.org/fhir/sid/ndc")
        ndc = view.gaps.valid(ndc.replace("-", ""), f"{path}.detail[{n}].productOrService",
                              r"\d{11}", "Not an 11-digit NDC (LIN03)")
        quantity = detail.get("quantity") or {}
        units = decimal(quantity.get("value"))
        if ndc and units is not None:
            unit = _NDC_UNITS.get(quantity.get("code") or quantity.get("unit") or "", "UN")
            return [["LIN", "", "N4", ndc],
                    ["CTP", "", "", "", x12_amount(units), unit]]
    return []


def _line_adjudication(view: ClaimView, item: Mapping[str, Any],
                       procedure: str, units: str) -> list[Segment]:
    """2430 per earlier payer that adjudicated this line."""
    out: list[Segment] = []
    for cov in view.others:
        if cov.prior is None:
            continue
        prior_item = _prior_items(cov.prior).get(int(item.get("sequence") or 0))
        if prior_item is None:
            continue
        adjudications = prior_item.get("adjudication") or []
        paid = _paid(adjudications) or Decimal(0)
        out.append(["SVD", text(cov.payer_id, 80), x12_amount(paid), procedure, "", units])
        out += _cas(adjudications, view.gaps, f"{cov.path}.claimResponse.item.adjudication")
        when = _adjudicated_on(cov.prior)
        view.gaps.need(when, f"{cov.path}.claimResponse",
                       "The earlier payer's adjudication date is required (2430 DTP*573)")
        out.append(["DTP", "573", "D8", when])
    return out


def service_lines(view: ClaimView, pointers: dict[int, int]) -> list[Segment]:
    """The 2400 loops of a claim, numbered LX 1..n in ``item.sequence`` order."""
    items = sorted(enumerate(view.claim.get("item") or []),
                   key=lambda p: (p[1].get("sequence") or 0, p[0]))
    if not items:
        view.gaps.add("Claim.item", "A claim needs at least one service line (2400)")
    claim_pos = "" if view.institutional else view.place_of_service()
    out: list[Segment] = []
    for n, (position, item) in enumerate(items, start=1):
        path = f"Claim.item[{position}]"
        charge = amount(item.get("net"))
        if charge is None:
            unit_price, qty = amount(item.get("unitPrice")), decimal(
                (item.get("quantity") or {}).get("value"))
            charge = unit_price * (qty or 1) if unit_price is not None else None
        view.gaps.need(charge, f"{path}.net", "A line needs its charge (SV102/SV203)")
        units = x12_amount(decimal((item.get("quantity") or {}).get("value")) or Decimal(1))
        procedure = _procedure(view, item, path, required=not view.institutional)
        out.append(["LX", str(n)])
        if view.institutional:
            revenue = code(item.get("revenue"), systems.NUBC_REVENUE) or code(item.get("revenue"))
            view.gaps.need(revenue, f"{path}.revenue", "A line needs its revenue code (SV201)")
            revenue = view.gaps.valid(revenue, f"{path}.revenue", r"\d{4}",
                                      "Not a 4-digit revenue code (SV201)")
            out.append(["SV2", revenue, procedure, x12_amount(charge or Decimal(0)), "UN", units])
        else:
            pos = place_code(item.get("locationCodeableConcept"))
            if not pos and code(item.get("locationCodeableConcept"), systems.CMS_POS):
                view.gaps.add(f"{path}.locationCodeableConcept",
                              "Not a CMS place of service code (SV105)", "invalid")
            line_pointers = [str(pointers[s]) for s in item.get("diagnosisSequence") or []
                             if s in pointers][:4]
            view.gaps.need(line_pointers, f"{path}.diagnosisSequence",
                           "A line must point to at least one claim diagnosis (SV107)")
            out.append(["SV1", procedure, x12_amount(charge or Decimal(0)), "UN", units,
                        "" if pos == claim_pos else pos, "", ":".join(line_pointers)])
        out += _line_dates(view, item, path, required=not view.institutional)
        out.append(["REF", "6R", str(item.get("sequence") or n)])
        out += _drug(view, item, path)
        out += _line_adjudication(view, item, procedure, units)
    return out
