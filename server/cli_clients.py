"""``facade clients add|list|approve|disable|token``: administer the OAuth clients.

Works directly on the auth store of the configured database (``FACADE_DATABASE_URL``), so it
runs beside a serving facade. ``add`` prints a confidential-symmetric client's secret once
(only its hash is kept); ``token`` mints a bearer token for a local client with the store's
keys, so the API can be called right after ``make run``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Any

__all__ = ["add_clients_commands"]


async def _with_server(work: Any) -> int:
    from server.security.authorization import AuthServer
    from server.settings import Settings
    from server.storage.sqlite_auth import SqliteAuthStore

    settings = Settings()
    server = AuthServer(settings, SqliteAuthStore(settings.sqlite_path()))
    await server.open()
    try:
        result: int = await work(server)
        return result
    finally:
        await server.close()


def _run(work: Any) -> int:
    return asyncio.run(_with_server(work))


def _add(args: argparse.Namespace) -> int:
    from server.errors import OAuthError
    from server.security.registration import check_jwks, check_redirect_uri, new_client
    from server.security.scopes import ScopeError, parse_scopes

    try:
        parse_scopes(args.scope, strict=True)
        redirect_uris = tuple(check_redirect_uri(u) for u in args.redirect_uri)
        jwks = None
        if args.jwks_file:
            jwks = check_jwks(json.loads(Path(args.jwks_file).read_text()))
        if args.kind == "confidential-asymmetric" and jwks is None:
            raise OAuthError("invalid_client_metadata", "--jwks-file is required for this kind")
        client, secret = new_client(
            args.name, args.kind, redirect_uris, args.scope, launch_uri=args.launch_uri, jwks=jwks
        )
    except (OAuthError, ScopeError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2

    async def work(server: Any) -> int:
        await server.store.put_client(client)
        return 0

    code = _run(work)
    print(f"client_id: {client.client_id}")
    if secret:
        print(f"client_secret: {secret}  (shown once; only its hash is kept)")
    return code


def _list(args: argparse.Namespace) -> int:
    async def work(server: Any) -> int:
        for c in await server.store.list_clients():
            state = "enabled" if c.enabled else "disabled"
            print(f"{c.client_id}\t{c.name}\t{c.kind}\t{state}\t{c.scope}")
        return 0

    return _run(work)


def _set_enabled(enabled: bool) -> Any:
    def command(args: argparse.Namespace) -> int:
        async def work(server: Any) -> int:
            client = await server.store.get_client(args.client_id)
            if client is None:
                print(f"error: no client {args.client_id}", file=sys.stderr)
                return 1
            await server.store.put_client(replace(client, enabled=enabled))
            print(f"{client.client_id} {'approved' if enabled else 'disabled'}")
            return 0

        return _run(work)

    return command


def _token(args: argparse.Namespace) -> int:
    from server.security.clients import cap_scope

    async def work(server: Any) -> int:
        clients = await server.store.list_clients()
        found = [c for c in clients if args.client in (c.client_id, c.name)]
        if len(found) != 1:
            print(f"error: {len(found)} clients match {args.client!r}", file=sys.stderr)
            return 1
        client = found[0]
        if not client.enabled:
            print(f"error: client {client.client_id} is disabled", file=sys.stderr)
            return 1
        scope = cap_scope(args.scope or client.scope, client.scope)
        body = await server.mint_for_client(client, scope, patient=args.patient)
        print(body["access_token"])
        return 0

    return _run(work)


def add_clients_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Register ``facade clients ...`` on the top-level sub-parsers."""
    clients = commands.add_parser("clients", help="administer OAuth clients")
    sub = clients.add_subparsers(dest="clients_command", required=True)
    add = sub.add_parser("add", help="register a client; prints its id (and secret once)")
    add.add_argument("name")
    add.add_argument(
        "--kind",
        required=True,
        choices=["public", "confidential-symmetric", "confidential-asymmetric"],
    )
    add.add_argument("--redirect-uri", action="append", default=[])
    add.add_argument("--scope", required=True)
    add.add_argument("--launch-uri")
    add.add_argument("--jwks-file")
    add.set_defaults(func=_add)
    listing = sub.add_parser("list", help="list clients")
    listing.set_defaults(func=_list)
    approve = sub.add_parser("approve", help="enable a client")
    approve.add_argument("client_id")
    approve.set_defaults(func=_set_enabled(True))
    disable = sub.add_parser("disable", help="disable a client")
    disable.add_argument("client_id")
    disable.set_defaults(func=_set_enabled(False))
    token = sub.add_parser("token", help="print a bearer token for a local client")
    token.add_argument("client", metavar="NAME_OR_ID")
    token.add_argument("--scope")
    token.add_argument("--patient")
    token.set_defaults(func=_token)
