"""271 eligibility response (005010X279A1) -> CoverageEligibilityResponse (R4
coverageeligibilityresponse.html), one per person the payer answered for.

- A response is made for each subscriber (2000C) that has benefits (2110C), a rejection (AAA) or
  no dependents, and for each dependent (2000D). A 271 that answers for nobody (rejected at the
  payer or provider level, 2000A/2100A/2100B AAA) still gets one response, with those errors.
- ``request``: the inquiry, by identifier: the echoed trace ``TRN*2*<trace>*<originator>`` in
  ``systems.trace_number(<originator>)`` (the identifier ``eligibility_to_270`` reads the trace
  from); without a TRN, BHT03 (the 270's BHT03 echoed) as a value without system.
- ``insurer`` by payer id (2100A NM109, ``systems.payer_id()``), ``requestor`` by NPI (2100B),
  ``patient`` by member id (2100C NM109, ``systems.member_id(<payer id>)``; a dependent has no
  member id in 5010, so its reference carries only its name), ``servicedDate``/``servicedPeriod``
  from 2100C/2100D DTP*472 or DTP*291, ``insurance.benefitPeriod`` from DTP*346/347 (plan) or
  356/357 (eligibility).
- Each EB (2110C/2110D) becomes ``insurance.item`` entries, one per service type (EB03, X12 1365;
  an EB without one speaks of the whole plan: 30), or one for the procedure when EB13 names one
  (``productOrService``; an item holds a category or a product, not both: ces-1). On each item:
  ``network`` from EB12 (Y in, N out, W both), ``unit`` from EB02 (IND individual, FAM family),
  ``term`` from EB06, ``authorizationRequired`` from EB11, ``description`` from EB05 and the
  MSG texts, ``excluded`` from EB01 (E exclusions and I non-covered: true; 1-5 active: false),
  ``provider`` from a 2120 NM1 (by NPI when it has one), and ``benefit`` entries whose
  ``type`` is EB01 (X12 1390, with the matching HL7 benefit-type code when one exists):
  EB07 money as ``allowedMoney`` (``usedMoney`` when EB06 is 24, year to date), EB08 percent
  as ``allowedUnsignedInt`` (``allowedString`` such as ``12.5%`` when not whole), EB10
  quantity as ``allowedUnsignedInt`` (its type adding EB09, what is counted). EB06 29
  (remaining) stays ``allowed`` with its ``term``.
- ``insurance.inforce`` from EB01 1-5 (true) or 6-8 (false).
- AAA at any level on the person's path -> ``error`` (AAA03 in X12 901), outcome ``error``.

Resource ids are name-based UUIDs of the payer, BHT03, BHT04/BHT05 and the person's place in the
set, so the same 271 maps to the same resources every time.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from mappers.fhir_x12 import systems
from mappers.fhir_x12.bundles import transaction
from mappers.fhir_x12.fhir_build import coding, display
from mappers.x12.dates import iso_date
from mappers.x12.tree import Loop, Segment, TransactionSet

__all__ = [
    "BENEFIT_NETWORK",
    "BENEFIT_TERM",
    "BENEFIT_TYPE",
    "BENEFIT_UNIT",
    "RESPONSE_SYSTEM",
    "eligibility_bundle",
    "eligibility_responses",
]

Resource = dict[str, Any]

_NAMESPACE = uuid.UUID("3c1b7f0e-2d4a-5e86-9a71-271271271271")

RESPONSE_SYSTEM = "urn:fhir-facade:x12:eligibility-response"
"""One answer of one 271: "payer/BHT03/BHT04BHT05/n" for the n-th person of the set."""
BENEFIT_TYPE = "http://terminology.hl7.org/CodeSystem/benefit-type"
BENEFIT_NETWORK = "http://terminology.hl7.org/CodeSystem/benefit-network"
BENEFIT_UNIT = "http://terminology.hl7.org/CodeSystem/benefit-unit"
BENEFIT_TERM = "http://terminology.hl7.org/CodeSystem/benefit-term"

_SERVICE_TYPE = systems.x12_element_system("1365")
_INFORMATION = systems.x12_element_system("1390")
_COVERAGE_LEVEL = systems.x12_element_system("1207")
_TIME_PERIOD = systems.x12_element_system("615")
_QUANTITY = systems.x12_element_system("673")
_YES_NO = systems.x12_element_system("1073")
_REJECT_REASON = systems.x12_element_system("901")

_ACTIVE = frozenset("12345")
_INACTIVE = frozenset("678")
_EXCLUDED = frozenset({"E", "I"})
#: EB01 -> HL7 benefit-type (co-insurance maps only when it is a percentage).
_HL7_TYPE = {"C": "deductible", "B": "copay"}
_HL7_UNIT = {"IND": "individual", "FAM": "family"}
#: EB06 -> HL7 benefit-term.
_HL7_TERM = {"22": "annual", "23": "annual", "7": "day", "32": "lifetime"}
#: AAA04 follow-up action, in our words.
_FOLLOW_UP = {
    "C": "correct the inquiry and send it again",
    "N": "do not send it again",
    "P": "send the original inquiry again",
    "R": "it may be sent again",
    "S": "do not send it again; the payer asked someone else",
    "W": "send it again in 30 days",
    "X": "send it again in 10 days",
    "Y": "do not send it again; the payer will answer",
}






def _decimal(value: str) -> Decimal | None:
    if not value:
        return None
    try:
        out = Decimal(value)
    except InvalidOperation:
        return None
    return out if out.is_finite() else None


def _name(nm1: Segment | None) -> str:
    if nm1 is None:
        return ""
    last, first = nm1.get(3), nm1.get(4)
    return f"{first} {last}".strip() if first else last


def _first(loop: Loop | None, tag: str, qualifier: str | None = None) -> Segment | None:
    if loop is None:
        return None
    return next((s for s in loop.segments(tag) if qualifier is None or s.get(1) == qualifier),
                None)


def _errors(loop: Loop | None) -> list[Segment]:
    return list(loop.segments("AAA")) if loop is not None else []


def _error(aaa: Segment) -> dict[str, Any]:
    reason, follow = aaa.get(3), aaa.get(4)
    words = f"Rejected with reason {reason}"
    if follow in _FOLLOW_UP:
        words += f": {_FOLLOW_UP[follow]}"
    return {"code": {"coding": [coding(_REJECT_REASON, reason)], "text": words}}


def _period(dtp: Segment) -> tuple[str, dict[str, str] | None]:
    """A DTP value as a FHIR date (D8) or period (RD8)."""
    if dtp.get(2) == "RD8" and "-" in dtp.get(3):
        start, _, end = dtp.get(3).partition("-")
        return "", {"start": iso_date(start), "end": iso_date(end)}
    return iso_date(dtp.get(3)), None


class _Set:
    """What the whole 271 says: BHT, and how to name things in it."""

    def __init__(self, ts: TransactionSet) -> None:
        self.ts = ts
        self.bht = next(s for s in ts.root.walk() if s.tag == "BHT")
        self.reference = self.bht.get(3)
        self.created = iso_date(self.bht.get(4))
        self.component = ts.delimiters.component
        self.repetition = ts.delimiters.repetition

    def uid(self, payer: str, number: int) -> str:
        key = "|".join(("271", payer, self.reference, self.bht.get(4), self.bht.get(5),
                        str(number)))
        return str(uuid.uuid5(_NAMESPACE, key))


class _Party:
    """The payer (2100A) or the provider (2100B) of a branch."""

    def __init__(self, name_loop: Loop | None) -> None:
        self.nm1 = _first(name_loop, "NM1")
        self.name = _name(self.nm1)
        self.id = self.nm1.get(9) if self.nm1 is not None else ""
        self.qualifier = self.nm1.get(8) if self.nm1 is not None else ""

    def insurer(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "Organization"}
        if self.id:
            out["identifier"] = {"system": systems.payer_id(), "value": self.id}
        out["display"] = self.name or "Payer not named in the response"
        return out

    def requestor(self) -> dict[str, Any] | None:
        if self.nm1 is None:
            return None
        out: dict[str, Any] = {
            "type": "Practitioner" if self.nm1.get(2) == "1" else "Organization"}
        if self.qualifier == "XX" and self.id:
            out["identifier"] = {"system": systems.NPI, "value": self.id}
        if self.name:
            out["display"] = self.name
        return out if len(out) > 1 else None


def _benefit_type(info: str, percent: bool) -> dict[str, Any]:
    codings = [coding(_INFORMATION, info, display("eligibility_benefit", info))]
    hl7 = "copay-percent" if info == "A" and percent else _HL7_TYPE.get(info)
    if hl7:
        codings.append(coding(BENEFIT_TYPE, hl7))
    return {"coding": codings}


def _benefits(eb: Segment) -> list[dict[str, Any]]:
    """``insurance.item.benefit`` entries of one EB (status EBs 1-8 have none)."""
    info = eb.get(1)
    if info in _ACTIVE or info in _INACTIVE:
        return []
    out: list[dict[str, Any]] = []
    money, percent, quantity = _decimal(eb.get(7)), _decimal(eb.get(8)), _decimal(eb.get(10))
    if money is not None:
        key = "usedMoney" if eb.get(6) == "24" else "allowedMoney"
        out.append({"type": _benefit_type(info, False),
                    key: {"value": money, "currency": "USD"}})
    if percent is not None:
        whole = (percent * 100).normalize()
        entry: dict[str, Any] = {"type": _benefit_type(info, True)}
        if whole == whole.to_integral_value() and whole >= 0:
            entry["allowedUnsignedInt"] = int(whole)
        else:
            entry["allowedString"] = f"{format(whole, 'f')}%"
        out.append(entry)
    if quantity is not None:
        # The type of a quantity names what is counted as well (EB09: VS visits...).
        qualifier = eb.get(9)
        kind = _benefit_type(info, False)
        if qualifier:
            kind["coding"] = [kind["coding"][0], coding(_QUANTITY, qualifier)]
            if qualifier == "VS":
                kind["coding"].append(coding(BENEFIT_TYPE, "visit"))
        entry = {"type": kind}
        if quantity == quantity.to_integral_value() and quantity >= 0:
            entry["allowedUnsignedInt"] = int(quantity)
        else:
            entry["allowedString"] = format(quantity.normalize(), "f")
        out.append(entry)
    if not out:
        out.append({"type": _benefit_type(info, False)})
    return out


def _related_provider(benefit_loop: Loop) -> dict[str, Any] | None:
    """The first 2120C/2120D NM1: the provider the benefit is tied to (by NPI when given)."""
    for loop in benefit_loop.loops():
        nm1 = _first(loop, "NM1")
        if nm1 is None:
            continue
        out: dict[str, Any] = {"type": "Practitioner" if nm1.get(2) == "1" else "Organization"}
        if nm1.get(8) == "XX" and nm1.get(9):
            out["identifier"] = {"system": systems.NPI, "value": nm1.get(9)}
        if _name(nm1):
            out["display"] = _name(nm1)
        return out if len(out) > 1 else None
    return None


def _items(s: _Set, benefit_loop: Loop) -> list[dict[str, Any]]:
    """The ``insurance.item`` entries of one 2110C/2110D loop."""
    eb = _first(benefit_loop, "EB")
    if eb is None:
        return []
    info = eb.get(1)
    common: dict[str, Any] = {}
    if info in _EXCLUDED:
        common["excluded"] = True
    elif info in _ACTIVE:
        common["excluded"] = False
    provider = _related_provider(benefit_loop)
    if provider is not None:
        common["provider"] = provider
    texts = [eb.get(5)] + [m.get(1) for m in benefit_loop.segments("MSG")]
    description = "; ".join(t for t in texts if t)
    if description:
        common["description"] = description
    network = eb.get(12)
    if network in ("Y", "N"):
        common["network"] = {"coding": [coding(BENEFIT_NETWORK,
                                                "in" if network == "Y" else "out")]}
    elif network == "W":
        common["network"] = {"coding": [coding(_YES_NO, "W", "In and out of network")]}
    level = eb.get(2)
    if level:
        unit = [coding(_COVERAGE_LEVEL, level, display("coverage_level", level))]
        if level in _HL7_UNIT:
            unit.append(coding(BENEFIT_UNIT, _HL7_UNIT[level]))
        common["unit"] = {"coding": unit}
    period = eb.get(6)
    if period:
        term = [coding(_TIME_PERIOD, period, display("time_period", period))]
        if period in _HL7_TERM:
            term.append(coding(BENEFIT_TERM, _HL7_TERM[period]))
        common["term"] = {"coding": term}
    if eb.get(11) in ("Y", "N"):
        common["authorizationRequired"] = eb.get(11) == "Y"
    benefits = _benefits(eb)
    if benefits:
        common["benefit"] = benefits
    procedure = eb.get(13).split(s.component) if eb.get(13) else []
    if len(procedure) >= 2 and procedure[1]:
        qualifier, code = procedure[0], procedure[1]
        item: dict[str, Any] = {"productOrService": {"coding": [
            coding(systems.product_system(qualifier, code), code)]}}
        modifiers = [m for m in procedure[2:6] if m]
        if modifiers:
            system = systems.product_system(qualifier, code)
            item["modifier"] = [{"coding": [coding(system, m)]} for m in modifiers]
        return [{**item, **common}]
    services = [c for c in eb.get(3).split(s.repetition) if c] or ["30"]
    return [{"category": {"coding": [coding(_SERVICE_TYPE, code,
                                             display("service_type", code))]}, **common}
            for code in services]


def _subjects(receiver: Loop) -> Iterator[tuple[Loop, Loop | None]]:
    """(2000C, None) for a subscriber answered for, (2000C, 2000D) for each dependent."""
    for subscriber in receiver.loops("2000C"):
        dependents = list(subscriber.loops("2000D"))
        name = next(subscriber.loops("2100C"), None)
        answered = name is not None and (
            any(True for _ in name.loops("2110C")) or any(True for _ in name.segments("AAA")))
        if answered or not dependents:
            yield subscriber, None
        for dependent in dependents:
            yield subscriber, dependent


def _response(s: _Set, number: int, payer: _Party, receiver: _Party,
              errors: list[Segment], subscriber: Loop | None,
              dependent: Loop | None) -> Resource:
    sub_name = next(subscriber.loops("2100C"), None) if subscriber is not None else None
    dep_name = next(dependent.loops("2100D"), None) if dependent is not None else None
    person_loop = dep_name if dependent is not None else sub_name
    level = dependent if dependent is not None else subscriber
    errors = errors + _errors(person_loop)
    sub_nm1 = _first(sub_name, "NM1")
    member = sub_nm1.get(9) if sub_nm1 is not None and sub_nm1.get(8) in ("MI", "II") else ""

    # The trace of our inquiry: TRN*2 at the person's level, else at the subscriber's.
    trn = None
    for loop in (level, subscriber):
        trn = trn or _first(loop, "TRN", "2")
    request: dict[str, Any] = {"type": "CoverageEligibilityRequest"}
    if trn is not None:
        request["identifier"] = {"system": systems.trace_number(trn.get(3)),
                                 "value": trn.get(2)}
    elif s.reference:
        request["identifier"] = {"value": s.reference}
    else:
        request["display"] = "Eligibility inquiry answered by this 271"

    patient: dict[str, Any] = {"type": "Patient"}
    person_nm1 = _first(person_loop, "NM1")
    if dependent is None and member:
        patient["identifier"] = {"system": systems.member_id(payer.id), "value": member}
    patient["display"] = _name(person_nm1) or "Person not identified in the response"

    response: Resource = {
        "resourceType": "CoverageEligibilityResponse",
        "id": s.uid(payer.id, number),
        "identifier": [{"system": RESPONSE_SYSTEM,
                        "value": f"{payer.id}/{s.reference}/{s.bht.get(4)}{s.bht.get(5)}/"
                                 f"{number}"}],
        "status": "active",
        "purpose": ["validation"],
        "patient": patient,
        "created": s.created,
        "request": request,
        "outcome": "complete",
        "insurer": payer.insurer(),
    }
    requestor = receiver.requestor()
    if requestor is not None:
        response["requestor"] = requestor

    dates = {d.get(1): d for d in (person_loop.segments("DTP") if person_loop else [])}
    served = dates.get("472") or dates.get("291")
    if served is not None:
        day, period = _period(served)
        if period is not None:
            response["servicedPeriod"] = period
        else:
            response["servicedDate"] = day

    items: list[dict[str, Any]] = []
    statuses: list[str] = []
    benefit_loop_id = "2110D" if dependent is not None else "2110C"
    for benefit_loop in (person_loop.loops(benefit_loop_id) if person_loop else []):
        errors += _errors(benefit_loop)
        eb = _first(benefit_loop, "EB")
        if eb is not None:
            statuses.append(eb.get(1))
        items += _items(s, benefit_loop)
    if person_loop is not None and (items or statuses or member):
        insurance: dict[str, Any] = {"coverage": {"type": "Coverage",
                                                  "display": payer.name or "Coverage"}}
        if member:
            insurance["coverage"]["identifier"] = {"system": systems.member_id(payer.id),
                                                   "value": member}
        if any(code in _ACTIVE for code in statuses):
            insurance["inforce"] = True
        elif any(code in _INACTIVE for code in statuses):
            insurance["inforce"] = False
        start = dates.get("346") or dates.get("356")
        end = dates.get("347") or dates.get("357")
        benefit_period = {k: iso_date(d.get(3)) for k, d in (("start", start), ("end", end))
                          if d is not None and d.get(2) == "D8"}
        if not benefit_period and dates.get("307") is not None:
            benefit_period = _period(dates["307"])[1] or {}
        if benefit_period:
            insurance["benefitPeriod"] = benefit_period
        if items:
            insurance["item"] = items
            response["purpose"] = ["validation", "benefits"]
        response["insurance"] = [insurance]
    if errors:
        response["outcome"] = "error"
        response["disposition"] = "The payer rejected the inquiry"
        response["error"] = [_error(aaa) for aaa in errors]
    return response


def eligibility_responses(ts: TransactionSet) -> list[Resource]:
    """One CoverageEligibilityResponse per person answered for (see the module docstring)."""
    if ts.st.get(1) != "271":
        raise ValueError("not a 271 transaction set")
    s = _Set(ts)
    out: list[Resource] = []
    for source in ts.root.find("2000A"):
        payer_loop = next(source.loops("2100A"), None)
        payer = _Party(payer_loop)
        source_errors = _errors(source) + _errors(payer_loop)
        receivers = list(source.loops("2000B"))
        if not receivers:
            out.append(_response(s, len(out) + 1, payer, _Party(None), source_errors,
                                 None, None))
        for receiver_level in receivers:
            receiver_loop = next(receiver_level.loops("2100B"), None)
            receiver = _Party(receiver_loop)
            errors = source_errors + _errors(receiver_loop)
            subjects = list(_subjects(receiver_level))
            if not subjects:
                out.append(_response(s, len(out) + 1, payer, receiver, errors, None, None))
            for subscriber, dependent in subjects:
                out.append(_response(s, len(out) + 1, payer, receiver, errors, subscriber,
                                     dependent))
    return out


def eligibility_bundle(ts: TransactionSet) -> Resource:
    """A transaction Bundle creating the responses, each only if its identifier is new."""
    return transaction(eligibility_responses(ts))
