"""Who is calling the sandbox's REST API (CLEARINGHOUSES.md section 2):

- CHC / Optum: ``POST /apip/auth/v2/token`` with JSON ``{client_id, client_secret,
  grant_type: "client_credentials"}`` -> ``{access_token, token_type: "bearer", expires_in:
  3600}``; errors are RFC 6749 section 5.2 JSON. Calls then carry ``Authorization: Bearer``.
- Stedi: ``Authorization: <api key>`` (legacy ``Key <api key>``); keys never expire.
"""

from __future__ import annotations

import json
import secrets
import threading
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs

from fastapi import Request
from fastapi.responses import JSONResponse

from sandbox.clearinghouse.accounts import Account, AccountBook

__all__ = ["TokenStore", "caller", "chc_token_response", "stedi_error", "unauthorized"]

TOKEN_TTL_SECONDS = 3600


class TokenStore:
    """Bearer tokens issued by the CHC token endpoint, each bound to one account."""

    def __init__(self, ttl_seconds: float = TOKEN_TTL_SECONDS,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[Account, float]] = {}
        self.issued = 0

    def issue(self, account: Account) -> str:
        token = secrets.token_urlsafe(32)
        now = self._clock()
        with self._lock:
            self._tokens = {t: v for t, v in self._tokens.items() if v[1] > now}
            self._tokens[token] = (account, now + self.ttl_seconds)
            self.issued += 1
        return token

    def account(self, token: str) -> Account | None:
        with self._lock:
            found = self._tokens.get(token)
        if found is None or found[1] <= self._clock():
            return None
        return found[0]

    def revoke_all(self) -> None:
        """Forget every token (a test of the connector's refresh on 401)."""
        with self._lock:
            self._tokens.clear()


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    """RFC 6749 section 5.2 error body, as CHC's token endpoint returns it."""
    headers = {"Cache-Control": "no-store"}
    if status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="token"'
    return JSONResponse({"error": error, "error_description": description}, status,
                        headers=headers)


async def _credentials(request: Request) -> dict[str, Any] | None:
    raw = await request.body()
    content_type = request.headers.get("content-type", "")
    if "application/x-www-form-urlencoded" in content_type:
        return {k: v[0] for k, v in parse_qs(raw.decode("utf-8", "replace")).items()}
    try:
        data = json.loads(raw or b"null")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


async def chc_token_response(request: Request, accounts: AccountBook,
                             tokens: TokenStore) -> JSONResponse:
    """``POST /apip/auth/v2/token`` (client credentials grant, RFC 6749 section 4.4)."""
    data = await _credentials(request)
    if data is None:
        return _oauth_error(400, "invalid_request", "Body must be JSON client credentials")
    if data.get("grant_type") != "client_credentials":
        return _oauth_error(400, "unsupported_grant_type",
                            "grant_type must be client_credentials")
    client_id, secret = data.get("client_id"), data.get("client_secret")
    if not isinstance(client_id, str) or not isinstance(secret, str):
        return _oauth_error(400, "invalid_request", "client_id and client_secret are required")
    account = accounts.by_client(client_id, secret)
    if account is None:
        return _oauth_error(401, "invalid_client", "Client authentication failed")
    token = tokens.issue(account)
    return JSONResponse(
        {"access_token": token, "token_type": "bearer", "expires_in": int(tokens.ttl_seconds)},
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


def stedi_error(status: int, code: str, message: str,
                headers: dict[str, str] | None = None) -> JSONResponse:
    """Stedi's error envelope ``{code, message}`` (CLEARINGHOUSES.md section 2, "Errors")."""
    return JSONResponse({"code": code, "message": message}, status, headers=headers)


def unauthorized(stedi: bool) -> JSONResponse:
    if stedi:
        return stedi_error(401, "UNAUTHORIZED", "Missing or invalid API key")
    return JSONResponse(
        {"error": "invalid_token", "error_description": "Missing, invalid or expired token"},
        401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'},
    )


def caller(request: Request, stedi: bool, accounts: AccountBook,
           tokens: TokenStore) -> Account | None:
    """The account behind the request's ``Authorization`` header, or None."""
    header = request.headers.get("authorization", "").strip()
    if not header:
        return None
    if stedi:
        return accounts.by_api_key(header)
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return tokens.account(token.strip())
