"""The facade as a confidential OAuth client of OpenEMR (OPENEMR.md sections 6, 7, 11): the
authorization URL of the EHR-launch relay, the code exchange and the id_token check.

- Authorization request (RFC 6749 section 4.1.1, RFC 7636 section 4.3, SMART app-launch.html
  "EHR launch"): ``scope`` = ``openid fhirUser launch`` + ``FACADE_OPENEMR__SCOPES`` (never
  ``launch/encounter``, which OpenEMR refuses), ``aud`` = the OpenEMR FHIR base, the OpenEMR
  ``launch`` value, PKCE S256, ``state`` and ``nonce``.
- Code exchange (RFC 6749 section 4.1.3) with ``client_secret_post`` (RFC 6749 section 2.3.1).
- id_token (OpenID Connect Core 1.0 section 3.1.3.7): RS256 signature against OpenEMR's
  ``/jwk`` (one key without ``kid``; refetched once when the signature fails, for rotation),
  ``aud`` = our client id, ``exp`` not past, ``iat`` not in the future, ``nonce`` echoed when
  present, ``iss`` (OpenEMR sends its OAuth base) checked when present. OpenEMR writes ``iat``
  and ``exp`` as float seconds: accepted.
"""

from __future__ import annotations

import base64
import hashlib
import re
import time
from typing import Any
from urllib.parse import urlencode

import httpx
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from server.settings import Settings

__all__ = ["OpenEmrClient", "RelayError", "relative_fhir_user", "s256"]

_LEEWAY = 60
_REFERENCE_TAIL = re.compile(r"(?:^|/)([A-Z][A-Za-z]{1,63}/[A-Za-z0-9\-.]{1,64})$")


class RelayError(Exception):
    """A launch that cannot go on: rendered as a plain 400 (502 when OpenEMR is unreachable)
    page or JSON with ``message``; never an OperationOutcome, never a redirect."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def s256(verifier: str) -> str:
    """The PKCE S256 challenge of ``verifier`` (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def relative_fhir_user(fhir_base: str, value: object) -> str | None:
    """``Practitioner/123`` from OpenEMR's absolute ``fhirUser`` URL (None if unusable)."""
    if not isinstance(value, str) or not value:
        return None
    if value.startswith(fhir_base + "/"):
        value = value[len(fhir_base) + 1 :]
    found = _REFERENCE_TAIL.search(value)
    return found.group(1) if found else None


class OpenEmrClient:
    """Talks to one OpenEMR as the facade's confidential client.

    ``transport``: where the HTTP calls go (None = the network; tests mount the stand-in)."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self.config = settings.openemr
        self.transport = transport
        self.redirect_uri = f"{settings.base_url}/smart/callback"
        self._keys: KeySet | None = None

    @property
    def origin(self) -> str:
        """OpenEMR's web origin (for ``frame-ancestors``)."""
        scheme, _, rest = self.config.base_url.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"

    def scope(self) -> str:
        wanted = ["openid", "fhirUser", "launch", *self.config.scopes.split()]
        return " ".join(dict.fromkeys(s for s in wanted if s != "launch/encounter"))

    def authorize_url(self, *, launch: str, state: str, nonce: str, verifier: str) -> str:
        query = urlencode({
            "response_type": "code",
            "client_id": self.config.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": self.scope(),
            "state": state,
            "nonce": nonce,
            "aud": self.config.fhir_base,
            "launch": launch,
            "code_challenge": s256(verifier),
            "code_challenge_method": "S256",
        })
        return f"{self.config.oauth_base}/authorize?{query}"

    def _http(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=self.transport, timeout=self.config.http_timeout)

    async def exchange(self, code: str, verifier: str) -> dict[str, Any]:
        """OpenEMR's token response for ``code``; raises :class:`RelayError`."""
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "client_id": self.config.client_id,
            "client_secret": self.config.client_secret,
            "code_verifier": verifier,
        }
        try:
            async with self._http() as http:
                response = await http.post(f"{self.config.oauth_base}/token", data=form)
        except httpx.HTTPError:
            raise RelayError("OpenEMR could not be reached to finish the launch.", 502) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise RelayError("OpenEMR answered the token request with something unreadable.")
        if response.status_code != 200:
            error = body.get("error", "error")
            raise RelayError(f"OpenEMR refused the authorization code ({error}).")
        return body

    async def _key_set(self, refresh: bool) -> KeySet:
        if self._keys is not None and not refresh:
            return self._keys
        try:
            async with self._http() as http:
                response = await http.get(f"{self.config.oauth_base}/jwk")
                response.raise_for_status()
                jwks = response.json()
            self._keys = KeySet.import_key_set(jwks)
        except (httpx.HTTPError, ValueError, JoseError, KeyError, TypeError):
            raise RelayError("OpenEMR's signing keys (/jwk) could not be read.", 502) from None
        return self._keys

    async def verify_id_token(self, id_token: str, nonce: str) -> dict[str, Any]:
        """The claims of OpenEMR's id_token after every check; raises :class:`RelayError`."""
        claims: dict[str, Any] | None = None
        for refresh in (False, True):
            keys = await self._key_set(refresh)
            try:
                claims = dict(jwt.decode(id_token, keys, algorithms=["RS256"]).claims)
                break
            except (JoseError, ValueError):
                continue
        if claims is None:
            raise RelayError("OpenEMR's id_token does not carry a valid RS256 signature.")
        aud = claims.get("aud")
        audiences = aud if isinstance(aud, list) else [aud]
        if self.config.client_id not in audiences:
            raise RelayError("OpenEMR's id_token was issued to another client.")
        now = time.time()
        exp, iat = claims.get("exp"), claims.get("iat", now)
        if not isinstance(exp, (int, float)) or exp < now - _LEEWAY:
            raise RelayError("OpenEMR's id_token has expired.")
        if not isinstance(iat, (int, float)) or iat > now + _LEEWAY:
            raise RelayError("OpenEMR's id_token is issued in the future.")
        if "nonce" in claims and claims["nonce"] != nonce:
            raise RelayError("OpenEMR's id_token answers another request (nonce).")
        if "iss" in claims and claims["iss"] != self.config.oauth_base:
            raise RelayError("OpenEMR's id_token comes from another issuer.")
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise RelayError("OpenEMR's id_token names no user (sub).")
        return claims
