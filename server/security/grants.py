"""The token endpoint's grant types (RFC 6749 section 4.1.3, 6, 4.4; SMART App Launch).

- ``authorization_code``: the code is single use, short lived and bound to the client, the
  redirect URI and the PKCE challenge (RFC 7636 section 4.6, S256 only);
- ``refresh_token``: rotation on every use; a reused (already rotated) token revokes the whole
  grant (OAuth 2.0 Security BCP, RFC 9700 section 4.14.2); ``scope`` may only narrow
  (RFC 6749 section 6);
- ``client_credentials``: SMART Backend Services (backend-services.html), confidential clients
  only, ``system/`` scopes only, never a refresh token.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
from typing import TYPE_CHECKING, Any

from server.errors import OAuthError
from server.security.clients import ClientAuth, cap_scope
from server.security.passwords import digest
from server.security.scopes import ScopeError, covers, parse_scopes
from server.security.tokens import Grant

if TYPE_CHECKING:
    from server.security.authorization import AuthServer

__all__ = ["s256", "token_response", "verifier_ok"]

_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_REFRESH_SCOPES = frozenset({"offline_access", "online_access"})


def s256(verifier: str) -> str:
    """RFC 7636 section 4.2: BASE64URL(SHA256(ASCII(code_verifier)))."""
    hashed = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(hashed).decode().rstrip("=")


def verifier_ok(verifier: str | None, challenge: str) -> bool:
    """Whether ``verifier`` is well formed (RFC 7636 section 4.1) and matches ``challenge``."""
    if not verifier or not _VERIFIER.match(verifier):
        return False
    return hmac.compare_digest(s256(verifier), challenge)


async def token_response(
    server: AuthServer, form: dict[str, str], authorization: str | None
) -> dict[str, Any]:
    """Run the grant named by ``grant_type``; raises OAuthError."""
    grant_type = form.get("grant_type")
    if not grant_type:
        raise OAuthError("invalid_request", "grant_type is required")
    if grant_type not in ("authorization_code", "refresh_token", "client_credentials"):
        raise OAuthError("unsupported_grant_type", f"grant_type {grant_type} is not supported")
    auth = await server.clients.authenticate(form, authorization)
    if grant_type == "authorization_code":
        return await _authorization_code(server, auth, form)
    if grant_type == "refresh_token":
        return await _refresh(server, auth, form)
    return await _client_credentials(server, auth, form)


async def _authorization_code(
    server: AuthServer, auth: ClientAuth, form: dict[str, str]
) -> dict[str, Any]:
    code = form.get("code")
    if not code:
        raise OAuthError("invalid_request", "code is required")
    stored = await server.store.take_code(digest(code))
    if stored is None or stored.expires_at <= time.time():
        raise OAuthError("invalid_grant", "The code is unknown, used or expired")
    if stored.client_id != auth.client.client_id:
        raise OAuthError("invalid_grant", "The code was issued to another client")
    if form.get("redirect_uri", "") != stored.redirect_uri:
        raise OAuthError("invalid_grant", "redirect_uri does not match the authorization request")
    verifier = form.get("code_verifier")
    if stored.code_challenge is not None:
        if not verifier_ok(verifier, stored.code_challenge):
            raise OAuthError("invalid_grant", "code_verifier does not match the code_challenge")
    elif verifier is not None:
        raise OAuthError("invalid_grant", "code_verifier sent but no code_challenge was")
    grant = Grant(
        client_id=stored.client_id,
        scope=stored.scope,
        subject=stored.subject,
        fhir_user=stored.fhir_user,
        patient=stored.patient,
        encounter=stored.encounter,
    )
    scopes = set(stored.scope.split())
    body = await server.issue_tokens(
        grant,
        refresh=bool(scopes & _REFRESH_SCOPES),
        id_token_nonce=stored.nonce,
        want_id_token="openid" in scopes,
    )
    if stored.patient:
        body["need_patient_banner"] = stored.need_patient_banner
    if stored.smart_style_url:
        body["smart_style_url"] = stored.smart_style_url
    if stored.intent:
        body["intent"] = stored.intent
    return body


async def _refresh(server: AuthServer, auth: ClientAuth, form: dict[str, str]) -> dict[str, Any]:
    token = form.get("refresh_token")
    if not token:
        raise OAuthError("invalid_request", "refresh_token is required")
    stored = await server.store.get_refresh(digest(token))
    if stored is None or stored.client_id != auth.client.client_id:
        raise OAuthError("invalid_grant", "The refresh token is unknown")
    if stored.revoked:
        await server.revoke_family(stored.family_id)
        raise OAuthError("invalid_grant", "The refresh token was revoked or already used")
    if stored.expires_at <= time.time():
        raise OAuthError("invalid_grant", "The refresh token has expired")
    scope = stored.scope
    if "scope" in form:
        try:
            granted = parse_scopes(stored.scope)
            wanted = parse_scopes(form["scope"])
        except ScopeError as exc:
            raise OAuthError("invalid_scope", str(exc)) from exc
        beyond = [s for s in wanted.raw if not covers(granted, s)]
        if beyond:
            raise OAuthError("invalid_scope", f"Scopes beyond the grant: {' '.join(beyond)}")
        scope = wanted.text
    # Still capped by what the client has registered now.
    scope = cap_scope(scope, auth.client.scope)
    if not await server.store.revoke_refresh(stored.token_hash):
        await server.revoke_family(stored.family_id)
        raise OAuthError("invalid_grant", "The refresh token was already used")
    grant = Grant(
        client_id=stored.client_id,
        scope=scope,
        subject=stored.subject,
        fhir_user=stored.fhir_user,
        patient=stored.patient,
        encounter=stored.encounter,
    )
    scopes = set(scope.split())
    return await server.issue_tokens(
        grant,
        refresh=True,
        family_id=stored.family_id,
        want_id_token="openid" in scopes and bool(stored.fhir_user),
    )


async def _client_credentials(
    server: AuthServer, auth: ClientAuth, form: dict[str, str]
) -> dict[str, Any]:
    if not auth.confidential:
        raise OAuthError(
            "unauthorized_client", "client_credentials is for confidential clients only"
        )
    requested = form.get("scope")
    if not requested:
        raise OAuthError("invalid_scope", "scope is required")
    capped = cap_scope(requested, auth.client.scope)
    scope = " ".join(s for s in capped.split() if s.startswith("system/"))
    if not scope:
        raise OAuthError("invalid_scope", "None of the requested system scopes is registered")
    grant = Grant(client_id=auth.client.client_id, scope=scope, subject=auth.client.client_id)
    return await server.issue_tokens(grant, refresh=False)
