"""``POST /oauth2/{site}/registration``: RFC 7591 dynamic registration as OpenEMR's
``AuthorizationController::clientRegistration`` does it (OPENEMR.md section 6, "Registration").

- ``redirect_uris`` required (``invalid_redirect_uri``); ``application_type: private`` makes a
  confidential client with a secret, anything else a public one.
- Public clients may not ask for ``user/`` or ``system/`` scopes; ``system/`` scopes need a
  private client with ``jwks`` or ``jwks_uri``; unknown scopes are ``invalid_client_metadata``.
- ``initiate_login_uri`` is the SMART launch URL (the EHR launch button goes there).
- New clients are disabled until an administrator enables them, except patient-only apps.
- The answer echoes the metadata with ``client_id``, ``client_secret`` (private only),
  ``registration_access_token``, ``registration_client_uri``, ``client_id_issued_at`` and
  ``client_secret_expires_at: 0``.
"""

from __future__ import annotations

import json
import secrets
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from sandbox.openemr.context import standin
from sandbox.openemr.errors import LeagueError
from sandbox.openemr.scopes import is_offered, is_patient_only, split_scopes

__all__ = ["registration_router"]

_AUTH_METHODS = ("client_secret_basic", "client_secret_post", "private_key_jwt")


def _metadata_error(hint: str) -> LeagueError:
    return LeagueError("invalid_client_metadata", hint, description=hint)


def _check(meta: dict[str, Any], system_scopes_api: bool) -> tuple[tuple[str, ...], list[str]]:
    uris = meta.get("redirect_uris")
    if (
        not isinstance(uris, list)
        or not uris
        or not all(isinstance(u, str) and u.startswith(("http://", "https://")) for u in uris)
    ):
        raise LeagueError("invalid_redirect_uri", "redirect_uris is invalid",
                          description="redirect_uris is invalid")
    scope = meta.get("scope", "")
    if not isinstance(scope, str):
        raise _metadata_error("scope must be a string")
    scopes = split_scopes(scope)
    unknown = [s for s in scopes if not is_offered(s, system_scopes_api=system_scopes_api)]
    if unknown:
        raise _metadata_error(f"Unknown scope {unknown[0]}")
    private = meta.get("application_type") == "private"
    has_keys = bool(meta.get("jwks") or meta.get("jwks_uri"))
    if not private and any(s.startswith(("user/", "system/")) for s in scopes):
        raise _metadata_error("Public apps may not request user or system scopes")
    if any(s.startswith("system/") for s in scopes) and not (private and has_keys):
        raise _metadata_error("system scopes need a confidential app with a JWKS")
    method = meta.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in _AUTH_METHODS:
        raise _metadata_error("Unsupported token_endpoint_auth_method")
    jwks = meta.get("jwks")
    if jwks is not None and not (isinstance(jwks, dict) and isinstance(jwks.get("keys"), list)):
        raise _metadata_error("jwks must be a JWK Set")
    return tuple(uris), scopes


def registration_router(site: str) -> APIRouter:
    router = APIRouter(prefix=f"/oauth2/{site}")

    @router.post("/registration")
    async def register(request: Request) -> Response:
        stand = standin(request)
        try:
            meta = json.loads(await request.body())
        except ValueError:
            meta = None
        if not isinstance(meta, dict):
            raise _metadata_error("The body must be a JSON object")
        uris, scopes = _check(meta, stand.config.system_scopes_api)
        private = meta.get("application_type") == "private"
        secret = secrets.token_urlsafe(64) if private else None
        enabled = not stand.config.manual_approval or is_patient_only(scopes)
        client = stand.state.add_client(
            str(meta.get("client_name") or "Unnamed app"),
            redirect_uris=uris,
            scopes=tuple(scopes),
            secret=secret,
            launch_uri=meta.get("initiate_login_uri"),
            jwks=meta.get("jwks"),
            jwks_uri=meta.get("jwks_uri"),
            enabled=enabled,
            token_endpoint_auth_method=meta.get(
                "token_endpoint_auth_method", "client_secret_basic"
            ),
        )
        client.registration_access_token = secrets.token_urlsafe(32)
        body = {
            **meta,
            "client_id": client.client_id,
            "registration_access_token": client.registration_access_token,
            "registration_client_uri": f"{stand.config.oauth_base}/client/{client.client_id}",
            "client_id_issued_at": int(time.time()),
            "client_secret_expires_at": 0,
            "scope": " ".join(scopes),
        }
        if secret is not None:
            body["client_secret"] = secret
        return JSONResponse(body, headers={"Cache-Control": "no-store"})

    return router
