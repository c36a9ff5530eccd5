"""Search latency and HTTP load rate of the facade on a realistic financial data set, with wrk.

What it measures
----------------
1. Starts the facade (``facade serve``) on a fresh SQLite file and loads, through its HTTP API
   (validation + indexing + storage, exactly what a client pays), a linked data set of valid R4
   resources with fixed ids:

   - 50 insurer Organizations (distinct names), 200 provider Organizations, 1,000 Practitioners;
   - 10,000 Patients and 12,000 Coverages (``payor`` -> an insurer; 2,000 Patients have two);
   - 100,000 Claims (``identifier`` ``urn:bench:pcn|PCN-nnnnnnn``, patient, provider, care team,
     ``insurance.coverage``, three items with ``servicedDate`` spread over 2023-2024);
   - 100,000 ExplanationOfBenefits adjudicating those Claims (patient, insurer, provider,
     ``careTeam.provider``, ``insurance.coverage``, ``billablePeriod`` and ``item.servicedDate``,
     adjudications, totals, payment, ``outcome`` complete).

   One resource of each kind is first sent alone (PUT) so invalid data fails loudly. Then each
   kind is sent as transaction Bundles of ``--bundle`` (500) ``PUT Type/id`` entries, with
   ``--concurrency`` (3) Bundles in flight from an async httpx client in this process
   (``Prefer: return=minimal``). Prints resources/s per kind and for the whole load, checks the
   stored counts, checkpoints the WAL (``PRAGMA wal_checkpoint(TRUNCATE)``) and prints the DB size.
2. Drives four searches with ``wrk -t1 -c16 --latency`` (a 2 s warm-up, then ``--duration``
   seconds, ``--repeats`` times), each request with random values drawn in the Lua script:

   - ``eob-date``: ExplanationOfBenefit?patient=P&service-date=geD&service-date=ltE&_count=20
     (a random 365-day window; 5 matches for every patient);
   - ``claim-id``: Claim?identifier=urn:bench:pcn|PCN-n (1 match);
   - ``eob-include``: ExplanationOfBenefit?patient=P&_include=ExplanationOfBenefit:coverage
     &_count=20 (10 matches and the patient's 1 or 2 Coverages);
   - ``coverage-payor``: Coverage?payor.name=<insurer name>&_count=20 (chained; 20 of ~240).

   Before each wrk run one real request is checked against the data set: a searchset with the
   expected matches (and Coverages with ``search.mode`` include, for ``_include``).
   The server runs on CPU 0 and wrk (and the loading client) on CPU 1 when two CPUs are available.
3. Prints each search's median req/s, p50 and p95 (from ``latency:percentile`` in the scripts'
   ``done()``; wrk's own table has no 95th) and p99, whether the goals hold (p95 < 15 ms at 16
   connections; load >= 2,000 resources/s), the DB size, and writes ``bench/out/search.json``.

Run from the repository root::

    .venv/bin/python bench/search.py            # full: ~223,000 resources, 3 x 10 s per search
    .venv/bin/python bench/search.py --quick    # smoke: a tenth of the data, 1 x 3 s
    .venv/bin/python bench/search.py --keep     # keep the temp dir (DB, scripts, server log)

Needs ``wrk`` on the PATH (Debian: ``apt-get install -y wrk``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import shutil
import sqlite3
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx  # noqa: E402
import orjson  # noqa: E402
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
    http,
    pinned,
    require_wrk,
    run_in_temp_dir,
    run_wrk_output,
    server_process,
    wait_ready,
    wrk_errors,
)
from search_data import (  # noqa: E402
    FULL,
    QUICK,
    DataSet,
    Kind,
    Sizes,
    kinds,
)
from search_queries import Search, searches, verify, write_lua  # noqa: E402

from server.fhir import json_codec  # noqa: E402

P95_GOAL_MS: Final = 15.0
LOAD_GOAL_PER_S: Final = 2_000.0
OUT_FILE: Final = BENCH_DIR / "out" / "search.json"
FHIR_JSON: Final = "application/fhir+json"

# --- command line ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Options:
    sizes: Sizes
    duration: int
    repeats: int
    bundle: int
    concurrency: int
    keep: bool
    pin: bool


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description="Facade search latency and load rate under wrk.")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--repeats", type=int, default=3, help="measured runs per search")
    parser.add_argument("--bundle", type=int, default=500, help="entries per transaction Bundle")
    parser.add_argument("--concurrency", type=int, default=3, help="Bundles in flight at once")
    parser.add_argument(
        "--quick", action="store_true", help="smoke check: a tenth of the data, 3 s runs, 1 repeat"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (DB, logs)")
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    args = parser.parse_args(argv)
    sizes = FULL
    if args.quick:
        sizes, args.duration, args.repeats = QUICK, 3, 1
    if min(args.duration, args.repeats, args.bundle, args.concurrency) < 1:
        parser.error("--duration, --repeats, --bundle and --concurrency must be positive")
    pin = not args.no_pin and shutil.which("taskset") is not None and has_two_cpus()
    return Options(
        sizes, args.duration, args.repeats, args.bundle, args.concurrency, args.keep, pin
    )


# --- load --------------------------------------------------------------------------------------


@dataclass(slots=True)
class KindLoad:
    label: str
    resources: int
    bundles: int
    seconds: float
    body_bytes: int

    @property
    def rate(self) -> float:
        return self.resources / self.seconds


def check_one_of_each(base: str, data: DataSet) -> None:
    """PUT the first resource of each kind alone; fail loudly if the facade refuses it."""
    for kind in kinds(data):
        resource = kind.build(0)
        url = f"{base}/fhir/{kind.resource_type}/{resource['id']}"
        status, answer = http("PUT", url, json_codec.dumps(resource))
        if status not in (200, 201):
            sys.exit(f"PUT {url} answered {status}:\n{answer.decode()[:3000]}")
    print(f"check: one resource of each of the {len(kinds(data))} kinds accepted", flush=True)


def _bundle(kind: Kind, start: int, stop: int, fhir_base: str) -> bytes:
    entries = []
    for n in range(start, stop):
        resource = kind.build(n)
        url = f"{kind.resource_type}/{resource['id']}"
        entries.append(
            {
                "fullUrl": f"{fhir_base}/{url}",
                "resource": resource,
                "request": {"method": "PUT", "url": url},
            }
        )
    return json_codec.dumps({"resourceType": "Bundle", "type": "transaction", "entry": entries})


async def _post_bundle(client: httpx.AsyncClient, body: bytes, entries: int, what: str) -> None:
    # A bulk loader asks for no echo of 500 resources (R4 http.html#ops, Prefer: return).
    response = await client.post("/fhir", content=body, headers={"Prefer": "return=minimal"})
    if response.status_code != 200:
        raise RuntimeError(
            f"transaction of {what} answered {response.status_code}:\n{response.text[:3000]}"
        )
    answer = orjson.loads(response.content)
    statuses = [e.get("response", {}).get("status", "") for e in answer.get("entry", [])]
    if answer.get("type") != "transaction-response" or len(statuses) != entries:
        raise RuntimeError(f"unexpected transaction-response for {what}: {response.text[:2000]}")
    if bad := [s for s in statuses if not s.startswith(("200", "201"))]:
        raise RuntimeError(f"transaction of {what}: entries answered {bad[:5]}")


async def _load_kind(
    client: httpx.AsyncClient, kind: Kind, opts: Options, fhir_base: str
) -> KindLoad:
    """Send ``kind`` as transaction Bundles, ``opts.concurrency`` in flight; time the whole."""
    slots = asyncio.Semaphore(opts.concurrency)
    sent = bundles = 0

    async def post(body: bytes, start: int, stop: int) -> None:
        try:
            await _post_bundle(client, body, stop - start, f"{kind.label} {start}..{stop - 1}")
        finally:
            slots.release()

    started = time.perf_counter()
    async with asyncio.TaskGroup() as group:
        for start in range(0, kind.count, opts.bundle):
            await slots.acquire()
            stop = min(start + opts.bundle, kind.count)
            body = _bundle(kind, start, stop, fhir_base)
            sent += len(body)
            bundles += 1
            group.create_task(post(body, start, stop))
    return KindLoad(kind.label, kind.count, bundles, time.perf_counter() - started, sent)


async def _load(base: str, data: DataSet, opts: Options) -> list[KindLoad]:
    headers = {"Content-Type": FHIR_JSON, "Accept": FHIR_JSON, "Prefer": "return=minimal"}
    timeout = httpx.Timeout(600.0, connect=10.0)
    limits = httpx.Limits(max_connections=opts.concurrency)
    async with httpx.AsyncClient(
        base_url=base, headers=headers, timeout=timeout, limits=limits
    ) as client:
        loads: list[KindLoad] = []
        for kind in kinds(data):
            load = await _load_kind(client, kind, opts, base + "/fhir")
            loads.append(load)
            print(
                f"  {load.label:<24} {load.resources:>8,} in {load.bundles:>4} Bundles "
                f"{load.seconds:7.1f} s = {load.rate:8,.0f} resources/s "
                f"({load.body_bytes / load.resources:,.0f} bytes each)",
                flush=True,
            )
        return loads


def load(base: str, data: DataSet, opts: Options) -> tuple[list[KindLoad], float, float]:
    """Load the data set; the per-kind figures, total seconds and total resources/s."""
    print(
        f"load: {data.sizes.total:,} resources as transaction Bundles of {opts.bundle} PUT entries,"
        f" {opts.concurrency} in flight" + (f"; client on CPU {WRK_CPU}" if opts.pin else ""),
        flush=True,
    )
    affinity = os.sched_getaffinity(0)
    if opts.pin:
        os.sched_setaffinity(0, {int(WRK_CPU)})
    try:
        started = time.perf_counter()
        loads = asyncio.run(_load(base, data, opts))
        seconds = time.perf_counter() - started
    finally:
        os.sched_setaffinity(0, affinity)
    total = sum(k.resources for k in loads)
    print(f"  {'total':<24} {total:>8,} in {seconds:.1f} s = {total / seconds:,.0f} resources/s")
    return loads, seconds, total / seconds


def check_counts(db: Path, data: DataSet) -> dict[str, int]:
    expected: dict[str, int] = {}
    for kind in kinds(data):
        expected[kind.resource_type] = expected.get(kind.resource_type, 0) + kind.count
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        stored = dict(
            conn.execute("SELECT type, COUNT(*) FROM resource WHERE deleted = 0 GROUP BY type")
        )
    if stored != expected:
        sys.exit(f"stored resources {stored} differ from the data set {expected}")
    return stored


def db_size(db: Path) -> dict[str, Any]:
    """Checkpoint the WAL into the DB file, then the sizes of the DB, its WAL and each table."""
    conn = sqlite3.connect(db, timeout=30)
    try:
        busy, log, moved = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        tables: dict[str, int] = {}
        try:
            rows = conn.execute(
                "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
            ).fetchall()
            tables = {name: int(size) for name, size in rows}
        except sqlite3.OperationalError:
            pass  # SQLite built without the dbstat virtual table
    finally:
        conn.close()
    wal = db.with_name(db.name + "-wal")
    sizes = {"db": db.stat().st_size, "-wal": wal.stat().st_size if wal.exists() else 0}
    return {
        "checkpoint": {"busy": busy, "wal_frames": log, "checkpointed": moved},
        "db_bytes": sizes["db"],
        "wal_bytes": sizes["-wal"],
        "total_bytes": sizes["db"] + sizes["-wal"],
        "objects_bytes": tables,
    }


def _mb(n: int) -> str:
    return f"{n / 1_048_576:,.1f} MiB"


# --- measuring -----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Run:
    """One measured wrk run; percentiles from ``latency:percentile`` in the script's done()."""

    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    requests: int
    timeouts: int  # requests wrk gave up on after 2 s; not in the percentiles


_DONE_LINE = re.compile(r"^bench-latency-us p50 ([\d.]+) p95 ([\d.]+) p99 ([\d.]+)$", re.M)


def to_run(result: WrkResult, output: str) -> Run:
    match = _DONE_LINE.search(output)
    if match is None:
        raise ValueError(f"no percentiles from the script's done() in wrk output:\n{output}")
    p50, p95, p99 = (float(g) / 1000 for g in match.groups())
    return Run(result.rps, p50, p95, p99, result.requests, wrk_errors(output)["timeout"])


@dataclass(slots=True)
class SearchResult:
    search: Search
    check: str
    runs: list[Run] = field(default_factory=list)

    def median(self, attr: str) -> float:
        return float(statistics.median(getattr(r, attr) for r in self.runs))

    @property
    def timeouts(self) -> int:
        return sum(r.timeouts for r in self.runs)

    @property
    def goal_met(self) -> bool:
        completed = all(r.requests > 0 for r in self.runs)
        return completed and self.timeouts == 0 and self.median("p95_ms") < P95_GOAL_MS

    def summary(self) -> dict[str, Any]:
        return {
            "title": self.search.title,
            "example": self.search.example,
            "check": self.check,
            "rps": round(self.median("rps"), 1),
            "p50_ms": round(self.median("p50_ms"), 3),
            "p95_ms": round(self.median("p95_ms"), 3),
            "p99_ms": round(self.median("p99_ms"), 3),
            "timeouts": self.timeouts,
            "p95_goal_ms": P95_GOAL_MS,
            "goal_met": self.goal_met,
            "runs": [asdict(r) for r in self.runs],
        }


def measure(
    wrk: str, base: str, data: DataSet, scripts: dict[str, Path], opts: Options
) -> list[SearchResult]:
    seeds = Seeds()
    results: list[SearchResult] = []
    for search in searches(data):
        result = SearchResult(search, verify(search, base, data))
        print(f"  {search.name:<15} check: {result.check} for {search.example}", flush=True)
        url, script = base + "/fhir", scripts[search.name]
        run_wrk_output(wrk, url, script, WARMUP_SECONDS, seeds(), opts.pin, tolerate_timeouts=True)
        for repeat in range(opts.repeats):
            wrk_result, output = run_wrk_output(
                wrk, url, script, opts.duration, seeds(), opts.pin, tolerate_timeouts=True
            )
            run = to_run(wrk_result, output)
            result.runs.append(run)
            print(
                f"  {search.name:<15} run {repeat + 1}/{opts.repeats}: {run.rps:8,.0f} req/s  "
                f"p50 {run.p50_ms:6.2f} ms  p95 {run.p95_ms:6.2f} ms  p99 {run.p99_ms:6.2f} ms"
                + (f"  {run.timeouts:,} TIMEOUTS (> 2 s)" if run.timeouts else ""),
                flush=True,
            )
        results.append(result)
    return results


# --- report ------------------------------------------------------------------------------------


def print_report(
    results: list[SearchResult],
    loads: list[KindLoad],
    load_rate: float,
    size: dict[str, Any],
    opts: Options,
) -> None:
    total = sum(k.resources for k in loads)
    print()
    print(f"load: {total:,} resources over HTTP (transaction Bundles of {opts.bundle})")
    for k in loads:
        print(f"  {k.label:<24}{k.resources:>9,}{k.rate:>10,.0f} resources/s")
    verdict = "PASS" if load_rate >= LOAD_GOAL_PER_S else "MISS"
    print(
        f"  {'total':<24}{total:>9,}{load_rate:>10,.0f} resources/s   "
        f"goal >= {LOAD_GOAL_PER_S:,.0f}/s: {verdict}"
    )
    print(
        f"DB size: {_mb(size['total_bytes'])} (db {_mb(size['db_bytes'])} + wal "
        f"{_mb(size['wal_bytes'])}), {size['total_bytes'] / total:,.0f} bytes per resource"
    )
    if size["objects_bytes"]:
        biggest = list(size["objects_bytes"].items())[:8]
        print("  largest: " + ", ".join(f"{name} {_mb(n)}" for name, n in biggest))
    print()
    print(
        f"wrk -t1 -c{CONNECTIONS}, {opts.duration} s runs, median of {opts.repeats}; "
        + (f"server on CPU {SERVER_CPU}, wrk on CPU {WRK_CPU}" if opts.pin else "not pinned")
    )
    head = (
        f"{'search':<16}{'req/s':>9}{'p50 ms':>9}{'p95 ms':>9}{'p99 ms':>9}{'timeouts':>9}"
        "  p95 < 15 ms"
    )
    print(head)
    print("-" * len(head))
    for r in results:
        print(
            f"{r.search.name:<16}{r.median('rps'):>9,.0f}{r.median('p50_ms'):>9.2f}"
            f"{r.median('p95_ms'):>9.2f}{r.median('p99_ms'):>9.2f}{r.timeouts:>9,}  "
            f"{'PASS' if r.goal_met else 'MISS'}"
        )


def write_json(
    results: list[SearchResult],
    loads: list[KindLoad],
    load_seconds: float,
    load_rate: float,
    size: dict[str, Any],
    opts: Options,
    meta: dict[str, Any],
) -> None:
    OUT_FILE.parent.mkdir(parents=True, exist_ok=True)
    document = {
        **meta,
        "sizes": asdict(opts.sizes),
        "connections": CONNECTIONS,
        "duration_s": opts.duration,
        "warmup_s": WARMUP_SECONDS,
        "repeats": opts.repeats,
        "pinned": {"server_cpu": SERVER_CPU, "wrk_cpu": WRK_CPU} if opts.pin else None,
        "load": {
            "bundle_entries": opts.bundle,
            "concurrency": opts.concurrency,
            "resources": sum(k.resources for k in loads),
            "seconds": round(load_seconds, 2),
            "per_s": round(load_rate, 1),
            "goal_per_s": LOAD_GOAL_PER_S,
            "goal_met": load_rate >= LOAD_GOAL_PER_S,
            "kinds": {
                k.label: {
                    "resources": k.resources,
                    "bundles": k.bundles,
                    "seconds": round(k.seconds, 2),
                    "per_s": round(k.rate, 1),
                    "body_bytes": k.body_bytes,
                }
                for k in loads
            },
        },
        "db": size,
        "searches": {r.search.name: r.summary() for r in results},
    }
    OUT_FILE.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nfigures written to {OUT_FILE.relative_to(ROOT)}")


def run(opts: Options, wrk: str, tmp: Path) -> None:
    started = time.perf_counter()
    data = DataSet(opts.sizes)
    db = tmp / "search.db"
    scripts = write_lua(tmp, data)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "FACADE_DATABASE_URL": f"sqlite:///{db}",
        "FACADE_BASE_URL": base,
        "FACADE_LOG_LEVEL": "WARNING",
        "FACADE_AUTH__ENABLED": "false",
    }
    command = [str(FACADE_BIN), "serve", "--host", "127.0.0.1", "--port", str(port)]
    log = tmp / "facade.log"
    with server_process(pinned(command, SERVER_CPU, opts.pin), env, log) as facade:
        wait_ready(base + "/readyz", facade, log)
        print(f"facade pid {facade.pid} on {base}, store {db}", flush=True)
        check_one_of_each(base, data)
        loads, load_seconds, load_rate = load(base, data, opts)
        stored = check_counts(db, data)
        print("stored: " + ", ".join(f"{n:,} {t}" for t, n in sorted(stored.items())))
        size = db_size(db)
        print(f"DB after checkpoint {size['checkpoint']}: {_mb(size['total_bytes'])}", flush=True)
        print("searches:", flush=True)
        results = measure(wrk, base, data, scripts, opts)
    print_report(results, loads, load_rate, size, opts)
    elapsed = time.perf_counter() - started
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    write_json(
        results,
        loads,
        load_seconds,
        load_rate,
        size,
        opts,
        {
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "wrk": wrk_version.strip(),
            "cpus": os.cpu_count(),
            "elapsed_s": round(elapsed, 1),
        },
    )
    print(f"total time {elapsed:.0f} s")


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    wrk = require_wrk("bench/search.py")
    return run_in_temp_dir(lambda tmp: run(opts, wrk, tmp), keep=opts.keep)


if __name__ == "__main__":
    sys.exit(main())
