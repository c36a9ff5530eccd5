"""The few HTML pages of the stand-in: login, patient picker, scope confirmation, the
"SMART Enabled Apps" card. Plain forms, no script, every value escaped."""

from __future__ import annotations

from collections.abc import Iterable
from html import escape

from fastapi.responses import HTMLResponse

__all__ = ["apps_page", "confirm_page", "login_page", "message_page", "patient_page"]


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    html = (
        "<!doctype html><html><head><meta charset='utf-8'>"
        f"<title>{escape(title)}</title></head><body><h1>{escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(html, status_code=status, headers={"Cache-Control": "no-store"})


def login_page(action: str, client_name: str, error: str | None = None) -> HTMLResponse:
    notice = f"<p role='alert'>{escape(error)}</p>" if error else ""
    body = (
        f"<p>{escape(client_name)} asks you to sign in.</p>{notice}"
        f"<form method='post' action='{escape(action)}'>"
        "<label>Username <input name='username' autocomplete='username'></label>"
        "<label>Password <input name='password' type='password'></label>"
        "<button type='submit'>Login</button></form>"
    )
    return _page("OpenEMR Login", body, 401 if error else 200)


def patient_page(action: str, patients: Iterable[tuple[str, str]]) -> HTMLResponse:
    rows = "".join(
        f"<li><label><input type='radio' name='patient_id' value='{escape(pid)}'>"
        f"{escape(name)}</label></li>"
        for pid, name in patients
    )
    body = (
        f"<form method='post' action='{escape(action)}'><ul>{rows}</ul>"
        "<button type='submit'>Select</button></form>"
    )
    return _page("Select Patient", body)


def confirm_page(action: str, client_name: str, scopes: Iterable[str]) -> HTMLResponse:
    items = "".join(f"<li>{escape(s)}</li>" for s in scopes)
    body = (
        f"<p>{escape(client_name)} requests:</p><ul>{items}</ul>"
        f"<form method='post' action='{escape(action)}'>"
        "<button type='submit' name='proceed' value='1'>Authorize</button>"
        "<button type='submit' name='proceed' value='0'>Deny</button></form>"
    )
    return _page("Authorize", body)


def apps_page(patient: str, apps: Iterable[tuple[str, str]]) -> HTMLResponse:
    """The Patient Dashboard's "SMART Enabled Apps" card; apps open in a full-size iframe."""
    links = "".join(
        f"<li><a target='smart-app' href='{escape(href)}'>{escape(name)}</a></li>"
        for name, href in apps
    )
    body = (
        f"<p>Patient {escape(patient)}</p><h2>SMART Enabled Apps</h2><ul>{links}</ul>"
        "<iframe name='smart-app' title='SMART app' style='width:100%;height:80vh'></iframe>"
    )
    return _page("Patient Dashboard", body)


def message_page(title: str, text: str, status: int = 200) -> HTMLResponse:
    return _page(title, f"<p>{escape(text)}</p>", status)
