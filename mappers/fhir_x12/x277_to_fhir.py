"""277 claim status response (005010X212) -> one ClaimResponse per claim status loop.

Each 2200D (subscriber's claim) and 2200E (dependent's claim) becomes a ClaimResponse
(R4 claimresponse.html) built from the 277 alone:

- ``request``: the Claim by its patient control number, REF*EJ, else TRN02 (the 276 sends the
  patient control number as its trace unless told otherwise); identifiers: this status answer
  (``STATUS_RESPONSE_SYSTEM``, "BHT04/BHT03/TRN02/n"), the payer's claim number (REF*1K) and
  the clearinghouse trace (REF*D9).
- ``outcome`` from the category (STC01-1) of the first claim-level STC, the current status:

  ======================================  =========  ===========================================
  category                                outcome    why
  ======================================  =========  ===========================================
  F0-F4 (finalized, incl. F3F/F3N)        complete   adjudication is over (paid, denied, revised)
  P0-P5 (pending)                         queued     still being adjudicated
  A0, A1, A2, A5 (acknowledged, split)    queued     received / accepted, not yet adjudicated
  A3, A4, A6, A7, A8 (returned, rejected) error      the payer will not adjudicate it as sent
  R* (information requested)              error      cannot go on until the request is answered
  E*, D0 (no response possible, no data)  error      no status could be given
  ======================================  =========  ===========================================

- Every STC code pair (STC01, STC10, STC11 at claim and line level): a rejecting category
  (A3/A4/A6/A7/A8, R*, E*, D0) is a ``ClaimResponse.error`` (line ones with ``itemSequence``);
  any other is an ``adjudication`` whose ``category`` is the status category and ``reason`` the
  status code (systems.CLAIM_STATUS_CATEGORY / systems.CLAIM_STATUS), plus a ``processNote``
  saying it in words. No extensions are used.
- Money: STC04 total charge -> ``total`` ``submitted``; STC05 payment -> ``total`` ``benefit``,
  and ``payment`` (amount, STC08 check/EFT date, STC09 check/EFT number) when something was paid
  or a payment is dated; 2220 SVC02/SVC03 -> line ``submitted``/``benefit``.
- ``itemSequence``: REF*FJ (the 276/837 line item control number) when it is a positive whole
  number, else the line's place in the claim.
- ``type`` professional unless the 277 gives a bill type (REF*BLT): institutional.
- ``created``: STC02 (the status effective date), else BHT04.

Statuses at receiver or provider level (2200B/2200C) concern no single claim and are not mapped.
Ids are name-based UUIDs of the payer, BHT04/BHT03, the trace and the claim's place in the set.
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from mappers.fhir_x12 import systems
from mappers.fhir_x12.bundles import transaction
from mappers.fhir_x12.fhir_build import coding, display, money
from mappers.x12.dates import iso_date
from mappers.x12.tree import Loop, Segment, TransactionSet

__all__ = ["STATUS_RESPONSE_SYSTEM", "claim_status_bundle", "claim_statuses", "outcome_of"]

Resource = dict[str, Any]

#: One claim of one 277: "BHT04/BHT03/TRN02/n" for the n-th claim status loop of the set.
STATUS_RESPONSE_SYSTEM = "urn:fhir-facade:x12:claim-status-response"

_NAMESPACE = uuid.UUID("3c7a9e41-2b6d-5f08-a1c3-277212277212")

_REJECTING = frozenset({"A3", "A4", "A6", "A7", "A8", "D0"})


def _rejecting(category: str) -> bool:
    return category in _REJECTING or category[:1] in ("R", "E")


def outcome_of(category: str) -> str:
    """ClaimResponse.outcome for a claim status category (STC01-1); see the module table."""
    if _rejecting(category):
        return "error"
    if category[:1] == "F":
        return "complete"
    return "queued"


_FAMILY = {"A": "Acknowledged", "P": "Pending", "F": "Finalized", "R": "Information requested",
           "E": "No status available", "D": "No matching claim found"}








def _amount(seg: Segment, position: int) -> Decimal | None:
    value = seg.get(position)
    if not value:
        return None
    try:
        found = Decimal(value)
    except InvalidOperation:
        return None
    return found if found.is_finite() else None


class _Status:
    """One STC composite (STC01, STC10 or STC11): category, status code, entity."""

    __slots__ = ("category", "entity", "status")

    def __init__(self, value: str, separator: str) -> None:
        parts = value.split(separator) + ["", ""]
        self.category, self.status, self.entity = parts[0], parts[1], parts[2]

    @property
    def label(self) -> str:
        return ":".join(p for p in (self.category, self.status, self.entity) if p)

    def error_code(self) -> dict[str, Any]:
        """The pair as one CodeableConcept, as the 277CA mapping writes its errors."""
        codings = [coding(systems.CLAIM_STATUS_CATEGORY, self.category,
                          display("claim_status_category", self.category))]
        if self.status:
            codings.append(coding(systems.CLAIM_STATUS, self.status,
                                  display("claim_status", self.status)))
        return {"coding": codings, "text": self.label}

    def adjudication(self) -> dict[str, Any]:
        """Category = status category, reason = status code (R4 ClaimResponse.adjudication)."""
        out: dict[str, Any] = {"category": {"coding": [coding(
            systems.CLAIM_STATUS_CATEGORY, self.category,
            display("claim_status_category", self.category))], "text": self.label}}
        if self.status:
            out["reason"] = {"coding": [coding(systems.CLAIM_STATUS, self.status,
                                                display("claim_status", self.status))]}
        return out

    def words(self) -> str:
        category = display("claim_status_category", self.category) \
            or _FAMILY.get(self.category[:1], "Status")
        status = display("claim_status", self.status) if self.status else None
        return f"{self.label}: {category}" + (f"; {status}" if status else "")


def _statuses(stc: Segment, separator: str) -> list[_Status]:
    return [_Status(stc.get(p), separator) for p in (1, 10, 11) if stc.get(p)]


def _person(nm1: Segment | None) -> str:
    if nm1 is None:
        return ""
    first, last = nm1.get(4), nm1.get(3)
    return f"{first} {last}".strip() if first else last


def _reference(label: str, system: str = "", value: str = "") -> dict[str, Any]:
    """A Reference by identifier and/or display, leaving out what is empty (R4: no ""; a
    Reference with neither says so in its display)."""
    out: dict[str, Any] = {}
    if system and value:
        out["identifier"] = {"system": system, "value": value}
    if label or not out:
        out["display"] = label or "Not named in the 277"
    return out


def _first_nm1(loop: Loop, loop_id: str) -> Segment | None:
    found = next(loop.loops(loop_id), None)
    return next(found.segments("NM1"), None) if found is not None else None


class _Context:
    """What the 277 says above the claims: when, who answers, for whom."""

    def __init__(self, ts: TransactionSet) -> None:
        self.separator = ts.delimiters.component
        bht = next(s for s in ts.root.walk() if s.tag == "BHT")
        self.reference, self.date = bht.get(3), bht.get(4)
        payer = next((s for loop in ts.root.find("2100A") for s in loop.segments("NM1")), None)
        self.payer_id = payer.get(9) if payer is not None else ""
        self.payer_name = payer.get(3) if payer is not None else ""
        self.count = 0

    def insurer(self) -> dict[str, Any]:
        return _reference(self.payer_name, systems.payer_id(), self.payer_id)


def _item(line: Loop, position: int, separator: str,
          errors: list[dict[str, Any]]) -> dict[str, Any]:
    """2220D/2220E: one ClaimResponse.item; rejecting statuses go to ``errors``."""
    refs = {r.get(1): r.get(2) for r in line.segments("REF")}
    fj = refs.get("FJ", "")
    sequence = int(fj) if fj.isdigit() and int(fj) > 0 else position
    adjudication: list[dict[str, Any]] = []
    svc = next(line.segments("SVC"), None)
    if svc is not None:
        for category, index in (("submitted", 2), ("benefit", 3)):
            value = _amount(svc, index)
            if value is not None:
                adjudication.append({"category": {"coding": [coding(systems.ADJUDICATION,
                                                                     category)]},
                                     "amount": money(value)})
    for stc in line.segments("STC"):
        for status in _statuses(stc, separator):
            if _rejecting(status.category):
                errors.append({"itemSequence": sequence, "code": status.error_code()})
            else:
                adjudication.append(status.adjudication())
    if not adjudication:  # R4: item.adjudication is 1..*
        adjudication.append({"category": {"coding": [coding(systems.ADJUDICATION,
                                                              "submitted")]}})
    return {"itemSequence": sequence, "adjudication": adjudication}


def _claim_response(ctx: _Context, claim: Loop, subscriber: Segment | None,
                    dependent: Segment | None, provider: Segment | None) -> Resource:
    ctx.count += 1
    number = ctx.count
    separator = ctx.separator
    trn = next(claim.segments("TRN"), None)
    trace = trn.get(2) if trn is not None else ""
    stcs = list(claim.segments("STC"))
    refs = {r.get(1): r.get(2) for r in claim.segments("REF")}
    statuses = [s for stc in stcs for s in _statuses(stc, separator)]
    current = statuses[0].category if statuses else ""
    first = stcs[0] if stcs else None
    effective = first.get(2) if first is not None else ""

    identifiers = [{"system": STATUS_RESPONSE_SYSTEM,
                    "value": f"{ctx.date}/{ctx.reference}/{trace}/{number}"}]
    if refs.get("1K"):
        identifiers.append({"system": systems.payer_claim_number(ctx.payer_id),
                            "value": refs["1K"]})
    if refs.get("D9"):
        identifiers.append({"system": systems.clearinghouse_trace(), "value": refs["D9"]})

    if dependent is not None:  # a dependent has no id of its own in X212 (2100E)
        patient = _reference(_person(dependent))
    else:
        member = subscriber.get(9) if subscriber is not None and subscriber.get(8) == "MI" else ""
        patient = _reference(_person(subscriber), systems.member_id(ctx.payer_id), member)
    response: Resource = {
        "resourceType": "ClaimResponse",
        "id": str(uuid.uuid5(_NAMESPACE, "|".join(
            ("277", ctx.payer_id, ctx.date, ctx.reference, trace, str(number))))),
        "identifier": identifiers,
        "status": "active",
        "type": {"coding": [coding(systems.CLAIM_TYPE,
                                    "institutional" if refs.get("BLT") else "professional")]},
        "use": "claim",
        "patient": patient,
        "created": iso_date(effective or ctx.date),
        "insurer": ctx.insurer(),
        "outcome": outcome_of(current),
        "disposition": (display("claim_status_category", current)
                        or _FAMILY.get(current[:1], "Status reported")),
    }
    if provider is not None and provider.get(8) == "XX" and provider.get(9):
        response["requestor"] = _reference(_person(provider), systems.NPI, provider.get(9))
    pcn = refs.get("EJ") or trace
    if pcn:
        response["request"] = {"identifier": {"system": systems.patient_control_number(),
                                              "value": pcn}}

    errors = [{"code": s.error_code()} for s in statuses if _rejecting(s.category)]
    adjudication = [s.adjudication() for s in statuses if not _rejecting(s.category)]
    notes = [s.words() for s in statuses]
    items = [_item(line, n, separator, errors)
             for n, line in enumerate(list(claim.loops("2220D")) + list(claim.loops("2220E")),
                                      1)]
    if items:
        response["item"] = items
    if adjudication:
        response["adjudication"] = adjudication

    total, paid = (_amount(first, 4), _amount(first, 5)) if first is not None else (None, None)
    totals = []
    if total is not None:
        totals.append({"category": {"coding": [coding(systems.ADJUDICATION, "submitted")]},
                       "amount": money(total)})
    if paid is not None:
        totals.append({"category": {"coding": [coding(systems.ADJUDICATION, "benefit")]},
                       "amount": money(paid)})
    if totals:
        response["total"] = totals
    if first is not None and paid is not None and (paid != 0 or first.get(8) or first.get(9)):
        payment: dict[str, Any] = {
            "type": {"coding": [coding(systems.EX_PAYMENT_TYPE, "complete")]},
            "amount": money(paid),
        }
        if first.get(8):
            payment["date"] = iso_date(first.get(8))
        if first.get(9):
            payment["identifier"] = {"system": systems.trace_number(ctx.payer_id),
                                     "value": first.get(9)}
        response["payment"] = payment
    if notes:
        response["processNote"] = [{"number": i, "type": "display", "text": text}
                                   for i, text in enumerate(notes, 1)]
    if errors:
        response["error"] = errors
    return response


def claim_statuses(ts: TransactionSet) -> list[Resource]:
    """One ClaimResponse per 2200D/2200E claim status loop of a 277 (X212), in file order."""
    if ts.guide != "005010X212" or ts.st.get(1) != "277":
        raise ValueError("not a 277 claim status response (005010X212) transaction set")
    ctx = _Context(ts)
    out: list[Resource] = []
    for receiver in ts.root.find("2000B"):
        for provider_level in receiver.loops("2000C"):
            provider = _first_nm1(provider_level, "2100C")
            for subscriber_level in provider_level.loops("2000D"):
                subscriber = _first_nm1(subscriber_level, "2100D")
                for claim in subscriber_level.loops("2200D"):
                    out.append(_claim_response(ctx, claim, subscriber, None, provider))
                for dependent_level in subscriber_level.loops("2000E"):
                    dependent = _first_nm1(dependent_level, "2100E")
                    for claim in dependent_level.loops("2200E"):
                        out.append(_claim_response(ctx, claim, subscriber, dependent,
                                                   provider))
    return out


def claim_status_bundle(ts: TransactionSet) -> Resource:
    """A transaction Bundle creating each ClaimResponse only if its identifier is new."""
    return transaction(claim_statuses(ts))
