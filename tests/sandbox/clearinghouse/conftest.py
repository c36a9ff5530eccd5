"""The whole sandbox clearinghouse on ephemeral loopback ports and an httpx client on its REST
port (helpers for SFTP sessions, tokens and 837P batches: ``clients.py``)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from sandbox.clearinghouse import ClearinghouseSandbox, running_clearinghouse


@pytest.fixture
async def clearinghouse(tmp_path: Path) -> AsyncIterator[ClearinghouseSandbox]:
    async with running_clearinghouse(tmp_path / "clearinghouse") as ch:
        yield ch


@pytest.fixture
async def http(clearinghouse: ClearinghouseSandbox) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=clearinghouse.rest_url, timeout=10) as client:
        yield client
