"""Client authentication at ``/token`` and ``/introspect`` (OPENEMR.md section 6).

- ``client_secret_basic`` (RFC 6749 section 2.3.1) or ``client_secret_post``; public clients
  send ``client_id`` only.
- ``private_key_jwt`` (RFC 7523 section 3, SMART backend-services.html): the assertion must be
  signed **RS384** (OpenEMR's validator accepts nothing else, whatever discovery says),
  ``iss`` = ``sub`` = client id, ``aud`` = the token URL, ``jti`` present and never replayed,
  ``exp`` present, not past and at most 24 h ahead; keys from the client's ``jwks`` or
  ``jwks_uri``.
Every failure is league's ``invalid_client`` (401).
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any
from urllib.parse import unquote

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from sandbox.openemr.context import StandIn
from sandbox.openemr.errors import LeagueError
from sandbox.openemr.state import ApiClient

__all__ = ["JWT_BEARER", "authenticate_client", "verify_assertion"]

JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_MAX_AHEAD = 24 * 3600


def _basic(authorization: str | None) -> tuple[str, str] | None:
    if not authorization or not authorization.lower().startswith("basic "):
        return None
    try:
        decoded = base64.b64decode(authorization[6:].strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (unquote(user), unquote(password)) if sep else None


async def authenticate_client(
    standin: StandIn, form: dict[str, str], authorization: str | None
) -> ApiClient:
    """The enabled client the request authenticates as; raises ``invalid_client``."""
    if "client_assertion" in form or "client_assertion_type" in form:
        return await verify_assertion(standin, form)
    basic = _basic(authorization)
    client_id, secret = basic if basic else (form.get("client_id"), form.get("client_secret"))
    client = standin.state.clients.get(client_id or "")
    if client is None or not client.enabled:
        raise LeagueError("invalid_client")
    if client.secret_hash is not None:
        if not secret or not client.check_secret(secret):
            raise LeagueError("invalid_client")
    elif client.confidential:
        raise LeagueError("invalid_client", "This client authenticates with private_key_jwt")
    return client


def _unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        head, body, _ = token.split(".")
        header = json.loads(base64.urlsafe_b64decode(head + "=" * (-len(head) % 4)))
        claims = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    except (ValueError, binascii.Error):
        raise LeagueError("invalid_client", "The client assertion is not a JWT") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise LeagueError("invalid_client", "The client assertion is not a JWT")
    return header, claims


async def _client_keys(standin: StandIn, client: ApiClient) -> KeySet:
    jwks = client.jwks
    if jwks is None and client.jwks_uri:
        try:
            async with httpx.AsyncClient(transport=standin.transport, timeout=5.0) as http:
                response = await http.get(client.jwks_uri)
                response.raise_for_status()
                jwks = response.json()
        except (httpx.HTTPError, ValueError):
            raise LeagueError("invalid_client", "The client's jwks_uri could not be read") from None
    if not isinstance(jwks, dict):
        raise LeagueError("invalid_client", "The client has no registered keys")
    key_set: Any = jwks
    try:
        return KeySet.import_key_set(key_set)
    except (JoseError, ValueError, KeyError, TypeError):
        raise LeagueError("invalid_client", "The client's keys are unusable") from None


async def verify_assertion(standin: StandIn, form: dict[str, str]) -> ApiClient:
    """The client a ``private_key_jwt`` assertion proves, after every RFC 7523 check."""
    if form.get("client_assertion_type") != JWT_BEARER:
        raise LeagueError("invalid_client", "Unsupported client_assertion_type")
    token = form.get("client_assertion", "")
    header, claims = _unverified(token)
    if header.get("alg") != "RS384":
        raise LeagueError("invalid_client", "The client assertion must be signed with RS384")
    client_id = claims.get("iss")
    if not isinstance(client_id, str) or claims.get("sub") != client_id:
        raise LeagueError("invalid_client", "iss and sub must both be the client id")
    if form.get("client_id") not in (None, client_id):
        raise LeagueError("invalid_client", "client_id does not match the assertion")
    client = standin.state.clients.get(client_id)
    if client is None or not client.enabled:
        raise LeagueError("invalid_client")
    keys = await _client_keys(standin, client)
    try:
        jwt.decode(token, keys, algorithms=["RS384"])
    except (JoseError, ValueError):
        raise LeagueError("invalid_client", "The client assertion signature is invalid") from None
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    if standin.config.token_url not in audiences:
        raise LeagueError("invalid_client", "The assertion aud must be the token URL")
    now = time.time()
    exp = claims.get("exp")
    if not isinstance(exp, (int, float)) or exp < now or exp > now + _MAX_AHEAD:
        raise LeagueError("invalid_client", "The assertion exp is missing, past or too far")
    jti = claims.get("jti")
    if not isinstance(jti, str) or not jti:
        raise LeagueError("invalid_client", "The assertion has no jti")
    if not standin.state.remember_assertion(f"{client_id}:{jti}", float(exp)):
        raise LeagueError("invalid_client", "The assertion jti was used before")
    return client
