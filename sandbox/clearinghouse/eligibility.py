"""Eligibility inquiries and the sandbox's canned answers (CLEARINGHOUSES.md section 4).

An ``Inquiry`` is read from a 270 (005010X279A1: 2100A payer, 2100B provider, 2000C/2100C
subscriber with TRN*1, DMG, REF*6P, DTP*291 and 2110C EQ, 2000D/2100D dependent) or from a CHC
eligibility v3 body (section 3, "Eligibility request"). ``answer`` decides:

- Optum/CHC canned members (``CHC_MEMBERS``): covered; payer ``000041`` -> inactive
  (planStatus 6), any other payer (``000045``/``000047``/``000050`` in the vendor's table)
  active.
- Stedi mock members (``STEDI_MEMBERS``, payer id + member id): active; payer ``STEDI`` with
  member ``23051322`` (Bernie Prohas) -> AAA 73 (invalid/missing subscriber name).
- Anyone else: not found (271 AAA*N**75*C on 2100C; the CHC JSON API answers 400, "Please use
  predefined canned users").

Active coverage comes with one benefit set (``ACTIVE_BENEFITS``): deductible, remaining
deductible, coinsurance and an office visit copay.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from mappers.x12.tree import Loop, Segment, TransactionSet
from sandbox.clearinghouse.json_fields import json_object as _obj
from sandbox.clearinghouse.json_fields import json_text as _text

__all__ = [
    "ACTIVE_BENEFITS",
    "CHC_MEMBERS",
    "INACTIVE_PAYERS",
    "STEDI_MEMBERS",
    "Answer",
    "Benefit",
    "Inquiry",
    "Person",
    "answer",
    "inquiries_from_270",
    "inquiry_from_json",
]

CHC_MEMBERS = frozenset({"0000000000", "0000000001", "0000000002", "1234567890", "0000000004",
                         "0000000005", "0000000006", "0000000007", "123456789"})
INACTIVE_PAYERS = frozenset({"000041"})
STEDI_MEMBERS = frozenset({
    ("60054", "AETNA9wcSu"), ("040", "CGMBCBSCA123"), ("G84980", "A2CBCBSTX123"),
    ("62308", "CIGNAJTUxNm"), ("OSCAR", "OSCAR123456"), ("87726", "UHC202649"),
})
AAA_MEMBERS = {("STEDI", "23051322"): "73"}
PLAN_NAME = "SANDBOX GOLD PPO"


@dataclass(frozen=True, slots=True)
class Benefit:
    """One EB segment (X279A1 2110C): EB01 info, EB02 level, EB03 service type, EB06 time
    period, EB07 amount, EB08 percent, EB12 in network."""

    code: str
    level: str = "IND"
    service_type: str = "30"
    period: str = ""
    amount: str = ""
    percent: str = ""
    in_network: str = ""
    plan: str = ""


ACTIVE_BENEFITS = (
    Benefit("C", period="23", amount="1500", in_network="Y"),
    Benefit("C", period="29", amount="975.5", in_network="Y"),
    Benefit("A", service_type="98", percent="0.2", in_network="Y"),
    Benefit("B", service_type="98", period="27", amount="25", in_network="Y"),
)


@dataclass(frozen=True, slots=True)
class Person:
    last: str
    first: str = ""
    birth_date: str = ""
    gender: str = ""


@dataclass(frozen=True, slots=True)
class Inquiry:
    payer_id: str
    payer_name: str
    provider_npi: str
    provider: Person
    provider_entity: str
    """NM102 of 2100B: 1 person, 2 organization."""
    member_id: str
    subscriber: Person
    group_number: str = ""
    service_date: str = ""
    service_types: tuple[str, ...] = ("30",)
    trace: str = ""
    trace_originator: str = ""
    reference: str = ""
    """BHT03 of the 270 / ``controlNumber`` of the JSON request."""
    dependent: Person | None = None


@dataclass(frozen=True, slots=True)
class Answer:
    inquiry: Inquiry
    found: bool
    active: bool = False
    aaa: str = ""
    """AAA03 reject reason (X12 901), when the payer rejects the inquiry."""
    benefits: tuple[Benefit, ...] = field(default_factory=tuple)


def answer(inquiry: Inquiry) -> Answer:
    """The canned answer (see the module docstring)."""
    reason = AAA_MEMBERS.get((inquiry.payer_id, inquiry.member_id))
    if reason:
        return Answer(inquiry, True, aaa=reason)
    if inquiry.member_id in CHC_MEMBERS:
        active = inquiry.payer_id not in INACTIVE_PAYERS
    elif (inquiry.payer_id, inquiry.member_id) in STEDI_MEMBERS:
        active = True
    else:
        return Answer(inquiry, False, aaa="75")
    types = inquiry.service_types or ("30",)
    status = tuple(Benefit("1" if active else "6", service_type=t, plan=PLAN_NAME)
                   for t in types)
    return Answer(inquiry, True, active, benefits=status + (ACTIVE_BENEFITS if active else ()))


# -- reading a 270 ---------------------------------------------------------------------------


def _nm1(loop: Loop | None) -> Segment | None:
    return next(loop.segments("NM1"), None) if loop is not None else None


def _person(nm1: Segment | None, holder: Loop | None) -> Person:
    dmg = next(holder.segments("DMG"), None) if holder is not None else None
    return Person(
        last=nm1.get(3) if nm1 is not None else "",
        first=nm1.get(4) if nm1 is not None else "",
        birth_date=dmg.get(2) if dmg is not None else "",
        gender=dmg.get(3) if dmg is not None else "",
    )


def _eq(holder: Loop) -> tuple[str, ...]:
    found = [eq.get(1) for loop in holder.loops() if loop.id in ("2110C", "2110D")
             for eq in loop.segments("EQ") if eq.get(1)]
    return tuple(t for value in found for t in value.split("^") if t) or ("30",)


def inquiries_from_270(ts: TransactionSet) -> list[Inquiry]:
    """One inquiry per subscriber (2000C) or dependent (2000D) of a 270."""
    bht = next((s for s in ts.root.walk() if s.tag == "BHT"), None)
    reference = bht.get(3) if bht is not None else ""
    out: list[Inquiry] = []
    for source in ts.root.find("2000A"):
        payer = _nm1(next(source.loops("2100A"), None))
        for receiver in source.loops("2000B"):
            provider = _nm1(next(receiver.loops("2100B"), None))
            for sub_level in receiver.loops("2000C"):
                sub_loop = next(sub_level.loops("2100C"), None)
                sub = _nm1(sub_loop)
                refs = {r.get(1): r.get(2) for r in sub_loop.segments("REF")} if sub_loop else {}
                dtp = next((d for d in sub_loop.segments("DTP") if d.get(1) == "291"), None) \
                    if sub_loop else None
                base: dict[str, Any] = {
                    "payer_id": payer.get(9) if payer is not None else "",
                    "payer_name": payer.get(3) if payer is not None else "",
                    "provider_npi": provider.get(9) if provider is not None else "",
                    "provider": _person(provider, None),
                    "provider_entity": provider.get(2) if provider is not None else "2",
                    "member_id": sub.get(9) if sub is not None else "",
                    "subscriber": _person(sub, sub_loop),
                    "group_number": refs.get("6P", ""),
                    "service_date": dtp.get(3).split("-")[0] if dtp is not None else "",
                    "reference": reference,
                }
                dependents = list(sub_level.loops("2000D"))
                if not dependents:
                    trn = next(sub_level.segments("TRN"), None)
                    out.append(Inquiry(**base, service_types=_eq(sub_level),
                                       trace=trn.get(2) if trn is not None else reference,
                                       trace_originator=trn.get(3) if trn is not None else ""))
                for dep_level in dependents:
                    dep_loop = next(dep_level.loops("2100D"), None)
                    trn = next(dep_level.segments("TRN"), None)
                    out.append(Inquiry(**base, service_types=_eq(dep_level),
                                       trace=trn.get(2) if trn is not None else reference,
                                       trace_originator=trn.get(3) if trn is not None else "",
                                       dependent=_person(_nm1(dep_loop), dep_loop)))
    return out


# -- reading a CHC eligibility v3 body --------------------------------------------------------






def inquiry_from_json(body: Mapping[str, Any]) -> Inquiry:
    """The inquiry of a CHC eligibility v3 request (fields per CLEARINGHOUSES.md section 3)."""
    provider, subscriber = _obj(body, "provider"), _obj(body, "subscriber")
    encounter = _obj(body, "encounter")
    deps = body.get("dependents")
    dep = deps[0] if isinstance(deps, list) and deps and isinstance(deps[0], Mapping) else None
    types = encounter.get("serviceTypeCodes")
    organization = _text(provider, "organizationName")
    return Inquiry(
        payer_id=_text(body, "tradingPartnerServiceId"),
        payer_name=_text(body, "tradingPartnerName") or _text(body, "tradingPartnerServiceId"),
        provider_npi=_text(provider, "npi"),
        provider=Person(organization or _text(provider, "lastName"),
                        "" if organization else _text(provider, "firstName")),
        provider_entity="2" if organization else "1",
        member_id=_text(subscriber, "memberId"),
        subscriber=Person(_text(subscriber, "lastName"), _text(subscriber, "firstName"),
                          _text(subscriber, "dateOfBirth"), _text(subscriber, "gender").upper()),
        group_number=_text(subscriber, "groupNumber"),
        service_date=_text(encounter, "dateOfService")
        or _text(encounter, "beginningDateOfService"),
        service_types=tuple(t for t in types if isinstance(t, str) and t)
        if isinstance(types, list) and types else ("30",),
        trace=_text(body, "controlNumber"),
        trace_originator="",
        reference=_text(body, "controlNumber"),
        dependent=Person(_text(dep, "lastName"), _text(dep, "firstName"),
                         _text(dep, "dateOfBirth"), _text(dep, "gender").upper())
        if dep is not None else None,
    )
