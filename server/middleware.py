"""Plain ASGI middleware: request ids with access logs, the last-resort 500, and the request
body size limit.

Logs carry the request id, method, route path, status and duration, never query strings, bodies
or headers (they may hold PHI: identifiers, names, birth dates).
"""

from __future__ import annotations

import logging
import os
import time
import traceback
from contextvars import ContextVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.errors import InternalError, PayloadTooLargeError
from server.fhir import json_codec
from server.fhir.outcomes import error_outcome

__all__ = ["BodyLimitMiddleware", "RequestIdMiddleware", "current_request_id"]

_log = logging.getLogger("facade.access")
_errors = logging.getLogger("facade")
_request_id: ContextVar[str] = ContextVar("request_id", default="-")


def current_request_id() -> str:
    """The id of the request being served (``-`` outside a request)."""
    return _request_id.get()


def _valid_request_id(value: bytes) -> str | None:
    text = value.decode("latin-1").strip()
    if 0 < len(text) <= 128 and all(c.isalnum() or c in "-_.:" for c in text):
        return text
    return None


class RequestIdMiddleware:
    """Takes `X-Request-ID` (or makes one), echoes it, and logs one line per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id: str | None = None
        for name, value in scope["headers"]:
            if name == b"x-request-id":
                request_id = _valid_request_id(value)
                break
        if request_id is None:
            request_id = os.urandom(16).hex()
        token = _request_id.set(request_id)
        started = time.perf_counter()
        status = 500
        encoded = request_id.encode()

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", encoded)]
            await send(message)

        started_response = False

        async def send_tracked(message: Message) -> None:
            nonlocal started_response
            if message["type"] == "http.response.start":
                started_response = True
            await send_with_id(message)

        try:
            await self.app(scope, receive, send_tracked)
        except Exception as exc:  # noqa: BLE001 - the last line of defence (law 6)
            status = 500
            # Frames only: exception messages may quote request data (PHI).
            frames = "".join(traceback.format_tb(exc.__traceback__))
            _errors.error("request_id=%s unexpected %s\n%s", request_id, type(exc).__name__, frames)
            if not started_response:
                await _send_internal_error(send_with_id)
        finally:
            if _log.isEnabledFor(logging.INFO):
                _log.info(
                    "request_id=%s method=%s path=%s status=%d ms=%.2f",
                    request_id,
                    scope["method"],
                    scope["path"],
                    status,
                    (time.perf_counter() - started) * 1000,
                )
            _request_id.reset(token)


_INTERNAL_ERROR = json_codec.dumps(
    error_outcome(InternalError("The server failed to process the request"))
)


async def _send_internal_error(send: Send) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": 500,
            "headers": [
                (b"content-type", b"application/fhir+json; charset=utf-8"),
                (b"content-length", str(len(_INTERNAL_ERROR)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": _INTERNAL_ERROR})


class BodyLimitMiddleware:
    """Refuses bodies over ``max_bytes`` with 413, by `Content-Length` or while streaming."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        for name, value in scope["headers"]:
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = 0
                if declared > limit:
                    scope.setdefault("state", {})["body_too_large"] = True
                break
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            if scope.get("state", {}).get("body_too_large"):
                raise PayloadTooLargeError(f"Request bodies are limited to {limit} bytes")
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLargeError(f"Request bodies are limited to {limit} bytes")
            return message

        await self.app(scope, limited_receive, send)
