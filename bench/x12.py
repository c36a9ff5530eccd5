"""X12 codec speed: our parse + full validation against the raw-split floor and pyx12.

Builds a 10,000-claim 835 (100 sets of 100 claims) and a 10,000-claim 837P (10 sets of 1,000)
from the project's fixtures, then times on the same machine in the same run:

- floor: ``bytes.split`` into segments and elements, counting CLP/CLM, keeping nothing;
- ours: ``mappers.x12.validate`` (envelopes, loops, segments, elements, guide rules) from bytes;
- ours, parse: ``mappers.x12.parse`` (the segment walk building the loop tree of every set,
  plus 835 balancing);
- pyx12: ``x12n_document`` full validation with its 999 (once: it is slow).

Prints medians, claims/s, MB/s and the ratios the goals name (ours >= 50x pyx12, ours >= 15% of
the floor), then the peak RSS of a separate process validating a 100,000-claim 835 from disk
(goal < 150 MB). Usage: ``python bench/x12.py [--claims N] [--runs N] [--no-pyx12]``.
"""

from __future__ import annotations

import argparse
import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.timing import median_seconds  # noqa: E402
from bench.x12_data import build_835, build_837p  # noqa: E402
from mappers.x12 import parse, validate  # noqa: E402


def _floor(data: bytes) -> int:
    claims = 0
    for seg in data.split(b"~"):
        elements = seg.split(b"*")
        if elements[0] in (b"CLP", b"CLM", b"\nCLP", b"\nCLM"):
            claims += 1
    return claims


def _pyx12(data: bytes) -> bool:
    import logging

    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    import pyx12.params
    import pyx12.x12n_document

    ok: bool = pyx12.x12n_document.x12n_document(
        param=pyx12.params.params(), src_file=io.StringIO(data.decode()),
        fd_997=io.StringIO(), fd_html=None, fd_json=io.StringIO(),
    )
    return ok



_RSS_CHILD = """
import resource, sys
from pathlib import Path
sys.path.insert(0, {root!r})
from mappers.x12 import validate
report = validate(Path({path!r}))
assert report.valid, report.errors[:3]
# VmHWM belongs to this process image; ru_maxrss would carry the forking parent's peak.
try:
    hwm = [l for l in open("/proc/self/status") if l.startswith("VmHWM")][0].split()[1]
except OSError:
    hwm = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(hwm)
"""


def _peak_rss(claims: int) -> tuple[float, float]:
    root = str(Path(__file__).resolve().parent.parent)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "big.835"
        path.write_bytes(build_835(claims))
        size = path.stat().st_size / 1e6
        out = subprocess.run([sys.executable, "-c", _RSS_CHILD.format(root=root, path=str(path))],
                             capture_output=True, text=True, check=True)
        return size, int(out.stdout.strip()) / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-pyx12", action="store_true")
    parser.add_argument("--rss-claims", type=int, default=100_000)
    args = parser.parse_args()

    for name, data in (("835", build_835(args.claims)), ("837P", build_837p(args.claims))):
        mb = len(data) / 1e6
        assert _floor(data) == args.claims
        assert validate(data).valid  # warms the compiled patterns, as a running server has them
        floor = median_seconds(lambda data=data: _floor(data), args.runs)
        ours = median_seconds(lambda data=data: validate(data), args.runs)
        tree = median_seconds(lambda data=data: parse(data), args.runs)
        rows = [("floor (split)", floor), ("ours: validate", ours), ("ours: parse (tree)", tree)]
        pyx = None
        if not args.no_pyx12:
            start = time.perf_counter()
            assert _pyx12(data)
            pyx = time.perf_counter() - start
            rows.append(("pyx12 x12n_document", pyx))
        print(f"\n{name}: {args.claims:,} claims, {mb:.1f} MB")
        print(f"  {'':22} {'seconds':>9} {'claims/s':>10} {'MB/s':>7}")
        for label, secs in rows:
            print(f"  {label:22} {secs:9.3f} {args.claims / secs:10,.0f} {mb / secs:7.1f}")
        print(f"  ours / floor speed: {floor / ours:.1%} (goal >= 15%);"
              f" with tree {floor / tree:.1%}")
        if pyx is not None:
            print(f"  ours vs pyx12: {pyx / ours:.0f}x faster (goal >= 50x);"
                  f" with tree {pyx / tree:.0f}x")
    size, rss = _peak_rss(args.rss_claims)
    print(f"\npeak RSS validating a {args.rss_claims:,}-claim 835 ({size:.0f} MB) from disk: "
          f"{rss:.0f} MB (goal < 150 MB)")


if __name__ == "__main__":
    main()
