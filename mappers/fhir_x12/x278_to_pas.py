"""X12 278 response (005010X217, BHT02 ``11``) -> Da Vinci PAS 2.2.1 Response Bundle.

The Bundle (profile ``profile-pas-response-bundle``: type collection, identifier = BHT03,
timestamp = BHT04/05) starts with a PAS ClaimResponse (``profile-claimresponse``) and holds the
Patient, insurer and requester it references: copied from the PAS request Bundle when one is
given, otherwise built from the 278's NM1 loops (2010A UMO, 2010B requester, 2010C/2010D).

Decisions (X12.md section 4, STANDARDS section 3, the PAS ClaimResponse examples):
- 2000E TRN02/TRN03 -> ClaimResponse.identifier (value and assigner); TRN01 ``2`` echoes the
  request's trace, so the request's own Claim.identifier is reused when it matches.
- HCR01/02/03/04 -> the ``extension-reviewAction`` of the item's ``submitted`` adjudication
  (``reviewActionCode`` 306, ``number``, ``reasonCode`` 886, ``secondSurgicalOpinionFlag``);
  one item per 2000F, ``itemSequence`` echoing the request item (matched by its TRN trace,
  else by position). A 2000E HCR without 2000F loops applies to every requested item.
- HCR02 of a certified review (A1, A2, A6) -> ClaimResponse.preAuthRef.
- AAA (any loop) -> ClaimResponse.error (reject reason 901, follow-up action 889, the X12
  element when the reason names one); outcome ``error`` (``partial`` when some services
  were still reviewed). A pended review (A4) keeps outcome ``complete``: the PAS outcome value
  set has no ``queued``; the A4 review action says the decision is pending.
The 278 has no time zone: BHT04/05 is read as UTC.
"""

from __future__ import annotations

import copy
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

from mappers.fhir_x12 import systems
from mappers.fhir_x12.fhir_build import coding, display
from mappers.fhir_x12.fhir_values import NPI_SYSTEM
from mappers.fhir_x12.pas_to_278 import (
    EXT_ADMIN_REFERENCE,
    EXT_AUTHORIZATION_NUMBER,
    EXT_ITEM_TRACE,
    PAS,
    item_trace,
)
from mappers.fhir_x12.references import BundleIndex, Resource
from mappers.x12.dates import iso_date
from mappers.x12.tree import Loop, Segment, TransactionSet

__all__ = ["CLAIM_RESPONSE_PROFILE", "RESPONSE_BUNDLE_PROFILE", "pas_response_bundle"]

CLAIM_RESPONSE_PROFILE = PAS + "profile-claimresponse"
RESPONSE_BUNDLE_PROFILE = PAS + "profile-pas-response-bundle"
EXT_REVIEW_ACTION = PAS + "extension-reviewAction"
EXT_REVIEW_ACTION_CODE = PAS + "extension-reviewActionCode"
EXT_ERROR_ELEMENT = PAS + "extension-errorElement"
EXT_ERROR_FOLLOWUP = PAS + "extension-errorFollowupAction"
EXT_PREAUTH_ISSUE_DATE = PAS + "extension-itemPreAuthIssueDate"
EXT_PREAUTH_PERIOD = PAS + "extension-itemPreAuthPeriod"
EXT_REQUESTED_SERVICE_DATE = PAS + "extension-itemRequestedServiceDate"
REVIEW_ACTION_SYSTEM = systems.x12_element_system("306")
DECISION_REASON_SYSTEM = "https://codesystem.x12.org/external/886"
REJECT_REASON_SYSTEM = systems.x12_element_system("901")
FOLLOWUP_ACTION_SYSTEM = systems.x12_element_system("889")
SUBMITTER_TRANSACTION = "urn:fhir-facade:x12:submitter-transaction"
"""BHT03 of a 278 when no request Bundle names its system."""
TRACE_ASSIGNER = "urn:fhir-facade:x12:trace-assigning-entity"
"""TRN03: the company that assigned a trace number."""

_NAMESPACE = uuid.UUID("2f78a1c4-0d3e-5b6a-9e21-278278278278")
_CERTIFIED = frozenset({"A1", "A2", "A6"})
# AAA03 reject reasons (901) that name one element of the loop they sit in.
_AAA_ELEMENT = {"43": "NM109", "44": "NM103", "45": "PRV03", "46": "PER04", "47": "N402",
                "51": "NM109", "57": "DTP03", "58": "DMG02", "60": "DMG02", "64": "NM109",
                "65": "NM103", "66": "DMG03", "67": "NM109", "71": "DMG02", "72": "NM109",
                "73": "NM103", "74": "DMG03", "75": "NM109", "76": "NM109", "97": "N301",
                "T4": "NM103"}
_NAME_LOOP = {"2000A": "2010A", "2000B": "2010B", "2000C": "2010C", "2000D": "2010D"}
_ADJUDICATION = "http://terminology.hl7.org/CodeSystem/adjudication"






def _date_value(dtp: Segment) -> dict[str, Any]:
    """{"valueDate": ...} for D8, {"valuePeriod": ...} for RD8."""
    if dtp.get(2) == "RD8" and "-" in dtp.get(3):
        start, end = dtp.get(3).split("-", 1)
        return {"valuePeriod": {"start": iso_date(start), "end": iso_date(end)}}
    return {"valueDate": iso_date(dtp.get(3))}


def _period(dtp: Segment) -> dict[str, Any]:
    value = _date_value(dtp)
    if "valuePeriod" in value:
        period: dict[str, Any] = value["valuePeriod"]
        return period
    return {"start": value["valueDate"], "end": value["valueDate"]}


def _dates(loop: Loop) -> dict[str, Segment]:
    return {d.get(1): d for d in loop.segments("DTP")}


def _refs(loop: Loop) -> dict[str, str]:
    return {r.get(1): r.get(2) for r in loop.segments("REF") if r.get(2)}


def _aaa(loop: Loop, service: int | None = None) -> Iterator[tuple[str, Segment, int | None]]:
    """Every AAA below ``loop`` with the loop it sits in and its 2000F position."""
    for child in loop.children:
        if isinstance(child, Loop):
            yield from _aaa(child, service)
        elif child.tag == "AAA":
            yield loop.id, child, service


def _person_name(nm1: Segment) -> dict[str, Any]:
    name: dict[str, Any] = {"family": nm1.get(3)}
    given = [g for g in (nm1.get(4), nm1.get(5)) if g]
    if given:
        name["given"] = given
    return name


class _Response:
    """One 278 response read for the PAS ClaimResponse."""

    def __init__(self, ts: TransactionSet, request_bundle: Mapping[str, Any] | None) -> None:
        if ts.st.get(1) != "278":
            raise ValueError("not a 278 transaction set")
        self.bht = next(s for s in ts.root.walk() if s.tag == "BHT")
        if self.bht.get(2) != "11":
            raise ValueError("not a 278 response (BHT02 must be 11)")
        self.root = ts.root
        self.event = next(ts.root.find("2000E"), None)
        self.request = request_bundle
        self.index = BundleIndex(request_bundle) if request_bundle else None
        self.claim = self.index.first("Claim") if self.index else None
        self.trn = self._trace()
        self.key = "|".join(("278", self.bht.get(3), self.trn.get(3) if self.trn else "",
                             self.trn.get(2) if self.trn else ""))
        self.entries: list[dict[str, Any]] = []

    def uid(self, *parts: str) -> str:
        return str(uuid.uuid5(_NAMESPACE, "|".join((self.key, *parts))))

    def _trace(self) -> Segment | None:
        if self.event is None:
            return None
        traces = list(self.event.segments("TRN"))
        return next((t for t in traces if t.get(1) == "2"), traces[0] if traces else None)

    def _nm1(self, loop_id: str) -> Segment | None:
        loop = next(self.root.find(loop_id), None)
        return next(loop.segments("NM1"), None) if loop is not None else None

    # -- parties -------------------------------------------------------------------------

    def _entry_url(self, resource: Resource) -> str:
        for entry in (self.request or {}).get("entry") or []:
            if entry.get("resource") is resource and entry.get("fullUrl"):
                return str(entry["fullUrl"])
        return f"urn:uuid:{self.uid(resource['resourceType'], resource.get('id', ''))}"

    def _add(self, resource: Resource, url: str | None = None) -> dict[str, str]:
        """Add ``resource`` to the Bundle once; a Reference to it."""
        full_url = url or f"urn:uuid:{resource['id']}"
        if all(e["fullUrl"] != full_url for e in self.entries):
            self.entries.append({"fullUrl": full_url, "resource": resource})
        return {"reference": full_url}

    def _copied(self, reference: Mapping[str, Any] | None, kind: str | None = None,
                with_links: bool = False) -> dict[str, str] | None:
        """A resource of the request Bundle, copied in (a PractitionerRole with the
        practitioner and organization it names)."""
        if self.index is None or self.claim is None:
            return None
        found = self.index.resolve(reference, source=self.claim, kind=kind)
        if found is None:
            return None
        if with_links and found["resourceType"] == "PractitionerRole":
            for link in ("practitioner", "organization"):
                linked = self.index.resolve(found.get(link), source=found)
                if linked is not None:
                    self._add(copy.deepcopy(linked), self._entry_url(linked))
        return self._add(copy.deepcopy(found), self._entry_url(found))

    def patient(self) -> dict[str, str]:
        copied = self._copied((self.claim or {}).get("patient"), "Patient")
        if copied is not None:
            return copied
        dependent, subscriber = self._nm1("2010D"), self._nm1("2010C")
        nm1 = dependent or subscriber
        patient: Resource = {"resourceType": "Patient", "id": self.uid("Patient")}
        payer = self._payer_id()
        if subscriber is not None and dependent is None and subscriber.get(9):
            patient["identifier"] = [{
                "type": {"coding": [coding(systems.V2_0203, "MB")]},
                "system": systems.member_id(payer), "value": subscriber.get(9)}]
        if nm1 is not None and nm1.get(3):
            patient["name"] = [_person_name(nm1)]
        loop = next(self.root.find("2010D" if dependent is not None else "2010C"), None)
        dmg = next(loop.segments("DMG"), None) if loop is not None else None
        if dmg is not None:
            gender = {"F": "female", "M": "male", "U": "unknown"}.get(dmg.get(3))
            if gender:
                patient["gender"] = gender
            if dmg.get(2):
                patient["birthDate"] = iso_date(dmg.get(2))
        return self._add(patient)

    def _payer_id(self) -> str:
        nm1 = self._nm1("2010A")
        return nm1.get(9) if nm1 is not None else ""

    def insurer(self) -> dict[str, str]:
        copied = self._copied((self.claim or {}).get("insurer"), "Organization")
        if copied is not None:
            return copied
        nm1 = self._nm1("2010A")
        org: Resource = {"resourceType": "Organization", "id": self.uid("Organization", "UMO"),
                         "active": True}
        if nm1 is not None and nm1.get(9):
            system = NPI_SYSTEM if nm1.get(8) == "XX" else systems.payer_id()
            org["identifier"] = [{"system": system, "value": nm1.get(9)}]
        org["name"] = (nm1.get(3) if nm1 is not None else "") or "Utilization management org"
        return self._add(org)

    def requestor(self) -> dict[str, str]:
        copied = self._copied((self.claim or {}).get("provider"), with_links=True)
        if copied is not None:
            return copied
        nm1 = self._nm1("2010B")
        ident = ([{"system": NPI_SYSTEM, "value": nm1.get(9)}]
                 if nm1 is not None and nm1.get(8) == "XX" and nm1.get(9) else [])
        if nm1 is not None and nm1.get(2) == "1":
            person: Resource = {"resourceType": "Practitioner",
                                "id": self.uid("Practitioner", "requester"),
                                "name": [_person_name(nm1)]}
            if ident:
                person["identifier"] = ident
            role: Resource = {"resourceType": "PractitionerRole",
                              "id": self.uid("PractitionerRole", "requester"),
                              "practitioner": self._add(person)}
            return self._add(role)
        org: Resource = {"resourceType": "Organization",
                         "id": self.uid("Organization", "requester"), "active": True,
                         "name": (nm1.get(3) if nm1 is not None else "") or "Requester"}
        if ident:
            org["identifier"] = ident
        return self._add(org)

    # -- decisions -----------------------------------------------------------------------

    def review_action(self, hcr: Segment) -> dict[str, Any]:
        """``extension-reviewAction`` from HCR01-HCR04."""
        parts: list[dict[str, Any]] = [{
            "url": EXT_REVIEW_ACTION_CODE,
            "valueCodeableConcept": {"coding": [coding(
                REVIEW_ACTION_SYSTEM, hcr.get(1), display("review_action", hcr.get(1)))]},
        }]
        if hcr.get(2):
            parts.append({"url": "number", "valueString": hcr.get(2)})
        if hcr.get(3):
            parts.append({"url": "reasonCode", "valueCodeableConcept": {"coding": [coding(
                DECISION_REASON_SYSTEM, hcr.get(3),
                display("review_decision_reason", hcr.get(3)))]}})
        if hcr.get(4) in ("Y", "N"):
            parts.append({"url": "secondSurgicalOpinionFlag", "valueBoolean": hcr.get(4) == "Y"})
        return {"extension": parts, "url": EXT_REVIEW_ACTION}

    def adjudication(self, hcr: Segment | None) -> list[dict[str, Any]]:
        out: dict[str, Any] = {"category": {"coding": [coding(_ADJUDICATION, "submitted")]}}
        if hcr is not None:
            out = {"extension": [self.review_action(hcr)], **out}
        return [out]

    def _request_items(self) -> list[Mapping[str, Any]]:
        items = (self.claim or {}).get("item") or []
        return sorted(items, key=lambda i: int(i.get("sequence") or 0))

    def items(self, event_hcr: Segment | None) -> list[dict[str, Any]]:
        """One ClaimResponse.item per 2000F (or per requested item when there is none)."""
        requested = self._request_items()
        event_refs = _refs(self.event) if self.event is not None else {}
        event_dates = _dates(self.event) if self.event is not None else {}
        services = list(self.event.loops("2000F")) if self.event is not None else []
        out = []
        if not services:
            for n, req in enumerate(requested or [{}], 1):
                item = self._item(None, req, n, event_hcr, event_refs, event_dates)
                out.append(item)
            return out
        used: set[int] = set()
        for n, loop in enumerate(services, 1):
            traces = list(loop.segments("TRN"))
            echoed = {t.get(2) for t in traces if t.get(1) == "2"} or {t.get(2) for t in traces}
            match = next((r for r in requested if id(r) not in used
                          and item_trace(r) in echoed), None)
            if match is None and n <= len(requested) and id(requested[n - 1]) not in used:
                match = requested[n - 1]
            if match is not None:
                used.add(id(match))
            hcr = next(loop.segments("HCR"), None) or event_hcr
            out.append(self._item(loop, match or {}, n, hcr, event_refs, event_dates))
        return out

    def _item(self, loop: Loop | None, request: Mapping[str, Any], position: int,
              hcr: Segment | None, event_refs: dict[str, str],
              event_dates: dict[str, Segment]) -> dict[str, Any]:
        extensions: list[dict[str, Any]] = []
        for trn in (loop.segments("TRN") if loop is not None else []):
            requested = next((e.get("valueIdentifier") for e in request.get("extension") or []
                              if e.get("url") == EXT_ITEM_TRACE), None)
            value = (requested if requested and requested.get("value") == trn.get(2)
                     and requested.get("system") else
                     {"system": systems.trace_number(trn.get(3)), "value": trn.get(2)})
            extensions.append({"url": EXT_ITEM_TRACE, "valueIdentifier": dict(value)})
        dates = {**event_dates, **(_dates(loop) if loop is not None else {})}
        refs = {**event_refs, **(_refs(loop) if loop is not None else {})}
        if "102" in dates:
            extensions.append({"url": EXT_PREAUTH_ISSUE_DATE,
                               "valueDate": iso_date(dates["102"].get(3))})
        effective = dates.get("007") or event_dates.get("AAH")
        if effective is not None:
            extensions.append({"url": EXT_PREAUTH_PERIOD, "valuePeriod": _period(effective)})
        if refs.get("BB"):
            extensions.append({"url": EXT_AUTHORIZATION_NUMBER, "valueString": refs["BB"]})
        if refs.get("NT"):
            extensions.append({"url": EXT_ADMIN_REFERENCE, "valueString": refs["NT"]})
        if "472" in dates:
            value = _date_value(dates["472"])
            key = "valuePeriod" if "valuePeriod" in value else "valueDateTime"
            extensions.append({"url": EXT_REQUESTED_SERVICE_DATE,
                               key: value.get("valuePeriod") or value["valueDate"]})
        item: dict[str, Any] = {}
        if extensions:
            item["extension"] = extensions
        item["itemSequence"] = int(request.get("sequence") or position)
        item["adjudication"] = self.adjudication(hcr)
        return item

    def errors(self, sequences: list[int]) -> list[dict[str, Any]]:
        """ClaimResponse.error per AAA (X217 AAA03 901, AAA04 889)."""
        found: list[tuple[str, Segment, int | None]] = []
        for child in self.root.find("2000A"):
            found += list(_aaa_with_services(child))
        out = []
        for loop_id, aaa, service in found:
            error: dict[str, Any] = {}
            extensions: list[dict[str, Any]] = []
            element = _AAA_ELEMENT.get(aaa.get(3))
            if element:
                where = loop_id
                if element.startswith(("NM1", "N3", "N4", "PER", "PRV", "DMG")):
                    where = _NAME_LOOP.get(loop_id, loop_id)
                extensions.append({"extension": [{"url": "error",
                                                  "valueString": f"{where}-{element}"}],
                                   "url": EXT_ERROR_ELEMENT})
            if aaa.get(4):
                extensions.append({"url": EXT_ERROR_FOLLOWUP, "valueCodeableConcept": {
                    "coding": [coding(FOLLOWUP_ACTION_SYSTEM, aaa.get(4))]}})
            if extensions:
                error["extension"] = extensions
            if service is not None and service <= len(sequences):
                error["itemSequence"] = sequences[service - 1]
            error["code"] = {"coding": [coding(REJECT_REASON_SYSTEM, aaa.get(3))]}
            out.append(error)
        return out

    # -- the Bundle ----------------------------------------------------------------------

    def identifiers(self) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        if self.event is None:
            return out
        requested = list((self.claim or {}).get("identifier") or [])
        for trn in self.event.segments("TRN"):
            mine = next((i for i in requested if i.get("value") == trn.get(2)
                         and i.get("system")), None)
            if mine is not None and trn.get(1) == "2":
                ident = {k: copy.deepcopy(v) for k, v in mine.items() if k != "extension"}
            else:
                ident = {"system": systems.trace_number(trn.get(3)), "value": trn.get(2)}
            ident.setdefault("assigner", {"identifier": {"system": TRACE_ASSIGNER,
                                                         "value": trn.get(3)}})
            out.append(ident)
        return out

    def bundle(self) -> Resource:
        hcr = next(self.event.segments("HCR"), None) if self.event is not None else None
        items = self.items(hcr)
        sequences = [item["itemSequence"] for item in items]
        errors = self.errors(sequences)
        hcrs = [hcr] if hcr is not None else []
        for loop in (self.event.loops("2000F") if self.event is not None else []):
            hcrs += list(loop.segments("HCR"))
        outcome = "complete"
        if errors:
            outcome = "partial" if hcrs else "error"
        stamp = f"{iso_date(self.bht.get(4))}T{self.bht.get(5)[:2]}:{self.bht.get(5)[2:4]}:00Z"
        claim_type = (copy.deepcopy(self.claim["type"]) if self.claim and self.claim.get("type")
                      else {"coding": [coding(systems.CLAIM_TYPE, "institutional" if any(
                          s.tag == "SV2" for s in self.root.walk()) else "professional")]})
        response: Resource = {
            "resourceType": "ClaimResponse", "id": self.uid("ClaimResponse"),
            "meta": {"profile": [CLAIM_RESPONSE_PROFILE]},
        }
        identifiers = self.identifiers()
        if identifiers:
            response["identifier"] = identifiers
        response.update({"status": "active", "type": claim_type, "use": "preauthorization"})
        self.entries.append({"fullUrl": f"urn:uuid:{response['id']}", "resource": response})
        response["patient"] = self.patient()
        response["created"] = stamp
        response["insurer"] = self.insurer()
        response["requestor"] = self.requestor()
        if self.claim is not None:
            response["request"] = {"reference": self._entry_url(self.claim)}
        elif self.trn is not None:
            response["request"] = {"identifier": {
                "system": systems.trace_number(self.trn.get(3)), "value": self.trn.get(2)}}
        else:
            response["request"] = {"identifier": {"system": SUBMITTER_TRANSACTION,
                                                  "value": self.bht.get(3)}}
        response["outcome"] = outcome
        certified = next((h.get(2) for h in hcrs if h.get(1) in _CERTIFIED and h.get(2)), "")
        if certified:
            response["preAuthRef"] = certified
        period = (_dates(self.event).get("AAH") or _dates(self.event).get("007")
                  if self.event is not None else None)
        if period is not None:
            response["preAuthPeriod"] = _period(period)
        response["item"] = items
        if hcr is not None:
            response["adjudication"] = self.adjudication(hcr)
        if errors:
            response["error"] = errors
        system = SUBMITTER_TRANSACTION
        asked = (self.request or {}).get("identifier") or {}
        if asked.get("value") == self.bht.get(3) and asked.get("system"):
            system = asked["system"]
        bundle: Resource = {
            "resourceType": "Bundle", "id": self.uid("Bundle"),
            "meta": {"profile": [RESPONSE_BUNDLE_PROFILE]},
            "identifier": {"system": system, "value": self.bht.get(3)},
            "type": "collection", "timestamp": stamp, "entry": self.entries,
        }
        return bundle


def _aaa_with_services(loop: Loop) -> Iterator[tuple[str, Segment, int | None]]:
    """AAA segments in document order, numbering the 2000F loops of each 2000E."""
    service = 0
    for child in loop.children:
        if isinstance(child, Loop):
            if child.id == "2000F":
                service += 1
                yield from _aaa(child, service)
            else:
                yield from _aaa_with_services(child)
        elif child.tag == "AAA":
            yield loop.id, child, None


def pas_response_bundle(ts: TransactionSet,
                        request_bundle: Mapping[str, Any] | None = None) -> Resource:
    """The PAS Response Bundle of one 278 response: ClaimResponse first, then the Patient,
    insurer and requester it references (from ``request_bundle`` when given)."""
    return _Response(ts, request_bundle).bundle()
