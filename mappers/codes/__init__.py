"""Code tables the translations use, as data (``data/<name>.json``).

Each file holds ``{"title", "element", "source", "system", "codes": {code: description}}``:
``element`` names the X12 data element and the segments/loops that carry it, ``source`` who
maintains the list, ``system`` the FHIR code system URI (``null`` for ``claim_frequency``: the
CLM05-3 frequency digit has no code system of its own; the full institutional type of bill uses
the NUBC system). Codes are sorted in natural order (letters, then the number) one per line.

Descriptions are short and written for this product; X12's and the AMA's own wording is not
reproduced (X12.md §5: the X12 lists are copyrighted; CMS lists are free to use, so
``place_of_service`` keeps the CMS names). Every code of the guides' external code sets
(``mappers/x12/guides/code_sets.json``: remark codes, claim status categories and codes, service
types, places of service) is listed; where no reliable meaning is on hand the description is a
neutral pointer to the published list rather than a guess. ``Retired:`` marks codes X12 has
deactivated that may still appear in older remittances.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from importlib import resources
from typing import Any

__all__ = ["TABLES", "describe", "system_of", "table"]

#: The tables shipped, by name.
TABLES = (
    "carc",
    "rarc",
    "claim_status_category",
    "claim_status",
    "place_of_service",
    "claim_filing_indicator",
    "individual_relationship",
    "service_type",
    "review_action",
    "review_decision_reason",
    "claim_frequency",
    "eligibility_benefit",
    "coverage_level",
    "time_period",
)


@cache
def _load(name: str) -> Mapping[str, Any]:
    if name not in TABLES:
        raise KeyError(f"no code table {name!r}")
    text = resources.files(__package__).joinpath("data", f"{name}.json").read_text("utf-8")
    data: Mapping[str, Any] = json.loads(text)
    return data


def table(name: str) -> Mapping[str, str]:
    """``{code: description}`` of table ``name``."""
    codes: Mapping[str, str] = _load(name)["codes"]
    return codes


def describe(name: str, code: str) -> str | None:
    """The description of ``code`` in table ``name``; None when the code is not listed."""
    return table(name).get(code)


def system_of(name: str) -> str | None:
    """The FHIR code system URI of table ``name`` (None for lists without one)."""
    system: str | None = _load(name).get("system")
    return system
