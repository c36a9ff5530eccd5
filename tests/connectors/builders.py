"""Claim Bundles and request fixtures the connector tests send."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from tests.mappers import claim_bundles

FIXTURES = Path(__file__).resolve().parents[1] / "mappers" / "fixtures"
Json = dict[str, Any]


def fixture(name: str) -> Json:
    """A FHIR fixture of the mapper tests (eligibility requests, claim status Bundles)."""
    data: Json = json.loads((FIXTURES / name).read_text())
    return data


def claim(pcn: str, *, zip9: bool = True, procedure: str | None = None,
          institutional: bool = False) -> Json:
    """The mapper tests' professional (or institutional) Claim Bundle under patient control
    number ``pcn``; ``zip9=False`` gives the billing provider a 5-digit ZIP (a front-end
    rejection at a clearinghouse, X12.md 2.2)."""
    bundle = (claim_bundles.institutional_bundle() if institutional
              else claim_bundles.professional_bundle())
    resource = bundle["entry"][0]["resource"]
    resource["id"] = f"claim-{pcn}"
    resource["identifier"][0]["value"] = pcn
    if procedure is not None:
        resource["item"][0]["productOrService"]["coding"][0]["code"] = procedure
    if not zip9:
        for entry in bundle["entry"]:
            if entry["resource"]["resourceType"] == "Organization" and \
                    entry["resource"]["name"].startswith("Riverside"):
                entry["resource"]["address"][0]["postalCode"] = "62701"
    return bundle


def eligibility(member: str = "0000000001", payer_id: str = "000045") -> Json:
    """A CoverageEligibilityRequest Bundle for ``member`` at ``payer_id`` (the Optum sandbox's
    canned subscriber johnone doeone, CLEARINGHOUSES.md section 4, by default)."""
    bundle = fixture("eligibility_request_subscriber.json")
    for entry in bundle["entry"]:
        resource = entry["resource"]
        if resource["resourceType"] == "Coverage":
            resource["subscriberId"] = member
        elif resource["resourceType"] == "Patient":
            resource["name"] = [{"family": "doeone", "given": ["johnone"]}]
            resource["birthDate"] = "1880-01-02"
            resource["gender"] = "male"
        elif resource["resourceType"] == "Organization":
            resource["identifier"][0]["value"] = payer_id
    return bundle
