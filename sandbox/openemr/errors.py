"""OAuth errors in the shape ``league/oauth2-server`` gives them (OPENEMR.md section 4,
"OAuth errors"): ``{"error", "error_description", "hint"?, "message"}`` with the library's fixed
descriptions, 401 for ``invalid_client`` and ``access_denied``, and for authorization requests
with a trusted redirect URI a 302 carrying the same fields as query parameters (RFC 6749
section 4.1.2.1).
"""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi.responses import JSONResponse, RedirectResponse, Response

__all__ = ["LeagueError", "error_response"]

_DESCRIPTIONS = {
    "invalid_request": "The request is missing a required parameter, includes an invalid "
    "parameter value, includes a parameter more than once, or is otherwise malformed.",
    "invalid_client": "Client authentication failed",
    "invalid_grant": "The provided authorization grant (e.g., authorization code, resource "
    "owner credentials) or refresh token is invalid, expired, revoked, does not match the "
    "redirection URI used in the authorization request, or was issued to another client.",
    "invalid_scope": "The requested scope is invalid, unknown, or malformed",
    "unsupported_grant_type": "The authorization grant type is not supported by the "
    "authorization server.",
    "access_denied": "The resource owner or authorization server denied the request.",
    "server_error": "The authorization server encountered an unexpected condition which "
    "prevented it from fulfilling the request.",
    "invalid_client_metadata": "Invalid client metadata",
    "invalid_redirect_uri": "Invalid redirect URI",
}
_STATUS = {"invalid_client": 401, "access_denied": 401, "server_error": 500}


class LeagueError(Exception):
    """An OAuth error; ``redirect_uri`` set only when it is the client's registered one."""

    def __init__(
        self,
        error: str,
        hint: str | None = None,
        *,
        redirect_uri: str | None = None,
        state: str | None = None,
        description: str | None = None,
    ) -> None:
        self.error = error
        self.hint = hint
        self.redirect_uri = redirect_uri
        self.state = state
        self.description = description or _DESCRIPTIONS.get(error, error)
        super().__init__(f"{error}: {hint or self.description}")

    @property
    def status(self) -> int:
        return _STATUS.get(self.error, 400)

    def payload(self) -> dict[str, str]:
        body = {"error": self.error, "error_description": self.description}
        if self.hint:
            body["hint"] = self.hint
        body["message"] = self.description
        return body


def error_response(exc: LeagueError) -> Response:
    """The JSON body, or the redirect to the client's registered redirect URI."""
    if exc.redirect_uri:
        params = exc.payload()
        if exc.state is not None:
            params["state"] = exc.state
        sep = "&" if "?" in exc.redirect_uri else "?"
        return RedirectResponse(exc.redirect_uri + sep + urlencode(params), status_code=302)
    headers = {"Cache-Control": "no-store"}
    if exc.error == "invalid_client":
        headers["WWW-Authenticate"] = 'Basic realm="OAuth"'
    return JSONResponse(exc.payload(), status_code=exc.status, headers=headers)
