"""Several stand-ins in one process and one event loop (``facade sandbox``: the OpenEMR
stand-in on :8081 and the clearinghouse on :8082 REST and :2222 SFTP, DESIGN.md "Sandbox"),
stopped together on SIGINT/SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import Callable, Sequence
from typing import Protocol

__all__ = ["Service", "serve_all"]


class Service(Protocol):
    async def start(self) -> None: ...

    async def stop(self) -> None: ...


async def serve_all(
    services: Sequence[Service],
    stop: asyncio.Event | None = None,
    on_started: Callable[[], None] | None = None,
) -> None:
    """Start ``services`` in order, run until ``stop`` is set (or, when no event is given, until
    SIGINT/SIGTERM), then stop them in reverse order."""
    loop = asyncio.get_running_loop()
    installed: list[signal.Signals] = []
    if stop is None:
        stop = asyncio.Event()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.add_signal_handler(sig, stop.set)
                installed.append(sig)
    started: list[Service] = []
    try:
        for service in services:
            await service.start()
            started.append(service)
        if on_started is not None:
            on_started()
        await stop.wait()
    finally:
        for service in reversed(started):
            await service.stop()
        for sig in installed:
            loop.remove_signal_handler(sig)
