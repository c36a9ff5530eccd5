"""The 271 eligibility response (005010X279A1) for one inquiry.

Layout (X279A1): BHT*0022*11 with the 270's BHT03; 2000A/2100A the payer (NM1*PR, PI);
2000B/2100B the provider as asked (NM1*1P, XX NPI); 2000C/2100C the subscriber: TRN*2 echoing
the inquiry's TRN*1 trace (when the subscriber is the patient), NM1*IL with the member id,
AAA (reject reason, follow-up C) when the payer rejects, REF*6P group, DMG, DTP*346 plan begin,
2110C EB benefits; for a dependent 2000D/2100D (TRN*2, NM1*03, DMG) and 2110D EB.
"""

from __future__ import annotations

import re
from datetime import datetime

from sandbox.clearinghouse.eligibility import Answer, Benefit, Person
from sandbox.clearinghouse.x12_out import Segments

__all__ = ["DEFAULT_ORIGINATOR", "eligibility_set"]

DEFAULT_ORIGINATOR = "9000000000"
"""TRN03 when the inquiry named none (a JSON request): "9" + a user-assigned number."""

_DATE8 = re.compile(r"(?:18|19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")


def _eb(b: Benefit) -> list[str]:
    return ["EB", b.code, b.level, b.service_type, "PR", b.plan, b.period, b.amount, b.percent,
            "", "", "", b.in_network]


def _dmg(p: Person) -> list[list[str]]:
    if not _DATE8.fullmatch(p.birth_date):
        return []
    gender = p.gender if p.gender in ("F", "M", "U") else ""
    return [["DMG", "D8", p.birth_date, gender]]


def eligibility_set(a: Answer, when: datetime) -> Segments:
    """One 271 transaction set answering ``a.inquiry``."""
    q = a.inquiry
    today = when.strftime("%Y%m%d")
    trn = ["TRN", "2", q.trace or q.reference or "0", q.trace_originator or DEFAULT_ORIGINATOR]
    provider = (["NM1", "1P", "1", q.provider.last, q.provider.first, "", "", "", "XX",
                 q.provider_npi] if q.provider_entity == "1" else
                ["NM1", "1P", "2", q.provider.last, "", "", "", "", "XX", q.provider_npi])
    if not q.provider_npi:
        provider[8:] = []
    segs: Segments = [
        ["ST", "271", "", "005010X279A1"],
        ["BHT", "0022", "11", q.reference or q.trace or "0", today, when.strftime("%H%M")],
        ["HL", "1", "", "20", "1"],
        ["NM1", "PR", "2", q.payer_name or q.payer_id, "", "", "", "", "PI", q.payer_id],
        ["HL", "2", "1", "21", "1"],
        provider,
        ["HL", "3", "2", "22", "1" if q.dependent is not None else "0"],
    ]
    if q.dependent is None:
        segs.append(trn)
    segs.append(["NM1", "IL", "1", q.subscriber.last or "UNKNOWN", q.subscriber.first, "", "",
                 "", "MI" if q.member_id else "", q.member_id])
    if q.group_number:
        segs.append(["REF", "6P", q.group_number])
    if a.aaa:
        segs.append(["AAA", "N", "", a.aaa, "C"])
    segs += _dmg(q.subscriber)
    if a.found and not a.aaa:
        segs.append(["DTP", "346", "D8", f"{today[:4]}0101"])
    if q.dependent is None:
        segs += [_eb(b) for b in a.benefits]
        return segs
    segs += [
        ["HL", "4", "3", "23", "0"],
        trn,
        ["NM1", "03", "1", q.dependent.last or "UNKNOWN", q.dependent.first],
        *_dmg(q.dependent),
        *[_eb(b) for b in a.benefits],
    ]
    return segs
