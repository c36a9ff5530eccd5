"""What an 837 carries of a FHIR Claim Bundle, as one comparable value.

The projection resolves the Claim's references and keeps exactly the elements the 837 mapping
carries (the README's table), normalised the way X12 writes them (ZIP digits, NDC digits, ICD-10
without its dot, amounts as Decimal, care team roles as the 837 loop that holds them). Two Bundles
with equal projections produce the same claim in X12.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from mappers.fhir_x12.claim_view import RELATIONSHIP_TO_X12, ClaimView
from mappers.fhir_x12.fhir_values import code, codes, human_name
from mappers.fhir_x12.references import BundleIndex

Resource = dict[str, Any]

_RENDERING = {"rendering", "primary", "performing"}


def _digits(value: Any) -> str:
    return re.sub(r"\D", "", str(value or ""))


def _money(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value.get("value")))


def _address(holder: Resource | None) -> tuple[Any, ...] | None:
    if not holder or not holder.get("address"):
        return None
    address = holder["address"]
    address = address if isinstance(address, dict) else address[0]
    return (tuple(address.get("line") or []), address.get("city"), address.get("state"),
            _digits(address.get("postalCode")))


def _person(resource: Resource | None) -> tuple[Any, ...] | None:
    if resource is None:
        return None
    if resource["resourceType"] == "Organization":
        return ("org", resource.get("name"))
    name = human_name(resource)
    return (name.get("family"), name.get("given"), name.get("middle"), name.get("suffix"),
            resource.get("birthDate"), resource.get("gender"), _address(resource))


def _subscriber(cov: Any, focal: bool) -> tuple[Any, ...] | None:
    """2010BA carries the subscriber's name, address and demographics; 2330A name and address."""
    person = _person(cov.subscriber)
    if person is None or focal or len(person) < 7:
        return person
    return (*person[:4], person[6])


def _ids(resource: Resource | None) -> list[tuple[str, str]]:
    return sorted((i.get("system", ""), i.get("value", ""))
                  for i in (resource or {}).get("identifier") or [])


def _prior(view: ClaimView, prior: Resource | None) -> Any:
    if prior is None:
        return None

    def adjudications(entries: list[Resource]) -> list[tuple[Any, ...]]:
        out = []
        for adj in entries:
            reason = adj.get("reason")
            if reason:
                out.append(((reason.get("text") or "")[:2], code(reason), _money(adj["amount"])))
            elif code(adj.get("category")) == "paidtoprovider":
                out.append(("paid", _money(adj["amount"])))
        return sorted(out, key=str)

    return (
        _money((prior.get("payment") or {}).get("amount")),
        (prior.get("payment") or {}).get("date") or prior.get("created"),
        adjudications(prior.get("adjudication") or []),
        [(i.get("sequence"), adjudications(i.get("adjudication") or []))
         for i in prior.get("item") or []],
    )


def _item(item: Resource, claim_pos: str) -> tuple[Any, ...]:
    product = item.get("productOrService") or {}
    procedure = [(c.get("code")) for c in product.get("coding") or []
                 if c.get("system") != "http://terminology.hl7.org/CodeSystem/data-absent-reason"]
    dates = item.get("servicedDate") or item.get("servicedPeriod")
    if isinstance(dates, dict) and dates.get("start") == dates.get("end"):
        dates = dates["start"]
    detail = [(_digits(code(d.get("productOrService"))), Decimal(str(d["quantity"]["value"])),
               d["quantity"].get("code"))
              for d in item.get("detail") or []][:1]
    return (item.get("sequence"), procedure, [code(m) for m in item.get("modifier") or []],
            _money(item.get("net")), Decimal(str((item.get("quantity") or {}).get("value", 1))),
            code(item.get("locationCodeableConcept")) or claim_pos,
            item.get("diagnosisSequence"), dates, code(item.get("revenue")), detail)


def _diagnoses(view: ClaimView) -> list[tuple[str, bool]]:
    """Codes in pointer order; an 837I has no pointers and writes principal, admitting, others."""
    found = [(c, kind == "admitting") for _, c, kind in view.diagnoses()]
    if view.institutional and found:
        found = [found[0], *[d for d in found[1:] if d[1]], *[d for d in found[1:] if not d[1]]]
    return found


def project(bundle: Resource) -> dict[str, Any]:
    """The mapped elements of the first Claim of ``bundle``."""
    index = BundleIndex(bundle)
    view = ClaimView(index, index.of_type("Claim")[0])
    claim = view.claim
    focal = view.focal
    assert focal is not None

    def coverage(cov: Any) -> tuple[Any, ...]:
        group, group_name = cov.group()  # SBR04 names the group only when SBR03 is empty
        return (cov.sequence, cov.member_id, cov.payer_id, (cov.payer or {}).get("name"),
                group or group_name, cov.filing_indicator(),
                RELATIONSHIP_TO_X12.get(cov.relationship, "G8"),
                None if cov.relationship == "self" else _subscriber(cov, cov is focal),
                cov.pre_auth[:1], _prior(view, cov.prior))

    care = []
    for member in claim.get("careTeam") or []:
        who = index.resolve(member.get("provider"), claim)
        roles = set(codes(member.get("role")))
        role = "rendering" if roles & _RENDERING else sorted(roles)[0]
        qualifications = [code(q.get("code")) for q in (who or {}).get("qualification") or []]
        care.append((role, _ids(who), _person(who), qualifications))
    facility = view.facility()
    claim_pos = "" if view.institutional else view.place_of_service()
    supporting = sorted(
        (code(i.get("category")), code(i.get("code")).lstrip("0"),
         (i.get("timingPeriod") or {}).get("start"))
        for i in claim.get("supportingInfo") or [])
    related = [(code(r.get("relationship")), (r.get("reference") or {}).get("value"))
               for r in claim.get("related") or []]
    accident = claim.get("accident")
    return {
        "pcn": view.patient_control_number(),
        "type": code(claim.get("type")),
        "status": claim.get("status"),
        "total": view.total(),
        "related": related,
        "accident": None if not accident else (
            accident.get("date"), code(accident.get("type")),
            (accident.get("locationAddress") or {}).get("state")),
        "referral": ((claim.get("referral") or {}).get("identifier") or {}).get("value"),
        "diagnoses": _diagnoses(view),
        "procedures": [(code(p.get("procedureCodeableConcept")), p.get("date"))
                       for p in claim.get("procedure") or []],
        "billing": (_ids(view.provider), _person(view.provider),
                    _address(view.provider)),
        "payee": _address(view.payee()),
        "patient": _person(view.patient),
        "focal": coverage(focal),
        "others": [coverage(c) for c in view.others],
        "care_team": sorted(care, key=str),
        "facility": None if facility is None else (_ids(facility), facility.get("name"),
                                                  _address(facility)),
        "statement": claim.get("billablePeriod") if view.institutional else None,
        "supporting": supporting,
        "items": [_item(i, claim_pos) for i in claim.get("item") or []],
    }
