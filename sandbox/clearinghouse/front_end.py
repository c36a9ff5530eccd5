"""The clearinghouse front end: the claim-level edits a clearinghouse runs before a claim goes to
the payer, reported on the 277CA (005010X214 2200D STC: category A6 missing / A7 invalid / A3
returned as unprocessable, a claim status code, an entity code) or, for JSON submissions, as
``errors[]`` (CLEARINGHOUSES.md sections 2 and 5, "Rejection channels").

The edits (each names the TR3 rule it enforces):

============================  ======================  =============================================
edit                          277CA STC01             source
============================  ======================  =============================================
billing NPI missing           A6:562:85               837P 2010AA NM109 required (X222A1)
billing NPI check digit       A7:562:85               CMS NPI standard (Luhn over 80840 + 9 digits)
billing ZIP not ZIP+4         A7:500:85               837P 2010AA N403 note: 9 digits (X12.md 2.2)
member id missing             A6:164:IL               837P 2010BA NM109 required
payer id missing              A6:21:PR                837P 2010BB NM109 required
no diagnosis                  A6:254                  837P 2300 HI principal diagnosis required
over 50 service lines         A3:481                  CHC professional claims v3: <= 50 lines
charge != sum of the lines    A7:178                  837P CLM02 note: the sum of the SV102s
service date missing/future   A7:187                  837P 2400 DTP*472 required, not after today
============================  ======================  =============================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from mappers.x12.rules import npi_is_valid
from sandbox.clearinghouse.model import FrontEndResult, ReceivedClaim

__all__ = ["ACCEPTED", "MAX_JSON_LINES", "Edit", "edit_claim", "failed_edits"]

MAX_JSON_LINES = 50
"""CHC professional claims v3 accepts at most 50 service lines (CLEARINGHOUSES.md section 2)."""

ACCEPTED = ("A2", "20")
"""277CA STC01 for a claim accepted for adjudication: A2 accepted, 20 accepted for
processing."""

_ZIP9 = re.compile(r"\d{9}")
_DATE8 = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")


@dataclass(frozen=True, slots=True)
class Edit:
    """A failed front-end edit: the 277CA STC01 parts, where it is, and in words."""

    category: str
    status_code: str
    entity: str
    loop: str
    field: str
    """The CHC JSON field (for ``errors[]``)."""
    message: str
    line: int = 0
    """The service line (LX01) a line-level edit concerns; 0 for the claim."""


def failed_edits(claim: ReceivedClaim, *, today: date | None = None,
                 json_limits: bool = False) -> list[Edit]:
    """Every edit the claim fails, claim-level first (empty: the claim passes).

    ``json_limits`` adds the JSON API's own limits (at most 50 service lines)."""
    today_text = (today or date.today()).strftime("%Y%m%d")
    found: list[Edit] = []
    if not claim.billing_npi:
        found.append(Edit("A6", "562", "85", "2010AA", "billing.npi",
                          "BILLING PROVIDER NPI IS MISSING"))
    elif not npi_is_valid(claim.billing_npi):
        found.append(Edit("A7", "562", "85", "2010AA", "billing.npi",
                          f"BILLING PROVIDER NPI {claim.billing_npi} IS INVALID"))
    if not _ZIP9.fullmatch(claim.billing_zip):
        found.append(Edit("A7", "500", "85", "2010AA", "billing.address.postalCode",
                          "BILLING PROVIDER ZIP CODE MUST BE 9 DIGITS"))
    if not claim.member_id:
        found.append(Edit("A6", "164", "IL", "2010BA", "subscriber.memberId",
                          "SUBSCRIBER MEMBER ID IS MISSING"))
    if not claim.payer_id:
        found.append(Edit("A6", "21", "PR", "2010BB", "tradingPartnerServiceId",
                          "PAYER ID IS MISSING"))
    if not claim.diagnoses:
        found.append(Edit("A6", "254", "", "2300", "claimInformation.healthCareCodeInformation",
                          "PRINCIPAL DIAGNOSIS CODE IS MISSING"))
    if json_limits and len(claim.lines) > MAX_JSON_LINES:
        found.append(Edit("A3", "481", "", "2400", "claimInformation.serviceLines",
                          f"{len(claim.lines)} SERVICE LINES: AT MOST {MAX_JSON_LINES}"))
    total = sum((line.charge for line in claim.lines), start=claim.charge * 0)
    if total != claim.charge:
        found.append(Edit("A7", "178", "", "2300", "claimInformation.claimChargeAmount",
                          f"CLAIM CHARGE {claim.charge} IS NOT THE SUM OF THE LINES {total}"))
    for line in claim.lines:
        if not _DATE8.fullmatch(line.service_date) or line.service_date > today_text:
            found.append(Edit("A7", "187", "", "2400",
                              f"claimInformation.serviceLines[{line.number - 1}].serviceDate",
                              f"LINE {line.number} DATE OF SERVICE {line.service_date or 'MISSING'}"
                              " IS NOT VALID", line.number))
    return found


def edit_claim(claim: ReceivedClaim, trace: str, *, today: date | None = None,
               json_limits: bool = False) -> FrontEndResult:
    """The front end's verdict: the first failed edit rejects the claim; none accepts it."""
    failed = failed_edits(claim, today=today, json_limits=json_limits)
    if not failed:
        return FrontEndResult(claim, True, ACCEPTED[0], ACCEPTED[1], "", "", trace)
    first = failed[0]
    return FrontEndResult(claim, False, first.category, first.status_code, first.entity,
                          first.message, trace)
