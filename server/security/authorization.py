"""The SMART authorization server: keys, token issuance, bearer-token checks, revocation.

``AuthServer(settings, store)`` is built in the app lifespan and kept at ``app.state.auth``;
the HTTP endpoints are in ``server/security/oauth_routes.py`` (mounted by
:func:`install_oauth_routes`), the grant types in ``server/security/grants.py``.

:meth:`AuthServer.authenticate` is on every FHIR request's path: a verified token is cached
until its ``exp`` so a repeated token costs a dict lookup; revocation (RFC 7009) is still
honoured because revoked ``jti`` values are checked on every call and reloaded from the store
every few seconds (other processes may revoke).
"""

from __future__ import annotations

import dataclasses
import time
from typing import Any

import httpx
from fastapi import FastAPI

from server.errors import AuthenticationError
from server.security.access import Access
from server.security.auth_store import AuthStore, Client, RefreshGrant, User
from server.security.clients import ClientAuthenticator
from server.security.keys import KeyRing
from server.security.passwords import digest, hash_secret, new_secret
from server.security.scopes import parse_scopes
from server.security.tokens import Grant, TokenError, TokenIssuer
from server.settings import Settings

__all__ = ["AuthServer", "install_oauth_routes"]

_REVOCATION_SYNC_SECONDS = 2.0
_CACHE_LIMIT = 10_000


class AuthServer:
    """The facade's OAuth 2 / SMART authorization server."""

    def __init__(
        self, settings: Settings, store: AuthStore, http: httpx.AsyncClient | None = None
    ) -> None:
        self.settings = settings
        self.store = store
        self.fhir_base = settings.fhir_base
        self.token_url = f"{settings.base_url}/auth/token"
        cfg = settings.auth
        self.keys = KeyRing(store, cfg.key_rotation_days, max(cfg.access_token_ttl, 3600))
        self.tokens = TokenIssuer(
            self.keys, self.fhir_base, cfg.access_token_ttl, cfg.access_token_alg
        )
        self.clients = ClientAuthenticator(store, self.token_url, http)
        self.session_key = b""
        self._cache: dict[str, tuple[int, Access]] = {}
        self._revoked: dict[str, int] = {}
        self._revoked_synced = 0.0

    async def open(self) -> None:
        """Open the store, load (or create, or rotate) the keys, seed the demo user/client."""
        await self.store.open()
        await self.store.purge_expired(int(time.time()))
        await self.keys.load()
        self.session_key = await self.store.secret("session")
        await self._seed()
        await self._sync_revoked(force=True)

    async def close(self) -> None:
        await self.store.close()

    async def _seed(self) -> None:
        cfg = self.settings.auth
        if cfg.demo_username and cfg.demo_password:
            await self.store.put_user(
                User(
                    username=cfg.demo_username,
                    password_hash=hash_secret(cfg.demo_password),
                    fhir_user=cfg.demo_fhir_user or None,
                )
            )
        if cfg.demo_client_id and await self.store.get_client(cfg.demo_client_id) is None:
            await self.store.put_client(
                Client(
                    client_id=cfg.demo_client_id,
                    name="Demo app",
                    kind="public",
                    redirect_uris=(cfg.demo_redirect_uri,) if cfg.demo_redirect_uri else (),
                    scope=cfg.demo_client_scope,
                    created_at=int(time.time()),
                )
            )

    # --- bearer tokens on FHIR requests (RFC 6750) ---

    async def authenticate(self, authorization: str | None, source_ip: str | None) -> Access:
        """The Access of the request's ``Authorization: Bearer`` token.

        Raises :class:`AuthenticationError` (401, RFC 6750 section 3) when there is no token or
        it is malformed, forged, expired, for another audience or revoked."""
        if not authorization:
            raise AuthenticationError("No access token", error="")
        scheme, _, token = authorization.partition(" ")
        token = token.strip()
        if scheme.lower() != "bearer" or not token:
            raise AuthenticationError("The Authorization header is not a Bearer token")
        now = int(time.time())
        await self._sync_revoked()
        cached = self._cache.get(token)
        if cached is not None:
            exp, access = cached
            if exp <= now:
                del self._cache[token]
                raise AuthenticationError("The access token has expired")
        else:
            claims = await self.verify_access_token(token)
            access = self._access(claims)
            exp = int(claims["exp"])
            if len(self._cache) >= _CACHE_LIMIT:
                self._cache = {k: v for k, v in self._cache.items() if v[0] > now}
            self._cache[token] = (exp, access)
        if access.token_id in self._revoked:
            raise AuthenticationError("The access token has been revoked")
        return dataclasses.replace(access, source_ip=source_ip)

    async def verify_access_token(self, token: str) -> dict[str, Any]:
        """The claims of one of our valid access tokens; raises AuthenticationError."""
        try:
            return self.tokens.verify(token)
        except TokenError as first:
            # A kid we do not know may come from a key another process just created.
            await self.keys.load()
            try:
                return self.tokens.verify(token)
            except TokenError:
                raise AuthenticationError(str(first)) from first

    def _access(self, claims: dict[str, Any]) -> Access:
        fhir_user = claims.get("fhirUser")
        if isinstance(fhir_user, str) and fhir_user.startswith(self.fhir_base + "/"):
            fhir_user = fhir_user[len(self.fhir_base) + 1 :]
        return Access(
            scopes=parse_scopes(str(claims.get("scope", ""))),
            client_id=claims.get("client_id"),
            subject=claims.get("sub"),
            fhir_user=fhir_user,
            patient=claims.get("patient"),
            encounter=claims.get("encounter"),
            token_id=claims.get("jti"),
        )

    async def _sync_revoked(self, force: bool = False) -> None:
        now = time.monotonic()
        if force or now - self._revoked_synced >= _REVOCATION_SYNC_SECONDS:
            self._revoked = await self.store.revoked_jtis()
            self._revoked_synced = now

    # --- issuing ---

    async def issue_tokens(
        self,
        grant: Grant,
        *,
        refresh: bool,
        family_id: str | None = None,
        id_token_nonce: str | None = None,
        want_id_token: bool = False,
    ) -> dict[str, Any]:
        """The token response (RFC 6749 section 5.1) for ``grant``: the access token, and a
        rotated refresh token and an id token when asked for."""
        await self.keys.refresh_if_due()
        now = int(time.time())
        token, claims = self.tokens.access_token(grant, now)
        body: dict[str, Any] = {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": claims["exp"] - now,
            "scope": grant.scope,
        }
        if refresh:
            family = family_id or new_secret(16)
            refresh_token = new_secret(32)
            await self.store.save_refresh(
                RefreshGrant(
                    token_hash=digest(refresh_token),
                    family_id=family,
                    client_id=grant.client_id,
                    scope=grant.scope,
                    subject=grant.subject,
                    expires_at=now + self.settings.auth.refresh_token_ttl,
                    fhir_user=grant.fhir_user,
                    patient=grant.patient,
                    encounter=grant.encounter,
                    created_at=now,
                )
            )
            await self.store.link_access(claims["jti"], family, claims["exp"])
            body["refresh_token"] = refresh_token
        if want_id_token:
            body["id_token"] = self.tokens.id_token(grant, id_token_nonce, now)
        if grant.patient:
            body["patient"] = grant.patient
        if grant.encounter:
            body["encounter"] = grant.encounter
        return body

    async def mint_for_client(
        self, client: Client, scope: str, patient: str | None = None
    ) -> dict[str, Any]:
        """An access token for a local client without a flow (``facade clients token``)."""
        grant = Grant(
            client_id=client.client_id, scope=scope, subject=client.client_id, patient=patient
        )
        return await self.issue_tokens(grant, refresh=False)

    # --- revocation and introspection (RFC 7009, RFC 7662) ---

    async def revoke(self, token: str, client: Client | None) -> None:
        """Revoke a refresh token (its whole grant) or an access token (by jti). Unknown
        tokens and tokens of other clients are ignored (RFC 7009 section 2.2)."""
        grant = await self.store.get_refresh(digest(token))
        if grant is not None:
            if client is None or grant.client_id == client.client_id:
                await self.revoke_family(grant.family_id)
            return
        try:
            claims = self.tokens.verify(token)
        except TokenError:
            return
        if client is None or claims.get("client_id") == client.client_id:
            await self.store.revoke_jti(str(claims["jti"]), int(claims["exp"]))
            await self._sync_revoked(force=True)

    async def revoke_family(self, family_id: str) -> None:
        """Revoke a whole grant: its refresh tokens and the access tokens issued from them."""
        await self.store.revoke_family(family_id)
        await self._sync_revoked(force=True)

    async def introspect(self, token: str) -> dict[str, Any]:
        """RFC 7662 section 2.2: ``{"active": false}`` for anything not currently valid."""
        try:
            access = await self.authenticate(f"Bearer {token}", None)
        except AuthenticationError:
            access = None
        if access is not None:
            claims = self.tokens.verify(token)
            body: dict[str, Any] = {"active": True, "token_type": "Bearer"}
            for name in (
                "scope",
                "client_id",
                "sub",
                "exp",
                "iat",
                "iss",
                "aud",
                "jti",
                "patient",
                "encounter",
                "fhirUser",
            ):
                if name in claims:
                    body[name] = claims[name]
            return body
        grant = await self.store.get_refresh(digest(token))
        if grant is None or grant.revoked or grant.expires_at <= time.time():
            return {"active": False}
        body = {
            "active": True,
            "token_type": "refresh_token",
            "scope": grant.scope,
            "client_id": grant.client_id,
            "sub": grant.subject,
            "exp": grant.expires_at,
            "iss": self.fhir_base,
        }
        if grant.patient:
            body["patient"] = grant.patient
        return body


def install_oauth_routes(app: FastAPI) -> None:
    """Mount ``/auth/*``, the JWKS and the discovery documents on ``app``; the AuthServer is
    expected at ``app.state.auth`` by the time requests arrive."""
    from server.security.oauth_routes import install

    install(app)
