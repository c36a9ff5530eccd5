"""Read received claims into the neutral model (``model.ReceivedClaim``): from an 837P loop tree
(005010X222A1; an 837I, 005010X223A2, is read the same way) or from a CHC professional claims v3
JSON body (CLEARINGHOUSES.md section 3, "Professional claim" rows).

837P loops read (TR3 005010X222A1): BHT03; 2010AA billing provider (NM1*85 NPI, N4 ZIP,
REF*EI); 2000B/2010BA subscriber (NM1*IL MI) and 2010BB payer (NM1*PR PI); 2000C/2010CA patient
when not the subscriber; 2300 CLM (CLM01 patient control number, CLM02 charge, CLM05 place of
service and frequency) and HI diagnoses; 2400 SV1 (procedure, modifiers, charge, units),
DTP*472 and REF*6R per line. 837I lines (SV2) carry the procedure of SV202 when there is one,
else the revenue code SV201; a line without DTP*472 takes the claim's statement dates (2300
DTP*434).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from typing import Any

from mappers.x12.delimiters import DEFAULT
from mappers.x12.tree import Loop, Segment, TransactionSet
from sandbox.clearinghouse.json_fields import json_object as _obj
from sandbox.clearinghouse.json_fields import json_text as _text
from sandbox.clearinghouse.model import ReceivedClaim, ReceivedLine

__all__ = ["JsonClaimError", "claim_from_json", "claims_from_837", "decimal_or_none"]


def decimal_or_none(value: object) -> Decimal | None:
    """A finite decimal amount, or None."""
    if isinstance(value, bool) or not isinstance(value, str | int | float | Decimal):
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        return None
    return amount if amount.is_finite() else None


def _nm1(loop: Loop | None) -> Segment | None:
    return next(loop.segments("NM1"), None) if loop is not None else None


def _first_loop(parent: Loop, loop_id: str) -> Loop | None:
    return next(parent.loops(loop_id), None)


@dataclass(frozen=True, slots=True)
class _Billing:
    npi: str
    name: str
    tin: str
    zip: str


def _billing(level: Loop) -> _Billing:
    loop = _first_loop(level, "2010AA")
    nm1 = _nm1(loop)
    n4 = next(loop.segments("N4"), None) if loop is not None else None
    tin = ""
    if loop is not None:
        tin = next((r.get(2) for r in loop.segments("REF") if r.get(1) == "EI"), "")
    return _Billing(
        npi=nm1.get(9) if nm1 is not None and nm1.get(8) == "XX" else "",
        name=nm1.get(3) if nm1 is not None else "",
        tin=tin,
        zip=n4.get(3) if n4 is not None else "",
    )


def _service(line: Loop, comp: str) -> tuple[list[str], str, str] | None:
    """(procedure composite parts, charge, units) of an SV1 (837P) or SV2 (837I)."""
    sv1 = next(line.segments("SV1"), None)
    if sv1 is not None:
        return sv1.get(1).split(comp), sv1.get(2), sv1.get(4)
    sv2 = next(line.segments("SV2"), None)
    if sv2 is None:
        return None
    parts = sv2.get(2).split(comp) if sv2.get(2) else ["NU", sv2.get(1)]
    return parts, sv2.get(3), sv2.get(5)


def _lines(claim: Loop, comp: str) -> tuple[ReceivedLine, ...]:
    statement = next((d.get(3) for d in claim.segments("DTP") if d.get(1) == "434"), "")
    out = []
    for n, line in enumerate(claim.loops("2400"), 1):
        service = _service(line, comp)
        if service is None:
            continue
        parts, charge, units = service
        date = next((d.get(3) for d in line.segments("DTP") if d.get(1) == "472"), statement)
        control = next((r.get(2) for r in line.segments("REF") if r.get(1) == "6R"), "")
        lx = next(line.segments("LX"), None)
        out.append(ReceivedLine(
            number=int(lx.get(1)) if lx is not None and lx.get(1).isdigit() else n,
            procedure=parts[1] if len(parts) > 1 else "",
            modifiers=tuple(m for m in parts[2:6] if m),
            charge=decimal_or_none(charge) or Decimal(0),
            units=decimal_or_none(units) or Decimal(1),
            service_date=date.split("-", 1)[0],
            control_number=control,
        ))
    return tuple(out)


def _claims_of(holder: Loop, patient: Segment | None, base: dict[str, Any],
               comp: str) -> Iterator[ReceivedClaim]:
    for claim in holder.loops("2300"):
        clm = next(claim.segments("CLM"))
        place = clm.get(5).split(comp)
        diagnoses = tuple(
            value.split(comp)[1]
            for hi in claim.segments("HI")
            for value in hi.elements[1:]
            if comp in value and value.split(comp)[0] in ("ABK", "ABF", "BK", "BF")
        )
        yield ReceivedClaim(
            pcn=clm.get(1),
            charge=decimal_or_none(clm.get(2)) or Decimal(0),
            place_of_service=place[0],
            frequency=place[2] if len(place) > 2 else "",
            lines=_lines(claim, comp),
            diagnoses=diagnoses,
            patient_last=patient.get(3) if patient is not None else base["subscriber_last"],
            patient_first=patient.get(4) if patient is not None else base["subscriber_first"],
            **base,
        )


_DEFAULT_DELIMITERS = str.maketrans("", "", "*~:^")


def _scrubbed(claim: ReceivedClaim) -> ReceivedClaim:
    """A claim read with other delimiters, without the characters the answers (written with
    the default delimiters, X12.5) reserve."""
    def s(value: str) -> str:
        return value.translate(_DEFAULT_DELIMITERS)

    lines = tuple(replace(ln, procedure=s(ln.procedure), modifiers=tuple(map(s, ln.modifiers)),
                          control_number=s(ln.control_number)) for ln in claim.lines)
    return replace(claim, pcn=s(claim.pcn), payer_id=s(claim.payer_id),
                   payer_name=s(claim.payer_name), member_id=s(claim.member_id),
                   subscriber_last=s(claim.subscriber_last),
                   subscriber_first=s(claim.subscriber_first),
                   patient_last=s(claim.patient_last), patient_first=s(claim.patient_first),
                   billing_npi=s(claim.billing_npi), billing_name=s(claim.billing_name),
                   billing_tin=s(claim.billing_tin), billing_zip=s(claim.billing_zip),
                   bht03=s(claim.bht03), lines=lines)


def claims_from_837(ts: TransactionSet, sender_id: str = "") -> list[ReceivedClaim]:
    """Every claim (2300) of an 837P or 837I transaction set, in document order (values holding
    a default delimiter are scrubbed when the 837 used other delimiters)."""
    comp = ts.delimiters.component
    envelope = {
        "isa13": ts.isa[13] if len(ts.isa) > 13 else "",
        "gs06": ts.gs[6] if len(ts.gs) > 6 else "",
        "st02": ts.st.get(2),
        "bht03": next((s.get(3) for s in ts.root.walk() if s.tag == "BHT"), ""),
        "sender_id": sender_id or (ts.isa[6].strip() if len(ts.isa) > 6 else ""),
    }
    out: list[ReceivedClaim] = []
    for billing_level in ts.root.find("2000A"):
        bp = _billing(billing_level)
        for subscriber_level in billing_level.loops("2000B"):
            sub = _nm1(_first_loop(subscriber_level, "2010BA"))
            payer = _nm1(_first_loop(subscriber_level, "2010BB"))
            base: dict[str, Any] = {
                "payer_id": payer.get(9) if payer is not None else "",
                "payer_name": payer.get(3) if payer is not None else "",
                "member_id": sub.get(9) if sub is not None else "",
                "subscriber_last": sub.get(3) if sub is not None else "",
                "subscriber_first": sub.get(4) if sub is not None else "",
                "billing_npi": bp.npi, "billing_name": bp.name, "billing_tin": bp.tin,
                "billing_zip": bp.zip, **envelope,
            }
            out.extend(_claims_of(subscriber_level, None, base, comp))
            for patient_level in subscriber_level.loops("2000C"):
                patient = _nm1(_first_loop(patient_level, "2010CA"))
                out.extend(_claims_of(patient_level, patient, base, comp))
    d = ts.delimiters
    if (d.element, d.component, d.repetition, d.segment) != (
            DEFAULT.element, DEFAULT.component, DEFAULT.repetition, DEFAULT.segment):
        return [_scrubbed(c) for c in out]
    return out


# -- CHC professional claims v3 JSON ---------------------------------------------------------


@dataclass(frozen=True, slots=True)
class JsonClaimError:
    """One problem with a claim body, in the CHC error shape (``errors[]``)."""

    field: str
    description: str
    code: str = "33"
    """33: input errors (the CHC API's code for a request it cannot read)."""

    def as_dict(self) -> dict[str, str]:
        return {"field": self.field, "code": self.code, "description": self.description,
                "followupAction": "Please Correct and Resubmit"}


_REQUIRED = ("controlNumber", "submitter", "receiver", "subscriber", "billing",
             "claimInformation")








def _json_line(n: int, item: object, errors: list[JsonClaimError]) -> ReceivedLine | None:
    where = f"claimInformation.serviceLines[{n - 1}]"
    if not isinstance(item, Mapping):
        errors.append(JsonClaimError(where, "A service line must be an object"))
        return None
    service = _obj(item, "professionalService")
    charge = decimal_or_none(service.get("lineItemChargeAmount"))
    units = decimal_or_none(service.get("serviceUnitCount", "1"))
    code = _text(service, "procedureCode")
    if not code:
        errors.append(JsonClaimError(f"{where}.professionalService.procedureCode",
                                     "procedureCode is required"))
    if charge is None:
        errors.append(JsonClaimError(f"{where}.professionalService.lineItemChargeAmount",
                                     "lineItemChargeAmount must be an amount"))
    modifiers = service.get("procedureModifiers") or []
    if not isinstance(modifiers, list):
        modifiers = []
    return ReceivedLine(
        number=n, procedure=code,
        modifiers=tuple(str(m) for m in modifiers[:4] if isinstance(m, str) and m),
        charge=charge or Decimal(0), units=units or Decimal(1),
        service_date=_text(item, "serviceDate"),
        control_number=_text(item, "providerControlNumber"),
    )


def claim_from_json(body: object, sender_id: str = "") -> tuple[ReceivedClaim | None,
                                                                list[JsonClaimError]]:
    """The claim a professional claims v3 body describes, or the errors that keep it from
    being read (required objects missing, amounts that are not amounts)."""
    if not isinstance(body, Mapping):
        return None, [JsonClaimError("body", "The request body must be a JSON object")]
    errors = [JsonClaimError(key, f"{key} is required") for key in _REQUIRED
              if key not in body or body[key] in (None, "", {}, [])]
    info, subscriber = _obj(body, "claimInformation"), _obj(body, "subscriber")
    billing = _obj(body, "billing")
    dependent = _obj(body, "dependent")
    raw_lines = info.get("serviceLines")
    if not isinstance(raw_lines, list) or not raw_lines:
        errors.append(JsonClaimError("claimInformation.serviceLines",
                                     "At least one service line is required"))
        raw_lines = []
    charge = decimal_or_none(info.get("claimChargeAmount"))
    if info and charge is None:
        errors.append(JsonClaimError("claimInformation.claimChargeAmount",
                                     "claimChargeAmount must be an amount"))
    if info and not _text(info, "patientControlNumber"):
        errors.append(JsonClaimError("claimInformation.patientControlNumber",
                                     "patientControlNumber is required"))
    lines = [_json_line(n, item, errors) for n, item in enumerate(raw_lines, 1)]
    if errors:
        return None, errors
    diagnoses = tuple(
        _text(code, "diagnosisCode") for code in info.get("healthCareCodeInformation") or []
        if isinstance(code, Mapping) and _text(code, "diagnosisCode")
    )
    claim = ReceivedClaim(
        pcn=_text(info, "patientControlNumber"),
        charge=charge or Decimal(0),
        payer_id=_text(body, "tradingPartnerServiceId"),
        payer_name=_text(_obj(body, "receiver"), "organizationName"),
        member_id=_text(subscriber, "memberId"),
        subscriber_last=_text(subscriber, "lastName"),
        subscriber_first=_text(subscriber, "firstName"),
        patient_last=_text(dependent, "lastName") or _text(subscriber, "lastName"),
        patient_first=_text(dependent, "firstName") or _text(subscriber, "firstName"),
        billing_npi=_text(billing, "npi"),
        billing_name=_text(billing, "organizationName") or " ".join(
            p for p in (_text(billing, "firstName"), _text(billing, "lastName")) if p),
        billing_tin=_text(billing, "employerId"),
        billing_zip=_text(_obj(billing, "address"), "postalCode").replace("-", ""),
        place_of_service=_text(info, "placeOfServiceCode"),
        frequency=_text(info, "claimFrequencyCode"),
        lines=tuple(line for line in lines if line is not None),
        diagnoses=diagnoses,
        sender_id=sender_id,
    )
    return claim, []
