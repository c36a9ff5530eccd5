"""Salted password and client-secret hashes, and digests of bearer secrets.

Passwords and ``client_secret`` values are hashed with scrypt (RFC 7914) and a random salt, in
the form ``scrypt$n$r$p$salt$hash`` (base64url). Codes and refresh tokens are random 256-bit
values (RFC 6749 section 10.10) stored as SHA-256 digests; they need no salt.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

__all__ = ["digest", "hash_secret", "new_secret", "verify_secret"]

_N, _R, _P = 2**14, 8, 1


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def new_secret(nbytes: int = 32) -> str:
    """A random URL-safe secret (codes, refresh tokens, client secrets, launch ids)."""
    return secrets.token_urlsafe(nbytes)


def digest(value: str) -> str:
    """The SHA-256 digest under which a bearer secret is stored."""
    return hashlib.sha256(value.encode()).hexdigest()


def hash_secret(secret: str) -> str:
    """A salted scrypt hash of ``secret``."""
    salt = secrets.token_bytes(16)
    key = hashlib.scrypt(secret.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(key)}"


def verify_secret(secret: str, hashed: str | None) -> bool:
    """Whether ``secret`` matches ``hashed`` (constant-time comparison)."""
    if not hashed:
        return False
    try:
        scheme, n, r, p, salt, key = hashed.split("$")
        if scheme != "scrypt":
            return False
        got = hashlib.scrypt(
            secret.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), dklen=32
        )
    except (ValueError, MemoryError):
        return False
    return hmac.compare_digest(got, _unb64(key))
