"""``python -m sandbox.openemr``: the stand-in on 127.0.0.1:8081 with the demo seed.

The facade side's values (its base URL and its OpenEMR client) are passed by
``facade sandbox``; run standalone, the defaults of the facade settings are used."""

from __future__ import annotations

import argparse
import ipaddress
import sys
from collections.abc import Sequence

from sandbox.openemr.app import create_openemr_app
from sandbox.openemr.config import OpenEmrConfig
from sandbox.openemr.context import StandIn
from sandbox.openemr.seed import DemoSeed, seed_demo

__all__ = ["is_loopback", "main", "run_openemr_standin"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def run_openemr_standin(host: str, port: int, seed: DemoSeed) -> None:
    """Serve the seeded stand-in until interrupted. Loopback addresses only."""
    import uvicorn

    if not is_loopback(host):
        raise ValueError(f"the OpenEMR stand-in binds loopback addresses only, not {host}")
    stand = StandIn(OpenEmrConfig(base_url=f"http://{host}:{port}"))
    seed_demo(stand.state, seed)
    uvicorn.run(create_openemr_app(standin=stand), host=host, port=port, access_log=False)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.openemr")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--facade", default="http://127.0.0.1:8080")
    parser.add_argument("--client-id", default="facade-sandbox")
    parser.add_argument("--client-secret", default="sandbox-only-not-a-secret")
    args = parser.parse_args(argv)
    if not is_loopback(args.host):
        print(f"refusing to bind {args.host}: loopback only", file=sys.stderr)
        return 2
    run_openemr_standin(
        args.host, args.port,
        DemoSeed(args.facade, args.client_id, args.client_secret, "api:fhir user/Patient.read"),
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
