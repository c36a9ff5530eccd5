"""The token-endpoint half of ``bench/auth.py``: client_credentials requests and baselines.

SMART Backend Services (backend-services.html; RFC 7523 section 2.2 client assertions, RFC 6749
section 4.4 client credentials grant): each measured run posts ``requests`` freshly signed
assertions (a ``jti`` is good once) from a separate process (``bench/auth_load.py``, httpx,
16 concurrent). Baselines in the same run, same loader, same count: a malformed assertion
(401 before any crypto or store access) and GET /healthz (not audited; the loader's ceiling).
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from auth_load import assertion_body, malformed_body, sign_assertions
from auth_report import TOKEN_CASES
from auth_setup import Backend
from harness import BENCH_DIR, PYTHON, WRK_CPU, pinned

__all__ = ["TOKEN_SCOPE", "TokenLoad", "cpu_seconds", "measure_tokens"]

TOKEN_SCOPE: Final = "system/Claim.rs"
AUDIT_SETTLE_SECONDS: Final = 0.6  # the audit trail flushes every 0.25 s


@dataclass(frozen=True, slots=True)
class TokenLoad:
    """How much to send: requests per measured run, runs per case, CPU pinning."""

    requests: int
    repeats: int
    pin: bool


def _load(url: str, extra: list[str], pin: bool) -> dict[str, Any]:
    command = [str(PYTHON), str(BENCH_DIR / "auth_load.py"), url, *extra]
    done = subprocess.run(pinned(command, WRK_CPU, pin), capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"auth_load.py failed ({done.returncode}):\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout)
    return result


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (proc(5): /proc/PID/stat fields 14 and 15)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def measure_tokens(
    base: str, server_pid: int, backend: Backend, opts: TokenLoad, tmp: Path
) -> dict[str, list[dict[str, Any]]]:
    """Token requests and the two baselines, order rotated per repeat; fresh jtis each run.

    The loader (httpx) may be the bottleneck, so each run also records the server's own CPU
    time per request (warm-up included; the audit trail's deferred writes too, after a pause),
    whose inverse is what one server CPU could answer."""
    token_url = f"{base}/auth/token"
    warmup = max(10, opts.requests // 20)
    total = opts.requests + warmup
    bodies = tmp / "bodies.txt"
    results: dict[str, list[dict[str, Any]]] = {case: [] for case in TOKEN_CASES}
    for repeat in range(opts.repeats):
        shift = repeat % len(TOKEN_CASES)
        for case in TOKEN_CASES[shift:] + TOKEN_CASES[:shift]:
            if case == "token":
                signed = sign_assertions(
                    backend.key, backend.kid, backend.client_id, token_url, total
                )
                bodies.write_text("\n".join(assertion_body(a, TOKEN_SCOPE) for a in signed))
                extra = ["--bodies", str(bodies), "--marker", '"access_token"']
                url, expect = token_url, 200
            elif case == "malformed":
                bodies.write_text("\n".join([malformed_body(TOKEN_SCOPE)] * total))
                extra = ["--bodies", str(bodies), "--marker", '"invalid_client"']
                url, expect = token_url, 401
            else:
                extra = ["--method", "GET", "--count", str(opts.requests)]
                url, expect = f"{base}/healthz", 200
            cpu_before = cpu_seconds(server_pid)
            result = _load(url, [*extra, "--warmup", str(warmup)], opts.pin)
            time.sleep(AUDIT_SETTLE_SECONDS)
            cpu_ms = (cpu_seconds(server_pid) - cpu_before) * 1000.0
            result["server_cpu_ms_per_request"] = cpu_ms / (result["requests"] + warmup)
            good = result["statuses"].get(str(expect), 0) - result["missing_marker"]
            result["expected_status"] = expect
            result["failures"] = result["requests"] - good
            results[case].append(result)
            print(
                f"  {case:<9} run {repeat + 1}/{opts.repeats}: {result['rps']:8,.0f} req/s  "
                f"p50 {result['p50_ms']:6.2f} ms  p99 {result['p99_ms']:6.2f} ms  "
                f"server CPU {result['server_cpu_ms_per_request']:5.2f} ms/request  "
                f"{result['requests']:,} requests, {result['failures']} not {expect}",
                flush=True,
            )
    return results
