"""``/introspect`` (RFC 7662, with OpenEMR's rules from
``TokenIntrospectionRestController.php``), ``/jwk`` and ``/logout``.

Introspection takes a form POST with ``token``, optional ``token_type_hint``, and the caller's
``client_id`` + ``client_secret`` **in the body** (no Basic) or a ``client_assertion``. It
answers only for tokens whose ``aud`` (client) equals the caller; anything else, errors
included, is 200 ``{"active": false}``. An active answer carries ``iss: null``, the stored
launch context and ``fhirUser``.
"""

from __future__ import annotations

import time
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from sandbox.openemr.authorize_routes import SESSION_COOKIE
from sandbox.openemr.client_auth import authenticate_client
from sandbox.openemr.context import StandIn, read_form, standin
from sandbox.openemr.errors import LeagueError
from sandbox.openemr.pages import message_page

__all__ = ["introspection_router"]

_INACTIVE = {"active": False}


def _introspect(stand: StandIn, token: str, hint: str | None, caller: str) -> dict[str, Any]:
    if hint != "refresh_token":
        claims = stand.signer.verify(token)
        if claims is not None and claims.get("aud") == caller:
            record = stand.state.active_token(str(claims.get("jti")))
            if record is None:
                return _INACTIVE
            body: dict[str, Any] = {
                "active": True,
                "status": "active",
                "scope": " ".join(record.scopes),
                "client_id": record.client_id,
                "exp": int(record.expires),
                "sub": record.user,
                "jti": record.jti,
                "aud": caller,
                "iss": None,
                "token_type": "Bearer",
            }
            if record.patient:
                body["patient"] = record.patient
            if record.encounter:
                body["encounter"] = record.encounter
            if record.fhir_user:
                body["fhirUser"] = record.fhir_user
            return body
        if hint == "access_token":
            return _INACTIVE
    refresh = stand.state.refresh_tokens.get(token)
    if (
        refresh is None
        or refresh.client_id != caller
        or refresh.revoked
        or refresh.expires < time.time()
    ):
        return _INACTIVE
    return {
        "active": True,
        "status": "active",
        "scope": " ".join(refresh.scopes),
        "client_id": refresh.client_id,
        "exp": int(refresh.expires),
        "sub": refresh.user,
        "aud": caller,
        "iss": None,
        "token_type": "refresh_token",
    }


def introspection_router(stand: StandIn) -> APIRouter:
    router = APIRouter(prefix=f"/oauth2/{stand.config.site}")

    @router.post("/introspect")
    async def introspect(request: Request) -> Response:
        stand = standin(request)
        form = await read_form(request)
        headers = {"Cache-Control": "no-store"}
        try:
            caller = await authenticate_client(stand, form, None)
        except LeagueError:
            return JSONResponse(_INACTIVE, headers=headers)
        if caller.secret_hash is None and "client_assertion" not in form:
            return JSONResponse(_INACTIVE, headers=headers)
        body = _introspect(stand, form.get("token", ""), form.get("token_type_hint"),
                           caller.client_id)
        return JSONResponse(body, headers=headers)

    @router.get("/jwk")
    async def jwk(request: Request) -> Response:
        return JSONResponse(standin(request).signer.jwks())

    @router.get("/logout")
    async def logout(request: Request) -> Response:
        stand = standin(request)
        sid = request.cookies.get(SESSION_COOKIE)
        if sid:
            stand.state.end_session(sid)
        target = request.query_params.get("post_logout_redirect_uri")
        hint = stand.signer.verify(request.query_params.get("id_token_hint", ""))
        client = stand.state.clients.get(str(hint.get("aud"))) if hint else None
        if target and client is not None and target in client.redirect_uris:
            state = request.query_params.get("state")
            sep = "&" if "?" in target else "?"
            url = target + (f"{sep}state={state}" if state else "")
            response: Response = RedirectResponse(url, status_code=302)
        else:
            response = message_page("OpenEMR", "You have been logged out.")
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    return router
