"""Access and id tokens: JWTs signed by the facade's current key.

Access tokens (RFC 9068 shaped): header ``kid``; claims ``iss`` = ``aud`` = the FHIR base,
``sub``, ``client_id``, ``scope``, ``jti``, ``iat``, ``exp`` and, when a launch bound them,
``patient``, ``encounter`` and ``fhirUser``. Id tokens (OpenID Connect Core 1.0 section 2,
SMART App Launch scopes-and-launch-context.html#scopes-for-requesting-identity-data): RS256,
``iss`` = FHIR base, ``aud`` = client id, ``sub``, ``fhirUser`` as an absolute URL, ``nonce``.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwt import JWTClaimsRegistry

from server.security.keys import KeyRing

__all__ = ["Grant", "TokenError", "TokenIssuer", "absolute_fhir_user"]


class TokenError(ValueError):
    """A token that is not one of ours or no longer valid."""


@dataclass(frozen=True, slots=True)
class Grant:
    """What one issued token says: the client, the user and the context it acts in."""

    client_id: str
    scope: str
    subject: str
    fhir_user: str | None = None
    patient: str | None = None
    encounter: str | None = None


def absolute_fhir_user(fhir_base: str, fhir_user: str | None) -> str | None:
    """``Practitioner/1`` -> ``{fhir_base}/Practitioner/1``; absolute URLs stay as they are."""
    if not fhir_user:
        return None
    if "://" in fhir_user:
        return fhir_user
    return f"{fhir_base}/{fhir_user}"


class TokenIssuer:
    """Mints and verifies the facade's tokens."""

    def __init__(self, keys: KeyRing, fhir_base: str, access_ttl: int, alg: str) -> None:
        self._keys = keys
        self.fhir_base = fhir_base
        self.access_ttl = access_ttl
        self._alg = alg
        self._registry = JWTClaimsRegistry(
            leeway=0,
            iss={"essential": True, "value": fhir_base},
            exp={"essential": True},
            jti={"essential": True},
        )

    def access_token(
        self, grant: Grant, now: int | None = None, ttl: int | None = None
    ) -> tuple[str, dict[str, Any]]:
        """A signed access token for ``grant`` and its claims."""
        now = int(time.time()) if now is None else now
        claims: dict[str, Any] = {
            "iss": self.fhir_base,
            "aud": self.fhir_base,
            "sub": grant.subject,
            "client_id": grant.client_id,
            "scope": grant.scope,
            "jti": uuid.uuid4().hex,
            "iat": now,
            "exp": now + (self.access_ttl if ttl is None else ttl),
        }
        if grant.patient:
            claims["patient"] = grant.patient
        if grant.encounter:
            claims["encounter"] = grant.encounter
        if grant.fhir_user:
            claims["fhirUser"] = absolute_fhir_user(self.fhir_base, grant.fhir_user)
        kid, key = self._keys.signing_key(self._alg)
        header = {"alg": self._alg, "kid": kid, "typ": "at+jwt"}
        return jwt.encode(header, claims, key, algorithms=[self._alg]), claims

    def id_token(self, grant: Grant, nonce: str | None, now: int | None = None) -> str:
        """An OpenID Connect id token (RS256) for ``grant``."""
        now = int(time.time()) if now is None else now
        claims: dict[str, Any] = {
            "iss": self.fhir_base,
            "aud": grant.client_id,
            "sub": grant.subject,
            "iat": now,
            "exp": now + self.access_ttl,
        }
        fhir_user = absolute_fhir_user(self.fhir_base, grant.fhir_user)
        if fhir_user:
            claims["fhirUser"] = fhir_user
        if nonce:
            claims["nonce"] = nonce
        kid, key = self._keys.signing_key("RS256")
        header = {"alg": "RS256", "kid": kid, "typ": "JWT"}
        return str(jwt.encode(header, claims, key, algorithms=["RS256"]))

    def verify(self, token: str) -> dict[str, Any]:
        """The claims of one of our access tokens; raises :class:`TokenError`.

        Checks the signature with our key named by ``kid``, ``iss``, ``aud`` == FHIR base and
        ``exp`` (RFC 9068 section 4)."""
        try:
            header = jws.extract_compact(token.encode()).protected
        except (JoseError, ValueError) as exc:
            raise TokenError("The token is not a JWT") from exc
        kid = header.get("kid")
        alg = header.get("alg")
        if not isinstance(kid, str) or not self._keys.has_kid(kid) or alg not in ("RS384", "ES384"):
            raise TokenError("The token was not signed by this server")
        try:
            decoded = jwt.decode(token, self._keys.public_keys, algorithms=[str(alg)])
            self._registry.validate(decoded.claims)
        except (JoseError, ValueError) as exc:
            raise TokenError(f"The token is not valid: {exc}") from exc
        claims = dict(decoded.claims)
        aud = claims.get("aud")
        if aud != self.fhir_base and not (isinstance(aud, list) and self.fhir_base in aud):
            raise TokenError("The token is not meant for this server")
        return claims
