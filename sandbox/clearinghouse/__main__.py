"""``python -m sandbox.clearinghouse``: the sandbox clearinghouse alone, REST on 127.0.0.1:8082
and SFTP on 127.0.0.1:2222 (DESIGN.md "Sandbox"), state under ``./var/sandbox-clearinghouse/``.
``facade sandbox`` runs it together with the OpenEMR stand-in."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from sandbox.clearinghouse.accounts import DEFAULT_ACCOUNTS
from sandbox.clearinghouse.runner import ClearinghouseSandbox
from sandbox.http_listener import is_loopback
from sandbox.standins import serve_all

__all__ = ["DEFAULT_STATE", "clearinghouse_in", "describe", "main"]

DEFAULT_STATE = Path("var/sandbox-clearinghouse")

_log = logging.getLogger("sandbox.clearinghouse")


def clearinghouse_in(state: Path, host: str = "127.0.0.1", rest_port: int = 8082,
                     sftp_port: int = 2222) -> ClearinghouseSandbox:
    """The clearinghouse keeping its state in ``state``: SFTP folders under ``state/sftp``,
    the ledger in ``state/ledger.sqlite3`` (both survive restarts)."""
    return ClearinghouseSandbox(state / "sftp", host=host, rest_port=rest_port,
                                sftp_port=sftp_port, state_path=state / "ledger.sqlite3")


def describe(ch: ClearinghouseSandbox) -> None:
    """Log where the clearinghouse listens and the development account's credentials."""
    account = DEFAULT_ACCOUNTS[0]
    _log.info("Clearinghouse stand-in: REST %s (CHC paths, Stedi under /2024-04-01/change), "
              "SFTP %s:%s, files under %s", ch.rest_url, ch.host, ch.sftp_port, ch.root)
    _log.info("Clearinghouse account: SFTP user %s (ISA06 %s, ISA15 %s), CHC client %s, a "
              "Stedi API key; secrets: the development values in "
              "sandbox/clearinghouse/accounts.py", account.username, account.sender_id,
              account.usage, account.client_id)
    _log.info("Chaos: POST %s/sandbox/admin/chaos; ledger: GET %s/sandbox/admin/ledger",
              ch.rest_url, ch.rest_url)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sandbox.clearinghouse")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--rest-port", type=int, default=8082)
    parser.add_argument("--sftp-port", type=int, default=2222)
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE)
    args = parser.parse_args(argv)
    if not is_loopback(args.host):
        print(f"refusing to bind {args.host}: loopback only", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    ch = clearinghouse_in(args.state, args.host, args.rest_port, args.sftp_port)
    asyncio.run(serve_all([ch], on_started=lambda: describe(ch)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
