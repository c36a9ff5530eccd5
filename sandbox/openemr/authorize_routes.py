"""The authorization code flow's browser side (OPENEMR.md section 6 and 7;
``AuthorizationController::oauthAuthorizationFlow``):

``/authorize`` (GET, or POST = SMART ``authorize-post``) validates the request and parks it in
the ``authserverOpenEMR`` session -> ``/provider/login`` (username + password) ->
``/smart/patient-select`` when ``launch/patient`` was asked without an EHR launch ->
``/scope-authorize-confirm`` -> ``POST /device/code`` issues the code (RFC 6749 section 4.1.2)
to the registered redirect URI. Even inside an EHR launch the user logs in again (issue #4172).

Validation order follows league: unknown or disabled client and a redirect URI that is not
registered are JSON ``invalid_client`` (never a redirect); everything after that (scope, aud,
PKCE, launch) is an error redirect with ``state``.
"""

from __future__ import annotations

import re
import secrets
import time
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from sandbox.openemr.context import StandIn, read_form, standin
from sandbox.openemr.errors import LeagueError
from sandbox.openemr.pages import confirm_page, login_page, message_page, patient_page
from sandbox.openemr.scopes import finalize_scopes, is_offered, split_scopes
from sandbox.openemr.state import AuthCode, LoginSession

__all__ = ["SESSION_COOKIE", "authorize_router"]

SESSION_COOKIE = "authserverOpenEMR"
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_CODE_TTL = 60


def _with_session(response: Response, session: LoginSession, request: Request) -> Response:
    secure = request.url.scheme == "https"
    response.set_cookie(
        SESSION_COOKIE,
        session.sid,
        httponly=True,
        secure=secure,
        samesite="none" if secure else "lax",
        path="/",
    )
    return response


def _session(request: Request) -> LoginSession:
    return standin(request).state.session(request.cookies.get(SESSION_COOKIE))


def validate_request(stand: StandIn, params: dict[str, str]) -> dict[str, Any]:
    """The authorization request, checked; raises :class:`LeagueError`."""
    client = stand.state.clients.get(params.get("client_id", ""))
    if client is None or not client.enabled:
        raise LeagueError("invalid_client")
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is None and len(client.redirect_uris) == 1:
        redirect_uri = client.redirect_uris[0]
    if redirect_uri not in client.redirect_uris:
        raise LeagueError("invalid_client", "Invalid redirect URI")
    state = params.get("state")

    def fail(error: str, hint: str) -> LeagueError:
        return LeagueError(error, hint, redirect_uri=redirect_uri, state=state)

    if params.get("response_type") != "code":
        raise LeagueError("unsupported_grant_type", "Check the `response_type` parameter")
    config = stand.config
    requested = split_scopes(params.get("scope"))
    bad = [s for s in requested if not is_offered(s, system_scopes_api=config.system_scopes_api)]
    if bad:
        raise fail("invalid_scope", f"Check the `scope` parameter: {bad[0]}")
    aud = params.get("aud")
    if aud is not None and aud.rstrip("/") not in (
        config.fhir_base, config.api_base, config.portal_base
    ):
        raise fail("invalid_request", "Check the `aud` parameter")
    if aud is None and any("/" in s for s in requested):
        raise fail("invalid_request", "Check the `aud` parameter")
    method = params.get("code_challenge_method", "plain")
    challenge = params.get("code_challenge")
    if challenge is None:
        if not client.confidential:
            raise fail("invalid_request", "Code challenge must be provided for public clients")
    elif method != "S256":
        raise fail("invalid_request", "Code challenge method must be one of `S256`")
    elif not _CHALLENGE.match(challenge):
        raise fail("invalid_request", "Code challenge must follow the RFC 7636 character rules")
    launch = None
    if "launch" in params:
        launch = stand.open_launch(params["launch"])
        if launch is None:
            raise fail("invalid_request", "Check the `launch` parameter")
    return {
        "client_id": client.client_id,
        "redirect_uri": redirect_uri,
        "state": state,
        "nonce": params.get("nonce"),
        "scopes": finalize_scopes(requested, client.scopes),
        "code_challenge": challenge,
        "launch": launch,
    }


def authorize_router(stand: StandIn) -> APIRouter:
    router = APIRouter(prefix=f"/oauth2/{stand.config.site}")
    base = stand.config.oauth_base

    async def start(request: Request, params: dict[str, str]) -> Response:
        parked = validate_request(standin(request), params)
        session = _session(request)
        session.request = parked
        session.patient = None
        return _with_session(
            RedirectResponse(f"{base}/provider/login", status_code=302), session, request
        )

    @router.get("/authorize")
    async def authorize_get(request: Request) -> Response:
        return await start(request, dict(request.query_params))

    @router.post("/authorize")
    async def authorize_post(request: Request) -> Response:
        return await start(request, await read_form(request))

    def pending(request: Request) -> tuple[LoginSession, dict[str, Any]] | None:
        session = _session(request)
        return (session, session.request) if session.request else None

    def client_name(request: Request, parked: dict[str, Any]) -> str:
        client = standin(request).state.clients.get(parked["client_id"])
        return client.name if client else "An application"

    @router.get("/provider/login")
    async def login_form(request: Request) -> Response:
        found = pending(request)
        if found is None:
            return message_page("OpenEMR", "No authorization request in progress.", 400)
        return login_page(f"{base}/provider/login", client_name(request, found[1]))

    @router.post("/provider/login")
    async def login_submit(request: Request) -> Response:
        found = pending(request)
        if found is None:
            return message_page("OpenEMR", "No authorization request in progress.", 400)
        session, parked = found
        form = await read_form(request)
        user = standin(request).state.users.get(form.get("username", ""))
        if user is None or not user.check_password(form.get("password", "")):
            name = client_name(request, parked)
            return login_page(f"{base}/provider/login", name, "Invalid username or password")
        session.user = user.uuid
        if "launch/patient" in parked["scopes"] and not parked["launch"]:
            return RedirectResponse(f"{base}/smart/patient-select", status_code=302)
        return RedirectResponse(f"{base}/scope-authorize-confirm", status_code=302)

    @router.get("/smart/patient-select")
    async def patient_select(request: Request) -> Response:
        found = pending(request)
        if found is None or found[0].user is None:
            return message_page("OpenEMR", "Please log in first.", 400)
        patients = standin(request).state.patients.values()
        return patient_page(
            f"{base}/smart/patient-select",
            [(p.uuid, f"{p.given} {p.family}") for p in patients],
        )

    @router.post("/smart/patient-select")
    async def patient_chosen(request: Request) -> Response:
        found = pending(request)
        if found is None or found[0].user is None:
            return message_page("OpenEMR", "Please log in first.", 400)
        chosen = (await read_form(request)).get("patient_id", "")
        if chosen not in standin(request).state.patients:
            return message_page("Select Patient", "Choose a patient from the list.", 400)
        found[0].patient = chosen
        return RedirectResponse(f"{base}/scope-authorize-confirm", status_code=302)

    @router.get("/scope-authorize-confirm")
    async def confirm(request: Request) -> Response:
        found = pending(request)
        if found is None or found[0].user is None:
            return message_page("OpenEMR", "Please log in first.", 400)
        parked = found[1]
        return confirm_page(f"{base}/device/code", client_name(request, parked), parked["scopes"])

    @router.post("/device/code")
    async def issue_code(request: Request) -> Response:
        found = pending(request)
        if found is None or found[0].user is None:
            return message_page("OpenEMR", "Please log in first.", 400)
        session, parked = found
        session.request = {}
        form = await read_form(request)
        if form.get("proceed") != "1":
            raise LeagueError(
                "access_denied", "The user denied the request",
                redirect_uri=parked["redirect_uri"], state=parked["state"],
            )
        code = secrets.token_urlsafe(48)
        standin(request).state.codes[code] = AuthCode(
            client_id=parked["client_id"],
            redirect_uri=parked["redirect_uri"],
            user=session.user or "",
            scopes=tuple(parked["scopes"]),
            expires=time.time() + _CODE_TTL,
            session=session.sid,
            code_challenge=parked["code_challenge"],
            nonce=parked["nonce"],
            launch=parked["launch"],
            patient=session.patient,
        )
        target = parked["redirect_uri"]
        query = {"code": code, **({"state": parked["state"]} if parked["state"] else {})}
        sep = "&" if "?" in target else "?"
        return RedirectResponse(target + sep + urlencode(query), status_code=302)

    return router
