"""The facade's token-signing keys: generation, rotation and the published JWKS.

Two key families are kept: RSA 2048 (RS384 access tokens, RS256 OpenID Connect id tokens, as
OpenID Connect Core 1.0 section 15.1 requires RS256 support) and EC P-384 (ES384). Keys are
generated at first start and stored only in the auth store; each ``kid`` is the RFC 7638 JWK
thumbprint. After ``key_rotation_days`` a family gets a new key; the old public key stays in
the JWKS (RFC 7517 section 5) until every token it signed has expired.
"""

from __future__ import annotations

import time
from typing import Any, TypeAlias

from joserfc.jwk import ECKey, KeySet, RSAKey

from server.security.auth_store import AuthStore, SigningKey

__all__ = ["KeyRing", "SIGNING_ALGS"]

#: Algorithm -> key family.
SIGNING_ALGS: dict[str, str] = {"RS384": "RSA", "RS256": "RSA", "ES384": "EC"}

PrivateKey: TypeAlias = RSAKey | ECKey


def _generate(family: str, now: int) -> SigningKey:
    key: PrivateKey
    if family == "RSA":
        key = RSAKey.generate_key(2048, private=True)
        alg = "RS384"
    else:
        key = ECKey.generate_key("P-384", private=True)
        alg = "ES384"
    kid = key.thumbprint()
    public = {**key.as_dict(private=False), "kid": kid, "use": "sig"}
    pem = key.as_pem(private=True).decode()
    return SigningKey(kid=kid, alg=alg, private_pem=pem, public_jwk=public, created_at=now)


def _family(key: SigningKey) -> str:
    return "EC" if key.alg.startswith("ES") else "RSA"


class KeyRing:
    """The current signing key of each family plus every still-published public key."""

    def __init__(self, store: AuthStore, rotation_days: int, max_token_seconds: int) -> None:
        self._store = store
        self._rotation = rotation_days * 86_400
        self._linger = max_token_seconds
        self._keys: list[SigningKey] = []
        self._private: dict[str, PrivateKey] = {}
        self._public = KeySet([])
        self._next_check = 0

    async def load(self, now: int | None = None) -> None:
        """Read the keys, rotate the stale ones, drop the expired ones (at most once a minute
        unless forced by ``now``)."""
        now = int(time.time()) if now is None else now
        keys = await self._store.list_keys()
        changed = False
        for key in keys:
            if key.publish_until is not None and key.publish_until < now:
                await self._store.delete_key(key.kid)
                changed = True
        keys = [k for k in keys if k.publish_until is None or k.publish_until >= now]
        for family in ("RSA", "EC"):
            current = [k for k in keys if _family(k) == family and k.retired_at is None]
            for old in current:
                if old.created_at + self._rotation <= now:
                    retired = SigningKey(
                        kid=old.kid,
                        alg=old.alg,
                        private_pem=old.private_pem,
                        public_jwk=old.public_jwk,
                        created_at=old.created_at,
                        retired_at=now,
                        publish_until=now + self._linger,
                    )
                    await self._store.put_key(retired)
                    changed = True
            if not current or all(k.created_at + self._rotation <= now for k in current):
                await self._store.put_key(_generate(family, now))
                changed = True
        if changed:
            keys = await self._store.list_keys()
        self._install(keys)
        self._next_check = now + 60

    def _install(self, keys: list[SigningKey]) -> None:
        self._keys = sorted(keys, key=lambda k: k.created_at)
        private: dict[str, PrivateKey] = {}
        for k in self._keys:
            if _family(k) == "RSA":
                private[k.kid] = RSAKey.import_key(k.private_pem)
            else:
                private[k.kid] = ECKey.import_key(k.private_pem)
        self._private = private
        self._public = KeySet.import_key_set({"keys": [k.public_jwk for k in self._keys]})

    async def refresh_if_due(self) -> None:
        """Rotation check, cheap when not due."""
        if int(time.time()) >= self._next_check:
            await self.load()

    def signing_key(self, alg: str) -> tuple[str, PrivateKey]:
        """``(kid, key)`` of the newest current key for ``alg``."""
        family = SIGNING_ALGS[alg]
        for k in reversed(self._keys):
            if _family(k) == family and k.retired_at is None:
                return k.kid, self._private[k.kid]
        raise LookupError(f"No current {family} key")

    def has_kid(self, kid: str) -> bool:
        return kid in self._private

    @property
    def public_keys(self) -> KeySet:
        return self._public

    def jwks(self) -> dict[str, Any]:
        """The published JWK Set (RFC 7517 section 5): public parts only."""
        return {"keys": [dict(k.public_jwk) for k in self._keys]}
