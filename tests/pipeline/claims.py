"""Claim Bundles for the pipeline tests: the professional claim of the mapper tests with its
own patient control number, and amounts and codes the sandbox adjudicates predictably."""

from __future__ import annotations

from typing import Any

from tests.mappers.claim_bundles import PCN, fresh, professional_bundle

Resource = dict[str, Any]


def claim_bundle(pcn: str, *, procedure: str = "99214", charge: float = 150.0,
                 zip_code: str | None = None) -> Resource:
    """A one-line professional claim with patient control number ``pcn``."""
    bundle = fresh(professional_bundle())
    claim = bundle["entry"][0]["resource"]
    claim["identifier"] = [{"system": PCN, "value": pcn}]
    item = claim["item"][0]
    item["productOrService"]["coding"][0]["code"] = procedure
    item["net"] = {"value": charge, "currency": "USD"}
    claim["item"] = [item]
    claim["total"] = {"value": charge, "currency": "USD"}
    if zip_code is not None:
        for entry in bundle["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] == "Organization" and resource.get("address"):
                resource["address"][0]["postalCode"] = zip_code
    return bundle


def claim_of(bundle: Resource) -> Resource:
    claim: Resource = bundle["entry"][0]["resource"]
    return claim
