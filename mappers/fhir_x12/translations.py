"""Which mapping handles which transaction, in both directions.

Inbound (X12 -> FHIR), by the guide a transaction set names (GS08/ST03, and BHT02 for the 278):
837P/837I -> Claim Bundles, 835 -> EOB/ClaimResponse/PaymentReconciliation, 277CA -> claim
acknowledgments, 277 -> claim status, 271 -> eligibility responses, 278 response -> the PAS
response. Outbound (FHIR -> X12), by the transaction asked for: 837P, 837I, 270, 276, 278.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from mappers.fhir_x12.acknowledgments import claim_acknowledgments
from mappers.fhir_x12.claim_to_276 import claims_to_276
from mappers.fhir_x12.claim_to_837 import claims_to_837
from mappers.fhir_x12.eligibility_to_270 import requests_to_270
from mappers.fhir_x12.fhir_values import code
from mappers.fhir_x12.gaps import Gaps
from mappers.fhir_x12.interchange import TradingPartners
from mappers.fhir_x12.pas_to_278 import pas_to_278_interchange
from mappers.fhir_x12.references import BundleIndex, Resource
from mappers.fhir_x12.x271_to_fhir import eligibility_responses
from mappers.fhir_x12.x277_to_fhir import claim_statuses
from mappers.fhir_x12.x278_to_pas import pas_response_bundle
from mappers.fhir_x12.x835_to_fhir import remittance_resources
from mappers.fhir_x12.x837_to_fhir import claim_resources
from mappers.x12.tree import TransactionSet
from mappers.x12.writer import ControlNumbers

__all__ = ["OUTBOUND", "inbound_resources", "outbound"]


def _claims_837(kind: str) -> Callable[..., str]:
    def build(sources: Sequence[Mapping[str, Any]], partners: TradingPartners,
              numbers: ControlNumbers, when: datetime | None) -> str:
        gaps = Gaps()
        for n, source in enumerate(sources):
            for claim in BundleIndex(source).of_type("Claim"):
                if code(claim.get("type")) != kind:
                    gaps.add(f"Bundle[{n}].Claim.type" if len(sources) > 1 else "Claim.type",
                             f"An {'837P' if kind == 'professional' else '837I'} carries "
                             f"{kind} claims; this one is {code(claim.get('type')) or 'untyped'}",
                             "invalid")
        gaps.check("The 837 cannot be built")
        return claims_to_837(sources, partners, numbers, when)
    return build


#: Outbound builders: (sources, partners, numbers, when) -> the interchange text.
OUTBOUND: dict[str, Callable[..., str]] = {
    "837P": _claims_837("professional"),
    "837I": _claims_837("institutional"),
    "270": requests_to_270,
    "276": claims_to_276,
    "278": pas_to_278_interchange,
}


def outbound(transaction: str, sources: Sequence[Mapping[str, Any]], partners: TradingPartners,
             numbers: ControlNumbers, when: datetime | None = None) -> str:
    """The X12 interchange of ``transaction`` built from ``sources`` (Bundles or resources);
    raises ``MappingGapError`` listing every gap."""
    return OUTBOUND[transaction](sources, partners, numbers, when)


def _pas(ts: TransactionSet) -> list[Resource]:
    bundle = pas_response_bundle(ts)
    return [entry["resource"] for entry in bundle["entry"]]


def _claims(ts: TransactionSet) -> list[Resource]:
    return [r for resources in claim_resources(ts) for r in resources]


_INBOUND: dict[str, Callable[[TransactionSet], list[Resource]]] = {
    "005010X222A1": _claims,
    "005010X223A2": _claims,
    "005010X221A1": remittance_resources,
    "005010X214": claim_acknowledgments,
    "005010X212": claim_statuses,
    "005010X279A1": eligibility_responses,
    "005010X217": _pas,
}


def inbound_resources(ts: TransactionSet) -> list[Resource] | None:
    """The FHIR resources one transaction set maps to; None when it has no FHIR mapping
    (999 and TA1 acknowledge files, requests we only send: 270, 276, 278 request)."""
    if ts.st.get(1) in ("270", "276", "999"):
        return None
    if ts.st.get(1) == "278":
        bht = next((s for s in ts.root.walk() if s.tag == "BHT"), None)
        if bht is None or bht.get(2) != "11":  # BHT02 11: a response
            return None
    mapper = _INBOUND.get(ts.guide)
    return None if mapper is None else mapper(ts)
