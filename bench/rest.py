"""REST throughput of the facade against a bare FastAPI app, with wrk on loopback.

What it measures
----------------
1. Preloads ``--resources`` (default 100,000) ~2 KB professional Claims into a fresh SQLite file
   straight through the storage port (``SqliteRepository`` units of work, content from
   ``interactions.stamp``, index rows from ``indexing.extract_index``) and prints the load rate.
2. Starts the facade (``facade serve``) on that file and, in the same run, ``bench/bare_app.py``:
   a bare FastAPI app on the same uvicorn options that answers every Claim read, create and
   update with one stored Claim's bytes. The bare app is the ceiling for each verb.
3. Drives both with ``wrk -t1 -c16 --latency`` (a 2 s warm-up, then ``--duration`` seconds,
   ``--repeats`` times, alternating facade and bare runs) for

   - read:   GET /fhir/Claim/{id} of a random preloaded id;
   - create: POST /fhir/Claim of a ~2 KB Claim;
   - update: PUT /fhir/Claim/{id} of a random preloaded id with a new revision number in an
     extension on every request, so each PUT really writes a new version.

   Servers are pinned to CPU 0 and wrk to CPU 1 (``taskset``) when two CPUs are available.
4. Prints the median req/s per side, the ratio facade/bare, the facade's p50/p99 latency and
   whether the goals hold (read >= 60 % of bare, create >= 30 %, update >= 25 %, read
   p99 < 10 ms at 16 connections), and writes the figures to ``bench/out/rest.json``.

Run from the repository root::

    .venv/bin/python bench/rest.py            # full: 100,000 Claims, 3 x 10 s per verb and side
    .venv/bin/python bench/rest.py --quick    # smoke: 10,000 Claims, 1 x 3 s

Needs ``wrk`` on the PATH (Debian: ``apt-get install -y wrk``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
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

from claims import REVISION_EXTENSION, bench_claim, claim_id  # noqa: E402
from harness import (  # noqa: E402
    BENCH_DIR,
    CONNECTIONS,
    FACADE_BIN,
    PYTHON,
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
    run_wrk,
    server_process,
    wait_ready,
)

from server.fhir import json_codec  # noqa: E402
from server.fhir.interactions import stamp  # noqa: E402
from server.storage.indexing import extract_index  # noqa: E402
from server.storage.port import ResourceVersion  # noqa: E402
from server.storage.sqlite import SqliteRepository  # noqa: E402

VERBS: Final = ("read", "create", "update")
RATIO_GOALS: Final = {"read": 0.60, "create": 0.30, "update": 0.25}
READ_P99_GOAL_MS: Final = 10.0
BATCH: Final = 2_000
OUT_FILE: Final = BENCH_DIR / "out" / "rest.json"
_REV_SENTINEL: Final = 2_147_000_001  # a valid 32-bit integer, unique in the serialised body
_ID_SENTINEL: Final = "bench-sentinel-id"


# --- data ------------------------------------------------------------------------------------


@dataclass(slots=True)
class VerbResult:
    """All runs of one verb, and their medians."""

    verb: str
    facade: list[WrkResult] = field(default_factory=list)
    bare: list[WrkResult] = field(default_factory=list)
    facade_requests: int = 0  # every completed facade request, warm-ups included

    def median(self, side: str, attr: str) -> float:
        runs: list[WrkResult] = getattr(self, side)
        return float(statistics.median(getattr(r, attr) for r in runs))

    @property
    def ratio(self) -> float:
        return self.median("facade", "rps") / self.median("bare", "rps")

    @property
    def goal_met(self) -> bool:
        met = self.ratio >= RATIO_GOALS[self.verb]
        if self.verb == "read":
            met = met and self.median("facade", "p99_ms") < READ_P99_GOAL_MS
        return met

    def summary(self) -> dict[str, Any]:
        return {
            "facade_rps": round(self.median("facade", "rps"), 1),
            "bare_rps": round(self.median("bare", "rps"), 1),
            "ratio": round(self.ratio, 3),
            "ratio_goal": RATIO_GOALS[self.verb],
            "facade_p50_ms": round(self.median("facade", "p50_ms"), 3),
            "facade_p99_ms": round(self.median("facade", "p99_ms"), 3),
            "bare_p50_ms": round(self.median("bare", "p50_ms"), 3),
            "bare_p99_ms": round(self.median("bare", "p99_ms"), 3),
            "goal_met": self.goal_met,
            "runs": {
                "facade": [asdict(r) for r in self.facade],
                "bare": [asdict(r) for r in self.bare],
            },
        }


@dataclass(frozen=True, slots=True)
class Options:
    duration: int
    repeats: int
    resources: int
    pin: bool


# --- command line ----------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description="Facade vs bare FastAPI app under wrk.")
    parser.add_argument("--duration", type=int, default=10, help="seconds per measured run")
    parser.add_argument("--repeats", type=int, default=3, help="measured runs per verb and side")
    parser.add_argument("--resources", type=int, default=100_000, help="Claims to preload")
    parser.add_argument(
        "--quick", action="store_true", help="smoke check: 10,000 Claims, 3 s runs, 1 repeat"
    )
    parser.add_argument("--no-pin", action="store_true", help="do not pin processes to CPUs")
    args = parser.parse_args(argv)
    if args.quick:
        args.resources, args.duration, args.repeats = 10_000, 3, 1
    if args.duration < 1 or args.repeats < 1 or args.resources < 1:
        parser.error("--duration, --repeats and --resources must be positive")
    pin = not args.no_pin and shutil.which("taskset") is not None and has_two_cpus()
    return Options(args.duration, args.repeats, args.resources, pin)


# --- preload ---------------------------------------------------------------------------------


async def _preload(path: Path, count: int) -> bytes:
    """Write ``count`` Claims in units of work of BATCH; return the stored bytes of the first."""
    repo = SqliteRepository(path)
    await repo.open()
    try:
        for start in range(0, count, BATCH):
            async with repo.unit_of_work() as uow:
                for n in range(start, min(start + BATCH, count)):
                    resource = bench_claim(n)
                    now = uow.now_us()
                    content = stamp(resource, "Claim", claim_id(n), 1, now)
                    version = ResourceVersion(
                        resource_type="Claim",
                        id=claim_id(n),
                        version=1,
                        updated_us=now,
                        deleted=False,
                        method="PUT",
                        content=content,
                    )
                    await uow.write(version, extract_index("Claim", resource))
        first = await repo.read("Claim", claim_id(0))
    finally:
        await repo.close()
    assert first is not None and first.content is not None
    return first.content


def preload(path: Path, count: int) -> tuple[bytes, float]:
    """Preload and report; returns the first Claim's stored bytes and the load rate."""
    started = time.perf_counter()
    content = asyncio.run(_preload(path, count))
    elapsed = time.perf_counter() - started
    print(
        f"preload: {count:,} Claims ({len(content):,} bytes stored each) in {elapsed:.1f} s "
        f"= {count / elapsed:,.0f} resources/s",
        flush=True,
    )
    return content, count / elapsed


# --- request bodies and wrk scripts ----------------------------------------------------------


def create_body() -> bytes:
    return json_codec.dumps(bench_claim(10_000_000, with_id=False))


def update_template() -> tuple[bytes, bytes, bytes, bool]:
    """A PUT body cut around its id and revision: (head, middle, tail, id_first)."""
    resource = bench_claim(20_000_000)
    resource["id"] = _ID_SENTINEL
    resource = {
        **resource,
        "extension": [{"url": REVISION_EXTENSION, "valueInteger": _REV_SENTINEL}],
    }
    body = json_codec.dumps(resource)
    id_token, rev_token = f'"{_ID_SENTINEL}"'.encode(), str(_REV_SENTINEL).encode()
    assert body.count(id_token) == 1 and body.count(rev_token) == 1
    id_at, rev_at = body.index(id_token), body.index(rev_token)
    first, second = (id_token, rev_token) if id_at < rev_at else (rev_token, id_token)
    head, rest = body.split(first)
    middle, tail = rest.split(second)
    return head, middle, tail, id_at < rev_at


def update_body(id: str, revision: int) -> bytes:
    head, middle, tail, id_first = update_template()
    quoted, rev = f'"{id}"'.encode(), str(revision).encode()
    return head + (quoted if id_first else rev) + middle + (rev if id_first else quoted) + tail


def _lua_string(data: bytes) -> str:
    text = data.decode()
    assert "]==]" not in text
    return f"[==[{text}]==]"


def write_lua(directory: Path, resources: int) -> dict[str, Path]:
    """The wrk scripts of the three verbs; each takes a seed/offset as its first script arg."""
    head, middle, tail, id_first = update_template()
    first, second = ("quoted", "rev") if id_first else ("rev", "quoted")
    header = f"""
local count = {resources}
local fmt, random = string.format, math.random
local seed = 0
function init(args)
  seed = tonumber(args[1]) or os.time()
  math.randomseed(seed)
end
"""
    scripts = {
        "read": header
        + """
request = function()
  return wrk.format("GET", fmt("/fhir/Claim/bench-%06d", random(0, count - 1)))
end
""",
        "create": f"""
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/fhir+json"
wrk.body = {_lua_string(create_body())}
""",
        "update": header
        + f"""
local head, middle, tail = {_lua_string(head)}, {_lua_string(middle)}, {_lua_string(tail)}
local headers = {{["Content-Type"] = "application/fhir+json"}}
local counter = 0
request = function()
  counter = counter + 1
  local id = fmt("bench-%06d", random(0, count - 1))
  local rev = tostring(seed + counter)
  local quoted = '"' .. id .. '"'
  local body = head .. {first} .. middle .. {second} .. tail
  return wrk.format("PUT", "/fhir/Claim/" .. id, headers, body)
end
""",
    }
    paths: dict[str, Path] = {}
    for verb, text in scripts.items():
        paths[verb] = directory / f"{verb}.lua"
        paths[verb].write_text(text)
    return paths


def check_bodies(base: str) -> None:
    """Fail loudly if the benchmark bodies are not accepted by the facade."""
    expectations = [
        ("GET", f"{base}/fhir/Claim/{claim_id(0)}", None, 200),
        ("POST", f"{base}/fhir/Claim", create_body(), 201),
        ("PUT", f"{base}/fhir/Claim/{claim_id(0)}", update_body(claim_id(0), 1), 200),
    ]
    for method, url, body, expected in expectations:
        status, answer = http(method, url, body)
        if status != expected:
            sys.exit(f"{method} {url} answered {status}, not {expected}:\n{answer.decode()[:2000]}")
    status, answer = http("GET", f"{base}/fhir/Claim/{claim_id(0)}")
    if json.loads(answer).get("meta", {}).get("versionId") != "2":
        sys.exit("the validation PUT did not write a new version")


def check_writes(db: Path, results: dict[str, VerbResult], resources: int) -> dict[str, Any]:
    """Every facade create and update request must have written a new version."""
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as conn:
        counts = dict(conn.execute("SELECT method, COUNT(*) FROM version GROUP BY method"))
    # The preload wrote version 1 of each Claim as PUT; check_bodies wrote one POST and one PUT.
    written = {"create": counts.get("POST", 0) - 1, "update": counts.get("PUT", 0) - resources - 1}
    report: dict[str, Any] = {}
    for verb, versions in written.items():
        requests = results[verb].facade_requests
        report[verb] = {"requests": requests, "versions_written": versions}
        status = "ok" if versions >= requests else "FEWER VERSIONS THAN REQUESTS"
        print(f"  {verb}: {requests:,} completed requests, {versions:,} new versions: {status}")
    return report


# --- the benchmark ---------------------------------------------------------------------------


def measure(
    wrk: str, bases: dict[str, str], scripts: dict[str, Path], opts: Options
) -> dict[str, VerbResult]:
    seeds = Seeds()
    results = {verb: VerbResult(verb) for verb in VERBS}
    paths = {"read": "/fhir/Claim/x", "create": "/fhir/Claim", "update": "/fhir/Claim/x"}
    for verb in VERBS:
        for repeat in range(opts.repeats):
            sides = ("facade", "bare") if repeat % 2 == 0 else ("bare", "facade")
            for side in sides:
                url = bases[side] + paths[verb]
                warmup = run_wrk(wrk, url, scripts[verb], WARMUP_SECONDS, seeds(), opts.pin)
                result = run_wrk(wrk, url, scripts[verb], opts.duration, seeds(), opts.pin)
                getattr(results[verb], side).append(result)
                if side == "facade":
                    results[verb].facade_requests += warmup.requests + result.requests
                print(
                    f"  {verb:<6} {side:<6} run {repeat + 1}/{opts.repeats}: "
                    f"{result.rps:9,.0f} req/s  p50 {result.p50_ms:6.2f} ms  "
                    f"p99 {result.p99_ms:6.2f} ms",
                    flush=True,
                )
    return results


def print_table(results: dict[str, VerbResult], opts: Options) -> None:
    print()
    print(
        f"wrk -t1 -c{CONNECTIONS}, {opts.duration} s runs, median of {opts.repeats}, "
        f"{opts.resources:,} stored Claims; "
        + (f"servers on CPU {SERVER_CPU}, wrk on CPU {WRK_CPU}" if opts.pin else "not pinned")
    )
    head = (
        f"{'verb':<7}{'facade req/s':>13}{'bare req/s':>12}{'ratio':>8}{'goal':>7}"
        f"{'p50 ms':>8}{'p99 ms':>8}  result"
    )
    print(head)
    print("-" * len(head))
    for verb, r in results.items():
        goal = f">={RATIO_GOALS[verb]:.2f}"
        notes = ["ratio ok" if r.ratio >= RATIO_GOALS[verb] else "ratio MISSED"]
        if verb == "read":
            p99_ok = r.median("facade", "p99_ms") < READ_P99_GOAL_MS
            notes.append(f"p99 < {READ_P99_GOAL_MS:.0f} ms {'ok' if p99_ok else 'MISSED'}")
        note = ", ".join(notes)
        print(
            f"{verb:<7}{r.median('facade', 'rps'):>13,.0f}{r.median('bare', 'rps'):>12,.0f}"
            f"{r.ratio:>8.2f}{goal:>7}{r.median('facade', 'p50_ms'):>8.2f}"
            f"{r.median('facade', 'p99_ms'):>8.2f}  {note}"
        )


def write_json(results: dict[str, VerbResult], opts: Options, meta: dict[str, Any]) -> None:
    OUT_FILE.parent.mkdir(parents=True, exist_ok=True)
    document = {
        **meta,
        "connections": CONNECTIONS,
        "duration_s": opts.duration,
        "warmup_s": WARMUP_SECONDS,
        "repeats": opts.repeats,
        "resources": opts.resources,
        "pinned": {"server_cpu": SERVER_CPU, "wrk_cpu": WRK_CPU} if opts.pin else None,
        "read_p99_goal_ms": READ_P99_GOAL_MS,
        "verbs": {verb: r.summary() for verb, r in results.items()},
    }
    OUT_FILE.write_text(json.dumps(document, indent=2) + "\n")
    print(f"\nfigures written to {OUT_FILE.relative_to(ROOT)}")


def run(opts: Options, wrk: str, tmp: Path) -> None:
    started = time.perf_counter()
    db = tmp / "bench.db"
    claim, preload_rate = preload(db, opts.resources)
    (tmp / "claim.json").write_bytes(claim)
    scripts = write_lua(tmp, opts.resources)
    facade_port, bare_port = free_port(), free_port()
    bases = {"facade": f"http://127.0.0.1:{facade_port}", "bare": f"http://127.0.0.1:{bare_port}"}
    env = {
        **os.environ,
        "FACADE_DATABASE_URL": f"sqlite:///{db}",
        "FACADE_BASE_URL": bases["facade"],
        "FACADE_LOG_LEVEL": "WARNING",
        "FACADE_AUTH__ENABLED": "false",
    }
    facade_cmd = [str(FACADE_BIN), "serve", "--host", "127.0.0.1", "--port", str(facade_port)]
    bare_cmd = [
        str(PYTHON),
        str(BENCH_DIR / "bare_app.py"),
        "--port",
        str(bare_port),
        "--claim-file",
        str(tmp / "claim.json"),
    ]
    facade_log, bare_log = tmp / "facade.log", tmp / "bare.log"
    with (
        server_process(pinned(facade_cmd, SERVER_CPU, opts.pin), env, facade_log) as facade,
        server_process(pinned(bare_cmd, SERVER_CPU, opts.pin), env, bare_log) as bare,
    ):
        wait_ready(bases["facade"] + "/readyz", facade, facade_log)
        wait_ready(bases["bare"] + "/healthz", bare, bare_log)
        check_bodies(bases["facade"])
        print(
            f"facade pid {facade.pid} on {bases['facade']}, bare app pid {bare.pid} on "
            f"{bases['bare']}; create body {len(create_body()):,} bytes, "
            f"update body {len(update_body(claim_id(0), 1)):,} bytes",
            flush=True,
        )
        results = measure(wrk, bases, scripts, opts)
        print("write check (versions in the store vs completed requests, warm-ups included):")
        writes = check_writes(db, results, opts.resources)
    print_table(results, opts)
    elapsed = time.perf_counter() - started
    wrk_version = subprocess.run([wrk, "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    write_json(
        results,
        opts,
        {
            "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "wrk": wrk_version.strip(),
            "cpus": os.cpu_count(),
            "stored_claim_bytes": len(claim),
            "create_body_bytes": len(create_body()),
            "preload_per_s": round(preload_rate),
            "elapsed_s": round(elapsed, 1),
            "write_check": writes,
        },
    )
    print(f"total time {elapsed:.0f} s")


def main(argv: list[str] | None = None) -> int:
    opts = parse_args(argv)
    wrk = require_wrk("bench/rest.py")
    return run_in_temp_dir(lambda tmp: run(opts, wrk, tmp))


if __name__ == "__main__":
    sys.exit(main())
