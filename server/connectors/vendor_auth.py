"""How REST connectors prove who they are (CLEARINGHOUSES.md sections 2 and 6).

- Optum / Change Healthcare: OAuth2 client credentials. ``POST {token_url}`` with the JSON body
  ``{client_id, client_secret, grant_type: "client_credentials"}`` answers
  ``{access_token, token_type: "bearer", expires_in: 3600}``. The token is cached per credential
  (token URL + client id + secret), shared by every connector using that credential, refreshed
  early (when 80 % of its lifetime has passed or less than 60 s are left, whichever comes
  first), by one request at a time however many calls wait for it (single flight). A 401 from
  an API makes the caller drop that token and get a new one, once.
- Stedi: ``Authorization: <api key>``; keys do not expire, so a 401 is final.

Secrets stay in ``SecretStr`` until the moment a header or body is built; nothing here logs
them (only the client id and the token lifetime).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import httpx
from pydantic import SecretStr

from server.connectors.throttle import retry_after_seconds
from server.errors import ConnectorDownError, ConnectorRejectedError

__all__ = ["ApiKeyAuth", "OAuthClientCredentials", "TokenCache", "VendorAuth"]

log = logging.getLogger(__name__)

#: Refresh when less than this is left (section 6).
EARLY_SECONDS = 60.0
#: ... or when this share of the lifetime has passed.
EARLY_SHARE = 0.8


class VendorAuth(Protocol):
    """Headers that authenticate a vendor call, and what to do when the vendor says 401."""

    async def headers(self, client: httpx.AsyncClient) -> dict[str, str]: ...

    async def renew(self, client: httpx.AsyncClient, rejected: dict[str, str]) -> bool:
        """The vendor refused ``rejected`` (the headers sent): True when new ones may work."""
        ...


class ApiKeyAuth:
    """Stedi: the API key itself is the ``Authorization`` header (no ``Bearer``)."""

    def __init__(self, api_key: SecretStr) -> None:
        self._key = api_key

    async def headers(self, client: httpx.AsyncClient) -> dict[str, str]:
        return {"Authorization": self._key.get_secret_value()}

    async def renew(self, client: httpx.AsyncClient, rejected: dict[str, str]) -> bool:
        return False


@dataclass
class _Token:
    value: str
    refresh_at: float


class OAuthClientCredentials:
    """One OAuth2 client-credentials grant and its cached bearer token."""

    def __init__(self, token_url: str, client_id: str, secret: SecretStr, timeout: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.token_url = token_url
        self.client_id = client_id
        self._secret = secret
        self._timeout = timeout
        self._clock = clock
        self._token: _Token | None = None
        self._lock = asyncio.Lock()

    def _fresh(self) -> str | None:
        token = self._token
        if token is not None and self._clock() < token.refresh_at:
            return token.value
        return None

    async def headers(self, client: httpx.AsyncClient) -> dict[str, str]:
        value = self._fresh()
        if value is None:
            async with self._lock:  # single flight: the others wait for this one's token
                value = self._fresh() or await self._fetch(client)
        return {"Authorization": f"Bearer {value}"}

    async def renew(self, client: httpx.AsyncClient, rejected: dict[str, str]) -> bool:
        async with self._lock:
            current = self._token
            if current is not None and rejected.get("Authorization") == f"Bearer {current.value}":
                self._token = None  # the vendor no longer takes it; others fetched a new one
        return True

    async def _fetch(self, client: httpx.AsyncClient) -> str:
        body = {"client_id": self.client_id, "client_secret": self._secret.get_secret_value(),
                "grant_type": "client_credentials"}
        started = self._clock()
        try:
            response = await client.post(self.token_url, json=body, timeout=self._timeout)
        except httpx.HTTPError as error:
            raise ConnectorDownError(f"The token endpoint could not be reached "
                                     f"({type(error).__name__})") from None
        if response.status_code in (429, 503) or response.status_code >= 500:
            raise ConnectorDownError(
                f"The token endpoint answered {response.status_code}",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")))
        if response.status_code != 200:
            raise ConnectorRejectedError(f"The clearinghouse refused the client credentials of "
                                         f"{self.client_id} ({response.status_code})")
        try:
            data = response.json()
            value = str(data["access_token"])
            lifetime = float(data.get("expires_in") or 3600)
        except (ValueError, KeyError, TypeError):
            raise ConnectorDownError("The token endpoint answered without a token") from None
        early = min(lifetime * EARLY_SHARE, lifetime - EARLY_SECONDS)
        self._token = _Token(value, started + max(early, lifetime / 2))
        log.info("token for client %s obtained, valid %.0f s", self.client_id, lifetime)
        return value


class TokenCache:
    """One :class:`OAuthClientCredentials` per credential, shared by the connectors using it."""

    def __init__(self) -> None:
        self._grants: dict[tuple[str, str, str], OAuthClientCredentials] = {}

    def grant(self, token_url: str, client_id: str, secret: SecretStr,
              timeout: float) -> OAuthClientCredentials:
        digest = hashlib.sha256(secret.get_secret_value().encode()).hexdigest()
        key = (token_url, client_id, digest)
        found = self._grants.get(key)
        if found is None:
            found = self._grants[key] = OAuthClientCredentials(token_url, client_id, secret,
                                                               timeout)
        return found
