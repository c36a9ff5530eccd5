"""The two small server-rendered pages of the authorization endpoint: login and patient picker.

Plain HTML forms (no script) that post back to ``/auth/authorize`` with every authorization
request parameter carried in hidden fields (SMART App Launch ``authorize-post``), plus a
signed ``form_token`` that ties the post to this server's page (CSRF).
"""

from __future__ import annotations

from html import escape

__all__ = ["error_page", "login_page", "picker_page"]

_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}"
    "label{display:block;margin:.6rem 0}input[type=text],input[type=password]{width:100%}"
    ".error{color:#a00}"
)


def _page(title: str, body: str) -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{escape(title)}</title><style>{_STYLE}</style></head>"
        f"<body><h1>{escape(title)}</h1>{body}</body></html>"
    )


def _hidden(params: dict[str, str]) -> str:
    return "".join(
        f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">'
        for k, v in params.items()
        if not k.startswith("_") and k not in ("username", "password", "patient", "form_token")
    )


def login_page(
    params: dict[str, str], client_name: str, form_token: str, error: str | None = None
) -> str:
    """The login form of a standalone launch."""
    message = f'<p class="error">{escape(error)}</p>' if error else ""
    body = (
        f"<p>{escape(client_name)} asks to access your health data.</p>{message}"
        '<form method="post" action="/auth/authorize">'
        f"{_hidden(params)}"
        f'<input type="hidden" name="form_token" value="{escape(form_token)}">'
        '<input type="hidden" name="_action" value="login">'
        '<label>Username <input type="text" name="username" autocomplete="username"></label>'
        '<label>Password <input type="password" name="password" '
        'autocomplete="current-password"></label>'
        '<button type="submit">Sign in</button></form>'
    )
    return _page("Sign in", body)


def picker_page(
    params: dict[str, str],
    client_name: str,
    form_token: str,
    patients: list[tuple[str, str]],
    error: str | None = None,
) -> str:
    """The patient picker of a standalone ``launch/patient`` request: ``(id, label)`` rows."""
    message = f'<p class="error">{escape(error)}</p>' if error else ""
    rows = "".join(
        f'<label><input type="radio" name="patient" value="{escape(pid)}"> '
        f"{escape(label)} <small>({escape(pid)})</small></label>"
        for pid, label in patients
    )
    body = (
        f"<p>Choose the patient {escape(client_name)} will work with.</p>{message}"
        '<form method="post" action="/auth/authorize">'
        f"{_hidden(params)}"
        f'<input type="hidden" name="form_token" value="{escape(form_token)}">'
        '<input type="hidden" name="_action" value="pick">'
        f"{rows or '<p>No patients found.</p>'}"
        '<label>Or a patient id <input type="text" name="patient_id"></label>'
        '<button type="submit">Continue</button></form>'
    )
    return _page("Choose a patient", body)


def error_page(error: str, description: str) -> str:
    """Shown instead of redirecting when the redirect URI cannot be trusted (RFC 6749
    section 4.1.2.1)."""
    return _page("Authorization error", f"<p><b>{escape(error)}</b>: {escape(description)}</p>")
