"""What SMART authorization costs: reads with and without a bearer token, and the token endpoint.

What it measures
----------------
1. Preloads ``--claims`` (default 20,000) ~2 KB Claims with ``bench/rest.py``'s ``preload``
   into one SQLite file (``bench/claims.py`` gives Claim n the patient ``patient-{n % 5000}``:
   20,000 Claims over 5,000 patients, 4 each) and copies it, so two ``facade serve`` processes
   run on identical stores: one with ``FACADE_AUTH__ENABLED=false`` (the baseline), one with
   authorization on (the default, audit trail included).
2. Registers clients and mints bearer tokens with the product's own CLI (``facade clients add``,
   ``facade clients token``): a ``system/*.rs`` token, and a ``patient/*.rs`` token whose
   patient context is the patient of Claim 0.
3. Drives both servers with ``wrk -t1 -c16 --latency`` (a 2 s warm-up, then ``--duration``
   seconds, ``--repeats`` times, alternating sides), the token in the ``Authorization`` header:

   - read:     GET /fhir/Claim/{id} of a random preloaded Claim, system token vs no auth;
   - search:   GET /fhir/Claim?patient=Patient/{id} (that patient's Claims), patient token
     and system token vs no auth;
   - read own: GET /fhir/Claim/{id} of one of the patient's own Claims, patient token vs no
     auth on the same ids (a patient token reaches nothing else).

   With authorization on, every request also writes an AuditEvent (the audit trail is part of
   what is measured); those of the patient token name the patient, so the search runs before
   the patient's own reads, and the run ends by counting them. A request wrk gives up on
   (> 2 s) is counted, not fatal; any other failed request is.

   Goal (issue 6, "Speed"): authorization costs < 15 % of read throughput, i.e.
   1 - (system-token req/s / no-auth req/s) < 0.15.
4. Token endpoint, client_credentials (SMART Backend Services): registers a
   confidential-asymmetric client with an RS384 public JWKS made at run time, pre-signs
   ``--assertions`` client assertions (unique ``jti`` each) per repeat and posts them from a
   separate process (``bench/auth_load.py``, httpx, 16 concurrent). Baselines in the same run,
   same loader and count: POST /auth/token with a malformed assertion (rejected 401 before any
   crypto or store access), and GET /healthz (the loader's own ceiling). Every token request
   must answer 200 with an access token; failures are counted.
5. Prints the medians and ratios and writes them to ``bench/out/auth.json``.

Servers are pinned to CPU 0, wrk and the loader to CPU 1 when two CPUs are available.
Run from the repository root::

    .venv/bin/python bench/auth.py            # full: 20,000 Claims, 3 x 8 s, 3,000 assertions
    .venv/bin/python bench/auth.py --quick    # smoke: 10,000 Claims, 1 x 3 s, 300 assertions

Needs ``wrk`` on the PATH (Debian: ``apt-get install -y wrk``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Final

sys.path.insert(0, str(Path(__file__).resolve().parent))

from auth_checks import check_access, check_client_credentials, count_audit_events  # noqa: E402
from auth_load import assertion_body, sign_assertions  # noqa: E402
from auth_report import (  # noqa: E402
    COST_GOAL,
    GOAL_ROW,
    READ_CASES,
    READ_ROWS,
    print_report,
    read_summary,
    token_summary,
)
from auth_setup import copy_store, patient_claims, register_clients  # noqa: E402
from auth_tokens import TOKEN_SCOPE, TokenLoad, measure_tokens  # noqa: E402
from claims import claim_id  # noqa: E402
from harness import (  # noqa: E402
    BENCH_DIR,
    CONNECTIONS,
    FACADE_BIN,
    ROOT,
    SERVER_CPU,
    WARMUP_SECONDS,
    WRK_CPU,
    Seeds,
    WrkResult,
    free_port,
    has_two_cpus,
    pinned,
    require_wrk,
    run_in_temp_dir,
    run_wrk_output,
    server_process,
    wait_ready,
    wrk_errors,
)
from rest import preload  # noqa: E402

OUT_FILE: Final = BENCH_DIR / "out" / "auth.json"


class Options(argparse.Namespace):
    """The command line, typed."""

    duration: int
    repeats: int
    claims: int
    assertions: int
    pin: bool
    no_audit: bool


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description="Authorization overhead and token endpoint.")
    parser.add_argument("--duration", type=int, default=8, help="seconds per measured wrk run")
    parser.add_argument("--repeats", type=int, default=3, help="measured runs per case and side")
    parser.add_argument("--claims", type=int, default=20_000, help="Claims to preload")
    parser.add_argument(
        "--assertions", type=int, default=3_000, help="token requests per measured run"
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help="smoke check: 10,000 Claims, 3 s runs, 1 repeat, 300 assertions",
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    parser.add_argument(
        "--no-audit",
        action="store_true",
        help="run the auth server with FACADE_AUTH__AUDIT=false: token checks and policy alone",
    )
    opts = parser.parse_args(argv, namespace=Options())
    if opts.quick:
        opts.claims, opts.duration, opts.repeats, opts.assertions = 10_000, 3, 1, 300
    if min(opts.duration, opts.repeats, opts.claims, opts.assertions) < 1:
        parser.error("--duration, --repeats, --claims and --assertions must be positive")
    opts.pin = not opts.no_pin and shutil.which("taskset") is not None and has_two_cpus()
    return opts


# --- wrk scripts ------------------------------------------------------------------------------


def write_lua(
    directory: Path, claims: int, own: list[str], tokens: dict[str, str]
) -> dict[tuple[str, str], Path]:
    """A wrk script per (case, side); each takes a seed as its first script arg."""
    assert claim_id(claims - 1) == f"bench-{claims - 1:06d}"
    own_ids = ", ".join(f'"{i}"' for i in own)
    picks = {
        "read": f'fmt("/fhir/Claim/bench-%06d", random(0, {claims - 1}))',
        "read-own": '"/fhir/Claim/" .. own[random(1, #own)]',
        "search": "wrk.path",
    }
    scripts: dict[tuple[str, str], Path] = {}
    for case, token_sides in READ_CASES:
        for side in ("noauth", *token_sides):
            header = (
                f'wrk.headers["Authorization"] = "Bearer {tokens[side]}"\n'
                if side in tokens
                else ""
            )
            text = f"""
local fmt, random = string.format, math.random
local own = {{{own_ids}}}
{header}function init(args)
  math.randomseed(tonumber(args[1]) or os.time())
end
request = function()
  return wrk.format("GET", {picks[case]})
end
"""
            scripts[case, side] = directory / f"{case}-{side}.lua"
            scripts[case, side].write_text(text)
    return scripts


# --- measuring --------------------------------------------------------------------------------


def measure_reads(
    wrk: str,
    bases: dict[str, str],
    scripts: dict[tuple[str, str], Path],
    patient: str,
    opts: Options,
) -> dict[str, dict[str, list[WrkResult]]]:
    """Each case, no-auth and token side alternating; wrk fails loudly on any non-2xx."""
    seeds = Seeds()
    paths = {
        "read": "/fhir/Claim/x",
        "read-own": "/fhir/Claim/x",
        "search": f"/fhir/Claim?patient=Patient/{patient}",
    }
    results: dict[str, dict[str, list[WrkResult]]] = {}
    for case, token_sides in READ_CASES:
        every = ("noauth", *token_sides)
        runs: dict[str, list[WrkResult]] = {side: [] for side in every}
        for repeat in range(opts.repeats):
            for side in every if repeat % 2 == 0 else every[::-1]:
                url = bases["noauth" if side == "noauth" else "auth"] + paths[case]
                script = scripts[case, side]
                run_wrk_output(
                    wrk, url, script, WARMUP_SECONDS, seeds(), opts.pin, tolerate_timeouts=True
                )
                result, output = run_wrk_output(
                    wrk, url, script, opts.duration, seeds(), opts.pin, tolerate_timeouts=True
                )
                timeouts = wrk_errors(output)["timeout"]
                runs[side].append(result)
                print(
                    f"  {case:<8} {side:<7} run {repeat + 1}/{opts.repeats}: "
                    f"{result.rps:9,.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
                    f"p99 {result.p99_ms:6.2f} ms"
                    + (f"  {timeouts} timed out (> 2 s)" if timeouts else ""),
                    flush=True,
                )
        results[case] = runs
    return results


# --- output -----------------------------------------------------------------------------------


def write_json(document: dict[str, Any], no_audit: bool) -> None:
    out = OUT_FILE.with_name("auth-noaudit.json") if no_audit else OUT_FILE
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nfigures written to {out.relative_to(ROOT)}")


# --- the run ----------------------------------------------------------------------------------


def run(opts: Options, wrk: str, tmp: Path) -> None:
    started = time.perf_counter()
    preload(tmp / "seed.db", opts.claims)
    dbs = {"noauth": tmp / "noauth.db", "auth": tmp / "auth.db"}
    for db in dbs.values():
        copy_store(tmp / "seed.db", db)
    patient, own, patients = patient_claims(opts.claims)
    other = next(claim_id(n) for n in range(opts.claims) if claim_id(n) not in own)
    print(
        f"{opts.claims:,} Claims over {patients:,} patients; the patient token is for "
        f"{patient} ({len(own)} Claims: {', '.join(own)})",
        flush=True,
    )
    ports = {side: free_port() for side in dbs}
    bases = {side: f"http://127.0.0.1:{port}" for side, port in ports.items()}
    envs = {
        side: {
            **os.environ,
            "FACADE_DATABASE_URL": f"sqlite:///{db}",
            "FACADE_BASE_URL": bases[side],
            "FACADE_LOG_LEVEL": "WARNING",
        }
        for side, db in dbs.items()
    }
    envs["noauth"]["FACADE_AUTH__ENABLED"] = "false"
    envs["auth"].pop("FACADE_AUTH__ENABLED", None)
    envs["auth"]["FACADE_AUTH__AUDIT"] = "false" if opts.no_audit else "true"
    print(f"audit trail on the auth server: {'off' if opts.no_audit else 'on'}", flush=True)
    tokens, backend = register_clients(envs["auth"], tmp, patient)
    scripts = write_lua(tmp, opts.claims, own, tokens)
    serve = [str(FACADE_BIN), "serve", "--host", "127.0.0.1", "--port"]
    logs = {side: tmp / f"{side}.log" for side in dbs}
    with (
        server_process(
            pinned([*serve, str(ports["noauth"])], SERVER_CPU, opts.pin),
            envs["noauth"],
            logs["noauth"],
        ) as plain,
        server_process(
            pinned([*serve, str(ports["auth"])], SERVER_CPU, opts.pin), envs["auth"], logs["auth"]
        ) as authed,
    ):
        wait_ready(bases["noauth"] + "/readyz", plain, logs["noauth"])
        wait_ready(bases["auth"] + "/readyz", authed, logs["auth"])
        checks = check_access(bases, tokens, patient, own, other)
        token_url = f"{bases['auth']}/auth/token"
        probe = sign_assertions(backend.key, backend.kid, backend.client_id, token_url, 1)[0]
        check_client_credentials(bases["auth"], assertion_body(probe, TOKEN_SCOPE), own[0])
        print(
            f"no-auth facade pid {plain.pid} on {bases['noauth']}, auth facade pid {authed.pid} "
            f"on {bases['auth']}; checks passed: {checks}",
            flush=True,
        )
        read_runs = measure_reads(wrk, bases, scripts, patient, opts)
        token_runs = measure_tokens(
            bases["auth"],
            authed.pid,
            backend,
            TokenLoad(opts.assertions, opts.repeats, opts.pin),
            tmp,
        )
    audit_events, about_patient = count_audit_events(dbs["auth"], patient)
    reads = {
        f"{case}/{side}": read_summary(case, side, read_runs[case]) for case, side, _ in READ_ROWS
    }
    tokens_out = {case: token_summary(runs) for case, runs in token_runs.items()}
    print_report(
        reads,
        tokens_out,
        duration=opts.duration,
        repeats=opts.repeats,
        requests=opts.assertions,
        pin=opts.pin,
    )
    print(
        f"audit trail: {audit_events:,} AuditEvents written by the auth server in this run, "
        f"{about_patient:,} of them about {patient}"
    )
    elapsed = time.perf_counter() - started
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    write_json(
        {
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "wrk": wrk_version.strip(),
            "cpus": os.cpu_count(),
            "pinned": {"server_cpu": SERVER_CPU, "load_cpu": WRK_CPU} if opts.pin else None,
            "connections": CONNECTIONS,
            "duration_s": opts.duration,
            "warmup_s": WARMUP_SECONDS,
            "repeats": opts.repeats,
            "claims": opts.claims,
            "patients": patients,
            "patient": patient,
            "patient_claims": own,
            "cost_goal": COST_GOAL,
            "goal_met": reads[GOAL_ROW]["goal_met"],
            "reads": reads,
            "token_endpoint": {
                "assertions_per_run": opts.assertions,
                "concurrency": 16,
                "scope": TOKEN_SCOPE,
                "ratio_to_malformed": round(
                    tokens_out["token"]["rps"] / tokens_out["malformed"]["rps"], 3
                ),
                "ratio_to_healthz": round(
                    tokens_out["token"]["rps"] / tokens_out["healthz"]["rps"], 3
                ),
                "server_cpu_ratio_to_malformed": round(
                    tokens_out["token"]["server_cpu_ms_per_request"]
                    / tokens_out["malformed"]["server_cpu_ms_per_request"],
                    3,
                ),
                **tokens_out,
            },
            "checks": checks,
            "audit_events_written": audit_events,
            "audit_events_about_patient": about_patient,
            "elapsed_s": round(time.perf_counter() - started, 1),
            "audit": not opts.no_audit,
        },
        opts.no_audit,
    )
    print(f"total time {elapsed:.0f} s")


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    wrk = require_wrk("bench/auth.py")
    return run_in_temp_dir(lambda tmp: run(opts, wrk, tmp))


if __name__ == "__main__":
    sys.exit(main())
