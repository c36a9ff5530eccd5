"""The 277 claim status response (005010X212) for the claims of one 276.

Layout (X212): BHT*0010*08 with the 276's BHT03, purpose DG (response); 2000A/2100A the payer
(NM1*PR, PI); 2000B/2100B the information receiver (NM1*41, 46); 2000C/2100C the provider
(NM1*1P, XX NPI); 2000D/2100D the subscriber (NM1*IL, MI) and, per claim of the subscriber,
2200D: TRN*2 echoing the inquiry's TRN*1, STC (STC01 category:status[:entity], STC02 effective
date, STC04 charge, STC05 paid, STC06 adjudication date, STC08 check date, STC09 check number),
REF*1K payer claim number, REF*EJ patient control number, REF*D9 clearinghouse trace,
DTP*472; per line 2220D SVC, STC, REF*FJ, DTP*472. A dependent's claims go in 2000E/2100E
(NM1*QC) and 2200E/2220E.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sandbox.clearinghouse.claim_status import StatusAnswer
from sandbox.clearinghouse.x12_out import Segments, amount, quantity

__all__ = ["status_set"]


def _stc(a: StatusAnswer) -> list[str]:
    parts = [a.category, a.status_code] + ([a.entity] if a.entity else [])
    stc = ["STC", ":".join(parts), a.decided, "", amount(a.charge)]
    if a.paid is not None:
        stc.append(amount(a.paid))
        if a.category.startswith("F"):
            stc += [a.decided, "", a.decided if a.check_number else "", a.check_number]
    return stc


def _claim(a: StatusAnswer) -> Segments:
    q = a.inquiry
    segs: Segments = [["TRN", "2", q.trace or q.pcn or "0"], _stc(a)]
    if a.payer_claim_number:
        segs.append(["REF", "1K", a.payer_claim_number])
    if q.pcn:
        segs.append(["REF", "EJ", q.pcn])
    if a.trace:
        segs.append(["REF", "D9", a.trace])
    if q.service_from:
        same = q.service_to in ("", q.service_from)
        segs.append(["DTP", "472", "D8" if same else "RD8",
                     q.service_from if same else f"{q.service_from}-{q.service_to}"])
    for n, line in enumerate(a.lines, 1):
        segs += [
            ["SVC", line.procedure, amount(line.charge), amount(line.paid), "", "", "",
             quantity(line.units)],
            ["STC", ":".join([a.category, a.status_code]), a.decided],
            ["REF", "FJ", line.control_number or str(n)],
            ["DTP", "472", "D8", line.service_date or q.service_from or a.decided],
        ]
    return segs


def status_set(answers: Sequence[StatusAnswer], when: datetime) -> Segments:
    """One 277 answering ``answers`` (the claims of one 276, same payer, receiver and
    provider as the first)."""
    q = answers[0].inquiry
    segs: Segments = [
        ["ST", "277", "", "005010X212"],
        ["BHT", "0010", "08", q.reference or q.trace or "0", when.strftime("%Y%m%d"),
         when.strftime("%H%M"), "DG"],
        ["HL", "1", "", "20", "1"],
        ["NM1", "PR", "2", q.payer_name or q.payer_id, "", "", "", "", "PI", q.payer_id],
        ["HL", "2", "1", "21", "1"],
        ["NM1", "41", "2", q.receiver_name or q.receiver_id, "", "", "", "", "46",
         q.receiver_id],
        ["HL", "3", "2", "19", "1"],
        ["NM1", "1P", "2", q.provider_name or "PROVIDER", "", "", "", "", "XX", q.provider_npi],
    ]
    hl = 3
    subscribers: dict[tuple[str, str, str], list[StatusAnswer]] = {}
    for a in answers:
        key = (a.inquiry.member_id, a.inquiry.subscriber_last, a.inquiry.subscriber_first)
        subscribers.setdefault(key, []).append(a)
    for (member, last, first), group in subscribers.items():
        hl += 1
        subscriber_hl = hl
        own = [a for a in group if not a.inquiry.patient_last]
        dependents = [a for a in group if a.inquiry.patient_last]
        segs += [
            ["HL", str(subscriber_hl), "3", "22", "1" if dependents else "0"],
            ["NM1", "IL", "1", last or "UNKNOWN", first, "", "", "", "MI" if member else "",
             member],
        ]
        for a in own:
            segs += _claim(a)
        for a in dependents:
            hl += 1
            segs += [
                ["HL", str(hl), str(subscriber_hl), "23"],
                ["NM1", "QC", "1", a.inquiry.patient_last, a.inquiry.patient_first],
                *_claim(a),
            ]
    return segs
