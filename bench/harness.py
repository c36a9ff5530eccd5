"""What the wrk benchmarks share: CPU pinning, server subprocesses, wrk runs, temp-dir cleanup.

``bench/rest.py`` and ``bench/search.py`` import this module; importing it puts the repository
root on ``sys.path`` so the benchmarks can import ``server`` and ``capability``.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

BENCH_DIR: Final = Path(__file__).resolve().parent
ROOT: Final = BENCH_DIR.parent
for _path in (str(BENCH_DIR), str(ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

__all__ = [
    "BENCH_DIR",
    "CONNECTIONS",
    "FACADE_BIN",
    "PYTHON",
    "ROOT",
    "SERVER_CPU",
    "WARMUP_SECONDS",
    "WRK_CPU",
    "Seeds",
    "WrkResult",
    "free_port",
    "has_two_cpus",
    "http",
    "parse_wrk",
    "pinned",
    "require_wrk",
    "run_in_temp_dir",
    "run_wrk",
    "run_wrk_output",
    "server_process",
    "wait_ready",
    "wrk_errors",
]

CONNECTIONS: Final = 16
WARMUP_SECONDS: Final = 2
SERVER_CPU: Final = "0"
WRK_CPU: Final = "1"
PYTHON: Final = Path(sys.executable)
FACADE_BIN: Final = PYTHON.parent / "facade"


@dataclass(frozen=True, slots=True)
class WrkResult:
    """One measured wrk run."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int


# --- environment -----------------------------------------------------------------------------


def has_two_cpus() -> bool:
    cpus = os.sched_getaffinity(0)
    return {int(SERVER_CPU), int(WRK_CPU)} <= cpus


def require_wrk(script: str) -> str:
    wrk = shutil.which("wrk")
    if wrk is None:
        sys.exit(f"{script} needs the wrk load generator: apt-get install -y wrk")
    return wrk


# --- processes -------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def pinned(command: list[str], cpu: str, pin: bool) -> list[str]:
    return ["taskset", "-c", cpu, *command] if pin else command


@contextmanager
def server_process(
    command: list[str], env: dict[str, str], log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """Run ``command``; terminate it (then kill) on the way out, whatever happened."""
    with log.open("wb") as out:
        proc = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()


def wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit(
                f"server exited with {proc.returncode} before {url} answered:\n{log.read_text()}"
            )
        try:
            with urllib.request.urlopen(url, timeout=2) as resp:
                if resp.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.1)
    sys.exit(f"{url} did not answer within {timeout:.0f} s:\n{log.read_text()}")


def http(method: str, url: str, body: bytes | None = None) -> tuple[int, bytes]:
    headers = {"Content-Type": "application/fhir+json"} if body is not None else {}
    request = urllib.request.Request(url, data=body, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


# --- wrk ---------------------------------------------------------------------------------------

_UNITS_MS: Final = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0, "h": 3_600_000.0}


def _latency_ms(text: str, percentile: str) -> float:
    match = re.search(rf"^\s*{percentile}%\s+([\d.]+)(us|ms|s|m|h)\s*$", text, re.MULTILINE)
    if match is None:
        raise ValueError(f"no {percentile}% latency in wrk output:\n{text}")
    return float(match.group(1)) * _UNITS_MS[match.group(2)]


def wrk_errors(text: str) -> dict[str, int]:
    """Failed requests in wrk's output: non-2xx/3xx answers and socket errors by kind."""
    errors = {"non2xx": 0, "connect": 0, "read": 0, "write": 0, "timeout": 0}
    if non2xx := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", text):
        errors["non2xx"] = int(non2xx.group(1))
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if sock:
        for kind, count in zip(("connect", "read", "write", "timeout"), sock.groups(), strict=True):
            errors[kind] = int(count)
    return errors


def parse_wrk(text: str) -> WrkResult:
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", text, re.MULTILINE)
    total = re.search(r"^\s*(\d+) requests in", text, re.MULTILINE)
    if rps is None or total is None:
        raise ValueError(f"unexpected wrk output:\n{text}")
    return WrkResult(
        rps=float(rps.group(1)),
        p50_ms=_latency_ms(text, "50"),
        p99_ms=_latency_ms(text, "99"),
        requests=int(total.group(1)),
        errors=sum(wrk_errors(text).values()),
    )


def run_wrk_output(
    wrk: str,
    url: str,
    script: Path,
    seconds: int,
    seed: int,
    pin: bool,
    *,
    tolerate_timeouts: bool = False,
) -> tuple[WrkResult, str]:
    """One ``wrk -t1 -c16 --latency`` run; its parsed result and its whole output.

    Raises when wrk fails or any request failed (a non-2xx/3xx answer or a socket error; with
    ``tolerate_timeouts``, requests wrk gave up on after its 2 s timeout are only counted).
    """
    command = [
        wrk,
        "-t1",
        f"-c{CONNECTIONS}",
        f"-d{seconds}s",
        "--latency",
        "-s",
        str(script),
        url,
        "--",
        str(seed),
    ]
    done = subprocess.run(
        pinned(command, WRK_CPU, pin), capture_output=True, text=True, timeout=seconds + 60
    )
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    result = parse_wrk(done.stdout)
    failed = result.errors - (wrk_errors(done.stdout)["timeout"] if tolerate_timeouts else 0)
    if failed:
        raise RuntimeError(f"wrk saw {result.errors} failed requests against {url}:\n{done.stdout}")
    return result, done.stdout


def run_wrk(wrk: str, url: str, script: Path, seconds: int, seed: int, pin: bool) -> WrkResult:
    return run_wrk_output(wrk, url, script, seconds, seed, pin)[0]


class Seeds:
    """Distinct seeds per wrk run: random ids differ and update revisions never repeat."""

    def __init__(self) -> None:
        self._next = 0

    def __call__(self) -> int:
        self._next += 1
        return self._next * 1_000_000


# --- the run -----------------------------------------------------------------------------------


def _raise_interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


def run_in_temp_dir(run: Callable[[Path], None], *, keep: bool = False) -> int:
    """Call ``run`` with a fresh temp dir; SIGTERM and Ctrl-C end it cleanly (exit code 130).

    The server subprocesses ``run`` starts through :func:`server_process` are stopped on the way
    out; the temp dir is removed unless ``keep``.
    """
    signal.signal(signal.SIGTERM, _raise_interrupt)
    tmp = Path(tempfile.mkdtemp(prefix="facade-bench-"))
    try:
        run(tmp)
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        if keep:
            print(f"kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0
