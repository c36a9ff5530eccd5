"""``python -m sandbox.openemr``: the stand-in on 127.0.0.1:8081 with the demo seed.

The facade side's values (its base URL and its OpenEMR client) are passed by
``facade sandbox``; run standalone, the defaults of the facade settings are used."""

from __future__ import annotations

import argparse
import asyncio
import ipaddress
import sys
from collections.abc import Sequence

from sandbox.http_listener import HttpListener
from sandbox.openemr.app import create_openemr_app
from sandbox.openemr.config import OpenEmrConfig
from sandbox.openemr.context import StandIn
from sandbox.openemr.seed import DemoSeed, seed_demo
from sandbox.standins import serve_all

__all__ = ["is_loopback", "main", "openemr_listener", "run_openemr_standin"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def openemr_listener(host: str, port: int, seed: DemoSeed) -> HttpListener:
    """The seeded stand-in as a listener to start in a running event loop (``facade sandbox``
    runs it next to the clearinghouse). Loopback addresses only."""
    if not is_loopback(host):
        raise ValueError(f"the OpenEMR stand-in binds loopback addresses only, not {host}")
    stand = StandIn(OpenEmrConfig(base_url=f"http://{host}:{port}"))
    seed_demo(stand.state, seed)
    return HttpListener(create_openemr_app(standin=stand), host, port, name="openemr")


def run_openemr_standin(host: str, port: int, seed: DemoSeed) -> None:
    """Serve the seeded stand-in until interrupted. Loopback addresses only."""
    asyncio.run(serve_all([openemr_listener(host, port, seed)]))


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
