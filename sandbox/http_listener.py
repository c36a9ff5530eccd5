"""An ASGI app served by uvicorn inside an already running event loop, so that several
stand-ins share one process (``facade sandbox``) and tests start them on ephemeral ports.

The socket is bound here (port 0 picks a free port; ``port`` tells which), uvicorn's own signal
handling is left out (the owner of the loop decides when to stop), and a listener can be stopped
abruptly, every open connection cut, and started again on the same port: the clearinghouse's
outage (``sandbox/clearinghouse/chaos.py``). Loopback addresses only.
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import socket
from collections.abc import Iterator
from typing import Any

import uvicorn

__all__ = ["HttpListener", "is_loopback"]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class _InLoopServer(uvicorn.Server):
    """A uvicorn server that leaves signal handling to the owner of the loop."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class HttpListener:
    """One ASGI app on ``host:port``; ``start``/``stop`` may be repeated."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, *,
                 name: str = "http") -> None:
        if not is_loopback(host):
            raise ValueError(f"the sandbox binds loopback addresses only, not {host}")
        self.app = app
        self.host = host
        self.port = port
        self.name = name
        self._server: _InLoopServer | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def listening(self) -> bool:
        return self._server is not None

    def _bind(self) -> socket.socket:
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self.port))
        except OSError:
            sock.close()
            raise
        sock.setblocking(False)
        self.port = sock.getsockname()[1]
        return sock

    async def start(self) -> None:
        """Listen and serve; returns once connections are accepted."""
        if self._server is not None:
            return
        sock = self._bind()
        config = uvicorn.Config(self.app, log_level="warning", access_log=False,
                                log_config=None, lifespan="off", timeout_graceful_shutdown=5)
        server = _InLoopServer(config)
        task = asyncio.get_running_loop().create_task(server.serve(sockets=[sock]),
                                                      name=f"{self.name}:{self.port}")
        while not server.started:
            if task.done():
                sock.close()
                await task  # re-raises the start-up failure
                raise RuntimeError(f"{self.name} stopped while starting")
            await asyncio.sleep(0.005)
        self._server, self._task = server, task

    async def stop(self, *, abrupt: bool = False) -> None:
        """Stop listening. ``abrupt``: cut every connection now (requests in progress get no
        answer), as when a server goes down; otherwise let them finish."""
        server, task = self._server, self._task
        self._server = self._task = None
        if server is None or task is None:
            return
        server.should_exit = True
        if abrupt:
            server.force_exit = True
            for srv in getattr(server, "servers", []):
                srv.close()
            for connection in list(server.server_state.connections):
                transport = getattr(connection, "transport", None)
                if transport is not None:
                    transport.abort()
        await task

    async def serve_until(self, stop: asyncio.Event) -> None:
        """Serve until ``stop`` is set (for a stand-alone run)."""
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()
