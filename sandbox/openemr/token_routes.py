"""``POST /oauth2/{site}/token`` (RFC 6749 sections 4.1.3, 4.4, 6; OPENEMR.md section 6 "Grant").

- ``authorization_code``: code single use, 1 minute, same client and redirect URI; PKCE S256
  verified when the request carried a challenge (RFC 7636 section 4.6). Access 1 h; refresh
  3 months only with ``offline_access``; id_token with ``openid``; launch context
  (``patient``, ``encounter``, ``need_patient_banner``, ``smart_style_url``, ``intent``) in the
  response, never in the access token; ``fhirUser`` only in the id_token.
- ``refresh_token``: rotation (the used token is revoked); ``scope`` may only narrow.
- ``client_credentials``: ``private_key_jwt`` with RS384 only; ``system/`` scopes; 300 s; no
  refresh token; ``sub`` = the "system" user.
- ``password`` is off (global ``oauth_password_grant``): ``unsupported_grant_type``.
The response's ``scope`` leaves out the ``api:*`` scopes the token itself carries.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from sandbox.openemr.client_auth import authenticate_client, verify_assertion
from sandbox.openemr.context import StandIn, read_form, standin
from sandbox.openemr.errors import LeagueError
from sandbox.openemr.scopes import finalize_scopes, is_offered, split_scopes
from sandbox.openemr.state import ApiClient, IssuedToken, RefreshToken

__all__ = ["ACCESS_TTL", "REFRESH_TTL", "SYSTEM_TTL", "token_router"]

ACCESS_TTL = 3600
REFRESH_TTL = 90 * 24 * 3600
SYSTEM_TTL = 300
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")


def _s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def _issue(
    stand: StandIn,
    client: ApiClient,
    *,
    user: str,
    scopes: tuple[str, ...],
    session: str,
    launch: dict[str, Any] | None,
    patient: str | None,
    nonce: str | None = None,
) -> dict[str, Any]:
    """Access token (+ refresh token, id_token, launch context) for a user grant."""
    state = stand.state
    token, jti, exp = stand.signer.access_token(
        client_id=client.client_id, subject=user, scopes=list(scopes), lifetime=ACCESS_TTL
    )
    account = state.user_by_uuid(user)
    fhir_user = f"{stand.config.fhir_base}/{account.fhir_user}" if account else None
    launch_patient = (launch or {}).get("p") or patient
    encounter = (launch or {}).get("e")
    state.tokens[jti] = IssuedToken(
        jti, client.client_id, user, scopes, exp, session,
        fhir_user=fhir_user, patient=launch_patient, encounter=encounter,
    )
    body: dict[str, Any] = {
        "token_type": "Bearer",
        "expires_in": ACCESS_TTL,
        "access_token": token,
    }
    if "offline_access" in scopes:
        refresh = "def50200" + secrets.token_hex(64)
        state.refresh_tokens[refresh] = RefreshToken(
            client.client_id, user, scopes, time.time() + REFRESH_TTL, session,
            launch=launch, patient=patient,
        )
        body["refresh_token"] = refresh
    if "openid" in scopes:
        body["id_token"] = stand.signer.id_token(
            issuer=stand.config.oauth_base,
            client_id=client.client_id,
            subject=user,
            fhir_user=fhir_user if "fhirUser" in scopes else None,
            nonce=nonce,
        )
    body["scope"] = " ".join(s for s in scopes if not s.startswith("api:"))
    if launch is not None or patient is not None:
        if launch_patient:
            body["patient"] = launch_patient
        if encounter:
            body["encounter"] = encounter
        body["need_patient_banner"] = launch is None
        body["smart_style_url"] = stand.config.smart_style_url
        if launch and launch.get("i"):
            body["intent"] = launch["i"]
    return body


async def _authorization_code(
    stand: StandIn, form: dict[str, str], client: ApiClient
) -> dict[str, Any]:
    code = stand.state.take_code(form.get("code", ""))
    if code is None:
        raise LeagueError("invalid_request", "Authorization code has expired or was used")
    if code.client_id != client.client_id:
        raise LeagueError("invalid_request", "Authorization code was not issued to this client")
    if form.get("redirect_uri", code.redirect_uri) != code.redirect_uri:
        raise LeagueError("invalid_request", "Invalid redirect URI")
    if code.code_challenge is not None:
        verifier = form.get("code_verifier")
        if not verifier:
            raise LeagueError("invalid_request", "Check the `code_verifier` parameter")
        if not _VERIFIER.match(verifier):
            raise LeagueError(
                "invalid_request", "Code Verifier must follow the specifications of RFC-7636."
            )
        if not hmac.compare_digest(_s256(verifier), code.code_challenge):
            raise LeagueError("invalid_grant", "Failed to verify `code_verifier`.")
    return _issue(
        stand, client, user=code.user, scopes=code.scopes, session=code.session,
        launch=code.launch, patient=code.patient, nonce=code.nonce,
    )


async def _refresh(stand: StandIn, form: dict[str, str], client: ApiClient) -> dict[str, Any]:
    value = form.get("refresh_token", "")
    record = stand.state.refresh_tokens.get(value)
    if record is None or record.client_id != client.client_id:
        raise LeagueError("invalid_request", "Cannot decrypt the refresh token")
    if record.revoked or record.expires < time.time():
        raise LeagueError("invalid_request", "Token has been revoked")
    scopes = record.scopes
    if "scope" in form:
        asked = split_scopes(form["scope"])
        wider = [s for s in asked if s not in record.scopes]
        if wider:
            raise LeagueError("invalid_scope", f"Check the `scope` parameter: {wider[0]}")
        scopes = tuple(asked)
    record.revoked = True
    return _issue(
        stand, client, user=record.user, scopes=scopes, session=record.session,
        launch=record.launch, patient=record.patient,
    )


async def _client_credentials(stand: StandIn, form: dict[str, str]) -> dict[str, Any]:
    if "client_assertion" not in form:
        raise LeagueError("invalid_client", "client_credentials needs a private_key_jwt assertion")
    client = await verify_assertion(stand, form)
    requested = split_scopes(form.get("scope"))
    config = stand.config
    bad = [s for s in requested if not is_offered(s, system_scopes_api=config.system_scopes_api)]
    if bad or any(s.startswith(("user/", "patient/")) for s in requested):
        raise LeagueError("invalid_scope", f"Check the `scope` parameter: {(bad or requested)[0]}")
    scopes = tuple(finalize_scopes(requested, client.scopes))
    token, jti, exp = stand.signer.access_token(
        client_id=client.client_id, subject=stand.state.SYSTEM_USER, scopes=list(scopes),
        lifetime=SYSTEM_TTL,
    )
    stand.state.tokens[jti] = IssuedToken(
        jti, client.client_id, stand.state.SYSTEM_USER, scopes, exp, None
    )
    return {
        "token_type": "Bearer",
        "expires_in": SYSTEM_TTL,
        "access_token": token,
        "scope": " ".join(s for s in scopes if not s.startswith("api:")),
    }


def token_router(stand: StandIn) -> APIRouter:
    router = APIRouter(prefix=f"/oauth2/{stand.config.site}")

    @router.post("/token")
    async def token(request: Request) -> Response:
        stand = standin(request)
        form = await read_form(request)
        grant = form.get("grant_type")
        if grant == "client_credentials":
            body = await _client_credentials(stand, form)
        elif grant in ("authorization_code", "refresh_token"):
            client = await authenticate_client(
                stand, form, request.headers.get("authorization")
            )
            if grant == "authorization_code":
                body = await _authorization_code(stand, form, client)
            else:
                body = await _refresh(stand, form, client)
        else:
            raise LeagueError("unsupported_grant_type", "Check the `grant_type` parameter")
        return JSONResponse(body, headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

    return router
