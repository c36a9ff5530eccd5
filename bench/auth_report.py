"""Medians, ratios and the printed tables of ``bench/auth.py``.

The goal comes from issue 6, "Speed (bench)": authorization (bearer-token verification plus
policy, RFC 6750 section 2.1; SMART App Launch scopes-and-launch-context) costs < 15 % of read
throughput, i.e. 1 - (system-token req/s / no-auth req/s) < 0.15.
"""

from __future__ import annotations

import statistics
from dataclasses import asdict
from typing import Any, Final

from harness import CONNECTIONS, SERVER_CPU, WRK_CPU, WrkResult

__all__ = [
    "COST_GOAL",
    "GOAL_ROW",
    "READ_CASES",
    "READ_ROWS",
    "TOKEN_CASES",
    "print_report",
    "read_summary",
    "token_summary",
]

COST_GOAL: Final = 0.15  # authorization costs < 15 % of read throughput

#: (case, token sides): each case runs on the no-auth server and once per token on the auth one.
#: The search runs before the patient's own reads: every request of a patient token leaves an
#: AuditEvent about that patient, and those weigh on later ``?patient=`` searches.
READ_CASES: Final = (
    ("read", ("system",)),
    ("search", ("patient", "system")),
    ("read-own", ("patient",)),
)
#: (case, token side, label): the rows of the read table, each against its no-auth baseline.
READ_ROWS: Final = (
    ("read", "system", "GET Claim/{id}, system/*.rs token"),
    ("read-own", "patient", "GET Claim/{id} own, patient/*.rs token"),
    ("search", "patient", "GET Claim?patient=, patient/*.rs token"),
    ("search", "system", "GET Claim?patient=, system/*.rs token"),
)
#: The row the goal is about.
GOAL_ROW: Final = "read/system"
TOKEN_CASES: Final = ("token", "malformed", "healthz")
TOKEN_LABELS: Final = {
    "token": "POST /auth/token client_credentials, RS384 assertion",
    "malformed": "POST /auth/token malformed assertion (401, baseline)",
    "healthz": "GET /healthz (loader ceiling, baseline)",
}


def _median(values: list[float]) -> float:
    return float(statistics.median(values))


def read_summary(case: str, side: str, runs: dict[str, list[WrkResult]]) -> dict[str, Any]:
    """One token side of a case against the case's no-auth runs (medians)."""
    goal = f"{case}/{side}" == GOAL_ROW
    base, auth = runs["noauth"], runs[side]
    ratio = _median([r.rps for r in auth]) / _median([r.rps for r in base])
    return {
        "token": side,
        "noauth_rps": round(_median([r.rps for r in base]), 1),
        "auth_rps": round(_median([r.rps for r in auth]), 1),
        "ratio": round(ratio, 3),
        "cost": round(1 - ratio, 3),
        "cost_goal": COST_GOAL if goal else None,
        "goal_met": (1 - ratio < COST_GOAL) if goal else None,
        "noauth_p50_ms": round(_median([r.p50_ms for r in base]), 3),
        "noauth_p99_ms": round(_median([r.p99_ms for r in base]), 3),
        "auth_p50_ms": round(_median([r.p50_ms for r in auth]), 3),
        "auth_p99_ms": round(_median([r.p99_ms for r in auth]), 3),
        "noauth_timeouts": sum(r.errors for r in base),
        "auth_timeouts": sum(r.errors for r in auth),
        "runs": {s: [asdict(r) for r in v] for s, v in runs.items()},
    }


def token_summary(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "rps": round(_median([r["rps"] for r in runs]), 1),
        "p50_ms": round(_median([r["p50_ms"] for r in runs]), 3),
        "p99_ms": round(_median([r["p99_ms"] for r in runs]), 3),
        "requests": sum(r["requests"] for r in runs),
        "failures": sum(r["failures"] for r in runs),
        "server_cpu_ms_per_request": round(
            _median([r["server_cpu_ms_per_request"] for r in runs]), 3
        ),
        "runs": runs,
    }


def print_report(
    reads: dict[str, dict[str, Any]],
    tokens: dict[str, dict[str, Any]],
    *,
    duration: int,
    repeats: int,
    requests: int,
    pin: bool,
) -> None:
    """The read table with the goal verdict, then the token-endpoint table."""
    print()
    print(
        f"reads: wrk -t1 -c{CONNECTIONS}, {duration} s runs, median of {repeats}; "
        + (f"servers on CPU {SERVER_CPU}, wrk on CPU {WRK_CPU}" if pin else "not pinned")
    )
    head = (
        f"{'case':<40}{'no-auth req/s':>14}{'auth req/s':>11}{'ratio':>7}{'cost':>7}"
        f"{'auth p50':>9}{'auth p99':>9}"
    )
    print(head)
    print("-" * len(head))
    for case, side, label in READ_ROWS:
        r = reads[f"{case}/{side}"]
        print(
            f"{label:<40}{r['noauth_rps']:>14,.0f}{r['auth_rps']:>11,.0f}{r['ratio']:>7.2f}"
            f"{r['cost']:>7.1%}{r['auth_p50_ms']:>9.2f}{r['auth_p99_ms']:>9.2f}"
            + (f"  ({r['auth_timeouts']} timed out > 2 s)" if r["auth_timeouts"] else "")
        )
    system, patient = reads[GOAL_ROW], reads["read-own/patient"]
    verdict = "holds" if system["goal_met"] else "MISSED"
    print(
        f"goal: auth costs < {COST_GOAL:.0%} of read throughput (system token): "
        f"cost {system['cost']:.1%}: {verdict}; patient token on its own Claims: "
        f"cost {patient['cost']:.1%} ({'< ' if patient['cost'] < COST_GOAL else '>= '}"
        f"{COST_GOAL:.0%})"
    )
    print()
    print(
        f"token endpoint: {requests:,} requests per run from a separate process "
        f"(httpx, 16 concurrent), median of {repeats}"
    )
    head = (
        f"{'case':<54}{'req/s':>7}{'p50 ms':>8}{'p99 ms':>8}{'failed':>7}"
        f"{'srv CPU ms':>11}{'CPU-bound/s':>12}"
    )
    print(head)
    print("-" * len(head))
    for case in TOKEN_CASES:
        t = tokens[case]
        cpu = t["server_cpu_ms_per_request"]
        print(
            f"{TOKEN_LABELS[case]:<54}{t['rps']:>7,.0f}{t['p50_ms']:>8.2f}{t['p99_ms']:>8.2f}"
            f"{t['failures']:>7,}{cpu:>11.2f}{1000.0 / cpu if cpu else 0.0:>12,.0f}"
        )
    token, malformed = tokens["token"], tokens["malformed"]
    print(
        f"token / malformed-assertion baseline: {token['rps'] / malformed['rps']:.2f}; "
        f"token / healthz: {token['rps'] / tokens['healthz']['rps']:.2f}; "
        f"token requests: {token['requests']:,}, not 200: {token['failures']}"
    )
    cpu = {case: tokens[case]["server_cpu_ms_per_request"] for case in TOKEN_CASES}
    print(
        f"server CPU per request: token {cpu['token']:.2f} ms = "
        f"{cpu['token'] / cpu['malformed']:.1f} x the malformed-assertion path "
        f"({cpu['malformed']:.2f} ms), {cpu['token'] / cpu['healthz']:.1f} x /healthz "
        f"({cpu['healthz']:.2f} ms)"
    )
    print(
        "srv CPU ms = the server's CPU time per request (warm-up and deferred audit writes "
        "included); CPU-bound/s = 1000 / that: the rate one server CPU could answer when the "
        "loader is the limit"
    )
