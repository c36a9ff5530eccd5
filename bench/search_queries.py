"""The four searches ``bench/search.py`` measures: their queries over the data set, the wrk
Lua scripts that vary them per request, and a one-request check of each answer.
"""

from __future__ import annotations

import calendar
import json
import sys
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from harness import http
from search_data import FIRST_DAY, PCN_SYSTEM, SPAN_DAYS, WINDOW_DAYS, DataSet

__all__ = ["Search", "searches", "verify", "write_lua"]

# --- searches ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Search:
    name: str
    title: str
    example: str
    lua: str  # body of the Lua ``request`` function


_LUA_HEADER = """
local fmt, random = string.format, math.random
local patients, claims, insurers = {patients}, {claims}, {insurers}
local first_epoch, window_days, span_days = {epoch}, {window}, {span}
local names = {{{names}}}
function init(args)
  math.randomseed(tonumber(args[1]) or os.time())
end
local function day(d)
  return os.date("!%Y-%m-%d", first_epoch + d * 86400)
end
function done(summary, latency, requests)
  io.write(fmt("bench-latency-us p50 %.1f p95 %.1f p99 %.1f\\n",
    latency:percentile(50), latency:percentile(95), latency:percentile(99)))
end
"""


def searches(data: DataSet) -> list[Search]:
    p, d = data.patient_id(42), FIRST_DAY + timedelta(days=100)
    end = d + timedelta(days=WINDOW_DAYS)
    name = quote(data.insurer_name(7))
    return [
        Search(
            "eob-date",
            "EOB by patient + service-date range, _count=20",
            f"/fhir/ExplanationOfBenefit?patient=Patient/{p}&service-date=ge{d}"
            f"&service-date=lt{end}&_count=20",
            """
  local d = random(0, span_days - window_days)
  return wrk.format("GET", fmt("/fhir/ExplanationOfBenefit?patient=Patient/pat-%06d"
    .. "&service-date=ge%s&service-date=lt%s&_count=20",
    random(0, patients - 1), day(d), day(d + window_days)))
""",
        ),
        Search(
            "claim-id",
            "Claim by identifier",
            f"/fhir/Claim?identifier={PCN_SYSTEM}%7C{data.pcn(4242)}",
            f"""
  return wrk.format("GET", fmt("/fhir/Claim?identifier={PCN_SYSTEM}%%7CPCN-%07d",
    random(0, claims - 1)))
""",
        ),
        Search(
            "eob-include",
            "EOB by patient, _include=ExplanationOfBenefit:coverage",
            f"/fhir/ExplanationOfBenefit?patient=Patient/{p}"
            "&_include=ExplanationOfBenefit:coverage&_count=20",
            """
  return wrk.format("GET", fmt("/fhir/ExplanationOfBenefit?patient=Patient/pat-%06d"
    .. "&_include=ExplanationOfBenefit:coverage&_count=20", random(0, patients - 1)))
""",
        ),
        Search(
            "coverage-payor",
            "Coverage by payor name (chained payor.name)",
            f"/fhir/Coverage?payor.name={name}&_count=20",
            """
  return wrk.format("GET", "/fhir/Coverage?payor.name=" .. names[random(1, insurers)]
    .. "&_count=20")
""",
        ),
    ]


def write_lua(directory: Path, data: DataSet) -> dict[str, Path]:
    names = ", ".join(f'"{quote(data.insurer_name(i))}"' for i in range(data.sizes.insurers))
    header = _LUA_HEADER.format(
        patients=data.sizes.patients,
        claims=data.sizes.claims,
        insurers=data.sizes.insurers,
        epoch=calendar.timegm(FIRST_DAY.timetuple()),
        window=WINDOW_DAYS,
        span=SPAN_DAYS,
        names=names,
    )
    paths: dict[str, Path] = {}
    for search in searches(data):
        paths[search.name] = directory / f"{search.name}.lua"
        paths[search.name].write_text(f"{header}\nrequest = function(){search.lua}end\n")
    return paths


def _get_bundle(base: str, path: str) -> dict[str, Any]:
    status, body = http("GET", base + path)
    if status != 200:
        sys.exit(f"GET {path} answered {status}:\n{body.decode()[:3000]}")
    bundle: dict[str, Any] = json.loads(body)
    if bundle.get("resourceType") != "Bundle" or bundle.get("type") != "searchset":
        sys.exit(f"GET {path} did not answer a searchset:\n{body.decode()[:3000]}")
    return bundle


def _entries(bundle: dict[str, Any], mode: str) -> list[dict[str, Any]]:
    return [
        e["resource"] for e in bundle.get("entry", []) if e.get("search", {}).get("mode") == mode
    ]


def verify(search: Search, base: str, data: DataSet) -> str:
    """One real request of ``search`` on a value the data set predicts; exits on a mismatch."""
    bundle = _get_bundle(base, search.example)
    matches, included = _entries(bundle, "match"), _entries(bundle, "include")
    ids = sorted(r["id"] for r in matches)
    problems: list[str] = []
    if search.name in ("eob-date", "eob-include"):
        p = 42
        eobs = data.eobs_of(p)
        if search.name == "eob-date":
            low = 100
            eobs = [n for n in eobs if low <= data.service_day(n) < low + WINDOW_DAYS]
        expected = sorted(data.eob_id(n) for n in eobs)[:20]
        if ids != expected:
            problems.append(f"matches {ids}, expected {expected}")
        if search.name == "eob-include":
            covers = sorted({data.coverage_id(data.claim_coverage(n)) for n in eobs})
            got = sorted(r["id"] for r in included if r["resourceType"] == "Coverage")
            if got != covers or len(included) != len(covers):
                problems.append(f"included {got}, expected Coverages {covers}")
        elif included:
            problems.append(f"{len(included)} unexpected included resources")
    elif search.name == "claim-id":
        if ids != [data.claim_id(4242)]:
            problems.append(f"matches {ids}, expected [{data.claim_id(4242)}]")
    elif search.name == "coverage-payor":
        insurer = data.insurer_id(7)
        held = sum(1 for c in range(data.sizes.coverages) if data.coverage_insurer(c) == 7)
        payors = {ref["reference"] for r in matches for ref in r.get("payor", [])}
        types, expected_count = {r["resourceType"] for r in matches}, min(20, held)
        if len(matches) != expected_count or types != {"Coverage"}:
            problems.append(f"{len(matches)} {types} matches, expected {expected_count} Coverages")
        if payors != {f"Organization/{insurer}"}:
            problems.append(f"payors {payors}, expected Organization/{insurer}")
    if not matches:
        problems.append("no matches")
    if problems:
        sys.exit(f"GET {search.example}: " + "; ".join(problems))
    found = f"{len(matches)} match{'es' if len(matches) != 1 else ''}"
    return found + (f" + {len(included)} included" if included else "")
