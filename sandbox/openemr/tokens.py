"""Token minting the OpenEMR way (OPENEMR.md section 6, "Token item"; checklist items 10, 14).

- Access tokens: RS256 JWTs with header ``{"typ": "JWT", "alg": "RS256"}`` (**no ``kid``**),
  claims ``aud`` = client id, ``jti``, ``iat``/``nbf``/``exp`` as float seconds, ``sub`` = user
  uuid, ``scopes`` = array; **no ``iss``** and no launch context.
- id_tokens (OIDC Core section 2): RS256, ``iss`` = the OAuth base (not the FHIR base the
  smart-configuration calls the issuer), ``aud`` = client id, ``fhirUser`` as an absolute URL.
- ``/jwk``: one RSA key, ``use: sig``, no ``kid`` and no ``alg``.
The key pair is generated when the stand-in starts and lives in memory only.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import RSAKey

__all__ = ["TokenSigner"]

_HEADER = {"typ": "JWT", "alg": "RS256"}


class TokenSigner:
    """The stand-in's single RSA key and the tokens it signs."""

    def __init__(self) -> None:
        self._key = RSAKey.generate_key(2048)

    def jwks(self) -> dict[str, Any]:
        public = self._key.as_dict(private=False)
        return {"keys": [{"kty": "RSA", "n": public["n"], "e": public["e"], "use": "sig"}]}

    def access_token(
        self, *, client_id: str, subject: str, scopes: list[str], lifetime: int
    ) -> tuple[str, str, float]:
        """(token, jti, exp) for a new access token."""
        now = time.time()
        jti = secrets.token_hex(40)
        exp = now + lifetime
        claims: dict[str, Any] = {
            "aud": client_id,
            "jti": jti,
            "iat": now,
            "nbf": now,
            "exp": exp,
            "sub": subject,
            "scopes": scopes,
        }
        return jwt.encode(_HEADER, claims, self._key), jti, exp

    def id_token(
        self,
        *,
        issuer: str,
        client_id: str,
        subject: str,
        fhir_user: str | None,
        nonce: str | None,
        lifetime: int = 3600,
    ) -> str:
        now = time.time()
        claims: dict[str, Any] = {
            "iss": issuer,
            "aud": client_id,
            "iat": now,
            "exp": now + lifetime,
            "sub": subject,
            "auth_time": int(now),
        }
        if fhir_user:
            claims["fhirUser"] = fhir_user
        if nonce:
            claims["nonce"] = nonce
        token: str = jwt.encode(_HEADER, claims, self._key)
        return token

    def verify(self, token: str) -> dict[str, Any] | None:
        """The claims of a token this key signed and that has not expired, else None."""
        try:
            decoded = jwt.decode(token, self._key, algorithms=["RS256"])
        except (JoseError, ValueError):
            return None
        claims = dict(decoded.claims)
        exp = claims.get("exp")
        if not isinstance(exp, (int, float)) or exp < time.time():
            return None
        return claims
