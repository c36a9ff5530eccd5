"""Signed, expiring values for the login session cookie and the authorize forms.

A value is ``base64url(JSON payload).base64url(HMAC-SHA256)`` under the server's session key
(kept in the auth store). The cookie carries only the username and its expiry; it is
``HttpOnly``, ``SameSite=None; Secure`` when the facade is served over https (so an EHR can
frame the app flow) and ``SameSite=Lax`` on plain-http loopback development.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

__all__ = ["COOKIE_NAME", "cookie_attributes", "sign", "unsign"]

COOKIE_NAME = "facade_session"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def sign(key: bytes, purpose: str, data: dict[str, Any], ttl: int) -> str:
    """A signed value for ``purpose`` holding ``data``, valid for ``ttl`` seconds."""
    payload = _b64(json.dumps({**data, "p": purpose, "x": int(time.time()) + ttl}).encode())
    mac = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    return f"{payload}.{_b64(mac)}"


def unsign(key: bytes, purpose: str, value: str | None) -> dict[str, Any] | None:
    """The data of a value :func:`sign` made for ``purpose``; None if forged or expired."""
    if not value or "." not in value:
        return None
    payload, _, mac = value.rpartition(".")
    expected = hmac.new(key, payload.encode(), hashlib.sha256).digest()
    try:
        if not hmac.compare_digest(_unb64(mac), expected):
            return None
        data = json.loads(_unb64(payload))
    except ValueError:
        return None
    if not isinstance(data, dict) or data.get("p") != purpose or data.get("x", 0) < time.time():
        return None
    return data


def cookie_attributes(base_url: str) -> dict[str, Any]:
    """``Response.set_cookie`` keyword arguments for the session cookie."""
    secure = base_url.startswith("https://")
    return {
        "httponly": True,
        "secure": secure,
        "samesite": "none" if secure else "lax",
        "path": "/auth",
    }
