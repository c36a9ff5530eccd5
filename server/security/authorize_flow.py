"""The authorization endpoint (RFC 6749 section 4.1.1; SMART App Launch app-launch.html).

Order of checks (RFC 6749 section 4.1.2.1): the client and its redirect URI first; when either
is wrong the user sees an error page and is never redirected. Every later error is a redirect
to the registered URI with ``error``, ``error_description`` and ``state``:

- ``response_type`` must be ``code``; ``aud`` must be this FHIR base (app-launch.html#obtain-
  authorization-code: the server must refuse other audiences);
- PKCE (RFC 7636): ``S256`` only (``plain`` refused); required for public clients;
- the granted scope is the requested scope capped by the client's registered scope;
- ``launch``: a facade launch id (EHR launch) binds the user, patient and encounter; without
  it the user signs in here and, for ``launch/patient``, picks a patient.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import orjson
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.errors import OAuthError
from server.security.auth_store import AuthCode, Client, LaunchContext, User
from server.security.authorize_page import error_page, login_page, picker_page
from server.security.clients import cap_scope
from server.security.passwords import digest, new_secret, verify_secret
from server.security.sessions import COOKIE_NAME, cookie_attributes, sign, unsign
from server.storage.query import SearchQuery

if TYPE_CHECKING:
    from server.security.authorization import AuthServer
    from server.storage.port import Repository

__all__ = ["authorize"]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class _Redirectable(Exception):
    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _redirect(uri: str, params: dict[str, str]) -> RedirectResponse:
    parts = urlsplit(uri)
    query = f"{parts.query}&{urlencode(params)}" if parts.query else urlencode(params)
    return RedirectResponse(urlunsplit(parts._replace(query=query)), 302, headers=_NO_STORE)


def _html(text: str, status: int = 200) -> HTMLResponse:
    headers = {
        **_NO_STORE,
        "X-Frame-Options": "DENY",
        "Content-Security-Policy": (
            "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'"
        ),
    }
    return HTMLResponse(text, status_code=status, headers=headers)


async def authorize(
    server: AuthServer, repo: Repository, params: dict[str, str], cookie: str | None
) -> Response:
    """Answer one GET or POST to ``/auth/authorize``."""
    client_id = params.get("client_id", "")
    client = await server.store.get_client(client_id) if client_id else None
    if client is None or not client.enabled:
        problem = "Unknown client" if client is None else "The client is not enabled"
        return _html(error_page("unauthorized_client", problem), 400)
    redirect_uri = params.get("redirect_uri") or (
        client.redirect_uris[0] if len(client.redirect_uris) == 1 else ""
    )
    if redirect_uri not in client.redirect_uris:
        return _html(error_page("invalid_request", "redirect_uri is not registered"), 400)
    state = params.get("state")
    try:
        return await _authorize(server, repo, client, redirect_uri, params, cookie)
    except (_Redirectable, OAuthError) as exc:
        description = exc.description if isinstance(exc, _Redirectable) else exc.message
        reply = {"error": exc.error, "error_description": description}
        if state is not None:
            reply["state"] = state
        return _redirect(redirect_uri, reply)


def _check_request(server: AuthServer, client: Client, params: dict[str, str]) -> str:
    """Validate the request; the granted scope."""
    if params.get("response_type") != "code":
        raise _Redirectable("unsupported_response_type", "response_type must be code")
    aud = params.get("aud", "")
    if aud.rstrip("/") != server.fhir_base:
        raise _Redirectable("invalid_request", "aud must be this server's FHIR base URL")
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is None:
        if method is not None:
            raise _Redirectable("invalid_request", "code_challenge_method without code_challenge")
        if client.is_public:
            raise _Redirectable("invalid_request", "PKCE (code_challenge, S256) is required")
    elif method != "S256":
        raise _Redirectable("invalid_request", "code_challenge_method must be S256")
    elif not 43 <= len(challenge) <= 128:
        raise _Redirectable("invalid_request", "code_challenge is malformed")
    scope = cap_scope(params.get("scope", ""), client.scope)
    if not scope:
        raise _Redirectable("invalid_scope", "None of the requested scopes is allowed")
    return scope


async def _authorize(
    server: AuthServer,
    repo: Repository,
    client: Client,
    redirect_uri: str,
    params: dict[str, str],
    cookie: str | None,
) -> Response:
    scope = _check_request(server, client, params)
    launch_id = params.get("launch")
    if launch_id:
        ctx = await server.store.take_launch(launch_id)
        if ctx is None or ctx.client_id != client.client_id:
            raise _Redirectable("invalid_request", "The launch is unknown, used or expired")
        return await _issue(server, client, redirect_uri, params, scope, ctx)
    key = server.session_key
    ttl = server.settings.auth.session_ttl
    action = params.get("_action")
    form_ok = unsign(key, "form", params.get("form_token")) is not None
    session = unsign(key, "session", cookie)
    user: User | None = None
    new_cookie: str | None = None
    if session is not None:
        user = await server.store.get_user(str(session.get("u", "")))
    if action == "login" and form_ok:
        candidate = await server.store.get_user(params.get("username", ""))
        if (
            candidate is None
            or not candidate.enabled
            or not verify_secret(params.get("password", ""), candidate.password_hash)
        ):
            token = sign(key, "form", {}, ttl)
            # 403 (no HTTP authentication scheme is involved, so not 401): the form again,
            # and a failed login in the audit trail.
            page = login_page(params, client.name, token, "Wrong username or password")
            return _html(page, status=403)
        user = candidate
        new_cookie = sign(key, "session", {"u": user.username}, ttl)
    if user is None or not user.enabled:
        return _html(login_page(params, client.name, sign(key, "form", {}, ttl)))
    patient: str | None = None
    if "launch/patient" in scope.split():
        if user.fhir_user and user.fhir_user.startswith("Patient/"):
            patient = user.fhir_user.removeprefix("Patient/")
        elif action == "pick" and form_ok:
            chosen = params.get("patient_id", "").strip() or params.get("patient", "")
            if chosen and await repo.read("Patient", chosen) is not None:
                patient = chosen
        if patient is None:
            error = "Choose a patient" if action == "pick" else None
            page = picker_page(
                params, client.name, sign(key, "form", {}, ttl), await _patients(repo), error
            )
            response: Response = _html(page)
            _set_cookie(server, response, new_cookie)
            return response
    ctx = LaunchContext(
        client_id=client.client_id,
        subject=user.username,
        fhir_user=user.fhir_user,
        patient=patient,
        encounter=None,
        source="facade",
        need_patient_banner=patient is not None,
    )
    response = await _issue(server, client, redirect_uri, params, scope, ctx)
    _set_cookie(server, response, new_cookie)
    return response


def _set_cookie(server: AuthServer, response: Response, value: str | None) -> None:
    if value is not None:
        response.set_cookie(
            COOKIE_NAME,
            value,
            max_age=server.settings.auth.session_ttl,
            **cookie_attributes(server.settings.base_url),
        )


async def _issue(
    server: AuthServer,
    client: Client,
    redirect_uri: str,
    params: dict[str, str],
    scope: str,
    ctx: LaunchContext,
) -> Response:
    code = new_secret(32)
    await server.store.save_code(
        AuthCode(
            code_hash=digest(code),
            client_id=client.client_id,
            # RFC 6749 4.1.3: the token request repeats redirect_uri only if this one had it.
            redirect_uri=params.get("redirect_uri", ""),
            scope=scope,
            subject=ctx.subject,
            expires_at=int(time.time()) + server.settings.auth.code_ttl,
            code_challenge=params.get("code_challenge"),
            fhir_user=ctx.fhir_user,
            patient=ctx.patient,
            encounter=ctx.encounter,
            nonce=params.get("nonce"),
            need_patient_banner=ctx.need_patient_banner,
            intent=ctx.intent,
            smart_style_url=ctx.smart_style_url,
        )
    )
    reply = {"code": code}
    if "state" in params:
        reply["state"] = params["state"]
    return _redirect(redirect_uri, reply)


async def _patients(repo: Repository) -> list[tuple[str, str]]:
    """Up to 50 patients for the picker, labelled with their first name."""
    page = await repo.search(SearchQuery(resource_types=("Patient",), count=50))
    rows: list[tuple[str, str]] = []
    for match in page.matches:
        label = match.id
        if match.content:
            resource: Any = orjson.loads(match.content)
            names = resource.get("name") or []
            if names and isinstance(names[0], dict):
                name = names[0]
                given = " ".join(name.get("given") or [])
                label = name.get("text") or f"{given} {name.get('family', '')}".strip() or label
        rows.append((match.id, label))
    return rows
