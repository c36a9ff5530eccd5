"""Dynamic client registration (RFC 7591) with administrator approval.

Client kinds follow ``token_endpoint_auth_method``: ``none`` -> public,
``client_secret_basic`` / ``client_secret_post`` -> confidential-symmetric (a secret is issued
once), ``private_key_jwt`` -> confidential-asymmetric (``jwks`` or ``jwks_uri``, RFC 7591
section 2, never both). A client asking for ``user/`` or ``system/`` scopes is created disabled
until ``facade clients approve``; patient-only apps are enabled at once. Errors are RFC 7591
section 3.2.2 ``invalid_redirect_uri`` / ``invalid_client_metadata``.
"""

from __future__ import annotations

import time
import uuid
from typing import Any
from urllib.parse import urlsplit

from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from server.errors import OAuthError
from server.security.auth_store import CLIENT_KINDS, AuthStore, Client
from server.security.passwords import hash_secret, new_secret
from server.security.scopes import ScopeError, parse_scopes
from server.settings import is_loopback_host

__all__ = ["KIND_BY_METHOD", "check_jwks", "check_redirect_uri", "new_client", "register"]

KIND_BY_METHOD = {
    "none": "public",
    "client_secret_basic": "confidential-symmetric",
    "client_secret_post": "confidential-symmetric",
    "private_key_jwt": "confidential-asymmetric",
}


def _metadata_error(description: str) -> OAuthError:
    return OAuthError("invalid_client_metadata", description)


def check_redirect_uri(uri: str) -> str:
    """An absolute https URI (http only on loopback) without a fragment (RFC 6749 3.1.2)."""
    parts = urlsplit(uri)
    loopback = parts.scheme == "http" and is_loopback_host(parts.hostname or "x")
    if not parts.netloc or parts.fragment or not (parts.scheme == "https" or loopback):
        raise OAuthError(
            "invalid_redirect_uri", f"{uri!r} is not an absolute https (or loopback) URI"
        )
    return uri


def check_jwks(jwks: Any) -> dict[str, Any]:
    """A JWK Set of public signing keys (no private members)."""
    if not isinstance(jwks, dict) or not isinstance(jwks.get("keys"), list) or not jwks["keys"]:
        raise _metadata_error("jwks must be a JWK Set with at least one key")
    for key in jwks["keys"]:
        if not isinstance(key, dict) or "d" in key or key.get("kty") not in ("RSA", "EC"):
            raise _metadata_error("jwks must hold public RSA or EC keys only")
    try:
        KeySet.import_key_set(jwks)  # type: ignore[arg-type]
    except (JoseError, ValueError, TypeError, KeyError) as exc:
        raise _metadata_error(f"jwks is not a usable JWK Set: {exc}") from exc
    return jwks


def needs_approval(scope: str) -> bool:
    """Clients asking for user/ or system/ scopes wait for an administrator."""
    return any(s.level in ("user", "system") for s in parse_scopes(scope).resources)


def new_client(
    name: str,
    kind: str,
    redirect_uris: tuple[str, ...],
    scope: str,
    *,
    launch_uri: str | None = None,
    jwks: dict[str, Any] | None = None,
    jwks_uri: str | None = None,
    enabled: bool = True,
) -> tuple[Client, str | None]:
    """A new client with a fresh id, and its clear secret for a symmetric client (shown once)."""
    if kind not in CLIENT_KINDS:
        raise _metadata_error(f"Unknown client kind {kind!r}")
    secret = new_secret(32) if kind == "confidential-symmetric" else None
    client = Client(
        client_id=uuid.uuid4().hex,
        name=name,
        kind=kind,
        redirect_uris=redirect_uris,
        scope=scope,
        launch_uri=launch_uri,
        jwks=jwks,
        jwks_uri=jwks_uri,
        enabled=enabled,
        secret_hash=hash_secret(secret) if secret else None,
        created_at=int(time.time()),
    )
    return client, secret


def _strings(body: dict[str, Any], name: str) -> list[str]:
    value = body.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _metadata_error(f"{name} must be an array of strings")
    return value


async def register(store: AuthStore, body: Any) -> dict[str, Any]:
    """Register the client described by ``body``; the RFC 7591 section 3.2.1 response."""
    if not isinstance(body, dict):
        raise _metadata_error("The registration request must be a JSON object")
    method = body.get("token_endpoint_auth_method", "client_secret_basic")
    if method not in KIND_BY_METHOD:
        raise _metadata_error(f"token_endpoint_auth_method {method!r} is not supported")
    kind = KIND_BY_METHOD[method]
    grant_types = _strings(body, "grant_types") or ["authorization_code"]
    unsupported = set(grant_types) - {"authorization_code", "refresh_token", "client_credentials"}
    if unsupported:
        raise _metadata_error(f"Unsupported grant_types: {sorted(unsupported)}")
    if "client_credentials" in grant_types and kind == "public":
        raise _metadata_error("client_credentials needs a confidential client")
    redirect_uris = tuple(check_redirect_uri(u) for u in _strings(body, "redirect_uris"))
    if "authorization_code" in grant_types and not redirect_uris:
        raise OAuthError("invalid_redirect_uri", "redirect_uris are required")
    scope = body.get("scope", "")
    if not isinstance(scope, str) or not scope.strip():
        raise _metadata_error("scope is required (the scopes the client may ever ask for)")
    try:
        parse_scopes(scope, strict=True)
    except ScopeError as exc:
        raise _metadata_error(str(exc)) from exc
    name = body.get("client_name", "Unnamed app")
    launch_uri = body.get("initiate_login_uri")
    if not isinstance(name, str) or not (launch_uri is None or isinstance(launch_uri, str)):
        raise _metadata_error("client_name and initiate_login_uri must be strings")
    if launch_uri is not None:
        check_redirect_uri(launch_uri)
    jwks = body.get("jwks")
    jwks_uri = body.get("jwks_uri")
    if kind == "confidential-asymmetric":
        if (jwks is None) == (jwks_uri is None):
            raise _metadata_error("private_key_jwt needs exactly one of jwks and jwks_uri")
        if jwks is not None:
            jwks = check_jwks(jwks)
        elif not isinstance(jwks_uri, str) or not jwks_uri.startswith("https://"):
            raise _metadata_error("jwks_uri must be an https URL")
    elif jwks is not None or jwks_uri is not None:
        raise _metadata_error("jwks and jwks_uri are only for private_key_jwt clients")
    client, secret = new_client(
        name,
        kind,
        redirect_uris,
        " ".join(scope.split()),
        launch_uri=launch_uri,
        jwks=jwks,
        jwks_uri=jwks_uri,
        enabled=not needs_approval(scope),
    )
    await store.put_client(client)
    reply: dict[str, Any] = {
        "client_id": client.client_id,
        "client_id_issued_at": client.created_at,
        "client_name": client.name,
        "token_endpoint_auth_method": method,
        "grant_types": grant_types,
        "redirect_uris": list(client.redirect_uris),
        "scope": client.scope,
    }
    if secret is not None:
        reply["client_secret"] = secret
        reply["client_secret_expires_at"] = 0
    if launch_uri:
        reply["initiate_login_uri"] = launch_uri
    if jwks is not None:
        reply["jwks"] = jwks
    if jwks_uri is not None:
        reply["jwks_uri"] = jwks_uri
    return reply
