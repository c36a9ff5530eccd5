"""The EHR-launch relay from OpenEMR (issue part 3a; DESIGN.md "EHR-launch relay").

An app is registered in OpenEMR with ``initiate_login_uri`` = ``{facade}/smart/launch/{client_id}``
(``client_id`` = the app's client at the facade). OpenEMR's "SMART Enabled Apps" action calls
it with ``launch`` and ``iss`` (OPENEMR.md section 7). The relay then:

1. ``GET /smart/launch/{client_id}?launch&iss``: ``iss`` must be the configured OpenEMR FHIR
   base (SMART app-launch.html: an app must not follow an unknown ``iss``); the facade client
   must exist, be enabled and have a launch URI. Starts OpenEMR's authorization code flow as
   the facade's confidential client (:mod:`server.security.openemr_client`), ``state``,
   ``nonce`` and the PKCE verifier kept in a signed cookie named after the ``state``.
2. ``GET /smart/callback?code&state``: checks the cookie against ``state`` (RFC 6749 section
   10.12, CSRF), exchanges the code, verifies the id_token, takes ``fhirUser`` from it and
   ``patient`` / ``encounter`` / ``need_patient_banner`` / ``intent`` / ``smart_style_url``
   from the token response, stores a :class:`LaunchContext` and answers 302 to the app's
   launch URI with ``iss`` = the facade FHIR base and ``launch`` = the facade launch id.

Both pages run inside OpenEMR's iframe: ``Content-Security-Policy: frame-ancestors <OpenEMR
origin>``; the cookie is ``SameSite=None; Secure`` over https, ``Lax`` on http loopback.
Failures are a plain 400 (HTML, or JSON when asked for) with a clear message.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from html import escape
from typing import Any
from urllib.parse import urlencode

import httpx
from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from server.security.auth_store import AuthStore, LaunchContext
from server.security.openemr_client import OpenEmrClient, RelayError, relative_fhir_user
from server.security.sessions import sign, unsign
from server.settings import Settings

__all__ = ["LaunchRelay", "install_launch_routes"]

_COOKIE_PREFIX = "facade_launch_"
_PURPOSE = "openemr-launch"
_FLOW_TTL = 600
_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


class LaunchRelay:
    """State of the relay on one app: the OpenEMR client and the cookie key."""

    def __init__(self, settings: Settings, transport: httpx.AsyncBaseTransport | None = None):
        self.settings = settings
        self.openemr = OpenEmrClient(settings, transport)
        self._key: bytes | None = None

    async def key(self, store: AuthStore) -> bytes:
        if self._key is None:
            self._key = await store.secret("launch-relay")
        return self._key

    def headers(self) -> dict[str, str]:
        return {
            "Content-Security-Policy": f"frame-ancestors {self.openemr.origin}",
            "Cache-Control": "no-store",
            "Referrer-Policy": "no-referrer",
        }

    def cookie_args(self) -> dict[str, Any]:
        secure = self.settings.base_url.startswith("https://")
        return {
            "httponly": True,
            "secure": secure,
            "samesite": "none" if secure else "lax",
            "path": "/smart",
        }


def _cookie_name(state: str) -> str:
    return _COOKIE_PREFIX + hashlib.sha256(state.encode()).hexdigest()[:24]


def _relay(request: Request) -> LaunchRelay:
    relay: LaunchRelay = request.app.state.launch_relay
    return relay


def _store(request: Request) -> AuthStore:
    auth = getattr(request.app.state, "auth", None)
    if auth is None:
        raise RelayError("The SMART authorization server is switched off; no launch possible.")
    store: AuthStore = auth.store
    return store


def _error_page(request: Request, exc: RelayError) -> Response:
    headers = _relay(request).headers()
    if "application/json" in request.headers.get("accept", ""):
        return JSONResponse({"message": exc.message}, status_code=exc.status, headers=headers)
    html = (
        "<!doctype html><html><head><meta charset='utf-8'><title>Launch failed</title></head>"
        f"<body><h1>The app could not be launched</h1><p>{escape(exc.message)}</p></body></html>"
    )
    return HTMLResponse(html, status_code=exc.status, headers=headers)


def _append(url: str, params: dict[str, str]) -> str:
    return url + ("&" if "?" in url else "?") + urlencode(params)


async def _start(request: Request, client_id: str) -> Response:
    relay = _relay(request)
    openemr = relay.openemr.config
    launch = request.query_params.get("launch", "")
    iss = request.query_params.get("iss", "").rstrip("/")
    if iss != openemr.fhir_base:
        raise RelayError("The launch comes from an EHR this facade does not trust (iss).")
    if not launch:
        raise RelayError("The launch request has no launch parameter.")
    store = _store(request)
    client = await store.get_client(client_id)
    if client is None or not client.enabled:
        raise RelayError("No enabled app is registered at the facade under this client id.")
    if not client.launch_uri:
        raise RelayError("The app has no launch URL registered at the facade.")
    state, nonce, verifier = (secrets.token_urlsafe(32) for _ in range(3))
    flow = {"s": state, "n": nonce, "v": verifier, "c": client_id}
    target = relay.openemr.authorize_url(launch=launch, state=state, nonce=nonce,
                                         verifier=verifier)
    response = RedirectResponse(target, status_code=302, headers=relay.headers())
    response.set_cookie(
        _cookie_name(state),
        sign(await relay.key(store), _PURPOSE, flow, _FLOW_TTL),
        max_age=_FLOW_TTL,
        **relay.cookie_args(),
    )
    return response


def _context_id(body: dict[str, Any], name: str) -> str | None:
    value = body.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not _ID.match(value):
        raise RelayError(f"OpenEMR sent an unusable {name} id.")
    return value


async def _finish(request: Request) -> Response:
    relay = _relay(request)
    params = request.query_params
    if "error" in params:
        raise RelayError(f"OpenEMR did not authorize the launch ({params['error'][:64]}).")
    state, code = params.get("state", ""), params.get("code", "")
    if not state or not code:
        raise RelayError("The callback lacks code or state.")
    store = _store(request)
    cookie = _cookie_name(state)
    flow = unsign(await relay.key(store), _PURPOSE, request.cookies.get(cookie))
    if flow is None or flow.get("s") != state:
        raise RelayError(
            "The launch session is missing or expired (the browser may block cookies in "
            "frames). Start the app again from OpenEMR."
        )
    tokens = await relay.openemr.exchange(code, str(flow["v"]))
    id_token = tokens.get("id_token")
    if not isinstance(id_token, str):
        raise RelayError("OpenEMR sent no id_token (the openid scope was not granted).")
    claims = await relay.openemr.verify_id_token(id_token, str(flow["n"]))
    client = await store.get_client(str(flow["c"]))
    if client is None or not client.enabled or not client.launch_uri:
        raise RelayError("The app is no longer enabled at the facade.")
    style = tokens.get("smart_style_url")
    intent = tokens.get("intent")
    context = LaunchContext(
        client_id=client.client_id,
        subject=str(claims["sub"]),
        fhir_user=relative_fhir_user(relay.openemr.config.fhir_base, claims.get("fhirUser")),
        patient=_context_id(tokens, "patient"),
        encounter=_context_id(tokens, "encounter"),
        source=relay.openemr.config.fhir_base,
        need_patient_banner=tokens.get("need_patient_banner") is True,
        intent=intent if isinstance(intent, str) else None,
        smart_style_url=style if isinstance(style, str) else None,
    )
    launch_id = await store.create_launch(context, relay.settings.auth.launch_ttl)
    target = _append(client.launch_uri, {"iss": relay.settings.fhir_base, "launch": launch_id})
    response = RedirectResponse(target, status_code=302, headers=relay.headers())
    args = relay.cookie_args()
    response.delete_cookie(cookie, path=args["path"], secure=args["secure"],
                           httponly=True, samesite=args["samesite"])
    return response


def install_launch_routes(app: FastAPI) -> None:
    """Mount ``/smart/launch/{client_id}`` and ``/smart/callback`` on ``app`` (browser pages,
    kept out of the OpenAPI of the FHIR API). The relay's state is at
    ``app.state.launch_relay`` (its ``openemr.transport`` may be replaced)."""
    settings: Settings = app.state.settings
    if getattr(app.state, "launch_relay", None) is None:
        app.state.launch_relay = LaunchRelay(settings)

    @app.exception_handler(RelayError)
    async def relay_error(request: Request, exc: RelayError) -> Response:
        return _error_page(request, exc)

    @app.get("/smart/launch/{client_id}", include_in_schema=False)
    async def smart_launch(request: Request, client_id: str) -> Response:
        return await _start(request, client_id)

    @app.get("/smart/callback", include_in_schema=False)
    async def smart_callback(request: Request) -> Response:
        return await _finish(request)
