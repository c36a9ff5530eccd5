"""Client authentication at the token, introspection and revocation endpoints, and scope caps.

Methods (SMART App Launch client-authentication; RFC 6749 section 2.3; RFC 7523 section 2.2):

- ``none``: a public client names itself with ``client_id``;
- ``client_secret_basic`` / ``client_secret_post``: confidential-symmetric clients;
- ``private_key_jwt``: confidential-asymmetric clients sign a client assertion (RS384 or ES384)
  verified against their registered JWKS or ``jwks_uri`` (client-confidential-asymmetric.html):
  ``iss`` == ``sub`` == client id, ``aud`` == the token URL, ``exp`` present, in the future and
  at most 300 s ahead, ``jti`` never seen before.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote

import httpx
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from server.errors import OAuthError
from server.security.auth_store import AuthStore, Client
from server.security.passwords import verify_secret
from server.security.scopes import ScopeError, covers, parse_scopes

__all__ = [
    "ASSERTION_TYPE",
    "ClientAuth",
    "ClientAuthenticator",
    "cap_scope",
]

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
_ASSERTION_ALGS = ("RS384", "ES384")
_MAX_ASSERTION_SECONDS = 300
_JWKS_CACHE_SECONDS = 300


@dataclass(frozen=True, slots=True)
class ClientAuth:
    """The authenticated client and how it authenticated."""

    client: Client
    method: str

    @property
    def confidential(self) -> bool:
        return self.method != "none"


def _invalid(description: str, basic: bool = False) -> OAuthError:
    headers = {"WWW-Authenticate": 'Basic realm="auth"'} if basic else None
    return OAuthError("invalid_client", description, status=401, headers=headers)


def cap_scope(requested: str, registered: str) -> str:
    """The requested scopes the client registered (RFC 6749 section 3.3: the server may grant
    fewer). Unknown scopes are dropped; a malformed resource scope is ``invalid_scope``."""
    try:
        wanted = parse_scopes(requested)
        allowed = parse_scopes(registered)
    except ScopeError as exc:
        raise OAuthError("invalid_scope", str(exc)) from exc
    return " ".join(s for s in wanted.raw if covers(allowed, s))


class ClientAuthenticator:
    """Authenticates the calling client of an OAuth endpoint."""

    def __init__(self, store: AuthStore, token_url: str, http: httpx.AsyncClient | None) -> None:
        self._store = store
        self._token_url = token_url
        self._http = http
        self._jwks_cache: dict[str, tuple[float, KeySet]] = {}

    async def authenticate(self, form: dict[str, str], authorization: str | None) -> ClientAuth:
        """The client of a request; raises ``invalid_client`` (401) when it cannot be trusted."""
        basic = authorization is not None and authorization[:6].lower() == "basic "
        if basic:
            assert authorization is not None
            client_id, secret = self._basic(authorization)
            if form.get("client_id") not in (None, client_id):
                raise _invalid("client_id does not match the Basic credentials", True)
            client = await self._known(client_id, basic=True)
            if client.kind != "confidential-symmetric" or not verify_secret(
                secret, client.secret_hash
            ):
                raise _invalid("Client authentication failed", True)
            return ClientAuth(client, "client_secret_basic")
        if "client_assertion" in form or "client_assertion_type" in form:
            if form.get("client_assertion_type") != ASSERTION_TYPE:
                raise _invalid(f"client_assertion_type must be {ASSERTION_TYPE}")
            client = await self.verify_assertion(form.get("client_assertion", ""))
            if form.get("client_id") not in (None, client.client_id):
                raise _invalid("client_id does not match the client assertion")
            return ClientAuth(client, "private_key_jwt")
        client_id = form.get("client_id", "")
        if not client_id:
            raise _invalid("No client authentication")
        client = await self._known(client_id)
        if "client_secret" in form:
            if client.kind != "confidential-symmetric" or not verify_secret(
                form["client_secret"], client.secret_hash
            ):
                raise _invalid("Client authentication failed")
            return ClientAuth(client, "client_secret_post")
        if client.kind != "public":
            raise _invalid("This client must authenticate")
        return ClientAuth(client, "none")

    async def _known(self, client_id: str, basic: bool = False) -> Client:
        client = await self._store.get_client(client_id)
        if client is None:
            raise _invalid("Unknown client", basic)
        if not client.enabled:
            raise _invalid("The client is not enabled (waiting for approval or disabled)", basic)
        return client

    @staticmethod
    def _basic(authorization: str) -> tuple[str, str]:
        """RFC 6749 section 2.3.1: form-urlencoded id and secret inside Basic credentials."""
        try:
            raw = base64.b64decode(authorization[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise _invalid("Malformed Basic credentials", True) from exc
        client_id, sep, secret = raw.partition(":")
        if not sep:
            raise _invalid("Malformed Basic credentials", True)
        return unquote(client_id.replace("+", " ")), unquote(secret.replace("+", " "))

    async def verify_assertion(self, assertion: str) -> Client:
        """The client that signed ``assertion`` (RFC 7523 section 3; SMART backend services)."""
        try:
            header = jws.extract_compact(assertion.encode()).protected
            unverified = jws.extract_compact(assertion.encode()).payload
        except (JoseError, ValueError) as exc:
            raise _invalid("The client assertion is not a JWT") from exc
        if header.get("alg") not in _ASSERTION_ALGS:
            raise _invalid("The client assertion must be signed with RS384 or ES384")
        try:
            peek: Any = json.loads(unverified)
        except ValueError as exc:
            raise _invalid("The client assertion payload is not JSON") from exc
        if not isinstance(peek, dict) or not isinstance(peek.get("iss"), str):
            raise _invalid("The client assertion has no iss")
        client = await self._known(peek["iss"])
        if client.kind != "confidential-asymmetric":
            raise _invalid("This client does not authenticate with a client assertion")
        keys = await self._client_keys(client)
        try:
            token = jwt.decode(assertion, keys, algorithms=list(_ASSERTION_ALGS))
        except (JoseError, ValueError) as exc:
            raise _invalid("The client assertion signature does not verify") from exc
        await self._check_claims(client, dict(token.claims))
        return client

    async def _check_claims(self, client: Client, claims: dict[str, Any]) -> None:
        now = int(time.time())
        if claims.get("iss") != client.client_id or claims.get("sub") != client.client_id:
            raise _invalid("The client assertion iss and sub must be the client id")
        aud = claims.get("aud")
        auds = aud if isinstance(aud, list) else [aud]
        if self._token_url not in auds:
            raise _invalid("The client assertion aud must be the token URL")
        exp = claims.get("exp")
        if not isinstance(exp, int | float) or isinstance(exp, bool):
            raise _invalid("The client assertion has no exp")
        if exp <= now:
            raise _invalid("The client assertion has expired")
        if exp > now + _MAX_ASSERTION_SECONDS:
            raise _invalid("The client assertion exp is more than 5 minutes ahead")
        jti = claims.get("jti")
        if not isinstance(jti, str) or not jti:
            raise _invalid("The client assertion has no jti")
        if not await self._store.use_jti(f"{client.client_id}:{jti}", int(exp)):
            raise _invalid("The client assertion jti was already used")

    async def _client_keys(self, client: Client) -> KeySet:
        try:
            if client.jwks is not None:
                return KeySet.import_key_set(client.jwks)  # type: ignore[arg-type]
            if client.jwks_uri:
                return await self._fetch_jwks(client.jwks_uri)
        except (JoseError, ValueError, TypeError, KeyError) as exc:
            raise _invalid("The client's registered keys are not a usable JWK Set") from exc
        raise _invalid("The client has no registered keys")

    async def _fetch_jwks(self, uri: str) -> KeySet:
        cached = self._jwks_cache.get(uri)
        if cached and cached[0] > time.monotonic():
            return cached[1]
        try:
            if self._http is not None:
                response = await self._http.get(uri, timeout=5.0)
            else:
                async with httpx.AsyncClient() as http:
                    response = await http.get(uri, timeout=5.0)
            response.raise_for_status()
            keys = KeySet.import_key_set(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            raise _invalid("The client's jwks_uri could not be read") from exc
        self._jwks_cache[uri] = (time.monotonic() + _JWKS_CACHE_SECONDS, keys)
        return keys
