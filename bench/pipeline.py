"""The claim pipeline end to end: N claims through `Claim/$submit` to the sandbox clearinghouse
over SFTP and back as EOBs.

Three processes: the sandbox clearinghouse (``python -m sandbox.clearinghouse``, answering at
once), ``facade serve`` with its in-process worker, and this script as the client (an async
httpx client, ``--concurrency`` requests in flight). The claims reference a patient, coverage,
payer and providers stored beforehand, as a billing app's claims do.

Printed figures (medians of nothing: one run of N claims; run it again to see the spread):

- baseline: plain ``POST /fhir/Claim`` of the same claims, claims/s (same server, same run);
- `$submit` rate: claims/s the API takes (scrubbed, stored, queued), and its ratio to the baseline;
- sent rate: claims/s from the first `$submit` until the last 837 is uploaded (the goal:
  >= 500 claims/s), with the number of batches;
- `$submit` -> EOB: p50/p95 seconds from each claim's submission to its EOB being stored;
- the server's resident memory at each quarter of the run (flat is the goal).

Usage: ``python bench/pipeline.py [--claims 10000] [--concurrency 16] [--batch 500]``
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import httpx
import orjson
from harness import (
    FACADE_BIN,
    PYTHON,
    ROOT,
    free_port,
    run_in_temp_dir,
    server_process,
    wait_ready,
)
from pipeline_data import CONTEXT_KEYS, bench_claim, context_bundle

FHIR = {"Content-Type": "application/fhir+json"}


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def _post_all(url: str, bodies: list[bytes], concurrency: int) -> tuple[float, list[int]]:
    """POST every body (``concurrency`` in flight); (seconds, statuses)."""
    statuses: list[int] = []
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for body in bodies:
        queue.put_nowait(body)
    limits = httpx.Limits(max_connections=concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:

        async def run() -> None:
            while not queue.empty():
                body = queue.get_nowait()
                r = await client.post(url, content=body, headers=FHIR)
                statuses.append(r.status_code)

        started = time.perf_counter()
        await asyncio.gather(*(run() for _ in range(concurrency)))
        return time.perf_counter() - started, statuses


def _stored_context(base: str) -> dict[str, str]:
    """Store the parties the claims reference (one transaction); their references."""
    r = httpx.post(f"{base}/fhir", json=context_bundle(), headers=FHIR, timeout=60)
    r.raise_for_status()
    refs = {}
    for key, entry in zip(CONTEXT_KEYS, r.json()["entry"], strict=True):
        kind, rid = entry["response"]["location"].split("/_history")[0].rsplit("/", 2)[-2:]
        refs[key] = f"{kind}/{rid}"
    return refs


def _pipeline_times(db: Path) -> tuple[list[float], int, float, float]:
    """(seconds from $submit to EOB per paid claim, batches, first submit, last upload)."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT updated_us, json_extract(data, '$.submitted_us') FROM record "
            "WHERE kind = 'claim' AND state = 'paid'").fetchall()
        sent = conn.execute(
            "SELECT MIN(json_extract(data, '$.submitted_us')), "
            "MAX(json_extract(data, '$.sent_us')) FROM record WHERE kind = 'claim'").fetchone()
        (batches,) = conn.execute("SELECT COUNT(*) FROM record WHERE kind = 'batch'").fetchone()
    finally:
        conn.close()
    return [(u - s) / 1e6 for u, s in rows], batches, sent[0] / 1e6, (sent[1] or 0) / 1e6


def _count(db: Path, state: str) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        (n,) = conn.execute("SELECT COUNT(*) FROM record WHERE kind = 'claim' AND state = ?",
                            (state,)).fetchone()
    finally:
        conn.close()
    return int(n)


def _run(tmp: Path, args: argparse.Namespace) -> None:
    port, rest, sftp = free_port(), free_port(), free_port()
    base = f"http://127.0.0.1:{port}"
    db = tmp / "facade.db"
    env = {
        **os.environ,
        "FACADE_DATABASE_URL": f"sqlite:///{db}",
        "FACADE_BASE_URL": base,
        "FACADE_AUTH__ENABLED": "false",
        "FACADE_LOG_LEVEL": "WARNING",
        "FACADE_CONNECTORS__SANDBOX__KIND": "sftp",
        "FACADE_CONNECTORS__SANDBOX__PORT": str(sftp),
        "FACADE_CONNECTORS__SANDBOX__USERNAME": "facade",
        "FACADE_CONNECTORS__SANDBOX__PASSWORD": "sandbox-only",
        "FACADE_PIPELINE__BATCH_SIZE": str(args.batch),
        "FACADE_PIPELINE__POLL_SECONDS": "0.5",
        "FACADE_LIMITS__MAX_BODY_BYTES": str(8 * 1024 * 1024),
    }
    sandbox_cmd = [PYTHON, "-m", "sandbox.clearinghouse", "--rest-port", str(rest),
                   "--sftp-port", str(sftp), "--state", str(tmp / "clearinghouse")]
    with server_process(sandbox_cmd, {**os.environ, "PYTHONPATH": str(ROOT)},
                        tmp / "sandbox.log") as sandbox, \
         server_process([FACADE_BIN, "serve", "--port", str(port)], env,
                        tmp / "facade.log") as facade:
        wait_ready(f"http://127.0.0.1:{rest}/sandbox/admin/ledger", sandbox,
                   tmp / "sandbox.log")
        wait_ready(f"{base}/healthz", facade, tmp / "facade.log")
        refs = _stored_context(base)

        baseline = [orjson.dumps(bench_claim(n, refs, "B")) for n in range(args.claims // 4)]
        seconds, statuses = asyncio.run(_post_all(f"{base}/fhir/Claim", baseline,
                                                  args.concurrency))
        assert set(statuses) == {201}, set(statuses)
        create_rate = len(baseline) / seconds
        print(f"baseline POST /fhir/Claim: {create_rate:,.0f} claims/s ({len(baseline)} claims)")

        claims = [orjson.dumps(bench_claim(n, refs, "S")) for n in range(args.claims)]
        rss = [_rss_mb(facade.pid)]
        seconds, statuses = asyncio.run(_post_all(f"{base}/fhir/Claim/$submit", claims,
                                                  args.concurrency))
        bad = [s for s in statuses if s != 200]
        assert not bad, f"{len(bad)} submissions failed: {set(bad)}"
        submit_rate = len(claims) / seconds
        print(f"$submit: {submit_rate:,.0f} claims/s taken by the API "
              f"({submit_rate / create_rate:.2f}x the plain create)")
        deadline = time.monotonic() + 600
        quarter = len(claims) // 4
        marks = {quarter, 2 * quarter, 3 * quarter}
        while time.monotonic() < deadline:
            paid = _count(db, "paid")
            if any(paid >= m for m in marks):
                marks = {m for m in marks if paid < m}
                rss.append(_rss_mb(facade.pid))
            if paid >= len(claims):
                break
            time.sleep(0.2)
        rss.append(_rss_mb(facade.pid))
        latencies, batches, first, last = _pipeline_times(db)
        if len(latencies) < len(claims):
            sys.exit(f"only {len(latencies)} of {len(claims)} claims were paid in time")
        sent_rate = len(claims) / (last - first)
        print(f"sent: {sent_rate:,.0f} claims/s from the first $submit to the last 837 uploaded "
              f"({batches} batches of <= {args.batch}; goal >= 500)")
        q = statistics.quantiles(latencies, n=20)
        print(f"$submit -> EOB: p50 {statistics.median(latencies):.2f} s, p95 {q[18]:.2f} s")
        print("facade RSS (MB) at 0/25/50/75/100 %: " + " / ".join(f"{m:.0f}" for m in rss))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    return run_in_temp_dir(lambda tmp: _run(tmp, args), keep=args.keep)


if __name__ == "__main__":
    sys.exit(main())
