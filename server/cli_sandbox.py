"""``facade sandbox``: the OpenEMR stand-in on 127.0.0.1:8081 and the clearinghouse stand-in
(REST 127.0.0.1:8082, SFTP 127.0.0.1:2222, files under ``./var/sandbox-clearinghouse/``) in one
process (DESIGN.md "Sandbox"). The OpenEMR stand-in is seeded
with a demo clinician (``admin`` / ``pass``), two patients with an open encounter, the facade
registered as an enabled confidential client whose id and secret are the ``FACADE_OPENEMR__*``
settings, and, when ``FACADE_AUTH__DEMO_CLIENT_ID`` is set, that facade client as a launchable
"SMART Enabled App" whose launch URL is the facade's relay. Loopback addresses only."""

from __future__ import annotations

import argparse
import asyncio
import logging
from pathlib import Path

__all__ = ["add_sandbox_commands"]

_log = logging.getLogger("facade.sandbox")


def _sandbox(args: argparse.Namespace) -> int:
    from sandbox.clearinghouse.__main__ import clearinghouse_in, describe
    from sandbox.openemr import DemoSeed
    from sandbox.openemr.__main__ import openemr_listener
    from sandbox.openemr.seed import DEMO_PATIENTS, DEMO_USER
    from sandbox.standins import serve_all
    from server.settings import Settings, is_loopback_host

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    if not is_loopback_host(args.host) or args.host == "":
        _log.error("The sandbox binds loopback addresses only, not %s", args.host)
        return 2
    settings = Settings()
    own_url = f"http://{args.host}:{args.port}"
    if settings.openemr.base_url != own_url:
        _log.warning(
            "FACADE_OPENEMR__BASE_URL is %s but the stand-in serves %s: launches will be refused",
            settings.openemr.base_url, own_url,
        )
    apps: dict[str, str] = {}
    if settings.auth.demo_client_id:
        apps["Facade demo app"] = f"{settings.base_url}/smart/launch/{settings.auth.demo_client_id}"
    seed = DemoSeed(
        facade_base_url=settings.base_url,
        client_id=settings.openemr.client_id,
        client_secret=settings.openemr.client_secret,
        scopes=settings.openemr.scopes,
        launch_apps=apps,
    )
    _log.info("OpenEMR stand-in at %s (FHIR %s/apis/default/fhir)", own_url, own_url)
    _log.info("Login %s / %s; patients %s", DEMO_USER[0], DEMO_USER[1],
              ", ".join(p[0] for p in DEMO_PATIENTS))
    _log.info("Patient dashboard with the SMART apps: %s/interface/patient_file/summary/"
              "demographics.php", own_url)
    clearinghouse = clearinghouse_in(args.state, args.host, args.rest_port, args.sftp_port)
    asyncio.run(serve_all([openemr_listener(args.host, args.port, seed), clearinghouse],
                          on_started=lambda: describe(clearinghouse)))
    return 0


def add_sandbox_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``facade sandbox`` on the ``facade`` sub-command parser."""
    sandbox = commands.add_parser(
        "sandbox", help="run the OpenEMR and clearinghouse stand-ins (loopback only)")
    sandbox.add_argument("--host", default="127.0.0.1")
    sandbox.add_argument("--port", type=int, default=8081, help="OpenEMR stand-in port")
    sandbox.add_argument("--rest-port", type=int, default=8082, help="clearinghouse REST port")
    sandbox.add_argument("--sftp-port", type=int, default=2222, help="clearinghouse SFTP port")
    sandbox.add_argument("--state", type=Path, default=Path("var/sandbox-clearinghouse"),
                         help="clearinghouse files and ledger")
    sandbox.set_defaults(func=_sandbox)
