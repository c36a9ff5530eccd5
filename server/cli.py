"""The ``facade`` console script (DESIGN.md, "Public interface")."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence

from server.cli_clients import add_clients_commands
from server.cli_sandbox import add_sandbox_commands
from server.cli_x12 import add_fhir_commands, add_x12_commands

__all__ = ["main"]


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from server.app import create_app
    from server.settings import Settings, is_loopback_host

    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    log = logging.getLogger("facade")
    if not settings.auth.enabled:
        if not is_loopback_host(args.host):
            log.error(
                "FACADE_AUTH__ENABLED=false is refused on a non-loopback bind (%s)", args.host
            )
            return 2
        log.warning(
            "AUTHORIZATION IS OFF (FACADE_AUTH__ENABLED=false): every caller can read and write "
            "everything. Use this for local development only."
        )
    else:
        log.info(
            "SMART authorization on: discovery at %s/.well-known/smart-configuration; "
            "a bearer token for a local client: facade clients token NAME",
            settings.fhir_base,
        )
    log.info("FHIR base %s, store %s", settings.fhir_base, settings.database_url)
    uvicorn.run(
        create_app(settings),
        host=args.host,
        port=args.port,
        access_log=False,
        log_level=settings.log_level.lower(),
        loop="auto",
        http="auto",
    )
    return 0


def _worker(args: argparse.Namespace) -> int:
    """``facade worker``: the job worker alone (any number may run beside ``facade serve``)."""
    import asyncio
    import signal

    from server.app import _connectors
    from server.jobs.pipeline import Pipeline
    from server.settings import Settings
    from server.storage.factory import repository_from_settings

    settings = Settings()
    logging.basicConfig(
        level=settings.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )

    async def run() -> None:
        repo = repository_from_settings(settings)
        await repo.open()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        try:
            await Pipeline(repo, settings, _connectors(settings)).run_worker(stop)
        finally:
            await repo.close()

    asyncio.run(run())
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="facade", description="FHIR financial facade server")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the FHIR server")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8080)
    serve.set_defaults(func=_serve)
    worker = commands.add_parser("worker", help="run the job worker (claim pipeline) alone")
    worker.set_defaults(func=_worker)
    add_x12_commands(commands)
    add_fhir_commands(commands)
    add_clients_commands(commands)
    add_sandbox_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
