"""The port of the authorization server's own state: clients, users, keys, codes and grants.

The SMART authorization server (``server/security/authorization.py``) and the EHR-launch relay
keep everything they remember here: registered clients (RFC 7591), local users, signing keys,
EHR launch contexts (SMART App Launch, app-launch.html#launch-app-ehr-launch), authorization
codes (RFC 6749 section 4.1.2: short-lived, single use), refresh-token grants (RFC 6749
section 6, rotated), revoked access-token ids (RFC 7009) and used client-assertion ``jti`` values
(RFC 7523 section 3, item 7). Secrets are never stored in clear: codes and refresh tokens are
kept as SHA-256 digests, client secrets and passwords as salted scrypt hashes.

The SQLite adapter is ``server/storage/sqlite_auth.py``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

__all__ = [
    "CLIENT_KINDS",
    "AuthCode",
    "AuthStore",
    "Client",
    "LaunchContext",
    "RefreshGrant",
    "SigningKey",
    "User",
]

#: Client kinds (SMART App Launch, client-authentication: public, confidential symmetric,
#: confidential asymmetric).
CLIENT_KINDS = ("public", "confidential-symmetric", "confidential-asymmetric")


@dataclass(frozen=True, slots=True)
class Client:
    """A registered OAuth client (RFC 7591 section 2 metadata, SMART flavoured).

    ``scope``: the registered scopes, the cap of every grant to this client.
    ``launch_uri``: the app's SMART launch URL (RFC 7591 ``initiate_login_uri``).
    ``jwks`` / ``jwks_uri``: the public keys of an asymmetric client (RFC 7591 ``jwks``).
    ``secret_hash``: the hashed ``client_secret`` of a confidential-symmetric client.
    ``enabled``: False until an administrator approves a client asking for user/system scopes.
    """

    client_id: str
    name: str
    kind: str
    redirect_uris: tuple[str, ...] = ()
    scope: str = ""
    launch_uri: str | None = None
    jwks: dict[str, Any] | None = None
    jwks_uri: str | None = None
    enabled: bool = True
    secret_hash: str | None = None
    created_at: int = 0

    @property
    def is_public(self) -> bool:
        return self.kind == "public"


@dataclass(frozen=True, slots=True)
class LaunchContext:
    """What an EHR launch binds: the user and the patient/encounter in context
    (app-launch.html#launch-context-arrives-with-your-access_token).

    ``source``: where the launch came from (the OpenEMR FHIR base ``iss``, or ``facade``).
    """

    client_id: str
    subject: str
    fhir_user: str | None
    patient: str | None
    encounter: str | None
    source: str
    need_patient_banner: bool = False
    intent: str | None = None
    smart_style_url: str | None = None


@dataclass(frozen=True, slots=True)
class AuthCode:
    """An issued authorization code (RFC 6749 section 4.1.2), stored by digest.

    Bound to client, redirect URI and PKCE challenge (RFC 7636 section 4.4)."""

    code_hash: str
    client_id: str
    redirect_uri: str
    scope: str
    subject: str
    expires_at: int
    code_challenge: str | None = None
    fhir_user: str | None = None
    patient: str | None = None
    encounter: str | None = None
    nonce: str | None = None
    need_patient_banner: bool = False
    intent: str | None = None
    smart_style_url: str | None = None


@dataclass(frozen=True, slots=True)
class RefreshGrant:
    """A refresh token (RFC 6749 section 6), stored by digest. Every refresh of a ``family``
    rotates the token; a reused old token revokes the whole family."""

    token_hash: str
    family_id: str
    client_id: str
    scope: str
    subject: str
    expires_at: int
    fhir_user: str | None = None
    patient: str | None = None
    encounter: str | None = None
    revoked: bool = False
    created_at: int = 0


@dataclass(frozen=True, slots=True)
class SigningKey:
    """One of the facade's token-signing keys.

    ``kid`` is the RFC 7638 thumbprint; ``private_pem`` never leaves the store; ``retired_at``
    is when it stopped signing (None while current); ``publish_until`` is when it may leave
    the JWKS (after every token it signed has expired)."""

    kid: str
    alg: str
    private_pem: str
    public_jwk: dict[str, Any]
    created_at: int
    retired_at: int | None = None
    publish_until: int | None = None


@dataclass(frozen=True, slots=True)
class User:
    """A local user who can log in at ``/auth/authorize`` (standalone launch)."""

    username: str
    password_hash: str
    fhir_user: str | None = None
    enabled: bool = True
    extra: dict[str, Any] = field(default_factory=dict)


class AuthStore(Protocol):
    """Persistence of the authorization server. Every method is safe to call concurrently."""

    async def open(self) -> None: ...

    async def close(self) -> None: ...

    # --- clients (RFC 7591) ---
    async def get_client(self, client_id: str) -> Client | None: ...

    async def put_client(self, client: Client) -> None:
        """Insert or replace a client."""
        ...

    async def list_clients(self) -> list[Client]: ...

    # --- EHR launch contexts ---
    async def create_launch(self, ctx: LaunchContext, ttl_seconds: int = 300) -> str:
        """Remember ``ctx`` and return an opaque launch id for the app's ``launch`` param."""
        ...

    async def take_launch(self, launch_id: str) -> LaunchContext | None:
        """The context of ``launch_id`` (None when unknown or expired); single use."""
        ...

    # --- users ---
    async def get_user(self, username: str) -> User | None: ...

    async def put_user(self, user: User) -> None: ...

    # --- keys ---
    async def list_keys(self) -> list[SigningKey]: ...

    async def put_key(self, key: SigningKey) -> None:
        """Insert or replace (by ``kid``) a signing key."""
        ...

    async def delete_key(self, kid: str) -> None: ...

    # --- authorization codes ---
    async def save_code(self, code: AuthCode) -> None: ...

    async def take_code(self, code_hash: str) -> AuthCode | None:
        """The code with this digest, removed at once (single use); None if unknown."""
        ...

    # --- refresh tokens ---
    async def save_refresh(self, grant: RefreshGrant) -> None: ...

    async def get_refresh(self, token_hash: str) -> RefreshGrant | None: ...

    async def revoke_refresh(self, token_hash: str) -> bool:
        """Mark one refresh token revoked; True when it was active before."""
        ...

    async def revoke_family(self, family_id: str) -> None:
        """Revoke every refresh token of the family and every access token linked to it
        (RFC 7009 section 2.1: tokens of the same grant)."""
        ...

    async def link_access(self, jti: str, family_id: str, expires_at: int) -> None:
        """Remember that access token ``jti`` was issued from refresh family ``family_id``."""
        ...

    # --- access-token revocation (by jti) ---
    async def revoke_jti(self, jti: str, expires_at: int) -> None: ...

    async def revoked_jtis(self) -> dict[str, int]:
        """Every revoked, not yet expired access-token jti with its expiry."""
        ...

    # --- client-assertion replay protection (RFC 7523 section 3) ---
    async def use_jti(self, key: str, expires_at: int) -> bool:
        """Record ``key`` as used until ``expires_at``; False if it was already recorded."""
        ...

    async def secret(self, name: str) -> bytes:
        """A random 32-byte server secret (e.g. the session-cookie key), created on first use."""
        ...

    async def purge_expired(self, now: int) -> None:
        """Drop expired launches, codes, refresh tokens, revocations and used jtis."""
        ...
