"""FHIR <-> X12 mapping speed: Claim -> 837P and 835 -> EOB throughput, single-claim latency.

Data: a 10,000-claim 837P and a 10,000-claim 835 built from the project's fixtures
(``bench/x12_data.py``); the 837P is mapped to 10,000 FHIR Claim Bundles by our own 837 -> FHIR
mapping, which is then what Claim -> 837P starts from. Timed in the same run, single process:

- Claim -> 837P: ``claims_to_837`` on all Bundles (one interchange; every claim resolved,
  checked for gaps and written), against the baseline ``json.dumps`` of the same Bundles (the
  cost of merely serialising the input once);
- 835 -> EOB: ``parse`` of the 835 plus ``remittance_resources`` for every set (EOB,
  ClaimResponse per claim, PaymentReconciliation), against the baseline ``parse`` alone;
- 837 -> FHIR: ``parse`` plus ``claim_resources`` (for reference);
- one encounter-sized Claim -> 837P: p50/p99 over many single-claim interchanges.

Goals (issue 5): >= 2,000 claims/s each way; p99 < 5 ms for a single claim.
Usage: ``python bench/mappers.py [--claims N] [--runs N] [--single N]``.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import time
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import median_seconds  # noqa: E402
from bench.x12_data import build_835, build_837p  # noqa: E402
from mappers.fhir_x12.claim_to_837 import claims_to_837  # noqa: E402
from mappers.fhir_x12.interchange import TradingPartners  # noqa: E402
from mappers.fhir_x12.x835_to_fhir import remittance_resources  # noqa: E402
from mappers.fhir_x12.x837_to_fhir import claim_bundles, claim_resources  # noqa: E402
from mappers.x12 import CountingControlNumbers, parse, validate  # noqa: E402

WHEN = datetime(2026, 11, 22, 9, 0)



def _json_default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(type(value))


def _encounter(bundle: dict[str, Any]) -> dict[str, Any]:
    """An encounter-sized claim: the first claim's lines three times over (six lines)."""
    bundle = copy.deepcopy(bundle)
    claim = bundle["entry"][0]["resource"]
    items = [copy.deepcopy(i) for _ in range(3) for i in claim["item"]]
    for n, item in enumerate(items, start=1):
        item["sequence"] = n
    claim["item"] = items
    claim["total"]["value"] = sum(i["net"]["value"] for i in items)
    return bundle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--single", type=int, default=3_000, help="single-claim repetitions")
    args = parser.parse_args()
    n = args.claims

    data_837 = build_837p(n).decode()
    sets_837, report = parse(data_837)
    assert report.valid, "the generated 837P must be valid"
    bundles = [b for ts in sets_837 for b in claim_bundles(ts)]
    assert len(bundles) == n
    partners = TradingPartners()

    def to_837() -> str:
        return claims_to_837(bundles, partners, CountingControlNumbers(1), WHEN, "BENCH")

    out = to_837()
    assert validate(out).valid, "the 837P we write must be valid"
    t_837 = median_seconds(to_837, args.runs)
    t_dump = median_seconds(
        lambda: [json.dumps(b, default=_json_default) for b in bundles], args.runs)

    data_835 = build_835(n)
    sets_835, report = parse(data_835)
    assert report.valid

    def eobs() -> int:
        sets, _ = parse(data_835)
        return sum(len(remittance_resources(ts)) for ts in sets)

    t_eob = median_seconds(eobs, args.runs)
    t_parse_835 = median_seconds(lambda: parse(data_835), args.runs)
    t_claims_in = median_seconds(
        lambda: [claim_resources(ts) for ts in parse(data_837)[0]], args.runs)

    one = [_encounter(bundles[0])]
    lines = len(one[0]["entry"][0]["resource"]["item"])
    latencies = []
    for i in range(args.single):
        start = time.perf_counter()
        claims_to_837(one, partners, CountingControlNumbers(i + 1), WHEN)
        latencies.append(time.perf_counter() - start)
    latencies.sort()
    p50 = latencies[len(latencies) // 2] * 1000
    p99 = latencies[int(len(latencies) * 0.99)] * 1000

    print(f"claims: {n:,}  runs: {args.runs} (medians)")
    print(f"Claim -> 837P      {t_837:7.3f} s  {n / t_837:9,.0f} claims/s  "
          f"(json.dumps baseline {t_dump:.3f} s: ratio {t_dump / t_837:.2f})  goal >= 2,000: "
          f"{'met' if n / t_837 >= 2000 else 'NOT met'}")
    print(f"835 -> EOB         {t_eob:7.3f} s  {n / t_eob:9,.0f} claims/s  "
          f"(parse-only baseline {t_parse_835:.3f} s: ratio {t_parse_835 / t_eob:.2f})  "
          f"goal >= 2,000: {'met' if n / t_eob >= 2000 else 'NOT met'}")
    print(f"837P -> FHIR       {t_claims_in:7.3f} s  {n / t_claims_in:9,.0f} claims/s")
    print(f"one Claim ({lines} lines) -> 837P: p50 {p50:.3f} ms  p99 {p99:.3f} ms  "
          f"goal p99 < 5 ms: {'met' if p99 < 5 else 'NOT met'}")


if __name__ == "__main__":
    main()
